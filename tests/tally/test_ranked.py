"""Ranked methods, checked against tables and against votelib and pyrankvote."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyrankvote import Ballot, Candidate, instant_runoff_voting
from votelib.convert import RankedToCondorcetVotes
from votelib.evaluate.condorcet import Schulze
from votelib.evaluate.core import Tie

from votes.ranking import instant_runoff, schulze


def _many(*groups: tuple[int, str]) -> list[str]:
    return [ranking for times, ranking in groups for _ in range(times)]


WIKIPEDIA = _many(
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
)

SCHULZE = [
    ("the Wikipedia example", WIKIPEDIA, "ABCDE", ["E"]),
    ("a Condorcet winner wins", ["AB", "AB", "BA"], "AB", ["A"]),
    ("an even split is a tie", ["AB", "BA"], "AB", ["A", "B"]),
    ("a cycle of equal strength is a tie", ["ABC", "BCA", "CAB"], "ABC", ["A", "B", "C"]),
    ("ranked beats unranked", ["A", "B", "AB"], "ABC", ["A"]),
    ("no ballots, no winner", [], "ABC", []),
    ("empty rankings are no ballots", ["", ""], "ABC", []),
    ("letters that are not options are ignored", ["ZB", "B"], "AB", ["B"]),
]


@pytest.mark.parametrize(
    ("name", "ballots", "candidates", "winners"), SCHULZE, ids=[c[0] for c in SCHULZE]
)
def test_it_finds_schulze_winners(name, ballots, candidates, winners):
    assert schulze(ballots, list(candidates)) == winners


RUNOFF = [
    ("a majority of first choices wins", ["A", "A", "B"], "AB", ["A"]),
    ("the last is eliminated and transfers", _many((4, "A"), (3, "BC"), (2, "CB")), "ABC", ["B"]),
    ("exhausted ballots stop counting", _many((4, "A"), (3, "B"), (2, "C")), "ABC", ["A"]),
    ("an even final round is a tie", ["A", "B"], "AB", ["A", "B"]),
    (
        "a tie for last that decides the winner is reported as a tie",
        _many((3, "A"), (2, "BA"), (2, "CB")),
        "ABC",
        ["A", "B"],
    ),
    (
        "a tie for last that decides nothing is not a tie",
        _many((5, "A"), (2, "BA"), (2, "CA")),
        "ABC",
        ["A"],
    ),
    ("no ballots, no winner", [], "AB", []),
]


@pytest.mark.parametrize(
    ("name", "ballots", "candidates", "winners"), RUNOFF, ids=[c[0] for c in RUNOFF]
)
def test_it_finds_instant_runoff_winners(name, ballots, candidates, winners):
    assert instant_runoff(ballots, list(candidates)) == winners


@st.composite
def _election(draw) -> tuple[list[str], list[str]]:
    candidates = list("ABCDE"[: draw(st.integers(2, 5))])
    ranking = st.permutations(candidates).flatmap(
        lambda order: st.integers(1, len(order)).map(lambda n: "".join(order[:n]))
    )
    return candidates, draw(st.lists(ranking, min_size=1, max_size=25))


def _votelib_paths(ballots: list[str]) -> dict:
    pairs = RankedToCondorcetVotes().convert(Counter(tuple(b) for b in ballots))
    return Schulze.widest_paths(pairs)


@settings(max_examples=300, deadline=None)
@given(_election())
def test_it_agrees_with_votelib_schulze(election):
    candidates, ballots = election
    ranked = sorted({c for b in ballots for c in b})
    mine = schulze(ballots, candidates)
    if len(ranked) < 2:  # votelib sees no pairs at all
        assert mine == ranked
        return
    paths = _votelib_paths(ballots)
    unbeaten = [
        x for x in ranked if all(paths.get((x, y), 0) >= paths.get((y, x), 0) for y in ranked)
    ]
    assert mine == unbeaten
    # votelib picks the most pairwise path wins: always among the unbeaten, and
    # the whole of them when there is one winner.
    theirs = Schulze().evaluate(RankedToCondorcetVotes().convert(Counter(map(tuple, ballots))), 1)
    chosen = {c for w in theirs for c in (w if isinstance(w, Tie) else (w,))}
    assert chosen <= set(mine)
    if len(mine) == 1:
        assert chosen == set(mine)


@settings(max_examples=300, deadline=None)
@given(_election())
def test_it_agrees_with_pyrankvote_when_there_is_one_winner(election):
    candidates, ballots = election
    mine = instant_runoff(ballots, candidates)
    assert mine
    if len(mine) > 1:
        return  # pyrankvote breaks ties by second choices or at random; we report them
    people = {c: Candidate(c) for c in candidates}
    result = instant_runoff_voting(
        list(people.values()), [Ballot([people[c] for c in b]) for b in ballots]
    )
    assert [c.name for c in result.get_winners()] == mine


@settings(max_examples=300, deadline=None)
@given(_election())
def test_it_runs_off_whatever_the_order_of_the_ballots(election):
    candidates, ballots = election
    firsts = {b[0] for b in ballots}
    assert set(instant_runoff(ballots, candidates)) <= {c for b in ballots for c in b}
    assert instant_runoff(ballots, candidates) == instant_runoff(
        list(reversed(ballots)), candidates
    )
    if len(firsts) == 1:
        assert instant_runoff(ballots, candidates) == sorted(firsts)
