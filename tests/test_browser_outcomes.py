"""The quest master's calls on a closed vote in Chromium: desktop, phone, phone without JavaScript.

A tie settled on the tally page shows at once (htmx swaps the tally; without
JavaScript the page comes back at the prompt's result), the buttons show the
current pick, a change needs a reason and says what changed, and the vote's
record names what was picked, by whom and why. A "choose any" prompt built to
pass every option with at least two votes passes two. The BBCode export of the
closed vote holds the decisions. Screenshots go to test-artifacts/ (not committed).
"""

import json
from pathlib import Path

import pytest
from playwright import sync_api

from chapters import services as chapter_services
from chapters.models import Vote
from tests.factories import PASSWORD, make_quest, make_user, make_vote, prompt_list, vote_in
from votes import services

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
VARIANTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "java_script_enabled": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "java_script_enabled": True},
    "phone-no-js": {"viewport": {"width": 390, "height": 844}, "java_script_enabled": False},
}
PROMPTS = prompt_list(
    "single",
    "write_in",
    texts={1: "Where do we march?"},
    option_texts={1: ["North", "South"]},
)
SONG = "The Internationale"
expect = sync_api.expect


@pytest.fixture
def browser_page(page, request):
    """A page of a fresh context in the variant's viewport, with or without JavaScript."""
    context = page.context.browser.new_context(**VARIANTS[request.param])
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    tab.errors = errors
    tab.variant = request.param
    yield tab
    context.close()


def _shot(page, step: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"outcomes-{page.variant}-{step}.png", full_page=True)


def _log_in(page, base: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("input[name=username]", "gm")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


def _overflow(page) -> int:
    """How far the page reaches past the viewport's right edge (0 or less: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _close(vote: Vote) -> None:
    chapter_services.vote_close(vote=vote, by=vote.chapter.quest.quest_master)
    services.vote_recount(vote_id=vote.pk)


def _live(page) -> bool:
    return page.variant != "phone-no-js"


def _mark(page) -> None:
    """Leave a mark in the page's window: a full page load wipes it, an htmx swap does not."""
    if _live(page):
        page.evaluate("window.notReloaded = true")


def _assert_same_page(page) -> None:
    if _live(page):
        assert page.evaluate("window.notReloaded === true"), "the page was loaded again"


@pytest.mark.browser
@pytest.mark.parametrize("browser_page", list(VARIANTS), indirect=True)
def test_the_quest_master_settles_a_tie_sees_it_at_once_and_changes_it(
    transactional_db, plain_http_live_server, browser_page
):
    page, base = browser_page, plain_http_live_server.url
    gm = make_user("gm", password=PASSWORD)
    vote = make_vote(make_quest(gm, title="Browser Calls"), gm, PROMPTS)
    vote_in(vote, make_user("ann"), f"1-A\n2-{SONG}")
    vote_in(vote, make_user("bob"), "1-B")
    last = vote_in(vote, make_user("cat"), f"2-{SONG}")
    _close(vote)
    tally = f"/q/{vote.chapter.quest.slug}/chapters/1/tally/"
    _log_in(page, base, tally)

    result = page.locator("#result-1")
    expect(result).to_contain_text("Tie between A, B: the quest master decides.")
    assert _overflow(page) <= 0
    _shot(page, "1-tie")

    # Settle the tie: the decision, and the pick as a pressed button, at once.
    _mark(page)
    result.get_by_role("button", name="Decide B) South").click()
    if not _live(page):
        page.wait_for_url(f"{base}{tally}#result-1")
    result = page.locator("#result-1")
    expect(page.get_by_text("Prompt 1: decided B.")).to_have_count(1)
    expect(result.locator(".decided")).to_contain_text("Decided: B) South (1 vote)")
    expect(result.locator(".decided")).to_contain_text("tie between A and B, settled by gm")
    expect(result.get_by_role("button", name="B) South: decided")).to_be_disabled()
    expect(result.get_by_role("button", name="B) South: decided")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(result).not_to_contain_text("the quest master decides")
    expect(page.locator("#tally-live")).to_contain_text(
        "Tie between A, B: the quest master decided B"
    )
    _assert_same_page(page)
    if _live(page):
        expect(result.locator(".notice")).to_be_focused()
    _shot(page, "2-settled")

    # A change needs a reason: the browser asks for one, and nothing is sent.
    change = result.get_by_role("button", name="Change to A) North")
    change.click()
    assert vote.outcomes.get(prompt=1).letters == ["B"]
    result.get_by_label("Reason").fill("The north pass opened")
    _mark(page)
    change.click()
    if not _live(page):
        page.wait_for_url(f"{base}{tally}#result-1")
    result = page.locator("#result-1")
    expect(page.get_by_text("Prompt 1: changed from B to A.")).to_have_count(1)
    expect(result.locator(".decided")).to_contain_text("Decided: A) North (1 vote)")
    expect(result).to_contain_text("Why: The north pass opened")
    expect(result.get_by_role("button", name="A) North: decided")).to_be_disabled()
    expect(result.get_by_role("button", name="Change to B) South")).to_be_enabled()
    _assert_same_page(page)
    assert _overflow(page) <= 0
    _shot(page, "3-changed")

    # Adopt the write-in, then take the BBCode a quest master posts at the close.
    _mark(page)
    page.locator("#result-2").get_by_role("button", name="Adopt").click()
    expect(page.get_by_text(f"Prompt 2: adopted “{SONG}”.")).to_have_count(1)
    expect(page.locator("#result-2")).to_contain_text(f"Adopted: {SONG}")
    _assert_same_page(page)

    page.get_by_role("link", name="BBCode for the forum").click()
    page.wait_for_url(f"{base}{tally[:-1]}.bbcode")
    text = page.locator("body").inner_text()
    assert f"Tally as of post #{last.ref}" in text
    assert "[B]The vote is closed.[/B]" in text
    assert (
        "[B]Decided:[/B] A) North (tie between A and B, settled by gm: The north pass opened)"
    ) in text
    assert f"[B]Adopted:[/B] {SONG}" in text

    # The vote's record names each pick, who made it and why.
    page.goto(f"{base}/q/{vote.chapter.quest.slug}/chapters/1/vote/events/")
    picked = page.locator("tr.vote-event-outcome_picked")
    expect(picked).to_contain_text("Tie settled: prompt 1: B) South")
    expect(picked).to_contain_text("gm")
    changed = page.locator("tr.vote-event-outcome_changed")
    expect(changed).to_contain_text("Tie decision changed: prompt 1: from B) South to A) North")
    expect(changed).to_contain_text("The north pass opened")
    expect(page.locator("tr.vote-event-write_in_adopted")).to_contain_text(SONG)
    assert _overflow(page) <= 0
    _shot(page, "4-record")

    # The message was shown once, where the call was made, and never again.
    page.goto(f"{base}/q/{vote.chapter.quest.slug}/chapters/1/")
    expect(page.locator(".messages")).to_have_count(0)
    expect(page.get_by_text("Prompt 1: decided B.")).to_have_count(0)
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize("browser_page", list(VARIANTS), indirect=True)
def test_a_threshold_prompt_built_in_the_builder_passes_two_options(
    transactional_db, plain_http_live_server, browser_page
):
    page, base = browser_page, plain_http_live_server.url
    gm = make_user("gm", password=PASSWORD)
    quest = make_quest(gm, title="Browser Threshold")
    chapter = chapter_services.chapter_create(quest=quest, title="The Crew", by=gm)
    builder = f"/q/{quest.slug}/chapters/1/vote/"
    _log_in(page, base, builder)

    page.fill("textarea[name=p-0-text]", "Who comes with us?")
    page.select_option("select[name=p-0-kind]", "multi")
    if not _live(page):
        page.get_by_role("button", name="Apply the kind").click()
    page.select_option("select[name=p-0-pass_rule]", "votes")
    page.fill("input[name=p-0-pass_at]", "2")
    page.fill("input[name=p-0-o-0-text]", "The scouts")
    page.fill("input[name=p-0-o-1-text]", "The cooks")
    page.get_by_role("button", name="Add option").click()
    page.fill("input[name=p-0-o-2-text]", "The band")
    assert _overflow(page) <= 0
    _shot(page, "5-builder")
    page.get_by_role("button", name="Save the vote").click()
    expect(page.locator(".messages")).to_contain_text("The vote's prompts are saved")
    prompt = chapter.vote.prompts.get()
    assert (prompt.kind, prompt.pass_rule, prompt.pass_at_least) == ("multi", "votes", 2)

    chapter_services.chapter_publish(chapter=chapter, by=gm)
    vote = Vote.objects.get(chapter=chapter)
    for name, letters in [("ann", "AB"), ("bob", "AB"), ("cat", "AC")]:
        vote_in(vote, make_user(name), f"1-{letters}")
    page.goto(f"{base}/q/{quest.slug}/chapters/1/tally/")
    expect(page.locator("#tally-live")).to_contain_text(
        "Every option with at least 2 votes passes."
    )
    expect(page.locator("#tally-live .badge.ok")).to_have_text(["passing", "passing"])

    _close(vote)
    page.reload()
    live = page.locator("#tally-live")
    for option in ("A) The scouts", "B) The cooks"):
        expect(live.locator("tr", has_text=option).locator(".badge.ok")).to_have_text("passed")
    expect(live.locator("tr", has_text="C) The band").locator(".badge")).to_have_count(0)
    expect(page.locator("#result-1 .decided")).to_contain_text(
        "Passed: A) The scouts (3 votes); B) The cooks (2 votes)"
    )
    expect(page.locator("#result-1")).not_to_contain_text("Tie")
    assert _overflow(page) <= 0
    _shot(page, "6-passed")

    page.get_by_role("link", name="JSON").click()
    page.wait_for_url(f"{base}/q/{quest.slug}/chapters/1/tally.json")
    [tallied] = json.loads(page.locator("body").inner_text())["prompts"]
    assert tallied["pass_rule"] == {"kind": "votes", "at_least": 2}
    assert [o["passed"] for o in tallied["options"]] == [True, True, False]
    page.goto(f"{base}/q/{quest.slug}/chapters/1/tally.bbcode")
    text = page.locator("body").inner_text()
    assert "[B]Passed:[/B] A) The scouts, B) The cooks (at least 2 votes)" in text
    assert "[B]A) The scouts[/B] No. of Votes: 3 - [B]passed[/B]" in text
    assert page.errors == []
