"""How the vote moved, on the tally page: drawn from the stored tally runs (issue 13).

The chart's numbers are read back from its screen-reader table and compared
with the TallyRun rows; the pure series and layout are tested in
tests/tally/test_movement.py.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chapters.models import Vote
from tests.factories import chapter_url, make_user, make_vote, prompt_list, vote_in
from votes import selectors
from votes.models import TallyRun
from votes.movement import figures

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "write_in")


class _Tables(HTMLParser):
    """The movement tables of a page: {caption: [[cell, ...], ...]} (header row first)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._caption = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "movement-numbers" in (dict(attrs).get("class") or ""):
            self._rows, self._caption = [], ""
        elif self._rows is not None and tag == "tr":
            self._rows.append([])
        elif self._rows is not None and tag in ("th", "td", "caption"):
            self._in = tag
            if tag != "caption":
                self._rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "table" and self._rows is not None:
            self.tables[self._caption.strip()] = self._rows
            self._rows = None
        elif tag in ("th", "td", "caption"):
            self._in = None

    def handle_data(self, data):
        if self._in == "caption":
            self._caption += data
        elif self._in:
            self._rows[-1][-1] += data.strip()


def movement_tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def expected_counts(vote: Vote, number: int) -> list[list[int]]:
    """Prompt `number`'s option counts at each stored run where they changed, from the rows."""
    out: list[list[int]] = []
    for data in (
        TallyRun.objects.filter(vote=vote)
        .order_by("created_at", "pk")
        .values_list("data", flat=True)
    ):
        prompt = next(p for p in data["prompts"] if p["number"] == number)
        counts = [o["votes"] for o in prompt["options"]]
        if not out or counts != out[-1]:
            out.append(counts)
    return out


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


def test_it_shows_each_change_of_the_count_as_the_runs_stored_it(client, vote, player):
    for n, body in enumerate(["1-A", "1-B\n2-tractors", "1-A", "2-more tractors"]):
        vote_in(vote, make_user(f"voter{n}"), body)
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally")).content.decode()

    assert "How the vote moved" in html
    table = movement_tables(html)["Prompt 1: votes for each option after each change of the count"]
    assert table[0] == ["Counted at", "A) North", "B) South"]
    assert [[int(c) for c in row[1:]] for row in table[1:]] == expected_counts(vote, 1)
    assert expected_counts(vote, 1) == [[1, 0], [1, 1], [2, 1]]  # the write-in moved no option


def test_it_follows_the_leading_write_ins(client, vote, player):
    vote_in(vote, make_user("a"), "2-tractors")
    vote_in(vote, make_user("b"), "2-Tractors!")
    client.force_login(player)

    tables = movement_tables(client.get(chapter_url(vote, "chapter-tally")).content.decode())

    table = tables["Prompt 2: votes for each leading entry after each change of the count"]
    assert table[0] == ["Counted at", "1) tractors"]
    assert [row[1:] for row in table[1:]] == [["1"], ["2"]]


def test_it_draws_with_attributes_and_classes_never_a_style_attribute(client, vote, player):
    vote_in(vote, make_user("a"), "1-A")
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally")).content.decode()

    chart = html[html.index('<svg class="movement-chart"') : html.index("</svg>")]
    assert 'viewBox="0 0 400 190"' in chart
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    assert re.search(r'<polyline class="line series-0" points="[\d., ]+"', chart)
    assert "style=" not in html


def test_it_is_in_the_live_partial(client, vote, player):
    vote_in(vote, make_user("a"), "1-A")
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally"), **HTMX).content.decode()

    assert html.lstrip().startswith('<div class="tally" id="tally-live"')
    assert 'class="movement-chart"' in html


def test_it_shows_no_chart_while_results_are_hidden(client, quest, quest_master, player):
    vote = make_vote(quest, quest_master, PROMPTS, results_visibility=Vote.Visibility.AFTER_CLOSE)
    vote_in(vote, make_user("a"), "1-A")
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally")).content.decode()

    assert "How the vote moved" not in html
    assert "movement-numbers" not in html


def test_it_loads_a_bounded_number_of_runs_in_two_queries(vote):
    vote_in(vote, make_user("a"), "1-A")
    data = TallyRun.objects.get(vote=vote).data
    start = timezone.now()
    TallyRun.objects.bulk_create(
        TallyRun(
            vote=vote,
            created_at=start + timedelta(minutes=n),
            data={**data, "prompts": [{**data["prompts"][0], "options": _votes(data, n)}]},
            sha256=f"{n:064d}",
            rules_version=1,
        )
        for n in range(1, 500)
    )

    with CaptureQueriesContext(connection) as queries:
        (figure,) = selectors.tally_movement(vote)

    assert len(queries) == 2
    assert len(figure.series.times) <= 100
    assert figure.series.lines[0].counts[-1] == 499  # the latest run is always kept


def _votes(data, n: int) -> list[dict]:
    first, *rest = data["prompts"][0]["options"]
    return [{**first, "votes": n}, *rest]


def test_it_reads_only_the_counts_of_each_run_and_draws_what_the_whole_runs_draw(vote):
    for n, body in enumerate(["1-A\n2-Sing", "1-B\n2-sing!", "1-B\n2-March", "1-A", "2-March"]):
        vote_in(vote, make_user(f"voter{n}"), body)
    runs = list(
        TallyRun.objects.filter(vote=vote)
        .order_by("created_at", "pk")
        .values_list("created_at", "data")
    )
    assert len(runs) == 5 and all(o["voters"] for o in runs[-1][1]["prompts"][0]["options"])

    drawn = selectors.tally_movement(vote)

    start = min(runs[0][0], vote.opens_at) if vote.opens_at else runs[0][0]
    assert drawn == figures(runs, start=start, end=runs[-1][0])
    assert [line.counts[-1] for line in drawn[1].series.lines] == [2, 2]  # March, Sing


def test_it_draws_the_chart_once_per_stored_run(client, vote, player):
    """Kept rendered per run (votes/tally_cache.py): the next request takes it from the
    cache, a new run draws it again with its new point."""
    vote_in(vote, make_user("voter0"), "1-A")
    vote_in(vote, player, "1-B")
    client.force_login(player)
    url = chapter_url(vote, "chapter-tally")
    prompt_1 = "Prompt 1: votes for each option after each change of the count"

    first = client.get(url)
    again = client.get(url)
    vote_in(vote, make_user("voter2"), "1-A")
    moved = client.get(url)

    def drawn(response) -> bool:
        return "votes/_movement.html" in [t.name for t in response.templates]

    assert drawn(first) and not drawn(again) and drawn(moved)
    assert movement_tables(again.content.decode()) == movement_tables(first.content.decode())
    rows = movement_tables(moved.content.decode())[prompt_1][1:]
    assert (
        [[int(c) for c in row[1:]] for row in rows]
        == expected_counts(vote, 1)
        == [
            [1, 0],
            [1, 1],
            [2, 1],
        ]
    )
