"""A moderator merges two write-in entries on the tally page in Chromium, then splits them again.

Desktop and phone with htmx (the tally is swapped in place), and a phone with
JavaScript off (plain POST, the page comes back at the prompt). The merged
entry's count is the two combined, the suggestion acted on is gone, the
split brings both back, and the vote's record names both steps with their
reasons. Screenshots go to test-artifacts/ (not committed).
"""

import pytest
from playwright import sync_api

from quest import services as quest_services
from tests.browsing import SHAPES, log_in, open_page, screenshot, scrolls_sideways
from tests.factories import PASSWORD, make_quest, make_user, make_vote, prompt_list, vote_in

PROMPTS = prompt_list("single", "write_in", options=2, texts={2: "What do we build?"})
expect = sync_api.expect


def _counts(page) -> list[tuple[str, str]]:
    """The write-in prompt's rows as (entry as shown, count)."""
    rows = page.locator("#tp-2 ~ table.tally-table tbody tr")
    return [
        (row.locator("th").inner_text().strip(), row.locator("td.count").inner_text())
        for row in rows.all()
    ]


@pytest.mark.browser
@pytest.mark.parametrize("shape", SHAPES)
def test_a_moderator_merges_two_entries_sees_them_combined_and_splits_them(
    transactional_db, plain_http_live_server, page, shape
):
    base = plain_http_live_server.url
    gm = make_user("gm", password=PASSWORD)
    quest = make_quest(gm, title="Browser Merges")
    mod = make_user("mod", password=PASSWORD)
    quest_services.moderator_appoint(quest=quest, user=mod, by=gm)
    vote = make_vote(quest, gm, PROMPTS)
    vote_in(vote, make_user("ann"), "1-A\n2-Build dams")
    vote_in(vote, make_user("bob"), "1-B\n2-Built dams")
    vote_in(vote, make_user("cat"), "1-A\n2-build dams!")
    vote_in(vote, make_user("dan"), "1-A\n2-Plant trees")
    tally = f"/q/{quest.slug}/chapters/1/tally/"
    tab = open_page(page, shape)
    log_in(tab, base, "mod", tally)
    assert _counts(tab) == [("Build dams", "2"), ("Built dams", "1"), ("Plant trees", "1")]

    merges = tab.locator("#merges-2")
    suggestion = merges.locator("li.merge-suggestion")
    expect(suggestion).to_contain_text("“Build dams” and “Built dams”")
    suggestion.get_by_label("Reason").fill("A typo of the same plan.")
    suggestion.get_by_role("button", name="Merge as “Build dams”").click()
    if shape == "no-js":
        tab.wait_for_url(f"{base}{tally}#tp-2")

    merges = tab.locator("#merges-2")
    expect(
        tab.get_by_text("“Built dams” is merged into “Build dams”: counted as one entry.")
    ).to_be_visible()
    expect(tab.locator("#tp-2 ~ table .merged-from")).to_have_text("merged from “Built dams”")
    assert _counts(tab) == [("Build dams\nmerged from “Built dams”", "3"), ("Plant trees", "1")]
    expect(merges.locator("li.merge-suggestion")).to_have_count(0)
    expect(merges.locator("li.merge-row")).to_contain_text("(mod: A typo of the same plan.)")
    assert not scrolls_sideways(tab)
    screenshot(tab, f"entry-merge-{shape}-1-merged")

    row = merges.locator("li.merge-row")
    row.get_by_label("Reason").fill("Built is not build: two plans after all.")
    row.get_by_role("button", name="Split “Built dams” again").click()
    if shape == "no-js":
        tab.wait_for_url(f"{base}{tally}#tp-2")

    expect(
        tab.get_by_text("“Built dams” is split from “Build dams”: counted on its own.")
    ).to_be_visible()
    assert _counts(tab) == [("Build dams", "2"), ("Built dams", "1"), ("Plant trees", "1")]
    expect(tab.locator("#merges-2 li.merge-row")).to_have_count(0)
    screenshot(tab, f"entry-merge-{shape}-2-split")

    tab.goto(f"{base}/q/{quest.slug}/chapters/1/vote/events/")
    record = tab.locator("table.vote-record")
    merged = record.locator("tr.vote-event-entries_merged")
    split = record.locator("tr.vote-event-entries_split")
    expect(merged).to_contain_text(
        "Write-ins merged: prompt 2: “Built dams” merged into “Build dams”"
    )
    expect(merged).to_contain_text("A typo of the same plan.")
    expect(split).to_contain_text(
        "Write-in merge undone: prompt 2: “Built dams” split from “Build dams”"
    )
    expect(split).to_contain_text("two plans after all")
    tab.context.close()
