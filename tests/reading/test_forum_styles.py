"""Posts in the styles players use on the forum, each with the Reading the rules give."""

import pytest

from .helpers import check, read

FLAG = "flag"

STYLES = [
    ("Vote: 1A, 2B", {1: "A", 2: "B"}),
    ("1 - B (they must pay)", {1: "B"}),
    ("For 1 I'm going with A", {1: "A"}),
    ("For 1 I'm going with A and for 2 B", {1: "A", 2: "B"}),
    ("For 1, I vote B, and for 2, A.", {1: "B", 2: "A"}),
    ("As for the second one, I vote B.", {2: "B"}),
    ("[B]1-B[/B]\n[I]2-A[/I]", {1: "B", 2: "A"}),
    ("[COLOR=red]1) B[/COLOR]", {1: "B"}),
    ("[SIZE=5][B]1 - b[/B][/SIZE]", {1: "B"}),
    ("[LIST]\n[*]1-B\n[*]2-A\n[/LIST]", {1: "B", 2: "A"}),
    ("[LIST=1][*]1. B[*]2. A[/LIST]", {1: "B", 2: "A"}),
    ("2. A) Yes", {2: "A"}),
    ("2) Yes we should", {2: "flag:A"}),
    ("1-A\n2-B\n\nEDIT: changed to 1-B", {1: "B", 2: "B"}),
    ("1-A\nEdit: 1-B", {1: "B"}),
    ("1-A\nActually 1-B", {1: "B"}),
    ("Should USSR end the ongoing conflict in Korea?\nYes, absolutely.", {2: "flag:A"}),
    (
        "3 - Build the metro in Riga\nand more tractors for the farms\n\nI hope this helps.",
        {3: "=Build the metro in Riga\nand more tractors for the farms"},
    ),
    ("1-B\n2-A\n3-Rebuild Kiev.\nExpand the grain reserves.", {1: "B", 2: "A", 3: "~grain"}),
    ("Vote:\n1 - B\n2 - A", {1: "B", 2: "A"}),
    ("1. B\n2. A\n3. More roads", {1: "B", 2: "A", 3: "=More roads"}),
    ("1: B - traitors deserve it\n2: A - peace", {1: "B", 2: "A"}),
    ("I'd say 1-B and 2-A.", {1: "B", 2: "A"}),
    ("1 b, 2 a", {1: "B", 2: "A"}),
    ("1-B, 2-A, 4-A/C, 5-C>A>B", {1: "B", 2: "A", 4: "AC", 5: "C>A>B"}),
    ("[U]1[/U]: B", {1: "B"}),
    ("1 \u2014 B", {1: "B"}),
    ("[X] 1. B\n[X] 2. A", {1: "B", 2: "A"}),
    ("Definitely 1-B.", {1: "flag:B"}),
    ("1 - Punish them\n2 - Yes", {1: "B", 2: "A"}),
    ("1. Punish\n2. Yes", {1: "B", 2: "A"}),
    ("4 - Tank factories and shipyards", {4: "AB"}),
    ("4 - Tank factories and more", {4: "flag:A"}),
    ("5 - Riga, Kiev, Minsk", {5: "C>A>B"}),
    ("5 - Riga > Kiev", {5: "C>A"}),
    ("Actually, I think 1-B is bad", {1: FLAG}),
    ("I say 1-B would be a disaster", {1: FLAG}),
    (
        "Long chapter, loved the bit about the funeral. The crowd crush was grim.\n\n"
        "Anyway, after thinking it over I vote 1-B and 2-A. Peace in Korea matters more.",
        {1: "B", 2: "A"},
    ),
    (
        "[QUOTE=panpiotr]1. Decide the fate of the agents who betrayed Beria.[/QUOTE]\n"
        "[B]B)[/B] They betrayed the Union.",
        {1: "B"},
    ),
    (
        "[QUOTE=panpiotr]2. Should USSR end the ongoing conflict in Korea?[/QUOTE]\n"
        "[COLOR=green]A) Yes[/COLOR]",
        {2: "A"},
    ),
    ("Decide the fate of the agents who betrayed Beria.\nShow leniency", {1: "A"}),
    ("1-B\n\nI was tempted by 1-A, though.", {1: "B"}),
    (
        "3-I say we build\nthe Riga metro\n\nThat's all, comrades.",
        {3: "=I say we build\nthe Riga metro"},
    ),
    ("My vote is 2-A, peace now.", {2: "A"}),
    ("Changing my vote: 1-A", {1: "A"}),
    ("1 - phased release\n2 - Yes", {1: FLAG, 2: "A"}),
    ("In 1953 we lost 2-3 divisions in Korea.", {}),
    ("See chapter 2: A turning point.", {}),
    # The prompt named, then its answer in its place (rules 4 and 6).
    ("On 1, B. On 2, A.", {1: "B", 2: "A"}),
    ("For 2, yes.", {2: "A"}),
    ("On the second, A.", {2: "A"}),
    ("For 2, Yes. For 1, Show leniency.", {1: "A", 2: "A"}),
    ("On 4, A and C. On 5, C > A > B.", {4: "AC", 5: "C>A>B"}),
    ("For 2, yes we should end it.", {2: "flag:A"}),
    ("For 1, punish the traitors.", {1: "flag:B"}),
    ("For 1, D.", {1: FLAG}),
    ("For 2 years we fought in Korea.", {}),
    ("For 1, a few more days.", {}),
    # A restated numbered prompt, then the answer on the same line (rules 3 and 4).
    ("2. Should we end the war? Hell yes", {2: "flag:A"}),
    ("2. Should we end the war? Hell no", {2: "flag:B"}),
    ("2. Should USSR end the ongoing conflict in Korea? Yes", {2: "A"}),
    ("2. Should we end the war? B) No", {2: "B"}),
    ("1. Decide the fate of the agents: B", {1: "B"}),
    ("1. Decide the fate of the agents? Punish them", {1: "B"}),
    ("2. Should we end the war? Not sure yet", {2: FLAG}),
    ("2. Should we end the war? C", {2: FLAG}),
    ("1) B, 2) A", {1: "B", 2: "A"}),
]


@pytest.mark.parametrize(("body", "expected"), STYLES)
def test_it_reads_forum_styles(body, expected):
    reading = read(body)
    check(
        reading,
        {
            k: ("~" + v[1:] if isinstance(v, str) and v.startswith("=") else v)
            for k, v in expected.items()
        },
    )
    for key, want in expected.items():
        if isinstance(want, str) and want.startswith("="):
            assert next(a for a in reading.answers if a.prompt == key).text == want[1:]
