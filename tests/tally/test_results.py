"""What a closed vote decided, with the quest master's calls, and the BBCode posted at the close."""

from tests.tally.build import MULTI, VOTE, multi_of, multi_tally, passed_letters, post
from votes.reading.fold import fold
from votes.tally import (
    Call,
    decided_tally,
    results,
    results_bbcode,
    tally_json,
    tied_options,
    to_bbcode,
)

# Prompt 4: A 3, B 3, C 1, D 1 of 5 voters.
FIVE = ["AB", "AC", "A", "B", "BD"]


# --- Results: what the closed vote decided -------------------------------------------


def test_a_threshold_prompt_has_no_tie_to_settle():
    tally = multi_tally(FIVE, {"kind": "votes", "at_least": 3})  # A and B tie at 3: both pass

    [result] = [r for r in results(tally) if r["number"] == MULTI]
    assert tied_options(multi_of(tally)) == []
    assert [d["letter"] for d in result["decided"]] == ["A", "B"]
    assert result["threshold"] is True
    assert result["how"] == "at least 3 votes"
    assert result["tied"] == []


def test_a_top_rule_tie_waits_for_the_quest_master_then_passes_the_pick():
    tally = multi_tally(FIVE)  # A and B lead with 3 each

    [before] = [r for r in results(tally) if r["number"] == MULTI]
    calls = {MULTI: Call(letters=("B",), by="gm", reason="The cooks were promised")}
    [after] = [r for r in results(tally, calls) if r["number"] == MULTI]
    decided = decided_tally(tally, calls)

    assert (before["decided"], before["tied"], before["how"]) == (
        [],
        ["A", "B"],
        "tie: the quest master decides",
    )
    assert [d["letter"] for d in after["decided"]] == ["B"]
    assert after["how"] == "tie between A and B, settled by gm"
    assert (after["tie"], after["tied"], after["reason"]) == (
        ["A", "B"],
        [],
        "The cooks were promised",
    )
    assert passed_letters(tally) == "AB"  # the stored tally is left as counted
    assert passed_letters(decided) == "B"
    assert multi_of(decided)["outcome"] == {
        "letters": ["B"],
        "write_ins": [],
        "by": "gm",
        "reason": "The cooks were promised",
    }


# --- The BBCode a quest master posts at the close ------------------------------------

CLOSED = tally_json(
    vote=VOTE,
    folded=fold(
        VOTE,
        [
            post(10, "ann", "1A 2A 3=Build_dams 4AB 5CAB"),
            post(11, "bob", "1B 2A 3=Plant_trees 4AC 5CBA"),
            post(12, "cat", "2B 4B"),
            post(13, "dan", "1C", excluded="posted after the vote closed"),
        ],
    ),
    quest="red-alert",
    chapter=2,
    status="closed",
    pass_rules={MULTI: {"kind": "votes", "at_least": 2}},
)
CALLS = {
    1: Call(letters=("B",), by="gm", reason="The south road is open"),
    3: Call(write_ins=("Plant trees",), by="gm"),
}


def test_it_heads_the_bbcode_with_the_post_it_counts_up_to():
    lines = to_bbcode(CLOSED, title="Red Alert ch. 2", as_of=12).splitlines()

    assert lines[:4] == [
        "[COLOR=transparent]##### Quest Tally[/COLOR]",
        "[B]Vote Tally:[/B] Red Alert ch. 2",
        "Tally as of post #12",
        "[B]The vote is closed.[/B]",
    ]


def test_it_writes_each_prompts_decision_under_its_counts():
    text = to_bbcode(CLOSED, title="t", calls=CALLS)
    blocks = {b.splitlines()[0]: b.splitlines() for b in text.split("\n\n")}

    assert blocks["[B]1. Decide the fate[/B]"][-1] == (
        "[B]Decided:[/B] B) Option B (tie between A and B, settled by gm: The south road is open)"
    )
    assert blocks["[B]2. End the war?[/B]"][-1] == "[B]Decided:[/B] A) Yes (most votes)"
    assert blocks["[B]3. Write down initiatives[/B]"][-1] == "[B]Adopted:[/B] Plant trees"
    multi = blocks["[B]4. Choose any[/B]"]
    assert multi[1] == "[I]Every option with at least 2 votes passes.[/I]"
    assert "[B]A) Option A[/B] No. of Votes: 2 - [B]passed[/B]" in multi
    assert "[B]C) Option C[/B] No. of Votes: 1" in multi
    assert multi[-1] == "[B]Passed:[/B] A) Option A, B) Option B (at least 2 votes)"
    assert blocks["[B]5. Rank the plans[/B]"][-1] == "[B]Decided:[/B] C) Option C (Schulze)"


def test_it_leaves_an_unsettled_tie_to_the_quest_master_in_bbcode():
    text = to_bbcode(CLOSED, title="t")

    assert "[B]Tie between A and B:[/B] the quest master decides." in text
    assert "[B]Adopted:[/B] none" in text


def test_it_writes_no_decisions_while_the_vote_is_open():
    open_tally = {**CLOSED, "status": "open"}

    text = to_bbcode(open_tally, title="t", calls=CALLS, as_of=12)

    assert "Tally as of post #12" in text
    assert "Decided" not in text and "closed" not in text


def test_it_keeps_the_quest_masters_reason_from_being_read_as_bbcode():
    calls = {1: Call(letters=("A",), by="gm", reason="[/B][URL=x]y[/URL]")}

    text = to_bbcode(CLOSED, title="t", calls=calls)

    assert "settled by gm: [PLAIN][/B][URL=x]y[/URL][/PLAIN])" in text


def test_it_writes_the_results_block_for_the_next_chapter():
    block = results_bbcode(results(CLOSED, CALLS), title="The Agents")

    assert block.splitlines()[0] == "[B]Results of the vote on The Agents[/B]"
    assert (
        "Decided: B) Option B, 1 vote (tie between A and B, settled by gm: The south road is open)"
        in block
    )
    assert "Passed: A) Option A, 2 votes; B) Option B, 2 votes (at least 2 votes)" in block
    assert "Adopted: Plant trees" in block
