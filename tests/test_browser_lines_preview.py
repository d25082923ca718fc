"""An [X] ballot typed into the thread's reply box, in Chromium with htmx: the preview
lists the entries the post will support, sub-lines indented under theirs (issue 15)."""

import pytest
from playwright import sync_api

from chapters.prompts import PromptData
from tests.browsing import log_in, screenshot
from tests.factories import PASSWORD, make_quest, make_user, make_vote


@pytest.mark.browser
def test_the_reply_preview_lists_the_entries_of_an_x_ballot(transactional_db, live_server, page):
    expect = sync_api.expect
    make_user("alice", password=PASSWORD)
    gm = make_user("gm")
    quest = make_quest(gm, title="The Shelf")
    prompts = [PromptData(number=1, kind="lines", text="What does the expedition do?")]
    make_vote(quest, gm, prompts, body="[ ] Chart the northern pass\n[ ] Rest a day")
    log_in(page, live_server.url, "alice", f"/q/{quest.slug}/")

    page.fill(
        "textarea[name=body]",
        "[X] Chart the northern pass\n-[X] With two scouts\n[X][Ship] Repair the hull",
    )

    preview = page.locator("#reading-preview")
    counted = preview.locator(".reading-counted .xline")
    expect(counted).to_have_count(2)
    expect(counted.nth(0)).to_contain_text("[X] Chart the northern pass")
    expect(counted.nth(0).locator(".xline-subs li")).to_have_text("-With two scouts")
    expect(counted.nth(1)).to_contain_text("[X] [Ship] Repair the hull")
    expect(preview.locator("mark.mark-counted").first).to_contain_text("[X] Chart")
    sub = counted.nth(0).locator(".xline-subs li").bounding_box()
    head = counted.nth(0).bounding_box()
    assert sub is not None and head is not None and sub["x"] > head["x"]  # indented under it
    screenshot(page, "lines-reply-preview")
