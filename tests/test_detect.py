"""Detecting vote prompts in a vote block pasted as it was written on the forum."""

import pytest

from chapters.detect import MAX_CHARS, detect_prompts

# The quest master's prompt post 8400128 in ../shared/examples/red-alert-ch2.thread.json,
# exactly as written, stray trailing backslash included.
RED_ALERT_CH2 = (
    "1. Decide the fate of MVD and MGB agants who betrayed Beria and handled him to "
    "victorious Red Army.\\\n"
    "A) Show leniency\n"
    "B) Punish them for their role in Beria's failed coup.\n"
    "\n"
    "2. Should USSR end the ongoing conflict in Korea?\n"
    "A) Yes\n"
    "B) No\n"
    "\n"
    "3. Please write down, initiatives and topics to be addressed during the first 100 days "
    "of the new Soviet leadership."
)

RED_ALERT_CH2_PROMPTS = [
    (
        1,
        "single",
        "Decide the fate of MVD and MGB agants who betrayed Beria and handled him to "
        "victorious Red Army.",
        [("A", "Show leniency"), ("B", "Punish them for their role in Beria's failed coup.")],
    ),
    (2, "single", "Should USSR end the ongoing conflict in Korea?", [("A", "Yes"), ("B", "No")]),
    (
        3,
        "write_in",
        "Please write down, initiatives and topics to be addressed during the first 100 days "
        "of the new Soviet leadership.",
        [],
    ),
]

RED_ALERT_CH2_BOLD = (
    "[B]1. Decide the fate of MVD and MGB agants who betrayed Beria and handled him to "
    "victorious Red Army.[/B]\\\n"
    "A) [I]Show leniency[/I]\n"
    "[COLOR=#c00]B) Punish them for their role in Beria's failed coup.[/COLOR]\n"
    "\n"
    "[b]2. Should USSR end the ongoing conflict in Korea?[/b]\n"
    "A) Yes\n"
    "B) No\n"
    "\n"
    "[B]3. Please write down, initiatives and topics to be addressed during the first 100 "
    "days of the new Soviet leadership.[/B]"
)

CHAPTER_WITH_VOTE = (
    "Chapter Two: Beria's Final Gamble (March - April 1953)\n"
    "\n"
    "In the tense days of March 1953, Beria moved. Three things decided the night:\n"
    "1. The Kremlin guard stood aside.\n"
    "2. Zhukov's tanks reached the Sadovoye ring.\n"
    "\n"
    "By morning it was over. 1953: the year the thaw began.\n"
    "A) Nothing in the story is an option.\n"
    "\n"
    "The Politburo awaits your decision.\n"
    "\n" + RED_ALERT_CH2 + "\n\nVoting closes on Tuesday. Good luck, comrades!"
)


def _shape(detection):
    return [
        (
            prompt.number,
            prompt.kind,
            prompt.text,
            [(option.letter, option.text) for option in prompt.options],
        )
        for prompt in detection.prompts
    ]


@pytest.mark.parametrize(
    "text",
    [
        RED_ALERT_CH2,
        RED_ALERT_CH2.replace("\n", "\r\n"),
        RED_ALERT_CH2_BOLD,
        RED_ALERT_CH2_BOLD.replace("\n", "\r\n"),
        f'[SPOILER="Vote"]\n{RED_ALERT_CH2}\n[/SPOILER]',
        CHAPTER_WITH_VOTE,
        "   \n" + RED_ALERT_CH2.replace("\n", "  \n") + "\n\n",
    ],
)
def test_it_detects_the_red_alert_chapter_two_vote(text):
    detection = detect_prompts(text)

    assert detection.problems == []
    assert detection.ok
    assert _shape(detection) == RED_ALERT_CH2_PROMPTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "1) Who leads?\nA. Zhukov\nB. Malenkov",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
        (
            "1 - Who leads?\nA - Zhukov\nB - Malenkov",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
        (
            "1: Who leads?\na) Zhukov\nb) Malenkov",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
        (
            "1. Who leads?\n[ ] A) Zhukov\n[ ] B) Malenkov\n[X] C) Khrushchev",
            [
                (
                    1,
                    "single",
                    "Who leads?",
                    [("A", "Zhukov"), ("B", "Malenkov"), ("C", "Khrushchev")],
                )
            ],
        ),
        (
            "1. Who leads?\n\nA) Zhukov\n\nB) Malenkov",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
        (
            "1. Which reforms? (choose any)\nA) Farms\nB) Housing\nC) Rockets",
            [
                (
                    1,
                    "multi",
                    "Which reforms? (choose any)",
                    [("A", "Farms"), ("B", "Housing"), ("C", "Rockets")],
                )
            ],
        ),
        (
            "1. Pick any number of reforms\nA) Farms\nB) Housing",
            [(1, "multi", "Pick any number of reforms", [("A", "Farms"), ("B", "Housing")])],
        ),
        (
            "1. Which reforms? Multiple answers allowed.\nA) Farms\nB) Housing",
            [
                (
                    1,
                    "multi",
                    "Which reforms? Multiple answers allowed.",
                    [("A", "Farms"), ("B", "Housing")],
                )
            ],
        ),
        (
            "1. Which reforms? Choose all that apply.\nA) Farms\nB) Housing",
            [
                (
                    1,
                    "multi",
                    "Which reforms? Choose all that apply.",
                    [("A", "Farms"), ("B", "Housing")],
                )
            ],
        ),
        (
            "1. Rank the priorities\nA) Farms\nB) Housing",
            [(1, "ranked", "Rank the priorities", [("A", "Farms"), ("B", "Housing")])],
        ),
        (
            "1. Priorities (ranked)\nA) Farms\nB) Housing",
            [(1, "ranked", "Priorities (ranked)", [("A", "Farms"), ("B", "Housing")])],
        ),
        (
            "1. Promote a high-ranking officer\nA) Konev\nB) Chuikov",
            [
                (
                    1,
                    "single",
                    "Promote a high-ranking officer",
                    [("A", "Konev"), ("B", "Chuikov")],
                )
            ],
        ),
        (
            "1. Write in (choose any words you like)",
            [(1, "write_in", "Write in (choose any words you like)", [])],
        ),
        (
            "1. What of the army?\nThe marshals are restless.\nA) Purge\nB) Promote",
            [
                (
                    1,
                    "single",
                    "What of the army?\nThe marshals are restless.",
                    [("A", "Purge"), ("B", "Promote")],
                )
            ],
        ),
        (
            "1. What of the army?\n\nThe marshals are restless.\nA) Purge\nB) Promote",
            [(1, "single", "What of the army?", [("A", "Purge"), ("B", "Promote")])],
        ),
        (
            "1. Who leads?\nA) Zhukov\nfor the army's sake\nB) Malenkov",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
        (
            "1. Budget of 1.5 million roubles?\nA) Yes\nB) No\n1.5 million is a lot.",
            [(1, "single", "Budget of 1.5 million roubles?", [("A", "Yes"), ("B", "No")])],
        ),
        (
            "1. Plan for the year\n1953: the year of change\n2. Next\nA) x\nB) y",
            [
                (1, "write_in", "Plan for the year\n1953: the year of change", []),
                (2, "single", "Next", [("A", "x"), ("B", "y")]),
            ],
        ),
        (
            "1. Who flies?\nA)Ilyushin\nB)Tupolev\nA-10s are American.",
            [(1, "single", "Who flies?", [("A", "Ilyushin"), ("B", "Tupolev")])],
        ),
        (
            "1. Who leads?\nA) [URL=https://example.com/zhukov]Zhukov[/URL]\nB) Malenkov \\",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
    ],
)
def test_it_detects_prompts(text, expected):
    detection = detect_prompts(text)

    assert detection.problems == []
    assert _shape(detection) == expected


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ["No numbered prompts found."]),
        ("   \n\n\t", ["No numbered prompts found."]),
        (
            "The Politburo met and argued all night.\nA) not a prompt",
            ["No numbered prompts found."],
        ),
        (
            "1. First\nA) x\nB) y\n2. Second\nA) x\nB) y\n2. Third\nA) x\nB) y",
            ["Prompt 2 is numbered twice."],
        ),
        ("1. First\nA) x\nB) y\nB) z", ["Option B appears twice in prompt 1."]),
        ("1. First\na) x\nA) y", ["Option A appears twice in prompt 1."]),
        (
            "1. First\nA) Only choice",
            ["Prompt 1 has only one option; give it at least two, or none for a write-in."],
        ),
        ("1.\nA) x\nB) y", ["Prompt 1 has no text."]),
        ("1. First\nA)\nB) y", ["Option A in prompt 1 has no text."]),
        (
            "1. First\nA) x\nA) x\nA) x\n1. Again\nA) x",
            [
                "Option A appears twice in prompt 1.",
                "Prompt 1 is numbered twice.",
                "Prompt 1 has only one option; give it at least two, or none for a write-in.",
            ],
        ),
    ],
)
def test_it_reports_problems(text, problems):
    detection = detect_prompts(text)

    assert detection.problems == problems
    assert not detection.ok


def test_it_keeps_duplicate_prompts_so_the_quest_master_sees_them():
    detection = detect_prompts("1. First\n2. Second\n2. Third")

    assert [(prompt.number, prompt.text) for prompt in detection.prompts] == [
        (1, "First"),
        (2, "Second"),
        (2, "Third"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "1. x\n" + "A) y\n" * (MAX_CHARS // 5),
        "z" * (MAX_CHARS + 1),
    ],
)
def test_it_refuses_oversize_input(text):
    detection = detect_prompts(text)

    assert detection.prompts == []
    assert len(detection.problems) == 1
    assert "too long" in detection.problems[0]


@pytest.mark.parametrize(
    "text",
    [None, 12, b"1. bytes\nA) x\nB) y", "\x00\ud800[B\\\n1)\nA", "[" * 10_000, "1." * 20_000],
)
def test_it_never_raises(text):
    detection = detect_prompts(text)

    assert isinstance(detection.problems, list)
    assert detection.problems or detection.prompts


# --- Forum-style [X] votes: "[ ]" lines are a `lines` prompt's suggestions (issue 15) ---

# A Sufficient Velocity update's end, as quest masters write it: a heading, "[ ]"
# suggestions with dashed sub-lines, a write-in line, a note.
SV_UPDATE = (
    "The reactor hums, unsteady. Captain Ilse counts the hours of air left.\n"
    "\n"
    "[B]What do you do?[/B]\n"
    "[ ] Scout the wreck of the Meridian\n"
    "[ ] Repair the reactor\n"
    "-[ ] With the spare parts in the hold\n"
    "-[ ] With salvage from the Meridian\n"
    "--[ ] Send Tomas, he knows the model\n"
    "[ ] [Crew] Hold a vote among the crew\n"
    "[ ] Write-in\n"
    "\n"
    "Plan voting is allowed. Vote closes in 48 hours."
)

# SpaceBattles style: numbered questions, each with its own "[ ]" lines.
SB_UPDATE = (
    "[b]Vote[/b]\n"
    "1. Where does the fleet go?\n"
    "[] Kessel\n"
    "[] Corellia\n"
    "\n"
    "2. Who commands the vanguard?\n"
    "[ ] Admiral Daala\n"
    "[ ] Captain Pellaeon\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            SV_UPDATE,
            [
                (
                    1,
                    "lines",
                    "What do you do?",
                    [
                        "Scout the wreck of the Meridian",
                        "Repair the reactor",
                        "-With the spare parts in the hold",
                        "-With salvage from the Meridian",
                        "--Send Tomas, he knows the model",
                        "[Crew] Hold a vote among the crew",
                        "Write-in",
                    ],
                )
            ],
        ),
        (
            SB_UPDATE,
            [
                (1, "lines", "Where does the fleet go?", ["Kessel", "Corellia"]),
                (2, "lines", "Who commands the vanguard?", ["Admiral Daala", "Captain Pellaeon"]),
            ],
        ),
        (
            "Vote:\n[ ] Plan Quiet Hours\n- [ ] Rest the crew\n– [ ] Ration the air\n[ ] Write-in",
            [
                (
                    1,
                    "lines",
                    "Vote",
                    ["Plan Quiet Hours", "-Rest the crew", "-Ration the air", "Write-in"],
                )
            ],
        ),
        # No heading at all: the prompt is called "Vote".
        ("[ ] Scout\n[ ] Hide", [(1, "lines", "Vote", ["Scout", "Hide"])]),
        # A note between suggestions does not split them.
        (
            "What now?\n[ ] Scout\nScouting costs a day.\n[ ] Hide",
            [(1, "lines", "What now?", ["Scout", "Hide"])],
        ),
        # A lettered prompt, then a heading and "[ ]" lines: a mixed vote.
        (
            "1. Which way?\nA) North\nB) South\n\nPlans:\n[ ] Scout\n-[ ] Carefully",
            [(2, "lines", "Plans", ["Scout", "-Carefully"])],
        ),
        # A numbered list in the story, prose, then the vote: the list is not a prompt.
        (
            "Three things decided the night:\n1. The guard stood aside.\n2. The tanks came.\n"
            "\nBy morning it was over.\n\nWhat now?\n[ ] Hide\n[ ] Run",
            [(1, "lines", "What now?", ["Hide", "Run"])],
        ),
        # The builder's own vote block, read back from a chapter's post.
        (
            "1. What does the expedition do? (vote with [X] lines)",
            [(1, "lines", "What does the expedition do? (vote with [X] lines)", [])],
        ),
    ],
)
def test_it_detects_a_block_of_suggestion_lines_as_a_lines_prompt(text, expected):
    detection = detect_prompts(text)

    assert detection.problems == []
    lines = [p for p in detection.prompts if p.kind == "lines"]
    assert [(p.number, p.kind, p.text, p.suggestions) for p in lines] == expected
    assert all(not p.options for p in lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "[ ]" boxes before lettered options, and a write-in line under them, as ever.
        (
            "1. Who leads?\n[ ] A) Zhukov\n[ ] B) Malenkov\n[ ] Write-in",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
        (
            "1. Who leads?\nA) Zhukov\nB) Malenkov\n\n[ ] Other\n[ ] Someone else",
            [(1, "single", "Who leads?", [("A", "Zhukov"), ("B", "Malenkov")])],
        ),
        ("[ ] A) Zhukov\n[ ] B) Malenkov", []),
    ],
)
def test_it_reads_lettered_blocks_with_boxes_as_before(text, expected):
    assert _shape(detect_prompts(text)) == expected


def test_it_shows_the_suggestions_as_the_quest_master_wrote_them():
    prompt = detect_prompts("Vote:\n[ ] Repair\n-[ ] With spare parts\n--[] Today").prompts[0]

    assert prompt.written_suggestions == ["[ ] Repair", "-[ ] With spare parts", "--[ ] Today"]


def test_it_refuses_a_prompt_with_both_options_and_suggestion_lines():
    detection = detect_prompts("1. Where?\n[ ] Scout\nA) North\nB) South")

    assert detection.problems == [
        "Prompt 1 has both lettered options and [ ] lines; give it one or the other."
    ]
