"""The ballot form and the reading preview in a real browser (htmx on, CSRF from <body>)."""

import pytest
from playwright import sync_api

from quest.models import Post
from tests.factories import PASSWORD, make_quest, make_user, make_vote, prompt_list

PROMPTS = prompt_list("single", "write_in")


@pytest.mark.browser
def test_it_posts_a_ballot_and_previews_a_reply(transactional_db, live_server, page):
    alice = make_user("alice", password=PASSWORD)
    gm = make_user("gm")
    quest = make_quest(gm, title="Browser Quest")
    chapter = make_vote(quest, gm, PROMPTS).chapter
    chapter_url = f"{live_server.url}/q/{quest.slug}/chapters/{chapter.number}/"

    page.goto(f"{live_server.url}/accounts/login/?next=/q/{quest.slug}/chapters/1/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(chapter_url)

    ballot = page.locator("#ballot-form")
    ballot.locator("input[name=p1][value=B]").check()  # loaded by htmx on page load
    ballot.locator("textarea[name=p2]").fill("The <b>Internationale</b>")
    ballot.locator("text=Post my ballot").click()

    posted = page.locator(".ballot-posted")
    posted.wait_for()
    post = Post.objects.get(author=alice)
    sync_api.expect(posted).to_contain_text(f"Your ballot was posted as post #{post.ref}")
    sync_api.expect(posted.locator(".reading-counted")).to_contain_text("B South")
    sync_api.expect(posted.locator(".reading-counted")).to_contain_text(
        "write-in “The <b>Internationale</b>”"
    )
    assert post.body == "1-B\n2-The <b>Internationale</b>"

    posted.locator(f"text=post #{post.ref}").click()
    page.wait_for_url(f"{live_server.url}/q/{quest.slug}/#post-{post.ref}")
    page.fill("textarea[name=body]", "1-B")
    preview = page.locator("#reading-preview")
    sync_api.expect(preview.locator(".reading-counted")).to_contain_text("B South")
    sync_api.expect(preview.locator("mark.mark-counted")).to_have_text("1-B")
