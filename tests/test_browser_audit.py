"""The audit in a real browser: a moderator's decisions, the queue, undo, and a phone.

Screenshots of each step go to test-artifacts/ (not committed).
"""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright import sync_api

from quest import services as quest_services
from tests.factories import (
    PASSWORD,
    make_post,
    make_quest,
    make_user,
    make_vote,
    prompt_list,
    vote_in,
)
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
    page.locator(".audit-tabs a", has_text="All").click()  # htmx swaps the list
    block = page.locator(f"#post-{post.ref}")
    sync_api.expect(block.locator(".audit-flags")).to_have_count(0)  # chatter: nothing held
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


# --- The queue: decided posts leave "Held back", and come back when undone ------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"width": 390, "height": 844}
MULTI = prompt_list("single", "multi", options=3)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"audit-{name}.png", full_page=True)


def _log_in(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("input[name=username]", "moderator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_url}")


def _queue(prompts=MULTI):
    """A quest with a vote, its moderator, and two posts held back on prompt 1."""
    make_user("moderator", password=PASSWORD)
    quest_master = make_user("quest_master")
    quest = make_quest(quest_master, title="Browser Queue")
    quest_services.moderator_appoint(
        quest=quest, user=get_user_model().objects.get(username="moderator"), by=quest_master
    )
    vote = make_vote(quest, quest_master, prompts, title="The Crossing")
    unsure = vote_in(vote, make_user("unsure"), "1-A maybe")
    other = vote_in(vote, make_user("other"), "1-B perhaps?")
    return vote, unsure, other


def _voters(tally_page, letter: str):
    return tally_page.locator("#tally-live tr", has_text=f"{letter}) North").locator(".voters")


def _overflow(page) -> int:
    """How far the page is wider than the screen (0: no horizontal scrolling)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


@pytest.mark.browser
def test_it_moves_a_decided_post_out_of_the_queue_and_undo_brings_it_back(
    transactional_db, live_server, page
):
    vote, unsure, other = _queue()
    audit = f"/q/{vote.chapter.quest.slug}/chapters/1/audit/"
    beside = page.context.browser.new_context()  # the tally in a second window
    tally = beside.new_page()
    _log_in(tally, live_server, f"/q/{vote.chapter.quest.slug}/chapters/1/tally/")
    sync_api.expect(_voters(tally, "A")).to_have_text("")
    _log_in(page, live_server, audit)
    tabs = page.locator("#audit-tabs")
    sync_api.expect(tabs.get_by_role("link", name="Held back (2)")).to_be_visible()
    sync_api.expect(page).to_have_title("Audit (2 held back): The Crossing · Quest Tally")
    sync_api.expect(page.locator("#audit-decisions")).to_contain_text("No decisions yet.")
    block = page.locator(f"#post-{unsure.ref}")
    _shot(page, "queue-before")

    block.locator("form.audit-accept input[name=reason]").fill("Asked them: A it is")
    block.get_by_role("button", name="Accept suggestion").click()

    row = page.locator(f"#post-{unsure.ref}.audit-decided-row")
    sync_api.expect(row).to_contain_text("Decided: post")
    sync_api.expect(row).to_contain_text("Accept the suggested reading: A on prompt 1")
    sync_api.expect(row.locator("form.audit-accept")).to_have_count(0)
    sync_api.expect(tabs.get_by_role("link", name="Held back (1)")).to_be_visible()
    sync_api.expect(page).to_have_title("Audit (1 held back): The Crossing · Quest Tally")
    decisions = page.locator("#audit-decisions")
    sync_api.expect(decisions).not_to_contain_text("No decisions yet.")
    sync_api.expect(decisions).to_contain_text("Asked them: A it is")
    sync_api.expect(page.locator(f"#post-{other.ref} form.audit-accept")).to_be_visible()
    _shot(page, "queue-decided")
    tally.reload()
    sync_api.expect(_voters(tally, "A")).to_have_text("unsure")

    row.get_by_text("Undo", exact=True).click()
    row.locator("input[name=reason]").fill("Accepted too quickly: they answered 'maybe'")
    row.get_by_role("button", name="Undo this decision").click()

    back = page.locator(f"#post-{unsure.ref}")
    sync_api.expect(back.locator(".notice")).to_have_text(
        "Decision undone; the tally is being recounted."
    )
    sync_api.expect(back.locator("form.audit-accept")).to_be_visible()
    sync_api.expect(tabs.get_by_role("link", name="Held back (2)")).to_be_visible()
    sync_api.expect(decisions).to_contain_text(
        "Undid “Accept the suggested reading: A” by moderator"
    )
    sync_api.expect(decisions).to_contain_text("Accepted too quickly: they answered 'maybe'")
    _shot(page, "queue-undone")
    tally.reload()
    sync_api.expect(_voters(tally, "A")).to_have_text("")
    beside.close()


@pytest.mark.browser
def test_it_counts_every_choice_a_suggestion_would_drop(transactional_db, live_server, page):
    vote, _, _ = _queue()
    post = vote_in(vote, make_user("both"), "2-A, C maybe")
    audit = f"/q/{vote.chapter.quest.slug}/chapters/1/audit/"
    _log_in(page, live_server, audit)
    block = page.locator(f"#post-{post.ref}")

    sync_api.expect(block.locator(".suggestion-check")).to_contain_text(
        "The post wrote 2-A, C maybe: the suggestion keeps A and drops C."
    )
    sync_api.expect(block.get_by_role("button", name="Accept A only (drops C)")).to_be_visible()
    _shot(page, "suggestion-drops")
    block.get_by_role("button", name="Count A, C as written").click()

    sync_api.expect(page.locator(f"#post-{post.ref}.audit-decided-row")).to_contain_text(
        "Count another answer: A, C on prompt 2"
    )
    page.goto(f"{live_server.url}/q/{vote.chapter.quest.slug}/chapters/1/tally/")
    live = page.locator("#tally-live")
    for option in ("A) The scouts", "C) The band"):
        sync_api.expect(live.locator("tr", has_text=option).locator(".voters")).to_have_text("both")


@pytest.mark.browser
def test_it_fits_a_phone_and_works_without_javascript(transactional_db, live_server, page):
    vote, unsure, _ = _queue()
    vote_in(vote, make_user("both"), "2-A, C maybe\n" + "x" * 120)  # a long unbroken word
    audit = f"/q/{vote.chapter.quest.slug}/chapters/1/audit/"
    context = page.context.browser.new_context(viewport=PHONE, java_script_enabled=False)
    phone = context.new_page()
    try:
        _log_in(phone, live_server, audit)
        for tab in ("held", "all", "excluded", "mentions"):
            phone.goto(f"{live_server.url}{audit}?show={tab}")
            folded = phone.locator("details:not([open]) > summary:visible")
            while folded.count():
                folded.first.click()  # unfolded, every form is on the page
            assert _overflow(phone) <= 0, tab
        phone.goto(f"{live_server.url}{audit}")
        block = phone.locator(f"#post-{unsure.ref}")
        block.locator("form.audit-accept input[name=reason]").fill("A, by private message")
        block.get_by_role("button", name="Accept suggestion").click()  # a full-page POST

        phone.wait_for_url(f"**{audit}?show=held&decided=*")
        sync_api.expect(phone.locator(".messages")).to_contain_text("Decision recorded")
        row = phone.locator(f"#post-{unsure.ref}.audit-decided-row")
        sync_api.expect(row).to_contain_text("Accept the suggested reading: A on prompt 1")
        sync_api.expect(phone.locator("#audit-tabs")).to_contain_text("Held back (2)")
        sync_api.expect(phone.locator("#audit-decisions")).to_contain_text("A, by private message")
        row.get_by_text("Undo", exact=True).click()
        assert _overflow(phone) <= 0
        _shot(phone, "phone-decided")
        row.locator("input[name=reason]").fill("Wrong post")
        row.get_by_role("button", name="Undo this decision").click()

        phone.wait_for_url(f"**{audit}?show=held#post-{unsure.ref}")
        sync_api.expect(phone.locator(".messages")).to_contain_text("Decision undone")
        sync_api.expect(phone.locator(f"#post-{unsure.ref} form.audit-accept")).to_be_visible()
        sync_api.expect(phone.locator("#audit-tabs")).to_contain_text("Held back (3)")
        assert _overflow(phone) <= 0
        _shot(phone, "phone-undone")
    finally:
        context.close()
