"""The "Your ballot" panel in a real browser: it follows the player's posts and a moderator's
decision (issue 13) through a poll of its own, apart from the tally's (issue 14).

Posts are read and counted in process on commit (tasks run eagerly), as the
worker would; the panel's poll (every few seconds, and at once after a ballot
is posted) brings the change.
"""

import re

import pytest
from playwright import sync_api

from quest import services as quest_services
from tests.browsing import log_in, open_page, screenshot, scrolls_sideways
from tests.factories import (
    PASSWORD,
    chapter_url,
    make_post,
    make_quest,
    make_user,
    make_vote,
    prompt_list,
)
from votes import audit
from votes.views import ballot as ballot_views

PROMPTS = prompt_list("single", "write_in", options=3)
POLL_WAIT = 15_000  # ms: a few polls


def _world():
    player = make_user("player", password=PASSWORD)
    quest_master = make_user("quest_master")
    moderator = make_user("moderator")
    quest = make_quest(quest_master, title="Panel Quest")
    quest_services.moderator_appoint(quest=quest, user=moderator, by=quest_master)
    vote = make_vote(quest, quest_master, PROMPTS, title="The Panel")
    return quest, vote, player, moderator


def _decide(vote, post, moderator) -> None:
    """A moderator counts C for the held answer (recounted on commit)."""
    audit.decision_record(
        vote=vote,
        post=post,
        prompt=1,
        action="set",
        answer={"letters": ["C"]},
        reason="Meant C, said so in chat",
        by=moderator,
    )


@pytest.mark.browser
@pytest.mark.parametrize("shape", ["desktop", "phone"])
def test_it_updates_the_panel_after_a_post_and_a_decision(
    transactional_db, live_server, page, shape, monkeypatch
):
    # The panel polls every second once it has polled (the chapter page's first
    # render keeps its own pace): steps 2 and 3 wait for a poll, not for 5 s ones.
    monkeypatch.setattr(ballot_views, "PANEL_POLL_SECONDS", 1)
    quest, vote, player, moderator = _world()
    browser_page = open_page(page, shape)
    path = chapter_url(vote, "chapter-detail")
    log_in(browser_page, live_server.url, "player", path)
    panel = browser_page.locator("#ballot-panel")
    sync_api.expect(panel).to_contain_text("Nothing is counted for you yet.")
    gets: list[str] = []
    browser_page.on(
        "request",
        lambda r: gets.append(r.url.removeprefix(live_server.url)) if r.method == "GET" else None,
    )

    # 1. A ballot from the form: counted for you, from its post, the write-in as written.
    form = browser_page.locator("#ballot-form form")
    form.locator("input[name=p1][value=B]").check()
    form.locator("textarea[name=p2]").fill("more tractors")
    form.get_by_role("button", name="Post my ballot").click()
    sync_api.expect(browser_page.locator(".ballot-posted")).to_be_focused()
    ballot = quest.posts.get(author=player)
    row = panel.locator("#ballot-panel-1")
    sync_api.expect(row).to_contain_text(f"B) South from post #{ballot.ref}", timeout=POLL_WAIT)
    sync_api.expect(panel.locator("#ballot-panel-2 .panel-counted strong")).to_have_text(
        "more tractors"
    )
    screenshot(browser_page, f"ballot-panel-counted-{shape}")

    # 2. Another post of theirs, held for a moderator: the panel says which and why.
    held = make_post(quest, player, "1-D")
    sync_api.expect(row).to_contain_text(
        f"Held for a moderator: post #{held.ref}, because option D does not exist in prompt 1",
        timeout=POLL_WAIT,
    )
    sync_api.expect(row).to_contain_text(f"B) South from post #{ballot.ref}")

    # 3. A moderator decides: counted from that post now, nothing held.
    _decide(vote, held, moderator)
    sync_api.expect(row).to_contain_text(f"C) East from post #{held.ref}", timeout=POLL_WAIT)
    sync_api.expect(row.locator(".panel-held")).to_have_count(0)
    screenshot(browser_page, f"ballot-panel-decided-{shape}")

    # The panel polls its own URL; the tally's poll (the readers' one) no longer brings it.
    polled = {re.sub(r"\?.*", "", url) for url in gets}
    assert polled == {chapter_url(vote, "chapter-tally"), chapter_url(vote, "chapter-ballot-panel")}
    assert not any("with=ballot" in url for url in gets), gets
    assert any(url.endswith("?as=reader") for url in gets), gets
    assert not scrolls_sideways(browser_page)


@pytest.mark.browser
def test_it_shows_the_panel_without_javascript(transactional_db, live_server, page):
    quest, vote, player, moderator = _world()
    browser_page = open_page(page, "no-js")
    path = chapter_url(vote, "chapter-detail")
    log_in(browser_page, live_server.url, "player", path)

    browser_page.get_by_role("link", name="Fill in your ballot").click()
    browser_page.locator("input[name=p1][value=A]").check()
    browser_page.get_by_role("button", name="Post my ballot").click()
    browser_page.wait_for_url(f"{live_server.url}{path}#ballot")
    post = quest.posts.get(author=player)
    panel = browser_page.locator("#ballot-panel")
    sync_api.expect(panel).to_contain_text(f"A) North from post #{post.ref}")

    held = make_post(quest, player, "1-D")
    browser_page.reload()
    sync_api.expect(panel).to_contain_text(f"Held for a moderator: post #{held.ref}")
    _decide(vote, held, moderator)
    browser_page.reload()
    sync_api.expect(panel.locator("#ballot-panel-1")).to_contain_text(
        f"C) East from post #{held.ref}"
    )
    screenshot(browser_page, "ballot-panel-no-js")
