"""Fixing a misread ballot in a real browser: the edit box's preview, then the worker's reading.

Chromium drives the edit page (htmx on, CSRF from <body>), a real Celery worker
reads the saved post, and the thread's "Read as" line must end up saying what
the preview said.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright import sync_api

from tests.factories import PASSWORD, make_post, make_quest, make_user, make_vote, prompt_list

PROMPTS = prompt_list("single", "write_in")


def _reload_until(page, locator, text: str, timeout: float = 30) -> None:
    """Reload until `locator` holds `text`: the worker reads the post in its own time."""
    deadline = time.monotonic() + timeout
    while text not in (locator.text_content(timeout=5_000) or ""):
        assert time.monotonic() < deadline, f"{text!r} not in {locator.text_content()!r}"
        time.sleep(0.3)
        page.reload()


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_it_fixes_a_misread_ballot_by_editing_it(celery_worker, live_server, page):
    alice = make_user("alice", password=PASSWORD)
    gm = make_user("gm")
    quest = make_quest(gm, title="Browser Quest")
    make_vote(quest, gm, PROMPTS, closes_at=timezone.now() + timedelta(days=2))
    post = make_post(quest, alice, "#1: B")  # a shape the reader does not know: held back
    thread = f"{live_server.url}/q/{quest.slug}/"

    page.goto(f"{live_server.url}/accounts/login/?next=/q/{quest.slug}/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(thread)
    read_as = page.locator(f"#post-{post.ref} .read-as")
    _reload_until(page, read_as, "Held back: ballot-like text")

    page.locator(f"#post-{post.ref}").get_by_role("link", name="Edit").click()
    page.wait_for_url(f"{thread}p/{post.ref}/edit/")
    preview = page.locator("#reading-preview")
    # Loaded with the page: the post as it stands, held for a moderator and why.
    sync_api.expect(preview).to_contain_text("this post will be held for a moderator")
    sync_api.expect(preview.locator(".reading-held")).to_contain_text(
        "The whole post: ballot-like text in a shape the reader does not know"
    )

    page.fill("textarea[name=body]", "1-B\n2-The Internationale")
    sync_api.expect(preview.locator(".reading-counted")).to_contain_text("B South")
    sync_api.expect(preview.locator(".reading-counted")).to_contain_text(
        "write-in “The Internationale”"
    )
    sync_api.expect(preview).not_to_contain_text("Held back")
    sync_api.expect(preview.locator("mark.mark-counted").first).to_have_text("1-B")

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{thread}#post-{post.ref}")
    _reload_until(page, read_as, "Read as: 1-B · 2 write-in")
    sync_api.expect(read_as).not_to_contain_text("Held back")
    post.refresh_from_db()
    assert (post.body, post.version) == ("1-B\n2-The Internationale", 2)
