"""Accessibility and phone width in a real browser, on the pages people use.

axe-core (through the pinned axe-playwright-python, which ships it) runs in
Debian's Chromium on the thread, chapter, ballot, tally and audit pages, each
in the states that show the most controls: a moderator with posts held back
and one just decided, a player with a ballot to post, the quest master with a
tie to settle on a closed vote; folded <details> are opened first. No moderate,
serious or critical violation may remain (minor ones are advice, not faults).
The same pages at 390×844 (a phone) must not scroll sideways. Screenshots go
to test-artifacts/ (not committed).
"""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from chapters import services as chapter_services
from quest import services as quest_services
from tests.factories import (
    PASSWORD,
    chapter_url,
    make_quest,
    make_user,
    make_vote,
    prompt_list,
    vote_in,
)
from votes import services as vote_services
from votes.entry_merges import entry_merge

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FAILING = {"moderate", "serious", "critical"}
PHONE = {"width": 390, "height": 844}
PROMPTS = prompt_list("single", "multi", "ranked", "write_in", options=3)


def _world() -> dict[str, str]:
    """A quest with a closed vote and an open one; the pages to check, by name."""
    quest_master = make_user("quest_master", password=PASSWORD)
    moderator = make_user("moderator", password=PASSWORD)
    make_user("newcomer", password=PASSWORD)
    quest = make_quest(quest_master, title="Accessible Quest")
    quest_services.moderator_appoint(quest=quest, user=moderator, by=quest_master)
    # A closed vote with ties to settle: the tally's results section and its buttons.
    closed = make_vote(quest, quest_master, PROMPTS, title="The Crossing")
    vote_in(closed, make_user("ana"), "1-A\n2-A, B\n3-A > B\n4-Sing loudly")
    vote_in(closed, make_user("boris"), "1-B\n2-C\n3-B > A\n4-Sing softly")
    chapter_services.vote_close(vote=closed, by=quest_master)
    # A moderator's merge of its write-ins: the tally's merged entry and its split form.
    vote_services.vote_recount(vote_id=closed.pk)
    entry_merge(
        vote=closed,
        prompt=4,
        merged="Sing softly",
        kept="Sing loudly",
        reason="One song.",
        by=moderator,
    )
    # An open vote with counted, held-back and chatter posts: the audit's forms.
    vote = make_vote(quest, quest_master, PROMPTS, title="The March")
    vote_in(vote, make_user("player"), "1-B\n2-A, C\n3-C > A > B\n4-The Internationale")
    vote_in(vote, make_user("waverer"), "1-A maybe")
    vote_in(vote, make_user("hesitant"), "2-A, C maybe\n" + "x" * 120)  # an unbroken word
    vote_in(vote, make_user("chatter"), "Great chapter! North sounds good to me.")
    vote_in(vote, make_user("singer"), "4-The Internationalle")  # a merge suggestion
    return {
        "thread": reverse("quest-thread", args=[quest.slug]),
        "chapter": chapter_url(vote, "chapter-detail"),
        "ballot": chapter_url(vote, "ballot-submit"),
        "tally": chapter_url(vote, "chapter-tally"),
        "tally-closed": chapter_url(closed, "chapter-tally"),
        "audit": chapter_url(vote, "vote-audit"),
        "audit-all": chapter_url(vote, "vote-audit") + "?show=all",
    }


# Who looks at which page, beyond the moderator who sees them all.
OTHER_VIEWS = [("newcomer", "chapter"), ("newcomer", "ballot"), ("quest_master", "tally-closed")]


def _log_in(page, live_server, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}{reverse('login')}?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + next_url)


def _log_out(page) -> None:
    page.locator("button", has_text="Log out").click()
    page.wait_for_url("**/")


def _unfold(page) -> None:
    """Open every folded <details>, so what they hold is checked too."""
    page.wait_for_load_state("networkidle")
    folded = page.locator("details:not([open]) > summary:visible")
    while folded.count():
        folded.first.click()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def _violations(page, name: str) -> list[str]:
    """Moderate, serious and critical axe violations on the page, one line per element."""
    _shot(page, f"axe-{name}")
    found = Axe().run(page).response["violations"]
    return [
        f"{name}: {v['id']} ({v['impact']}) {node['target']}: {v['help']}"
        for v in found
        if v["impact"] in FAILING
        for node in v["nodes"]
    ]


@pytest.mark.browser
def test_it_finds_no_serious_violation_on_the_five_pages(transactional_db, live_server, page):
    pages = _world()
    _log_in(page, live_server, "moderator", pages["thread"])
    found = []
    for name, url in pages.items():
        page.goto(live_server.url + url)
        _unfold(page)
        found += _violations(page, name)
    # The audit after a decision: the decided row, its undo, the decision record.
    page.goto(live_server.url + pages["audit"])
    page.locator("article.audit-post form.audit-accept button").first.click()
    page.locator(".audit-decided-row").wait_for()
    _unfold(page)
    found += _violations(page, "audit-decided")
    for username, name in OTHER_VIEWS:
        _log_out(page)
        _log_in(page, live_server, username, pages[name])
        _unfold(page)
        found += _violations(page, f"{name}-{username}")
    assert found == [], "\n".join(found)


@pytest.mark.browser
def test_it_reports_a_violation_when_there_is_one(transactional_db, live_server, page):
    # The test above passes on silence: show that axe runs and sees what it must.
    page.goto(live_server.url + reverse("help-voting"))
    assert _violations(page, "help") == []
    page.evaluate(
        """document.querySelector("main").insertAdjacentHTML(
             "beforeend",
             '<input id="unlabelled"><button id="nameless"></button><h5 id="skipped">Notes</h5>')"""
    )

    found = _violations(page, "help-broken")

    assert any("label (critical) ['#unlabelled']" in line for line in found), found
    assert any("button-name (critical) ['#nameless']" in line for line in found), found
    # Moderate findings fail the check too: a heading that skips levels.
    assert any("heading-order (moderate) ['#skipped']" in line for line in found), found


@pytest.mark.browser
def test_it_fits_the_five_pages_on_a_phone(transactional_db, live_server, page):
    pages = _world()
    context = page.context.browser.new_context(viewport=PHONE)
    phone = context.new_page()
    wide = []
    try:
        _log_in(phone, live_server, "moderator", pages["thread"])
        views = [("moderator", name) for name in pages] + OTHER_VIEWS
        for n, (username, name) in enumerate(views):
            if n and username != views[n - 1][0]:
                _log_out(phone)
                _log_in(phone, live_server, username, pages[name])
            phone.goto(live_server.url + pages[name])
            _unfold(phone)
            _shot(phone, f"phone-{name}-{username}")
            over = phone.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
            if over > 0:
                wide.append(f"{name} as {username}: {over} px too wide")
    finally:
        context.close()
    assert wide == []
