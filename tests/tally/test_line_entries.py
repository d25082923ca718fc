"""`lines` prompts tallied: which lines are one entry, what an entry says, how it is shown.

The rules are docs/xballots.md; the format is quest-tally/1 (thread-format.md,
section 3). Ballots are built as the fold leaves them (tests/tally/build.py).
"""

import pytest

from chapters.kinds import Method, Partition, Proxies
from tests.tally.build import LINES, counted, lines_tally, ranked, xline
from votes.line_tally import entry_key, entry_label, label_key, lines_prompt_json
from votes.merging import Merge
from votes.reading.types import PromptKind, PromptSpec
from votes.tally import to_bbcode, to_text

# --- Which lines are one entry ---------------------------------------------------

SAME = [
    ("case", "Scout the wreck", "scout the WRECK"),
    ("punctuation", "Scout the wreck!", "Scout, the wreck."),
    ("white space", "Scout the wreck", "Scout  the\twreck "),
    ("white space between words", "Scout the wreck", "Scout thewreck"),
    ("BBCode", "Scout the wreck", "[b]Scout[/b] the [I]wreck[/I]"),
    (
        "BBCode with options",
        "Scout the wreck",
        '[COLOR=red]Scout[/COLOR] [URL="https://x.org"]the wreck[/URL]',
    ),
    ("diacritics", "Scout the wreck", "Scoût thé wréck"),
    ("compatibility forms", "Scout the wreck", "Ｓｃｏｕｔ the wreck"),
    ("dashes", "Scout the wreck, now", "Scout the wreck — now"),
    (
        "sub-line dashes",
        "Repair the reactor\n-With spare parts",
        "Repair the reactor\n– with spare parts",
    ),
    ("German sharp s", "Take the Straße", "TAKE THE STRASSE"),
    ("quotes and apostrophes", "Ask Anya's crew", "Ask \u201cAnyas\u201d crew"),
]


@pytest.mark.parametrize(("name", "a", "b"), SAME, ids=[c[0] for c in SAME])
def test_it_counts_variants_of_a_line_as_one_entry(name, a, b):
    assert entry_key(a) == entry_key(b)
    entries = lines_prompt_json(LINES, {"Anya": counted(10, a), "Boris": counted(11, b)})["entries"]
    assert [(e["text"], e["votes"], e["voters"]) for e in entries] == [(a, 2, ["Anya", "Boris"])]


APART = [
    ("a different number", "Send 2 squads", "Send 3 squads"),
    ("a different word", "Scout the wreck", "Scout the ship"),
    ("a word more", "Scout the wreck", "Scout the old wreck"),
    ("a bracketed word that is not BBCode", "[Note] Scout the wreck", "Scout the wreck"),
    ("a sub-line more", "Repair the reactor", "Repair the reactor\n-With spare parts"),
    ("digits and their words", "Send 2 squads", "Send two squads"),
]


@pytest.mark.parametrize(("name", "a", "b"), APART, ids=[c[0] for c in APART])
def test_it_keeps_near_variants_apart(name, a, b):
    assert entry_key(a) != entry_key(b)
    entries = lines_prompt_json(LINES, {"Anya": counted(10, a), "Boris": counted(11, b)})["entries"]
    assert [(e["text"], e["voters"]) for e in entries] == [(a, ["Anya"]), (b, ["Boris"])]


TASKS = [
    ("the same task in any case", ("Repair", "Ship"), ("repair", "SHIP"), True),
    ("the same task, punctuated", ("Repair", "Ship"), ("Repair", "ship!"), True),
    ("different tasks", ("Repair", "Ship"), ("Repair", "Crew"), False),
    ("a task and none", ("Repair", "Ship"), ("Repair", None), False),
    ("a task is not part of the text", ("Repair", "Ship"), ("Ship Repair", None), False),
]


@pytest.mark.parametrize(("name", "a", "b", "same"), TASKS, ids=[c[0] for c in TASKS])
def test_it_compares_tasks_ignoring_case(name, a, b, same):
    assert (entry_key(*a) == entry_key(*b)) is same
    ballots = {
        "Anya": counted(10, xline(a[0], task=a[1])),
        "Boris": counted(11, xline(b[0], task=b[1])),
    }
    entries = lines_prompt_json(LINES, ballots)["entries"]
    assert len(entries) == (1 if same else 2)
    assert (entries[0]["text"], entries[0]["task"]) == a  # the first spelling


def test_it_shows_the_first_spelling_counted_not_the_first_voter():
    ballots = {
        "Zed": counted(30, "SCOUT THE WRECK"),
        "Anya": counted(12, "scout the wreck!"),
        "Boris": counted(20, "Scout the wreck"),
    }
    (entry,) = lines_prompt_json(LINES, ballots)["entries"]
    assert entry["text"] == "scout the wreck!"
    assert entry["voters"] == ["Anya", "Boris", "Zed"]


def test_it_counts_a_voter_once_per_entry():
    ballots = {"Anya": counted(10, "Scout the wreck", "Scout the WRECK!", "Rest")}
    entries = lines_prompt_json(LINES, ballots)["entries"]
    assert [(e["text"], e["votes"], e["voters"]) for e in entries] == [
        ("Scout the wreck", 1, ["Anya"]),
        ("Rest", 1, ["Anya"]),
    ]


def test_it_sorts_entries_by_votes_then_first_appearance():
    ballots = {
        "Anya": counted(10, "Rest", "Scout"),
        "Boris": counted(11, "Repair", "Scout"),
        "Cleo": counted(12, "Repair", "Drink"),
    }
    entries = lines_prompt_json(LINES, ballots)["entries"]
    assert [(e["text"], e["votes"]) for e in entries] == [
        ("Scout", 2),  # appeared at post 10, before Repair (post 11)
        ("Repair", 2),
        ("Rest", 1),
        ("Drink", 1),
    ]


def test_it_keeps_a_plan_whole_with_its_name():
    plan = "Plan Quiet Hours\n-Sleep in shifts\n--Double the watch"
    ballots = {
        "Anya": counted(10, xline(plan, plan="Plan Quiet Hours")),
        "Boris": counted(14, xline(plan, plan="Plan Quiet Hours"), "Scout"),
    }
    entries = lines_prompt_json(LINES, ballots)["entries"]
    assert entries[0] == {
        "text": plan,
        "task": None,
        "plan": "Plan Quiet Hours",
        "votes": 2,
        "voters": ["Anya", "Boris"],
    }


def test_it_counts_no_proxy_the_fold_left_unresolved():
    ballots = {"Anya": counted(10, "Scout", xline("Boris", refers="Boris"))}
    entries = lines_prompt_json(LINES, ballots)["entries"]
    assert [e["text"] for e in entries] == ["Scout"]


def test_it_lists_suggestions_without_counting_them():
    ballots = {"Anya": counted(10, "Scout the wreck")}
    prompt = lines_prompt_json(LINES, ballots, ["Scout the wreck", "Rest"])
    assert prompt["suggestions"] == ["Scout the wreck", "Rest"]
    assert [(e["text"], e["votes"]) for e in prompt["entries"]] == [("Scout the wreck", 1)]


# --- What an entry says ----------------------------------------------------------


def test_it_writes_the_prompt_as_quest_tally_1_says():
    prompt = PromptSpec(
        2, PromptKind.LINES, "Orders", partition=Partition.LINE_TASK, proxies=Proxies.OFF
    )
    tally = lines_tally({"Anya": counted(10, xline("Repair", task="Ship"), prompt=2)}, prompt)
    assert tally["format"] == "quest-tally/1"
    assert tally["ballots"] == 1
    assert tally["prompts"] == [
        {
            "number": 2,
            "kind": "lines",
            "text": "Orders",
            "partition": "line_task",
            "proxies": "off",
            "entries": [
                {"text": "Repair", "task": "Ship", "plan": None, "votes": 1, "voters": ["Anya"]}
            ],
            "suggestions": [],
        }
    ]


def test_it_passes_the_quest_masters_suggestions_through_tally_json():
    tally = lines_tally({"Anya": counted(10, "Rest")}, suggestions={1: ["Rest", "Scout"]})
    assert tally["prompts"][0]["suggestions"] == ["Rest", "Scout"]


def test_it_counts_ranks_per_place():
    ballots = {
        "Anya": ranked(10, "Scout", "Rest"),
        "Boris": ranked(11, "Rest", "Scout"),
        "Cleo": ranked(12, "Rest"),
    }
    prompt = lines_prompt_json(LINES, ballots)
    assert [(e["text"], e["ranks"]) for e in prompt["entries"]] == [
        ("Rest", [2, 1]),
        ("Scout", [1, 1]),
    ]
    assert (prompt["method"], prompt["winner"]) == ("schulze", "Rest")


def test_it_counts_approvals_and_disapprovals_and_leaves_a_disapprover_out_of_the_voters():
    ballots = {
        "Anya": counted(10, "Scout", xline("Rest", against=True)),
        "Boris": counted(11, "Rest", "Scout"),
        "Cleo": counted(12, xline("Rest", against=True)),
    }
    prompt = lines_prompt_json(LINES, ballots)
    assert [(e["text"], e["voters"], e["approve"], e["disapprove"]) for e in prompt["entries"]] == [
        ("Scout", ["Anya", "Boris"], 2, 0),
        ("Rest", ["Boris"], 1, 2),
    ]
    assert (prompt["method"], prompt["winner"]) == ("approval", "Scout")


def test_it_averages_scores_to_one_decimal():
    ballots = {
        "Anya": counted(10, xline("Scout", score=75), xline("Rest", score=10)),
        "Boris": counted(11, xline("Scout", score=80), "Repair"),
        "Cleo": counted(12, xline("Scout", score=90)),
    }
    prompt = lines_prompt_json(LINES, ballots)
    assert [(e["text"], e["score"]) for e in prompt["entries"]] == [
        ("Scout", 81.7),
        ("Rest", 10.0),
        ("Repair", None),  # ticked, never scored
    ]
    assert (prompt["method"], prompt["winner"]) == ("score", "Scout")


def test_it_names_no_method_without_marks():
    prompt = lines_prompt_json(LINES, {"Anya": counted(10, "Scout")})
    assert not {"method", "winner"} & prompt.keys()
    assert not {"ranks", "approve", "disapprove", "score"} & prompt["entries"][0].keys()


def test_it_uses_the_prompts_ranked_method():
    # A beats B and C head to head (Schulze); B, never last, has the most Borda points.
    ballots = {f"a{i}": ranked(i, "A", "B", "C") for i in range(3)}
    ballots |= {f"b{i}": ranked(10 + i, "B", "C", "A") for i in range(2)}
    assert lines_prompt_json(LINES, ballots)["winner"] == "A"
    borda = PromptSpec(1, PromptKind.LINES, "Rank", method=Method.BORDA)
    assert lines_prompt_json(borda, ballots) | {"entries": []} == {
        "number": 1,
        "kind": "lines",
        "text": "Rank",
        "partition": "block",
        "proxies": "on",
        "entries": [],
        "suggestions": [],
        "method": "borda",
        "winner": "B",  # 7 points, A 6, C 2
    }


def test_it_names_a_winner_with_its_task():
    ballots = {
        "Anya": ranked(10, "Repair"),
        "Boris": counted(11, xline("Repair", task="Ship", rank=1), xline("Repair", rank=2)),
        "Cleo": counted(12, xline("Repair", task="Ship", rank=1)),
    }
    assert lines_prompt_json(LINES, ballots)["winner"] == "[Ship] Repair"


# --- Moderators' merges, replayed on every count -----------------------------------


def _merge_ballots():
    return {
        "Anya": counted(10, "Scout the wreck"),
        "Boris": counted(11, "Search the wreck", xline("Repair", task="Ship")),
        "Cleo": counted(12, "Scout the wreck", xline("Fix the reactor", task="SHIP")),
    }


def test_it_merges_entries_a_moderator_merged():
    merges = {1: [Merge(merged="search the wreck!", kept="Scout the wreck")]}
    tally = lines_tally(_merge_ballots(), merges=merges)
    entry = tally["prompts"][0]["entries"][0]
    assert (entry["text"], entry["voters"], entry["merged_from"]) == (
        "Scout the wreck",
        ["Anya", "Boris", "Cleo"],
        ["Search the wreck"],
    )


def test_it_merges_entries_of_a_task_by_their_labels():
    merges = {1: [Merge(merged="[ship] Fix the reactor", kept="[Ship] Repair")]}
    entries = lines_tally(_merge_ballots(), merges=merges)["prompts"][0]["entries"]
    ship = next(e for e in entries if e["task"])
    assert (ship["text"], ship["votes"], ship["merged_from"]) == (
        "Repair",
        2,
        ["[SHIP] Fix the reactor"],
    )


def test_it_leaves_a_merge_of_entries_no_one_votes_for_on_record_only():
    merges = {1: [Merge(merged="Sail home", kept="Scout the wreck")]}
    entries = lines_tally(_merge_ballots(), merges=merges)["prompts"][0]["entries"]
    assert [e["votes"] for e in entries] == [2, 1, 1, 1]
    assert not any("merged_from" in e for e in entries)


def test_it_names_entries_by_label_and_keys_labels_as_entries():
    assert entry_label("Repair", "Ship") == "[Ship] Repair"
    assert entry_label("Repair", None) == "Repair"
    assert label_key("[SHIP] repair!") == entry_key("Repair", "Ship")
    assert label_key("Repair") == entry_key("Repair")


# --- As forum posts and terminals show it -----------------------------------------


def test_it_lays_out_bbcode_as_forum_tally_tools_do():
    ballots = {
        "Anya": counted(
            10, "Scout the wreck", xline("Repair the reactor\n-With spare parts", task="Ship")
        ),
        "Boris": counted(11, "scout the wreck!"),
        "Cleo": counted(12, xline("repair the reactor\n– with spare parts", task="ship")),
    }
    tally = lines_tally(ballots, suggestions={1: ["Rest"]})
    links = {("Anya", 1): "https://forum.example.org/posts/10/"}
    assert to_bbcode(tally, title="Chapter 1", links=links) == (
        "[COLOR=transparent]##### Quest Tally[/COLOR]\n"
        "[B]Vote Tally:[/B] Chapter 1\n"
        "\n"
        "[B]1. What does the crew do?[/B]\n"
        "\n"
        "[X] Scout the wreck\n"
        "[B]No. of Votes: 2[/B]\n"
        "[url=https://forum.example.org/posts/10/]Anya[/url]\n"
        "Boris\n"
        "\n"
        "[B]Task: Ship[/B]\n"
        "\n"
        "[X][Ship] Repair the reactor\n"
        "-[X] With spare parts\n"
        "[B]No. of Votes: 2[/B]\n"
        "[url=https://forum.example.org/posts/10/]Anya[/url]\n"
        "Cleo\n"
        "\n"
        "[I]Suggested:[/I] Rest\n"
        "\n"
        "Total No. of Voters: 3\n"
    )


def test_it_puts_a_long_entrys_voters_in_a_spoiler_and_names_the_winner():
    ballots = {f"v{i:02}": ranked(i, "Scout", "Rest") for i in range(11)}
    text = to_bbcode(lines_tally(ballots), title="Chapter 1")
    assert (
        '[X] Scout\n[B]No. of Votes: 11[/B]\nRanked 1st: 11, 2nd: 0\n[SPOILER="Voters"]\nv00\n'
    ) in text
    assert "[/SPOILER]\n\n[I]Schulze winner: Scout[/I]\n" in text


def test_it_keeps_bbcode_in_entries_from_being_read_as_tags():
    text = to_bbcode(lines_tally({"Anya": counted(10, "Ask [Anya]")}), title="t")
    assert "[X] [PLAIN]Ask [Anya][/PLAIN]\n" in text


def test_it_prints_lines_entries_as_text():
    ballots = {
        "Anya": counted(10, xline("Scout", against=True), xline("Repair\n-Now", task="Ship")),
        "Boris": counted(11, "Scout"),
    }
    assert to_text(lines_tally(ballots, suggestions={1: ["Rest"]})) == (
        "q, chapter 1 (open): 2 ballots\n"
        "\n"
        "1. What does the crew do?\n"
        "  [1] Scout\n"
        "     approve: 1, disapprove: 1\n"
        "     Boris\n"
        "  [1] [Ship] Repair -Now\n"
        "     approve: 1, disapprove: 0\n"
        "     Anya\n"
        "  suggested: Rest\n"
        "  Approval winner: [Ship] Repair -Now\n"
    )
