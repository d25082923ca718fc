"""How the vote moved, in a real browser: the chart on the tally page matches the stored runs.

The chart's numbers are read as a screen reader gets them (the table named by
its caption, hidden on screen) and compared with the TallyRun rows; the SVG
must be drawn under the Content-Security-Policy and fit a phone's width.
"""

import pytest
from playwright import sync_api

from tests.browsing import SHAPES, log_in, open_page, screenshot, scrolls_sideways
from tests.factories import PASSWORD, chapter_url, make_quest, make_user, make_vote, prompt_list
from tests.factories import vote_in as _vote_in
from votes.models import TallyRun

PROMPTS = prompt_list("single", "multi", "write_in", options=3)
BALLOTS = [
    ("ana", "1-A\n2-A, B\n3-Sing loudly"),
    ("boris", "1-B\n2-C"),
    ("vera", "1-B\n3-sing loudly!"),
    ("gleb", "1-C\n2-A"),
    ("ana", "Revised vote:\n1-C\n2-B\n3-Sing loudly"),
]


def _stored_changes(vote, number: int) -> list[list[int]]:
    """Prompt `number`'s counts at each stored run that changed them, from the rows."""
    out: list[list[int]] = []
    runs = TallyRun.objects.filter(vote=vote).order_by("created_at", "pk")
    for data in runs.values_list("data", flat=True):
        prompt = next(p for p in data["prompts"] if p["number"] == number)
        rows = prompt.get("options") or sorted(prompt["entries"], key=lambda e: -e["votes"])
        counts = [row["votes"] for row in rows]
        if not out or counts != out[-1]:
            out.append(counts)
    return out


def _read_table(page: sync_api.Page, caption: str) -> list[list[str]]:
    # By role and name, as assistive technology finds it: the caption names the table.
    table = page.get_by_role("table", name=caption)
    return [
        [cell.inner_text().strip() for cell in row.locator("th, td").all()]
        for row in table.locator("tr").all()
    ]


@pytest.mark.browser
@pytest.mark.parametrize("shape", SHAPES)
def test_it_draws_how_the_vote_moved_from_the_stored_runs(
    transactional_db, live_server, page, shape
):
    player = make_user("player", password=PASSWORD)
    quest = make_quest(make_user("quest_master"), title="Moving Quest")
    vote = make_vote(quest, quest.quest_master, PROMPTS, title="The Vote Moves")
    voters = {name: make_user(name) for name in dict.fromkeys(n for n, _ in BALLOTS)}
    for name, body in BALLOTS:
        _vote_in(vote, voters[name], body)
    _vote_in(vote, player, "1-B")
    browser_page = open_page(page, shape)
    violations: list[str] = []
    browser_page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )

    log_in(browser_page, live_server.url, "player", chapter_url(vote, "chapter-tally"))

    chart = browser_page.locator("#movement-1 svg.movement-chart")
    sync_api.expect(chart).to_be_visible()
    assert chart.get_attribute("role") == "img"
    box = chart.bounding_box()
    assert box is not None and box["height"] > 80
    assert box["width"] <= browser_page.viewport_size["width"] if shape != "desktop" else True
    for number in (1, 2):
        kind = "option"
        caption = f"Prompt {number}: votes for each {kind} after each change of the count"
        rows = _read_table(browser_page, caption)
        assert [[int(c) for c in row[1:]] for row in rows[1:]] == _stored_changes(vote, number)
        drawn = browser_page.locator(f"#movement-{number} polyline")
        assert drawn.count() == len(rows[0]) - 1  # a line per option
    latest = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first().data
    entries = _read_table(
        browser_page, "Prompt 3: votes for each leading entry after each change of the count"
    )
    (entry,) = latest["prompts"][2]["entries"]  # "Sing loudly" and "sing loudly!" are one
    assert entries[0][1] == f"1) {entry['text']}"
    assert [row[1] for row in entries[1:]] == ["1", "2"]
    # The end of each line says where it ended: the latest run's counts.
    ends = browser_page.locator("#movement-1 text.key").all_text_contents()
    assert ends == [f"{o['letter']} · {o['votes']}" for o in latest["prompts"][0]["options"]]
    assert not scrolls_sideways(browser_page)
    assert violations == []
    screenshot(browser_page, f"movement-{shape}")
