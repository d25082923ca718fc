"""The audit in a real browser: a moderator counts a post the reader took for chatter."""

import pytest
from playwright import sync_api

from quest import services as quest_services
from tests.factories import PASSWORD, make_post, make_quest, make_user, make_vote, prompt_list
from votes.models import Reading

PROMPTS = prompt_list(
    "single",
    texts={1: "Decide the fate of the agents"},
    option_texts={1: ["Show leniency", "Punish them"]},
)


@pytest.mark.browser
def test_it_counts_a_post_read_as_chatter_and_the_tally_changes(
    transactional_db, live_server, page
):
    moderator = make_user("moderator", password=PASSWORD)
    quest_master = make_user("quest_master")
    quest = make_quest(quest_master, title="Browser Audit")
    quest_services.moderator_appoint(quest=quest, user=moderator, by=quest_master)
    vote = make_vote(quest, quest_master, PROMPTS, title="The Agents")
    # Read (in process, on commit) as the worker would: chatter, nothing counted.
    post = make_post(quest, make_user("player"), "Great chapter, thanks for writing it!")
    assert Reading.objects.get(vote=vote, post=post).kind == "not_ballot"
    chapter = f"/q/{quest.slug}/chapters/{vote.chapter.number}"

    page.goto(f"{live_server.url}/accounts/login/?next={chapter}/tally/")
    page.fill("input[name=username]", "moderator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{chapter}/tally/")
    sync_api.expect(page.locator("#tally-live")).to_contain_text("0 ballots counted.")

    page.goto(f"{live_server.url}{chapter}/audit/")
    page.locator(".audit-tabs").get_by_text("All", exact=True).click()  # htmx swaps the list
    block = page.locator(f"#post-{post.ref}")
    sync_api.expect(block.locator(".badge").first).to_have_text("not_ballot")
    block.get_by_text("Decide this post").click()
    form = block.locator("form.audit-decide-count")
    form.locator("select[name=prompt]").select_option("1")
    form.locator("input[name=letters]").fill("B")
    form.locator("input[name=reason]").fill("Voted B by private message, asked us to count it")
    form.get_by_role("button", name="Count this answer").click()

    decided = page.locator(f"#post-{post.ref}")  # the block, swapped for its new state
    sync_api.expect(decided.locator(".notice")).to_contain_text("Decision recorded")
    sync_api.expect(decided.locator(".decided")).to_contain_text(
        "Count another answer: B on prompt 1, by moderator"
    )
    page.goto(f"{live_server.url}{chapter}/tally/")
    sync_api.expect(page.locator("#tally-live")).to_contain_text("1 ballot counted.")
    row = page.locator("#tally-live tr", has_text="B) Punish them")
    sync_api.expect(row.locator(".count")).to_have_text("1")
    sync_api.expect(row.locator(".voters")).to_have_text("player")
