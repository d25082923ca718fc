"""Posting forms in a real browser post once (issue 13): a double click, a slow network and
Back then Post each make exactly one post; Back, edit, Post makes a second, so nothing the
player wrote is lost.

"Slow network": Playwright's route lets each posting request reach the server at
once and holds its answer back for a while, so the player clicks again while the
first post is already saved, as on a slow connection.
"""

import contextlib

import pytest
from playwright import sync_api

from quest.models import Post, PostRevision
from tests.browsing import log_in, open_page, screenshot
from tests.factories import (
    PASSWORD,
    chapter_url,
    make_post,
    make_quest,
    make_user,
    make_vote,
    prompt_list,
)

PROMPTS = prompt_list("single", "write_in")
SLOW_SECONDS = 1.5


def _slow_posts(page: sync_api.Page, pattern: str) -> list[str]:
    """Hold back the answers to POSTs matching `pattern`; the list of POSTs sent to the server."""
    sent: list[str] = []

    def slow(route: sync_api.Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        sent.append(route.request.url)
        response = route.fetch(max_redirects=0)  # the server has it: the post is saved
        # The browser may have given up on this request for a later one (the second
        # click), or the test may have ended and closed the page while it waits.
        with contextlib.suppress(sync_api.Error):
            page.wait_for_timeout(SLOW_SECONDS * 1000)  # …and the answer is slow to come back
            route.fulfill(response=response)

    page.route(pattern, slow)
    return sent


def _landed(page: sync_api.Page, pattern: str) -> None:
    """Wait until the page shows `pattern`. The navigation of a first click that the browser
    abandoned for the second one ends in net::ERR_ABORTED: the second one's is awaited."""
    for _ in range(3):
        try:
            page.wait_for_url(pattern)
            return
        except sync_api.Error as error:
            if "ERR_ABORTED" not in str(error):
                raise
    page.wait_for_url(pattern)


def _world():
    player = make_user("player", password=PASSWORD)
    quest = make_quest(make_user("quest_master"), title="Twice Quest")
    make_post(quest, quest.quest_master, "Welcome.")
    vote = make_vote(quest, quest.quest_master, PROMPTS, title="Once")
    return quest, vote, player


def _bodies(player) -> list[str]:
    return list(Post.objects.filter(author=player).order_by("seq").values_list("body", flat=True))


# --- The thread's reply box (a plain form) ---------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("shape", ["desktop", "no-js"])
def test_a_double_click_on_a_slow_network_posts_a_reply_once(
    transactional_db, live_server, page, shape
):
    quest, _, player = _world()
    browser_page = open_page(page, shape)
    thread = f"/q/{quest.slug}/"
    log_in(browser_page, live_server.url, "player", thread)
    sent = _slow_posts(browser_page, "**/post/")

    browser_page.fill("textarea[name=body]", "Onward, comrades!")
    browser_page.get_by_role("button", name="Post reply").dblclick()

    _landed(browser_page, "**#post-*")
    assert _bodies(player) == ["Onward, comrades!"]
    assert len(sent) >= 1
    post = Post.objects.get(author=player)
    sync_api.expect(browser_page.locator(f"#post-{post.ref}")).to_contain_text("Onward, comrades!")
    sync_api.expect(browser_page.locator(".form-error")).to_have_count(0)
    screenshot(browser_page, f"double-click-reply-{shape}")


@pytest.mark.browser
@pytest.mark.parametrize("shape", ["desktop", "no-js"])
def test_two_clicks_on_a_slow_network_post_a_reply_once(transactional_db, live_server, page, shape):
    quest, _, player = _world()
    browser_page = open_page(page, shape)
    log_in(browser_page, live_server.url, "player", f"/q/{quest.slug}/")
    sent = _slow_posts(browser_page, "**/post/")

    browser_page.fill("textarea[name=body]", "Onward, comrades!")
    button = browser_page.get_by_role("button", name="Post reply")
    button.click(no_wait_after=True)
    button.click(no_wait_after=True)

    _landed(browser_page, "**#post-*")
    browser_page.wait_for_load_state()
    assert len(sent) >= 1
    assert _bodies(player) == ["Onward, comrades!"]
    sync_api.expect(browser_page.locator(".form-error")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.parametrize("shape", ["desktop", "no-js"])
def test_back_then_post_posts_a_reply_once_and_back_edit_post_posts_again(
    transactional_db, live_server, page, shape
):
    quest, _, player = _world()
    browser_page = open_page(page, shape)
    log_in(browser_page, live_server.url, "player", f"/q/{quest.slug}/")

    browser_page.fill("textarea[name=body]", "Onward, comrades!")
    browser_page.get_by_role("button", name="Post reply").click()
    _landed(browser_page, "**#post-*")
    browser_page.go_back()
    sync_api.expect(browser_page.locator("textarea[name=body]")).to_have_value("Onward, comrades!")
    browser_page.get_by_role("button", name="Post reply").click()
    _landed(browser_page, "**#post-*")
    assert _bodies(player) == ["Onward, comrades!"]

    browser_page.go_back()
    browser_page.fill("textarea[name=body]", "Onward, comrades! (And bring the band.)")
    browser_page.get_by_role("button", name="Post reply").click()
    _landed(browser_page, "**#post-*")
    assert _bodies(player) == ["Onward, comrades!", "Onward, comrades! (And bring the band.)"]
    screenshot(browser_page, f"back-then-post-reply-{shape}")


# --- The edit box -------------------------------------------------------------------------


@pytest.mark.browser
def test_a_double_click_on_a_slow_network_saves_an_edit_once(transactional_db, live_server, page):
    quest, _, player = _world()
    post = make_post(quest, player, "Draft")
    browser_page = open_page(page)
    log_in(browser_page, live_server.url, "player", f"/q/{quest.slug}/p/{post.ref}/edit/")
    _slow_posts(browser_page, "**/edit/")

    browser_page.fill("textarea[name=body]", "Final")
    browser_page.get_by_role("button", name="Save").dblclick()

    _landed(browser_page, "**#post-*")
    post.refresh_from_db()
    assert (post.body, post.version) == ("Final", 2)
    assert PostRevision.objects.filter(post=post).count() == 2


# --- The ballot form (htmx on the chapter page; its own page without JavaScript) -----------


@pytest.mark.browser
@pytest.mark.parametrize("shape", ["desktop", "phone"])
def test_the_ballot_form_posts_once_and_again_only_when_changed(
    transactional_db, live_server, page, shape
):
    _, vote, player = _world()
    browser_page = open_page(page, shape)
    log_in(browser_page, live_server.url, "player", chapter_url(vote, "chapter-detail"))
    sent = _slow_posts(browser_page, "**/ballot/")
    form = browser_page.locator("#ballot-form form")

    form.locator("input[name=p1][value=B]").check()
    form.get_by_role("button", name="Post my ballot").dblclick()
    result = browser_page.locator(".ballot-posted")
    sync_api.expect(result).to_be_focused()  # the result, not the top of the page
    assert _bodies(player) == ["1-B"]

    # The form stays filled in: sent again unchanged, it lands on the first post.
    form.get_by_role("button", name="Post my ballot").click()
    sync_api.expect(result).to_be_focused()
    first = Post.objects.get(author=player)
    sync_api.expect(result).to_contain_text(f"post #{first.ref}")
    assert _bodies(player) == ["1-B"]
    assert len(sent) == 2
    screenshot(browser_page, f"ballot-posted-once-{shape}")

    # Changed, it is a new ballot that replaces the first.
    form.locator("input[name=p1][value=A]").check()
    form.get_by_role("button", name="Post my ballot").click()
    sync_api.expect(result).to_contain_text(f"post #{first.ref + 1}")
    assert _bodies(player) == ["1-B", "Revised vote:\n1-A"]


@pytest.mark.browser
def test_the_ballot_page_without_javascript_posts_once(transactional_db, live_server, page):
    _, vote, player = _world()
    browser_page = open_page(page, "no-js")
    ballot_page = chapter_url(vote, "ballot-submit")
    log_in(browser_page, live_server.url, "player", ballot_page)
    sent = _slow_posts(browser_page, "**/ballot/")

    browser_page.locator("input[name=p1][value=B]").check()
    browser_page.get_by_role("button", name="Post my ballot").dblclick()
    _landed(browser_page, "**#ballot")
    assert _bodies(player) == ["1-B"]
    assert len(sent) >= 1

    # Back then Post: the same ballot, the same post.
    browser_page.go_back()
    browser_page.get_by_role("button", name="Post my ballot").click()
    _landed(browser_page, "**#ballot")
    assert _bodies(player) == ["1-B"]
    first = Post.objects.get(author=player)
    sync_api.expect(browser_page.locator(".messages")).to_contain_text(f"post #{first.ref}")

    # Back, change, Post: a new ballot.
    browser_page.go_back()
    browser_page.locator("input[name=p1][value=A]").check()
    browser_page.get_by_role("button", name="Post my ballot").click()
    _landed(browser_page, "**#ballot")
    assert _bodies(player) == ["1-B", "Revised vote:\n1-A"]
    screenshot(browser_page, "ballot-no-js-once")
