"""A new quest master's first chapter and vote, in Chromium: desktop, and phone without JavaScript.

From the home page (which says what the app is for within the first screen):
start a quest, follow "Write the first chapter", write it with centred, sized
and coloured BBCode, attach a vote from the chapter's edit page, publish, close
the vote, and find "Vote closed: … — results" on the thread and the home page.
The chapter is named once throughout, the BBCode is styled by our stylesheet
under the Content-Security-Policy, and nothing is blocked or logged as an error.
Screenshots of each step go to test-artifacts/.
"""

from pathlib import Path

import pytest
from playwright import sync_api

from chapters.models import Chapter, Vote
from tests.factories import PASSWORD, make_user

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
VARIANTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "java_script_enabled": True},
    "phone-no-js": {"viewport": {"width": 390, "height": 844}, "java_script_enabled": False},
}
TITLE = "Chapter One: The Lamp Goes Dark"
BODY = (
    "[CENTER][SIZE=6]The Lamp Goes Dark[/SIZE][/CENTER]\n"
    "The keeper's lamp fails at midnight. [COLOR=#b8312f]The reef is close.[/COLOR]"
)


@pytest.fixture
def browser_page(page, request):
    """A page of a fresh context in the variant's viewport, with or without JavaScript."""
    context = page.context.browser.new_context(**VARIANTS[request.param])
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type in {"error", "warning"} else None)
    tab.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    tab.errors = errors
    yield tab
    context.close()


def _shot(page, variant: str, step: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"quest-master-{variant}-{step}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("browser_page", list(VARIANTS), indirect=True)
def test_it_takes_a_quest_master_from_a_new_quest_to_a_closed_vote(
    transactional_db, plain_http_live_server, browser_page, request
):
    page, base = browser_page, plain_http_live_server.url
    variant = request.node.callspec.params["browser_page"]
    make_user("lamplighter", password=PASSWORD)
    expect = sync_api.expect

    # The home page says what the app is for in its first screen.
    page.goto(f"{base}/")
    intro = page.locator(".intro")
    expect(intro).to_contain_text("Moderators audit every reading")
    links = page.locator(".intro-links").bounding_box()
    assert links is not None and links["y"] + links["height"] <= page.viewport_size["height"]
    _shot(page, variant, "1-home")

    page.goto(f"{base}/accounts/login/?next=/quests/new/")
    page.fill("input[name=username]", "lamplighter")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.fill("input[name=title]", "The Lighthouse")
    page.get_by_role("button", name="Start the quest").click()

    page.get_by_role("link", name="Write the first chapter").click()
    page.fill("input[name=title]", TITLE)
    page.fill("textarea[name=body]", BODY)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".messages")).to_contain_text("Chapter 1 saved as a draft")
    _shot(page, variant, "2-draft")

    page.get_by_role("link", name="Attach a vote").click()
    page.fill("textarea[name=p-0-text]", "Which way to the reef?")
    page.fill("input[name=p-0-o-0-text]", "Row north")
    page.fill("input[name=p-0-o-1-text]", "Wait for dawn")
    page.get_by_role("button", name="Save the vote").click()
    expect(page.locator(".messages")).to_contain_text("The vote's prompts are saved")
    page.get_by_role("button", name="Publish to the thread").first.click()
    expect(page.locator(".messages")).to_contain_text("Chapter 1 is published")

    expect(page.locator("h1")).to_have_text(TITLE)  # not "Chapter 1: Chapter One: …"
    centred = page.locator(".chapter-body .bb-align-center")
    expect(centred).to_have_css("text-align", "center")
    expect(centred.locator(".bb-size-6")).to_have_css("font-size", "23.52px")
    expect(page.locator(".chapter-body .bb-color-red")).to_have_css("color", "rgb(198, 40, 40)")
    assert page.locator(".chapter-body [style]").count() == 0
    expect(page.locator(".prompt-kind").first).to_have_text("(pick one)")
    _shot(page, variant, "3-published")

    page.get_by_role("button", name="Close the vote").click()
    expect(page.locator("#vote")).to_contain_text("closed", ignore_case=True)
    vote = Vote.objects.get(chapter__quest__slug="the-lighthouse")
    assert vote.is_closed

    page.goto(f"{base}/q/the-lighthouse/")
    closed = page.locator(".callout-closed")
    expect(closed).to_have_text(f"Vote closed: {TITLE} — results")
    expect(page.locator(".post-chapter .badge-chapter")).to_have_text(TITLE)
    _shot(page, variant, "4-thread")
    closed.get_by_role("link", name="results").click()
    page.wait_for_url(f"{base}/q/the-lighthouse/chapters/1/tally/")
    expect(page.locator(".tally-status")).to_contain_text("Final tally")

    page.goto(f"{base}/")
    card = page.locator(".quest-card", has_text="The Lighthouse")
    expect(card.locator(".quest-closed")).to_have_text(f"Vote closed: {TITLE} — results")
    expect(card.locator(".quest-status")).to_contain_text(f"Latest: {TITLE}")
    _shot(page, variant, "5-home")

    assert Chapter.objects.get(quest__slug="the-lighthouse").title == TITLE
    assert page.errors == []
