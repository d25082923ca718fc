"""`lines` prompts (forum-style [X] ballots) in Chromium with htmx: the quest master
makes one in the prompt builder, a player ticks suggestions and writes a line (issue 15)."""

import pytest
from playwright import sync_api

from chapters import services as chapter_services
from chapters.models import Prompt
from chapters.prompts import PromptData
from quest.models import Post
from tests.browsing import log_in, screenshot
from tests.factories import PASSWORD, make_quest, make_user, make_vote

CHAPTER = (
    "The ice shelf cracked at dawn.\n\n"
    "[B]What do you do?[/B]\n"
    "[ ] Scout the wreck of the Meridian\n"
    "[ ] Repair the reactor\n"
    "-[ ] With the spare parts in the hold\n"
    "[ ] Write-in"
)


@pytest.mark.browser
def test_a_quest_master_makes_a_lines_prompt_in_the_builder(transactional_db, live_server, page):
    expect = sync_api.expect
    gm = make_user("gm", password=PASSWORD)
    quest = make_quest(gm, title="The Shelf")
    chapter = chapter_services.chapter_create(quest=quest, title="Dawn", body=CHAPTER, by=gm)
    path = f"/q/{quest.slug}/chapters/{chapter.number}/vote/"
    log_in(page, live_server.url, "gm", path)

    page.fill("textarea[name=p-0-text]", "What does the expedition do?")
    page.select_option("select[name=p-0-kind]", "lines")  # htmx swaps the builder in
    expect(page.locator("select[name=p-0-partition]")).to_be_visible()
    expect(page.locator("input[name=p-0-o-0-text]")).to_have_count(0)
    page.select_option("select[name=p-0-partition]", "line")
    page.select_option("select[name=p-0-proxies]", "off")
    screenshot(page, "lines-builder")
    page.get_by_role("button", name="Save the vote").click()

    expect(page.locator(".messages")).to_contain_text("The vote's prompts are saved")
    prompt = Prompt.objects.get(vote__chapter=chapter)
    assert (prompt.kind, prompt.text) == ("lines", "What does the expedition do?")
    assert (prompt.partition, prompt.proxies, prompt.method) == ("line", "off", "schulze")
    assert prompt.options.count() == 0


@pytest.mark.browser
def test_a_player_ticks_two_suggestions_and_writes_a_line(transactional_db, live_server, page):
    expect = sync_api.expect
    alice = make_user("alice", password=PASSWORD)
    gm = make_user("gm")
    quest = make_quest(gm, title="The Shelf")
    lines = PromptData(1, "lines", "What does the expedition do?")
    chapter = make_vote(quest, gm, [lines], title="Dawn", body=CHAPTER).chapter
    log_in(page, live_server.url, "alice", f"/q/{quest.slug}/chapters/{chapter.number}/")

    ballot = page.locator("#ballot-form")  # loaded by htmx on page load
    ballot.get_by_label("Scout the wreck of the Meridian").check()
    ballot.get_by_label("Repair the reactor").check()
    ballot.get_by_label("Lines of your own").fill("Hide in the ice caves\n-Take the sled")
    screenshot(page, "lines-ballot")
    ballot.get_by_role("button", name="Post my ballot").click()

    posted = page.locator(".ballot-posted")
    post = Post.objects.filter(author=alice)
    expect(posted).to_contain_text("Your ballot was posted as post #")
    assert post.get().body == (
        "[X] Scout the wreck of the Meridian\n"
        "[X] Repair the reactor\n"
        "-[X] With the spare parts in the hold\n"
        "[X] Hide in the ice caves\n"
        "-[X] Take the sled"
    )
    # Shown again as posted: the two suggestions ticked, the own lines in their box.
    expect(ballot.get_by_label("Scout the wreck of the Meridian")).to_be_checked()
    expect(ballot.get_by_label("Write-in")).not_to_be_checked()
    expect(ballot.get_by_label("Lines of your own")).to_have_value(
        "Hide in the ice caves\n-Take the sled"
    )
