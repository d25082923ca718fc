"""Rules 1-5 and 11: one post read on its own, as a table of labelled cases."""

import pytest

from .helpers import check, read

FLAG, WHOLE = "flag", {"*": "flag"}

OWN_TEXT = [  # rule 1: only the poster's own text votes
    ("[QUOTE=Bob]1-A[/QUOTE]\n1-B", {1: "B"}),
    ('[QUOTE="Bob, post: 9"]1-A\n2-B[/QUOTE]', {}),
    ("[SPOILER=my vote]1-A[/SPOILER]", {}),
    ("[S]1-A[/S]\n1-B", {1: "B"}),
    ("[CODE]1-A[/CODE]", {}),
    ("[B]1-A[/B]", {1: "A"}),
    ("[b][i]2-b[/i][/b]", {2: "B"}),
    ("[COLOR=red]1 - a[/COLOR]", {1: "A"}),
    ("[quote]1-A[/quote]", {}),
    ("[QUOTE=Bob][QUOTE=Ann]1-A[/QUOTE]2-B[/QUOTE]\n2-A", {2: "A"}),
    ("[U]1[/U]-[U]B[/U]", {1: "B"}),
    ("[url=http://x/1-a]link[/url]\n1-B", {1: "B"}),
    ("[LIST][*]1-A[*]2-B[/LIST]", {1: "A", 2: "B"}),
    ("[ISPOILER]1-A[/ISPOILER] 2-B", {2: "B"}),
    ("[QUOTE=\n]\n1-A[/QUOTE]\nHello.", {}),
    ('[QUOTE="Bob,\npost: 9"]1-A[/QUOTE]\n2-B', {2: "B"}),
    ("[QUOTE=Bob\n\n]1-A[/QUOTE]", {}),
]

NUMBERED = [  # rule 2: the shapes players type
    ("1-B", {1: "B"}),
    ("1 - B", {1: "B"}),
    ("1B", {1: "B"}),
    ("1.B", {1: "B"}),
    ("1. B.", {1: "B"}),
    ("1) B", {1: "B"}),
    ("1: B", {1: "B"}),
    ("1 B;", {1: "B"}),
    ("2 - A;", {2: "A"}),
    ("1 \u2013 B", {1: "B"}),
    ("1\u2014B", {1: "B"}),
    ("1\u2011B", {1: "B"}),
    ("Vote: 1 - B, 2 - A", {1: "B", 2: "A"}),
    ("1A 2A", {1: "A", 2: "A"}),
    ("1.a 2.b", {1: "A", 2: "B"}),
    ("1\nB", {1: "B"}),
    ("1.\nB", {1: "B"}),
    ("[X] 1-B", {1: "B"}),
    ("[x] 1-B\n[x] 2-A", {1: "B", 2: "A"}),
    ("- 1-B\n- 2-B", {1: "B", 2: "B"}),
    ("1-b", {1: "B"}),
    ("1-B They should be punished.", {1: "B"}),
    ("1-B. They should be punished.", {1: "B"}),
    ("1. B. Good riddance to these traitors.", {1: "B"}),
    ("1 B; They have betrayed their leader.", {1: "B"}),
    ("2 - A; trying to achieve a resolution.", {2: "A"}),
    ("Changing my vote: 2B", {2: "B"}),
    ("My revised vote: 1-A", {1: "A"}),
    ("1-B 2-A 3-More tractors", {1: "B", 2: "A", 3: "~More tractors"}),
    ("1 B 2 A", {1: "B", 2: "A"}),
    ("1-B, 2-A", {1: "B", 2: "A"}),
    ("1-B; 2-A", {1: "B", 2: "A"}),
    ("1-B and 2-A", {1: "B", 2: "A"}),
    ("1-B\n\n2-A\n\n4-C", {1: "B", 2: "A", 4: "C"}),
    ("1 B is better", {}),
    ("2 a day is what they eat", {}),
    ("In 1953 there were 2 million prisoners.", {}),
    ("We lost 1 B52 bomber.", {}),
    ("10,000 men", {}),
    ("1st of all, I like it", {}),
]

MULTI_RANKED = [  # rule 2: several letters
    ("4 AB", {4: "AB"}),
    ("4-A, C", {4: "AC"}),
    ("4. B and C", {4: "BC"}),
    ("4: A/C", {4: "AC"}),
    ("4-A, B, C, D", {4: "ABCD"}),
    ("4-CA", {4: "AC"}),
    ("4-D", {4: "D"}),
    ("5: C > A > B", {5: "C>A>B"}),
    ("5. C, A, B", {5: "C>A>B"}),
    ("5 [1] C [2] A", {5: "C>A"}),
    ("5:\n[1] C [2] A [3] B", {5: "C>A>B"}),
    ("5-B", {5: "B"}),
    ("5: C > C", {5: FLAG}),
    ("5-CAB", {5: "C>A>B"}),
    ("[1] C [2] A", {5: "C>A"}),
    ("1-B\n[1] C [2] A [3] B", {1: "B", 5: "C>A>B"}),
    ("[1] C [2] C", {5: FLAG}),
    ("[1] see the wiki", {}),
]

OPTION_TEXT = [  # rule 4: option text in an answer's place
    ("2 - Yes", {2: "A"}),
    ("2 - no", {2: "B"}),
    ("2: Yes, because enough blood was shed", {2: "A"}),
    ("1 - show leniency", {1: "A"}),
    ("1 - Punish them", {1: "B"}),
    ("1 - Punish them for their role in Beria's failed coup.", {1: "B"}),
    ("4 - phased release", {4: "C"}),
    ("4 - Shipyards", {4: "B"}),
    ("1 - punish the traitors", {1: "flag:B"}),
    ("1 - leniency", {1: "flag:A"}),
    # Rule 4: text in an answer's place matching no option is held back, never dropped.
    ("1 - something else entirely", {1: FLAG}),
    ("2 - Yes.\n1 - Show leniency.", {1: "A", 2: "A"}),
]

UNDER_PROMPT = [  # rule 3: answers under a quoted or restated prompt
    (
        '[QUOTE="panpiotr, post: 100"]1. Decide the fate of the agents who betrayed Beria.'
        "[/QUOTE]\n"
        "A) Even if they acted to save their skin we should reward it.",
        {1: "A"},
    ),
    (
        "[QUOTE=panpiotr]Should USSR end the ongoing conflict in Korea?[/QUOTE]\nB) We should not.",
        {2: "B"},
    ),
    ("[QUOTE=panpiotr]2. Should USSR end the ongoing conflict in Korea?[/QUOTE]\nYes", {2: "A"}),
    ("[QUOTE=panpiotr]2. Should USSR end the ongoing conflict in Korea?[/QUOTE]\nB", {2: "B"}),
    (
        "[QUOTE=panpiotr]1. Decide the fate of the agents who betrayed Beria.[/QUOTE]\n"
        "Show leniency. They surrendered.",
        {1: "A"},
    ),
    (
        "[QUOTE=panpiotr]1. Decide the fate of the agents who betrayed Beria.[/QUOTE]\n"
        "leniency for the lot",
        {1: "flag:A"},
    ),
    (
        "[QUOTE=panpiotr]Please write down initiatives for the first 100 days.[/QUOTE]\n"
        "Build more tractors.\n\nAnd roads.",
        {3: "~tractors"},
    ),
    ("2. Should USSR end the ongoing conflict in Korea?\nA) Yes", {2: "A"}),
    ("Should USSR end the ongoing conflict in Korea?\nA) Yes\nB) No", {}),
    (
        "1. Decide the fate of the agents who betrayed Beria.\nA) Show leniency\n"
        "B) Punish them for their role in Beria's failed coup.\n\n1-B",
        {1: "B"},
    ),
    (
        "Please write down initiatives for the first 100 days.\nRebuild Kiev.\n1-A",
        {1: "A", 3: "~Kiev"},
    ),
    ("[QUOTE=panpiotr]4. Which industries get new funding? Choose any.[/QUOTE]\nA, C", {4: "AC"}),
    (
        "[QUOTE=panpiotr]5. Rank the cities for the new metro lines.[/QUOTE]\nC > A > B",
        {5: "C>A>B"},
    ),
    (
        "[QUOTE=panpiotr]1. Decide the fate of the agents who betrayed Beria.[/QUOTE]\n"
        "A) Show leniency\nB) Punish them for their role in Beria's failed coup.",
        {},
    ),
    (
        "[QUOTE=panpiotr]1. Decide the fate of the agents who betrayed Beria.[/QUOTE]\n"
        "B) Punish them for their role in Beria's failed coup.",
        {1: "B"},
    ),
    ("3.\nBuild a metro in Riga.", {3: "~metro in Riga"}),
]

WRITE_INS = [  # rule 5
    ("3-General improvements on the economy.", {3: "~General improvements"}),
    ("3. I say we improve our economy.", {3: "~improve our economy"}),
    ("3 - On an external level, talk.\nOffer a proposal to China.", {3: "~proposal to China"}),
    ("3-Build roads.\n\nThis is just commentary.", {3: "=Build roads."}),
    ("3-Build roads.\n2-A", {2: "A", 3: "~Build roads"}),
    ("3: [b]Build[/b] roads", {3: "~Build roads"}),
    ("3 - A strong navy", {3: "~A strong navy"}),
    ("3-Same as nobody in particular", {3: "~Same as nobody"}),
]

HELD_BACK = [  # rule 11: held back, never guessed
    ("1-D", {1: FLAG}),
    ("1-A 1-B", {1: FLAG}),
    ("1-A\n1-B", {1: FLAG}),
    ("1-A\n1-A", {1: "A"}),
    ("1-A, B", {1: FLAG}),
    ("2-C", {2: FLAG}),
    ("#1: C", WHOLE),
    ("Q1 A / Q2 B", WHOLE),
    ("1 -> A", WHOLE),
    ("1-A\n#2: B", WHOLE),
    ("7-A", WHOLE),
    ("1. A lot of people think so.", {1: "flag:A"}),
    ("4-E", {4: FLAG}),
    ("3-one idea\n3-another idea", {3: FLAG}),
]


VOTING_STATEMENTS = [  # rules 2 and 6: numbered answers after a voting phrase, or discussed
    ("I vote 1-B", {1: "B"}),
    ("Changed my mind: 1-B", {1: "B"}),
    ("my vote: 1-B", {1: "B"}),
    ("going with 1-B", {1: "B"}),
    ("I'm going with 1B 2A", {1: "B", 2: "A"}),
    ("EDIT: changed to 1-A", {1: "A"}),
    ("After all that, I vote 1-B and 2-A.", {1: "B", 2: "A"}),
    ("My vote is 2-A, peace now.", {2: "A"}),
    ("Final answer: 4 - A, C", {4: "AC"}),
    ("I vote 3-More tractors", {3: "~More tractors"}),
    ("1-B would be a disaster", {1: FLAG}),
    ("I think 1-B is best", {1: "flag:B"}),
    ("1-B is the best choice here", {1: "flag:B"}),
    ("Honestly 2-A is not an option for me.", {2: FLAG}),
    ("1-A\n\n1-B would be a disaster, as I said.", {1: "A"}),
    ("1-A\nI was tempted by 1-B, though.", {1: "A"}),
    ("1-2 weeks should be enough", {}),
    ("Chapter 2: A new dawn", {}),
    ("Note: 2 a day", {}),
    ("We lost 10-B bombers", {}),
    ("I don't vote 1-B", {1: FLAG}),
]

NO_OPTION = [  # rule 4: text in an answer's place that is no option's
    ("1 - phased release", {1: FLAG}),
    ("4 - phased release", {4: "C"}),
    ("1 - no mercy for traitors", {1: FLAG}),
    ("1) Punish the traitors harshly", {1: "flag:B"}),
    ("1. Decide the fate of the agents, who betrayed Beria", {}),
    ("2 million people died", {}),
]


def _expect(expected):
    return {
        k: (v if not (isinstance(v, str) and v.startswith("=")) else "~" + v[1:])
        for k, v in expected.items()
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    OWN_TEXT
    + NUMBERED
    + MULTI_RANKED
    + OPTION_TEXT
    + UNDER_PROMPT
    + WRITE_INS
    + HELD_BACK
    + VOTING_STATEMENTS
    + NO_OPTION,
)
def test_it_reads_a_post_as_a_careful_quest_master_would(body, expected):
    reading = read(body)
    check(reading, _expect(expected))
    for key, want in expected.items():
        if isinstance(want, str) and want.startswith("="):
            answer = next(a for a in reading.answers if a.prompt == key)
            assert answer.text == want[1:]


@pytest.mark.parametrize(
    ("body", "source"),
    [
        ("[B]1-A[/B]", "1-A"),
        ("Vote: 1 - B", "1 - B"),
        ("[QUOTE=x]hello[/QUOTE]\n2-A", "2-A"),
        ("[i]3-[/i]Build roads", "Build roads"),
    ],
)
def test_it_points_spans_at_the_source_text(body, source):
    reading = read(body)
    (start, end), *_ = reading.answers[0].spans
    assert body[start:end] == source


def test_it_holds_back_a_ranking_with_no_number_when_two_prompts_are_ranked():
    from dataclasses import replace

    from votes.reading import read_post
    from votes.reading.types import PromptKind, PromptSpec

    from .helpers import VOTE, post

    second = PromptSpec(6, PromptKind.RANKED, "Rank the ports.", VOTE.prompt(5).options)
    vote = replace(VOTE, prompts=(*VOTE.prompts, second))
    check(read_post(post("[1] C [2] A"), vote), {"*": "flag"})
    assert read_post(post("6: [1] C [2] A"), vote).answers[0].letters == ("C", "A")
