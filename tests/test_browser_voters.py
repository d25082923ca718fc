"""An option's full voter list, opened from the tally page in a real browser.

The tally names the first voters of each option; "and N more" opens the rest
in place (htmx), a page at a time, and keeps it open while the tally polls.
Without JavaScript the same link opens the list's own page.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright import sync_api

from tests.browsing import SHAPES, log_in, open_page, screenshot, scrolls_sideways
from tests.factories import (
    PASSWORD,
    chapter_url,
    make_post,
    make_quest,
    make_user,
    make_vote,
    posts_append,
    prompt_list,
)
from votes import services
from votes.views import tally as tally_views
from votes.views.voters import PER_PAGE, VOTERS_SHOWN

VOTERS = PER_PAGE + 15


@pytest.mark.browser
@pytest.mark.parametrize("shape", SHAPES)
def test_it_opens_an_options_full_voter_list_from_the_tally(
    transactional_db, live_server, page, shape, monkeypatch
):
    # The tally polls every second: the latecomer's post shows at the next poll, not a 3 s one.
    monkeypatch.setattr(tally_views, "POLL_SECONDS", 1)
    make_user("player", password=PASSWORD)
    quest = make_quest(make_user("quest_master"), title="Crowded Quest")
    vote = make_vote(quest, quest.quest_master, prompt_list("single", options=2))
    # Appended at once and read in one recount: a recount on each post's commit
    # (make_post) took most of the test's time.
    comrades = [make_user(f"comrade{i:03}") for i in range(VOTERS)]
    posts_append(quest, [comrades[-1], *comrades[:-1]], ["1-A"], VOTERS)  # comrade000 first
    services.vote_recount(vote_id=vote.pk)
    tally = chapter_url(vote, "chapter-tally")
    browser = open_page(page, shape)
    log_in(browser, live_server.url, "player", tally)

    row = browser.locator(".tally-table tr", has_text="A) ")
    sync_api.expect(row.locator("td.voters > a:not(.more-voters)")).to_have_count(VOTERS_SHOWN)
    more = row.get_by_role("link", name=f"and {VOTERS - VOTERS_SHOWN} more voters for A")
    more.click()

    if shape == "no-js":  # the list's own page
        browser.wait_for_url(f"**{chapter_url(vote, 'tally-voters')}?prompt=1&option=A")
        listed = browser.locator("ol.voter-names li")
    else:  # in place, under the option
        listed = row.locator("#voters-1-A ol.voter-names li")
    sync_api.expect(listed).to_have_count(PER_PAGE)
    sync_api.expect(listed.first).to_have_text("comrade000")
    assert not scrolls_sideways(browser)
    screenshot(browser, f"tally-voters-{shape}")

    browser.get_by_role("link", name="Next").click()
    sync_api.expect(listed).to_have_count(VOTERS - PER_PAGE)
    sync_api.expect(listed.last).to_have_text(f"comrade{VOTERS - 1:03}")
    if shape == "no-js":
        return
    # A new post changes the tally: the poll swaps it in, the opened list stays open.
    make_post(quest, make_user("latecomer"), "1-A")
    services.vote_recount(vote_id=vote.pk)
    sync_api.expect(row.locator("a.more-voters")).to_have_text(
        f"and {VOTERS + 1 - VOTERS_SHOWN} more voters for A", timeout=15_000
    )
    sync_api.expect(listed).to_have_count(VOTERS - PER_PAGE)
    if shape == "desktop":
        found = Axe().run(browser).response["violations"]
        serious = [v["id"] for v in found if v["impact"] in ("moderate", "serious", "critical")]
        assert serious == []
