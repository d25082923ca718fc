"""How ranked, approval and scored `lines` prompts are decided, checked against votelib.

Random elections come from fixed seeds, so a failure names the seed that shows
it. Each ballot spells its lines its own way (case, punctuation, BBCode) to
check that the methods see entries, not spellings. Rated instant runoff has no
library to compare with: its cases are worked by hand from the description in
NetTally's RatedInstantRunoff.cs.
"""

import random
from collections import Counter
from fractions import Fraction

import pytest
from votelib.component.rankscore import Borda
from votelib.convert import RankedToCondorcetVotes, RankedToPositionalVotes, ScoreToSimpleVotes
from votelib.evaluate.condorcet import Schulze

from chapters.kinds import Method
from tests.tally.build import LINES, counted, ranked, xline
from votes.line_tally import entry_key, lines_prompt_json
from votes.ranking import _wilson_lower, borda, borda_points, rated_runoff, schulze
from votes.reading.types import PromptKind, PromptSpec

NAMES = ["Scout the wreck", "Repair the reactor", "Rest", "Send 2 squads", "Send 3 squads"]
SEEDS = range(15)


def _spelling(rng: random.Random, text: str) -> str:
    return rng.choice([text, text.upper(), text.lower() + "!", f"[b]{text}[/b]", f" {text}."])


def _election(seed: int) -> tuple[list[str], list[tuple[str, ...]]]:
    """Candidates and ballots: each ballot a random order of some of them."""
    rng = random.Random(seed)
    candidates = NAMES[: rng.randint(2, 5)]
    ballots = []
    for _ in range(rng.randint(1, 25)):
        order = rng.sample(candidates, len(candidates))
        ballots.append(tuple(order[: rng.randint(1, len(order))]))
    return candidates, ballots


def _lines(seed: int, ballots: list[tuple[str, ...]]) -> dict:
    """The ballots as [#1], [#2], ... lines, each line spelled its own way."""
    rng = random.Random(seed)
    return {
        f"voter{i:02}": ranked(100 + i, *(_spelling(rng, c) for c in b))
        for i, b in enumerate(ballots)
    }


def _keys(winner) -> set[str]:
    return {
        entry_key(w)
        for w in ([] if winner is None else [winner] if isinstance(winner, str) else winner)
    }


def _prompt(method: Method) -> PromptSpec:
    return PromptSpec(1, PromptKind.LINES, "Rank the plans", method=method)


# --- Schulze and Borda against votelib, on random elections --------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_it_finds_the_schulze_winners_votelib_finds(seed):
    _, ballots = _election(seed)
    mine = lines_prompt_json(_prompt(Method.SCHULZE), _lines(seed, ballots))
    ranked_names = sorted({c for b in ballots for c in b})
    assert mine["method"] == "schulze"
    if len(ranked_names) < 2:  # votelib sees no pairs at all
        assert _keys(mine["winner"]) == {entry_key(c) for c in ranked_names}
        return
    paths = Schulze.widest_paths(RankedToCondorcetVotes().convert(Counter(ballots)))
    unbeaten = {
        x
        for x in ranked_names
        if all(paths.get((x, y), 0) >= paths.get((y, x), 0) for y in ranked_names)
    }
    assert _keys(mine["winner"]) == {entry_key(c) for c in unbeaten}


@pytest.mark.parametrize("seed", SEEDS)
def test_it_gives_the_borda_points_votelib_gives(seed):
    _, ballots = _election(seed)
    # votelib reads a string in a ranking as a tie of its letters: candidates are numbers there.
    numbered = Counter(tuple(NAMES.index(c) for c in b) for b in ballots)
    theirs = {
        NAMES[i]: p for i, p in RankedToPositionalVotes(Borda(base=0)).convert(numbered).items()
    }
    assert borda_points(ballots, sorted(theirs)) == theirs
    top = max(theirs.values())
    mine = lines_prompt_json(_prompt(Method.BORDA), _lines(seed, ballots))
    assert mine["method"] == "borda"
    assert _keys(mine["winner"]) == {entry_key(c) for c, p in theirs.items() if p == top}


@pytest.mark.parametrize("seed", range(8))
def test_it_averages_scores_as_votelib_does(seed):
    rng = random.Random(seed)
    scored: list[dict[str, int]] = []
    for _ in range(rng.randint(1, 12)):
        chosen = rng.sample(NAMES, rng.randint(1, len(NAMES)))
        scored.append({c: rng.choice([0, 25, 50, 75, 90, 100]) for c in chosen})
    ballots = {
        f"voter{i:02}": counted(100 + i, *(xline(_spelling(rng, c), score=s) for c, s in b.items()))
        for i, b in enumerate(scored)
    }
    theirs = ScoreToSimpleVotes("mean").convert(Counter(frozenset(b.items()) for b in scored))
    mine = lines_prompt_json(LINES, ballots)
    assert {entry_key(e["text"]): e["score"] for e in mine["entries"]} == {
        entry_key(c): round(float(Fraction(m)), 1) for c, m in theirs.items()
    }
    top = max(theirs.values())
    assert mine["method"] == "score"
    assert _keys(mine["winner"]) == {entry_key(c) for c, m in theirs.items() if m == top}


@pytest.mark.parametrize("seed", range(6))
def test_it_runs_off_two_candidates_as_their_majority_decides(seed):
    # With two candidates both are finalists: the runoff is the pairwise majority.
    rng = random.Random(seed)
    ballots = [tuple(rng.sample(NAMES[:2], rng.randint(1, 2))) for _ in range(rng.randint(1, 15))]
    prefer = Counter(b[0] for b in ballots)
    mine = rated_runoff(ballots, NAMES[:2])
    if prefer[NAMES[0]] != prefer[NAMES[1]]:
        theirs = Schulze().evaluate(RankedToCondorcetVotes().convert(Counter(ballots)), 1)
        assert mine == [prefer.most_common(1)[0][0]] == list(theirs)
    else:  # an even runoff: the better rated, or both when their ratings are equal too
        a, b = (_wilson_lower([r.index(c) + 1 for r in ballots if c in r]) for c in NAMES[:2])
        assert mine == ([NAMES[0]] if a > b else [NAMES[1]] if b > a else sorted(NAMES[:2]))


# --- Rated instant runoff, worked by hand from NetTally's description ----------------


def _many(*groups: tuple[int, str]) -> list[str]:
    return [ranking for times, ranking in groups for _ in range(times)]


RATED = [
    (
        # Instant runoff drops B (fewest first choices) and elects C; every ballot
        # rates B well (7 of 9 put it second), so B is a finalist and wins both finals.
        "the line every ballot rates well wins where instant runoff would drop it",
        _many((4, "ABC"), (3, "CBA"), (2, "BCA")),
        ["B"],
    ),
    (
        # A rates 0.487 (five ballots, three of them second), B 0.438 (three
        # firsts): the final goes to B, whom three ballots prefer to A's two.
        "the runoff, not the rating, decides between the finalists",
        _many((2, "A"), (3, "BA")),
        ["B"],
    ),
    (
        # One ballot each way: B (placed by both) rates 0.301, A 0.207.
        "an even runoff goes to the better rated finalist",
        ["AB", "B"],
        ["B"],
    ),
    ("equal ratings and an even runoff are a tie", ["A", "B"], ["A", "B"]),
    ("three rated equal best: every final is run", ["A", "B", "C"], ["A", "B", "C"]),
    (
        # A rates best; B and C tie for second. A beats B (5-3) but C beats A (3-2).
        "a tie for the second finalist runs both finals",
        _many((3, "CA"), (3, "B"), (2, "A")),
        ["A", "C"],
    ),
    ("one candidate wins alone", ["A", "A"], ["A"]),
    ("no ballots, no winner", [], []),
]


@pytest.mark.parametrize(("name", "ballots", "winners"), RATED, ids=[c[0] for c in RATED])
def test_it_finds_rated_instant_runoff_winners(name, ballots, winners):
    assert rated_runoff(ballots, ["A", "B", "C"]) == winners


def test_it_rates_places_as_netTally_does():
    # One first place: the Wilson lower bound of 1/1 at z = 1.96.
    assert _wilson_lower([1]) == pytest.approx(0.20654, abs=1e-5)
    assert _wilson_lower([2, 1]) == pytest.approx(0.30149, abs=1e-5)
    assert _wilson_lower([9]) == _wilson_lower([12]) == pytest.approx(0.0)
    assert _wilson_lower([]) == 0.0


def test_it_runs_rated_runoff_for_a_lines_prompt_that_asks_for_it():
    ballots = {
        f"v{i}": ranked(i, *ranking)
        for i, ranking in enumerate(_many((4, "ABC"), (3, "CBA"), (2, "BCA")))
    }
    prompt = lines_prompt_json(_prompt(Method.RATED_RUNOFF), ballots)
    assert (prompt["method"], prompt["winner"]) == ("rated_runoff", "B")


# --- Borda, Schulze, approval: stated cases --------------------------------------------

TABLE = [
    ("borda: unranked lines score nothing", borda, ["A", "BC"], ["A", "B"]),
    ("borda: a short ballot gives its places only", borda, ["AB", "C"], ["A", "C"]),
    ("borda: no ballots, no winner", borda, [], []),
    ("schulze: an even split is a tie", schulze, ["AB", "BA"], ["A", "B"]),
    (
        "schulze: a cycle of equal strength is a tie",
        schulze,
        ["ABC", "BCA", "CAB"],
        ["A", "B", "C"],
    ),
]


@pytest.mark.parametrize(("name", "method", "ballots", "winners"), TABLE, ids=[c[0] for c in TABLE])
def test_it_decides_stated_cases(name, method, ballots, winners):
    assert method(ballots, ["A", "B", "C"]) == winners


def test_it_ranks_ticked_lines_after_ranked_ones_in_the_order_written():
    ballots = {
        "Anya": counted(10, "Rest", xline("Scout", rank=1)),  # Scout, then Rest
        "Boris": counted(11, "Rest", "Scout"),  # Rest, then Scout
        "Cleo": counted(12, xline("Scout", rank=2), xline("Repair", rank=1)),
    }
    prompt = lines_prompt_json(_prompt(Method.BORDA), ballots)
    assert [(e["text"], e["ranks"]) for e in prompt["entries"]] == [
        ("Scout", [1, 2]),
        ("Rest", [1, 1]),
        ("Repair", [1, 0]),
    ]
    assert prompt["winner"] == "Scout"  # 2 + 1 + 1 points; Rest 1 + 2, Repair 2


def test_it_counts_places_not_rank_numbers():
    # [#1] and [#3] with no [#2]: the third-ranked line is this ballot's second.
    ballots = {"Anya": counted(10, xline("Scout", rank=3), xline("Rest", rank=1))}
    prompt = lines_prompt_json(LINES, ballots)
    assert [(e["text"], e["ranks"]) for e in prompt["entries"]] == [
        ("Scout", [0, 1]),
        ("Rest", [1, 0]),
    ]


def test_it_approves_by_approvals_minus_disapprovals():
    ballots = {
        "Anya": counted(10, "Scout", xline("Rest", against=True)),
        "Boris": counted(11, "Scout", "Rest"),
        "Cleo": counted(12, "Scout", xline("Rest", against=True)),
        "Dora": counted(13, "Rest", xline("Scout", against=True)),
        "Emil": counted(14, "Rest", xline("Scout", against=True)),
    }
    prompt = lines_prompt_json(LINES, ballots)
    # Scout: 3 approve, 2 disapprove (net 1); Rest: 3 approve, 2 disapprove (net 1).
    assert prompt["winner"] == ["Rest", "Scout"]
    ballots["Fern"] = counted(15, xline("Scout", against=True))
    assert lines_prompt_json(LINES, ballots)["winner"] == "Rest"


def test_it_prefers_fewer_disapprovals_over_more_approvals():
    ballots = {
        "Anya": counted(10, "Scout", "Rest"),
        "Boris": counted(11, "Scout", "Rest"),
        "Cleo": counted(12, "Scout"),
        "Dora": counted(13, xline("Scout", against=True)),
        "Emil": counted(14, xline("Scout", against=True)),
    }
    prompt = lines_prompt_json(LINES, ballots)
    assert [(e["text"], e["votes"], e["disapprove"]) for e in prompt["entries"]] == [
        ("Scout", 3, 2),
        ("Rest", 2, 0),
    ]
    assert (prompt["method"], prompt["winner"]) == ("approval", "Rest")
