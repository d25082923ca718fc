"""The thread in a real browser: log in, reply in BBCode, preview, quote."""

import pytest
from playwright import sync_api

from tests.factories import *  # noqa: F403  (fixtures)
from tests.factories import PASSWORD, make_post, make_quest, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def plain_http_live_server(live_server, web_test_settings):
    """The session's live server, serving over plain HTTP.

    It is started once per session, before function-scoped fixtures change the
    settings, so its middleware still holds the HTTPS redirect; reloading the
    middleware makes it read `web_test_settings`.
    """
    handler = live_server.thread.httpd.get_app()
    while handler is not None:  # static files, then media files, then Django's own
        handler.load_middleware()
        handler = getattr(handler, "application", None)
    return live_server


@pytest.fixture
def page(plain_http_live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # made here between page actions are ordinary blocking ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


@pytest.mark.browser
def test_it_replies_with_bbcode_and_quotes_it(transactional_db, live_server, page):
    alice = make_user("alice", password=PASSWORD)
    quest = make_quest(make_user("gm"), title="Browser Quest")
    make_post(quest, quest.quest_master, "Welcome, travellers.")
    thread = f"{live_server.url}/q/{quest.slug}/"

    page.goto(f"{live_server.url}/accounts/login/?next=/q/{quest.slug}/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(thread)

    page.fill("textarea[name=body]", "[B]Bold move[/B]\n1-A")
    page.click("text=Preview")  # htmx POST, CSRF token from <body hx-headers>
    sync_api.expect(page.locator("#reply-preview b")).to_have_text("Bold move")
    page.click("text=Post reply")
    page.wait_for_url(f"{thread}#post-2")

    reply = page.locator("#post-2")
    sync_api.expect(reply.locator(".post-author")).to_have_text("alice")
    sync_api.expect(reply.locator(".post-body b")).to_have_text("Bold move")
    assert alice.posts.get().body == "[B]Bold move[/B]\n1-A"

    reply.locator("text=Quote").click()
    page.wait_for_url(f"{thread}?quote=2#reply")
    box = page.locator("textarea[name=body]")
    sync_api.expect(box).to_have_value(
        '[QUOTE="alice, post: 2"]\n[B]Bold move[/B]\n1-A\n[/QUOTE]\n'
    )
