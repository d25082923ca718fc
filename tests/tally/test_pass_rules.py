"""Which options of a "choose any" prompt pass: the pass rules of quest-tally/1 (section 3).

A multi prompt carries its `pass_rule`: the leaders win (`top`, the default),
or every option with at least N votes (`votes`) or at least a share of the
prompt's voters (`share`) passes, ties at the threshold passing. Each option
says whether it `passed` once the vote is closed.
"""

import json

import pytest

from tests.tally.build import MULTI, VOTE, multi_of, multi_tally, passed_letters, post
from votes.reading.fold import fold
from votes.tally import pass_rule_text, passed_options, passing, tally_json, to_text

# (name, rule, answers for prompt 4, the letters that pass)
# Votes in the answers below: "AB", "AC", "A", "B", "BD" -> A 3, B 3, C 1, D 1 of 5 voters.
FIVE = ["AB", "AC", "A", "B", "BD"]
CASES = [
    ("top: the sole leader", {"kind": "top"}, ["AB", "A", "C"], "A"),
    ("top: every leader while tied", {"kind": "top"}, FIVE, "AB"),
    ("top: nothing without votes", {"kind": "top"}, [], ""),
    ("votes: at least 3 passes two", {"kind": "votes", "at_least": 3}, FIVE, "AB"),
    ("votes: at least 1 passes all voted for", {"kind": "votes", "at_least": 1}, FIVE, "ABCD"),
    ("votes: at least 4 passes none", {"kind": "votes", "at_least": 4}, FIVE, ""),
    ("votes: a tie at the threshold passes", {"kind": "votes", "at_least": 1}, ["C", "D"], "CD"),
    ("share: 60% of 5 voters is 3, met exactly", {"kind": "share", "at_least": 0.6}, FIVE, "AB"),
    ("share: 61% of 5 voters needs 3.05", {"kind": "share", "at_least": 0.61}, FIVE, ""),
    ("share: 20% of 5 voters is 1", {"kind": "share", "at_least": 0.2}, FIVE, "ABCD"),
    (
        "share: 50% of 4 voters, ties at 2 pass",
        {"kind": "share", "at_least": 0.5},
        ["AB", "AB", "C", "D"],
        "AB",
    ),
    ("share: a third, exactly", {"kind": "share", "at_least": 0.3333}, ["A", "B", "C"], "ABC"),
    ("share: nothing passes without voters", {"kind": "share", "at_least": 0.5}, [], ""),
    ("share: 100% needs every voter", {"kind": "share", "at_least": 1}, ["AB", "A"], "A"),
]


@pytest.mark.parametrize(("name", "rule", "answers", "passed"), CASES, ids=[c[0] for c in CASES])
def test_it_passes_the_options_the_rule_names(name, rule, answers, passed):
    tally = multi_tally(answers, rule)

    assert passed_letters(tally) == passed
    assert "".join(passing(multi_of(tally))) == passed


def test_it_counts_the_voters_of_the_prompt_for_a_share():
    # Two of the three ballots answer prompt 4; 50% of its 2 voters is 1.
    readings = [post(1, "ann", "4A"), post(2, "bob", "4B"), post(3, "cat", "1A")]
    tally = tally_json(
        vote=VOTE,
        folded=fold(VOTE, readings),
        quest="q",
        chapter=1,
        status="closed",
        pass_rules={MULTI: {"kind": "share", "at_least": 0.5}},
    )

    assert tally["ballots"] == 3
    assert passed_letters(tally) == "AB"


def test_it_carries_the_rule_on_every_multi_prompt_and_passed_only_once_closed():
    rule = {"kind": "votes", "at_least": 2}
    open_tally = multi_tally(FIVE, rule, status="open")
    closed = multi_tally(FIVE, rule)

    assert multi_of(open_tally)["pass_rule"] == rule
    assert all("passed" not in o for o in multi_of(open_tally)["options"])
    assert [o["passed"] for o in multi_of(closed)["options"]] == [True, True, False, False]
    assert multi_of(multi_tally(FIVE))["pass_rule"] == {"kind": "top"}  # the default, written out
    others = [p for p in closed["prompts"] if p["kind"] != "multi"]
    assert all("pass_rule" not in p for p in others)
    assert all("passed" not in o for p in others for o in p.get("options", []))
    assert json.loads(json.dumps(closed)) == closed


def test_it_shows_which_options_pass_while_the_vote_is_open():
    tally = multi_tally(FIVE, {"kind": "votes", "at_least": 3}, status="open")

    assert passing(multi_of(tally)) == ["A", "B"]
    assert "  Passing (at least 3 votes): A, B" in to_text(tally)
    assert "  Passed (at least 3 votes): A, B" in to_text(
        multi_tally(FIVE, {"kind": "votes", "at_least": 3})
    )


def test_it_refuses_an_unknown_rule():
    with pytest.raises(ValueError, match="borda"):
        passed_options({"kind": "borda"}, [], voters=0)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"kind": "top"}, "most votes"),
        ({"kind": "votes", "at_least": 1}, "at least 1 vote"),
        ({"kind": "votes", "at_least": 3}, "at least 3 votes"),
        ({"kind": "share", "at_least": 0.5}, "at least 50% of voters"),
        ({"kind": "share", "at_least": 0.3333}, "at least 33.33% of voters"),
    ],
)
def test_it_says_the_rule_in_words(rule, text):
    assert pass_rule_text(rule) == text
