"""The thread in a real browser: log in, reply in BBCode, preview, quote."""

import pytest
from playwright import sync_api

from tests.factories import PASSWORD, make_post, make_quest, make_user


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
