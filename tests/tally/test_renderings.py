"""BBCode, plain text and CSV renderings of a tally; write-in merge suggestions."""

import csv
import io

import pytest

from tests.tally.build import VOTE, flag, post
from votes.reading.fold import fold
from votes.tally import ballots_csv, merge_suggestions, tally_json, to_bbcode, to_text

READINGS = [
    post(10, "ann", "1B 2A 3=Build_dams 5CAB"),
    post(11, "bob", "1B 2B 3=build_dams!"),
    post(12, "cat", "1A 4AC", flags=(flag(2, "2A"),)),
    post(13, "dan", "1C", excluded="posted after the vote closed"),
]
FOLDED = fold(VOTE, READINGS)
TALLY = tally_json(vote=VOTE, folded=FOLDED, quest="red-alert", chapter=2, status="open")


def test_it_starts_bbcode_with_a_hidden_tally_marker():
    first = to_bbcode(TALLY, title="Red Alert ch. 2").splitlines()[0]
    assert first.startswith("[COLOR=transparent]#####")
    assert first.endswith("[/COLOR]")


def test_it_lays_out_bbcode_as_forum_tallies_do():
    links = {("ann", 1): "https://forum.example/posts/10"}
    text = to_bbcode(TALLY, title="Red Alert ch. 2", links=links)
    lines = text.splitlines()
    assert "Red Alert ch. 2" in lines[1]
    block = lines[lines.index("[B]1. Decide the fate[/B]") :]
    assert block[:7] == [
        "[B]1. Decide the fate[/B]",
        "[B]A) Option A[/B] No. of Votes: 1",
        "cat",
        "[B]B) Option B[/B] No. of Votes: 2",
        "[url=https://forum.example/posts/10]ann[/url]",
        "bob",
        "[B]C) Option C[/B] No. of Votes: 0",
    ]
    assert "[B]Build dams[/B] No. of Votes: 2" in lines
    assert lines[-1] == "Total No. of Voters: 3"


def _bb_for_voters(count):
    readings = [post(i, f"voter{i:02}", "1A") for i in range(count)]
    tally = tally_json(vote=VOTE, folded=fold(VOTE, readings), quest="q", chapter=1, status="open")
    return to_bbcode(tally, title="t")


@pytest.mark.parametrize(("count", "spoiler"), [(10, False), (11, True)])
def test_it_hides_long_voter_lists_in_a_spoiler(count, spoiler):
    text = _bb_for_voters(count)
    assert ('[SPOILER="Voters"]' in text) is spoiler
    assert text.count("voter0") == min(count, 10)


def test_it_keeps_player_text_from_being_read_as_bbcode():
    readings = [post(1, "ann", "3=[/SPOILER][B]loud[/plain]")]
    tally = tally_json(vote=VOTE, folded=fold(VOTE, readings), quest="q", chapter=1, status="open")
    text = to_bbcode(tally, title="t")
    assert "[B][PLAIN][/SPOILER][B]loud[/PLAIN][/B] No. of Votes: 1" in text


def test_it_writes_the_ranked_winner_in_bbcode_and_text():
    assert "Schulze winner: C" in to_bbcode(TALLY, title="t")
    assert "Schulze winner: C" in to_text(TALLY)


def test_it_writes_plain_text_for_a_terminal():
    text = to_text(TALLY)
    assert text.splitlines()[0] == "red-alert, chapter 2 (open): 3 ballots"
    assert "  B) Option B: 2" in text
    assert "     ann, bob" in text
    assert "  Leading: B" in text
    assert "  [2] Build dams" in text
    assert "  post 12 by cat (prompt 2): unsure" in text
    assert "  post 13 by dan: posted after the vote closed" in text


def test_it_writes_every_answer_to_csv():
    rows = list(csv.reader(io.StringIO(ballots_csv(FOLDED, VOTE))))
    assert rows[0] == ["voter", "post", "prompt", "answer", "status"]
    assert rows[1:] == [
        ["ann", "10", "1", "B", "counted"],
        ["ann", "10", "2", "A", "counted"],
        ["ann", "10", "3", "Build dams", "counted"],
        ["ann", "10", "5", "C>A>B", "counted"],
        ["bob", "11", "1", "B", "counted"],
        ["bob", "11", "2", "B", "counted"],
        ["bob", "11", "3", "build dams!", "counted"],
        ["cat", "12", "1", "A", "counted"],
        ["cat", "12", "4", "AC", "counted"],
        ["cat", "12", "2", "A", "held back"],
    ]


def test_it_keeps_a_write_in_from_running_as_a_spreadsheet_formula():
    folded = fold(VOTE, [post(1, "ann", "3==HYPERLINK(1)"), post(2, "bob", flags=(flag(None),))])
    rows = list(csv.reader(io.StringIO(ballots_csv(folded, VOTE))))
    assert rows[1] == ["ann", "1", "3", "'=HYPERLINK(1)", "counted"]
    assert rows[2] == ["bob", "2", "", "", "held back"]


# (name, entry texts, threshold, expected pairs)
SUGGESTIONS = [
    (
        "a near-duplicate is suggested",
        ["General improvements on the economy", "General improvement on the economy"],
        85,
        [("General improvements on the economy", "General improvement on the economy")],
    ),
    (
        "word order does not hide a duplicate",
        ["Build dams and roads", "roads and build dams"],
        85,
        [("Build dams and roads", "roads and build dams")],
    ),
    ("different ideas are not suggested", ["Build dams", "Invade Korea"], 85, []),
    (
        "a lower threshold suggests more",
        ["Build dams", "Build more dams"],
        70,
        [("Build dams", "Build more dams")],
    ),
    ("a higher threshold suggests less", ["Build dams", "Build more dams"], 95, []),
    ("one entry has nothing to merge with", ["Build dams"], 85, []),
]


@pytest.mark.parametrize(
    ("name", "texts", "threshold", "pairs"), SUGGESTIONS, ids=[c[0] for c in SUGGESTIONS]
)
def test_it_suggests_merging_near_duplicate_entries(name, texts, threshold, pairs):
    entries = [{"text": t, "votes": 1, "voters": ["x"]} for t in texts]
    got = merge_suggestions(entries, threshold=threshold)
    assert [(s["a"], s["b"]) for s in got] == pairs
    assert all(threshold <= s["score"] <= 100 for s in got)
