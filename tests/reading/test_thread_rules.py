"""Rules 6-10 and 12: prose, endorsements, proxies, amendments and posts that are not ballots."""

from datetime import timedelta

import pytest

from votes.reading import read_thread
from votes.reading.types import PostKind

from .helpers import CLOSES, OPENS, QM, VOTE, check, post, read

BLOCK = (
    '[QUOTE="panpiotr, post: 100"]1. Decide the fate of the agents who betrayed Beria.\n'
    "A) Show leniency\nB) Punish them for their role in Beria's failed coup.\n\n"
    "2. Should USSR end the ongoing conflict in Korea?\nA) Yes\nB) No\n\n"
    "3. Please write down initiatives for the first 100 days.[/QUOTE]\n"
)

PROSE = [  # rule 6
    ("As for the first, we should, A) Show leniency, and be kind.", {1: "A"}),
    ("I vote B on the second.", {2: "B"}),
    ("I vote B on prompt 1", {1: "B"}),
    ("My vote is C for 4", {4: "C"}),
    ("my vote is A", {"*": "flag"}),
    ("I can't support B.", {}),
    ("B would be a disaster.", {}),
    ("Option C is too soft.", {}),
    ("yes we should end the Korean conflict", {2: "flag:A"}),
    ("we should not end the conflict in Korea, no way", {2: "flag:B"}),
    ("we should punish the agents for their treason", {1: "flag:B"}),
    ("I think leniency is the better course for the agents", {1: "flag:A"}),
    ("Great chapter! Looking forward to the next one.", {}),
    ("The conflict in Korea was long.", {}),
    (BLOCK + "As for the first issue, we should, A) Show leniency.", {1: "A"}),
    (BLOCK + "Concerning our second point, we should talk peace.", {2: "flag:A"}),
    (BLOCK + "Concerning our second point, the weather is nice.", {2: "flag"}),
    (
        BLOCK + "For the third proposal, build the Warsaw Pact.\n\nNext, computers.",
        {3: "~computers"},
    ),
    (BLOCK + "Dear comrades, what a chapter.", {}),
    (BLOCK + "1-B\n2-A", {1: "B", 2: "A"}),
    ("I vote for B on 1 and A on 2", {1: "B", 2: "A"}),
    ("I vote B on the first, A on the second and C on 4.", {1: "B", 2: "A", 4: "C"}),
    ("I vote B on 1, and A is a bad idea", {1: "B"}),
    ("I vote D on 1", {1: "flag"}),
    ("I vote B on prompt 7", {"*": "flag"}),
]


@pytest.mark.parametrize(("body", "expected"), PROSE)
def test_it_counts_explicit_letters_and_only_suggests_inferred_ones(body, expected):
    check(read(body), expected)


@pytest.mark.parametrize("body", ["I vote for B on 1 and A.", "I vote B on 1 and A on 7"])
def test_it_counts_what_a_statement_places_and_holds_back_the_rest(body):
    reading = read(body)
    assert [(a.prompt, a.letters) for a in reading.answers] == [(1, ("B",))]
    assert [f.prompt for f in reading.flags] == [None]


BALLOT = post("1-B\n2-A\n3-General improvements on the economy", id=10, author="RedBanner")
PROMPTS = post(BLOCK[BLOCK.index("]") + 1 : BLOCK.index("[/QUOTE]")], id=100, author=QM, hours=0)
CHAT = post("I like trains.", id=11, author="Chatty")
EARLY = post("1-A", id=5, author="Early", hours=-5)

ENDORSE = [  # rule 7
    (
        '[QUOTE="RedBanner, post: 10"]1-B\n2-A[/QUOTE]\nI second this.',
        {1: "B", 2: "A", 3: "~General", "kind": PostKind.ENDORSEMENT, "endorses": 10},
    ),
    (
        '[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nI also support this',
        {1: "B", 2: "A", 3: "~General", "endorses": 10},
    ),
    ('[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\n+1', {1: "B", 2: "A", 3: "~General"}),
    ('[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nAgreed.', {1: "B", 2: "A", 3: "~General"}),
    ('[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nSeconded', {1: "B", 2: "A", 3: "~General"}),
    ('[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nThis.', {1: "B", 2: "A", 3: "~General"}),
    ('[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nSame', {1: "B", 2: "A", 3: "~General"}),
    (
        '[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nAgreed, except 2-B',
        {1: "B", 2: "B", 3: "~General", "endorses": 10},
    ),
    ('[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nAgreed\n2-B', {1: "B", 2: "B", 3: "~General"}),
    (
        "[QUOTE=RedBanner]2-A\n3-General improvements on the economy[/QUOTE]\nI second this.",
        {1: "B", 2: "A", 3: "~General", "endorses": 10},
    ),
    ('[QUOTE="Chatty, post: 11"]I like trains.[/QUOTE]\nAgreed!', {"*": "flag"}),
    ('[QUOTE="panpiotr, post: 100"]1. Decide[/QUOTE]\n+1', {"*": "flag"}),
    ('[QUOTE="Early, post: 5"]1-A[/QUOTE]\nI second this.', {"*": "flag"}),
    ('[QUOTE="Ghost, post: 999"]1-A[/QUOTE]\nI second this.', {"*": "flag"}),
    (
        '[QUOTE="RedBanner, post: 10"]1-B[/QUOTE]\nI agree with the first part but not the rest '
        "of it, the economy is fine as it is and needs no change at all.",
        {},
    ),
]


@pytest.mark.parametrize(("body", "expected"), ENDORSE)
def test_it_copies_the_answers_of_an_endorsed_post(body, expected):
    check(read(body, (EARLY, PROMPTS, BALLOT, CHAT), hours=3), expected)


def test_it_follows_endorsement_chains():
    second = post('[QUOTE="RedBanner, post: 10"]x[/QUOTE]\n+1', id=20, author="Kremlin", hours=2)
    third = post('[QUOTE="Kremlin, post: 20"]+1[/QUOTE]\nSame', id=30, author="Sasha", hours=3)
    reading = read_thread(VOTE, [BALLOT, second, third])[-1]
    check(reading, {1: "B", 2: "A", 3: "~General", "endorses": 20})
    assert all(a.reason == "copied from post 20" for a in reading.answers)


def test_it_pins_what_the_endorsed_post_said_at_its_place():
    later = post("Changing my vote: 2B", id=40, author="RedBanner", hours=4)
    endorse = post('[QUOTE="RedBanner, post: 10"]x[/QUOTE]\n+1', id=20, author="K", hours=2)
    readings = read_thread(VOTE, [BALLOT, endorse, later])
    check(readings[1], {1: "B", 2: "A", 3: "~General"})


PROXY = [  # rule 8
    ("[X] RedBanner", {"kind": PostKind.PROXY, "proxy_of": ("RedBanner", False)}),
    ("[X] ^RedBanner", {"kind": PostKind.PROXY, "proxy_of": ("RedBanner", True)}),
    ("Voting with RedBanner", {"proxy_of": ("RedBanner", False)}),
    ("Same as @RedBanner", {"proxy_of": ("RedBanner", False)}),
    ("[X] Comrade Big Name", {"proxy_of": ("Comrade Big Name", False)}),
    ("[x] comrade big name", {"proxy_of": ("Comrade Big Name", False)}),
    # Rules 8 and 11: a proxy to no poster is held back, never silently dropped.
    ("[X] Nobody Here", {"*": "flag"}),
    ("Same as @Nobody", {"*": "flag"}),
    ("[X] Player", {"*": "flag"}),
    ("Voting with the majority", {"kind": PostKind.NOT_BALLOT}),
    ("[X] 2-A", {2: "A"}),
    ("3-Same as RedBanner", {3: "~Same as", "joins": "RedBanner"}),
    ("3-RedBanner's plan", {3: "~plan", "joins": "RedBanner"}),
    ("3-Same as Comrade Big Name", {3: "~Same as", "joins": "Comrade Big Name"}),
]


@pytest.mark.parametrize(("body", "expected"), PROXY)
def test_it_records_proxies_and_joined_write_ins(body, expected):
    big = post("1-A", id=12, author="Comrade Big Name")
    check(read(body, (BALLOT, big), hours=3), expected)


AMEND = [  # rule 9
    ("Changing my vote: 2B", {2: "B", "kind": PostKind.AMENDMENT}),
    ("New vote, ignore my last one\n1-A\n2-B", {1: "A", 2: "B", "kind": PostKind.REPLACEMENT}),
    ("Revised vote:\n1-A", {1: "A", "kind": PostKind.REPLACEMENT}),
    ("My revised vote: 1-A", {1: "A", "kind": PostKind.REPLACEMENT}),
    ("Thanks for the chapter!", {"kind": PostKind.NOT_BALLOT}),
    ("1-D", {1: "flag", "kind": PostKind.AMENDMENT}),
    ("Tally is close!\n2-A", {2: "A", "kind": PostKind.AMENDMENT}),
]


@pytest.mark.parametrize(("body", "expected"), AMEND)
def test_it_tells_amendments_from_replacements(body, expected):
    first = post("1-B\n2-A", id=1, author="Player", hours=1)
    check(read(body, (first,), hours=2), expected)


def test_it_calls_the_first_ballot_a_ballot():
    check(read("Revised vote: 1-A"), {1: "A", "kind": PostKind.BALLOT})


NOT_BALLOTS = [  # rule 10
    (dict(author=QM), "1-A", {"kind": PostKind.QUEST_MASTER, "excluded": "quest master"}),
    (dict(author=QM), "Thanks all", {"kind": PostKind.QUEST_MASTER}),
    (dict(hours=-1), "1-A\n2-B", {"kind": PostKind.NOT_BALLOT, "excluded": "before the vote"}),
    (dict(hours=80), "1-A\n2-B", {"kind": PostKind.NOT_BALLOT, "excluded": "after the vote"}),
    (dict(hours=80), "Nice chapter", {"kind": PostKind.NOT_BALLOT}),
    ({}, "[COLOR=transparent]#####[/COLOR] Tally\n1-A: 3\n1-B: 2", {"kind": PostKind.TALLY}),
    ({}, "##### AutoTally\n[X] Plan A\nNo. of Votes: 3", {"kind": PostKind.TALLY}),
    ({}, "Unofficial tally:\n1-A (3) Bob, Ann\n1-B (2) Cy", {"kind": PostKind.TALLY}),
    ({}, "I can't support B because it is cruel.", {"kind": PostKind.NOT_BALLOT}),
    (
        {},
        "Unofficial tally\n1. A - 3 (x, y, z)\nB - 2 (u, v)",
        {"kind": PostKind.TALLY, "excluded": "tally"},
    ),
    ({}, "Tally:\n1-A: 3\n1-B: 2", {"kind": PostKind.TALLY, "excluded": "tally"}),
    ({}, "Current tally\n1-A - 3\n1-B - 2", {"kind": PostKind.TALLY}),
    ({}, "[B]Vote tally[/B]\n1) A = 4\nB = 1", {"kind": PostKind.TALLY}),
    ({}, "Vote count so far:\n1-A 3 votes\n1-B 2 votes", {"kind": PostKind.TALLY}),
    ({}, "Current tally\n1-A - 3 (Bob, Ann, Cy)\n\nMy vote: 1-B", {"kind": PostKind.TALLY}),
]


@pytest.mark.parametrize(("where", "body", "expected"), NOT_BALLOTS)
def test_it_excludes_posts_that_are_not_ballots(where, body, expected):
    reading = read(body, **where)
    check(reading, expected)
    assert not reading.answers


EDITS = [  # rule 11: edited after the close
    (dict(edited_hours=80), "1-A", {"*": "flag"}),
    (dict(edited_hours=10), "1-A", {1: "A"}),
    # The answer at closing time stands (2-B); the edit waits for a moderator.
    (dict(edited_hours=80, revisions=(("1-A\n2-B", 80),)), "1-A\n2-A", {1: "A", 2: "B"}),
    (dict(edited_hours=80, revisions=(("1-A", 30), ("1-A", 80))), "1-A", {1: "A"}),
    (dict(edited_hours=80, revisions=(("1-B", 30),)), "1-A", {"*": "flag"}),
]


def test_it_keeps_the_answer_at_the_close_and_holds_the_edit_for_a_moderator():
    reading = read("1-B", edited_hours=80, revisions=(("1-A", 80),))
    check(reading, {1: "A"})
    [flag] = reading.flags
    assert flag.prompt == 1 and flag.suggestion.letters == ("B",)
    assert "it read A at closing time, now B" in flag.reason


def test_it_keeps_an_answer_the_edit_after_the_close_removed():
    reading = read("never mind", edited_hours=80, revisions=(("1-A", 80),))
    check(reading, {1: "A"})
    assert reading.flags[0].suggestion is None


@pytest.mark.parametrize(("where", "body", "expected"), EDITS)
def test_it_holds_back_edits_made_after_the_close(where, body, expected):
    check(read(body, **where), expected)


def test_it_is_deterministic_and_stamps_the_rules_version():
    posts = [PROMPTS, BALLOT, CHAT, post("1-A\n#2: B", id=50, author="Odd")]
    first = [r.to_json() for r in read_thread(VOTE, posts)]
    again = [r.to_json() for r in read_thread(VOTE, posts)]
    assert first == again
    # Rule 12: the stamp follows RULES_VERSION, bumped to 2 with the quote-attribute fix
    # to 3 with the answers after a named or restated prompt ("On 1, B", "2. …? Yes"),
    # to 4 with the caps on repetition and the per-post time budget, and to 5 with the
    # second pass (every post accounted for: agreements, changes of mind, marks, doubt),
    # to 6 with the [X] lines of `lines` prompts, to 7 with voting statements asked or
    # supposed held back and a ballot's rest in loose shapes held ("2 is A").
    assert {r["rules_version"] for r in first} == {7}


def test_it_reads_each_post_of_a_thread_as_read_post_would():
    posts = [EARLY, PROMPTS, BALLOT, CHAT, post("[QUOTE=RedBanner]2-A[/QUOTE]\n+1", id=60)]
    from votes.reading import read_post

    together = read_thread(VOTE, posts)
    alone = [read_post(p, VOTE, posts[:i]) for i, p in enumerate(posts)]
    assert together == alone


def test_it_knows_the_window_edges():
    at_open = post("1-A", hours=0)
    at_close = post("1-A", hours=(CLOSES - OPENS) / timedelta(hours=1))
    assert read_thread(VOTE, [at_open])[0].answers
    assert read_thread(VOTE, [at_close])[0].answers


def test_it_leaves_x_lines_to_a_lines_vote():
    from dataclasses import replace

    from votes.reading import read_post
    from votes.reading.types import PromptKind, PromptSpec

    lines = replace(VOTE, prompts=(PromptSpec(1, PromptKind.LINES, "Plans"),))
    assert not read_post(post("[X] Nobody Here"), lines).flags


PINNED_REVISIONS = (("1-B\n2-A", 4), ("1-A\n2-A\n4-D", 6))  # replaced at hour 4, then at 6


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (3, {1: "B", 2: "A"}),  # before the first edit: the first text
        (5, {1: "A", 2: "A", 4: "D"}),  # between the edits: the second text
        (7, {1: "A", 2: "B"}),  # after both: the current text
    ],
)
def test_it_pins_an_endorsement_to_the_text_the_endorser_saw(hours, expected):
    """Rule 7: an endorsed post edited later is copied as it stood when endorsed."""
    edited = post(
        "1-A\n2-B", id=10, author="RedBanner", hours=1, edited_hours=6,
        revisions=PINNED_REVISIONS,
    )  # fmt: skip
    endorse = post('[QUOTE="RedBanner, post: 10"]x[/QUOTE]\n+1', id=20, author="K", hours=hours)
    reading = read_thread(VOTE, [edited, endorse])[-1]
    check(reading, {**expected, "endorses": 10})
    assert all(a.reason == "copied from post 10" for a in reading.answers)


def test_it_finds_an_endorsed_post_by_the_text_it_had_when_quoted():
    edited = post(
        "1-A", id=10, author="RedBanner", hours=1, edited_hours=4,
        revisions=(("1-B\n3-Build the Riga metro", 4),),
    )  # fmt: skip
    endorse = post("[QUOTE=RedBanner]3-Build the Riga metro[/QUOTE]\nSame", id=20, hours=2)
    check(read_thread(VOTE, [edited, endorse])[-1], {1: "B", 3: "~Riga", "endorses": 10})
