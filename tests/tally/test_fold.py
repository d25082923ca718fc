"""Folding Readings into one ballot per voter (issue 4 rules 7-9 and 11, issue 5)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tally.build import QM, VOTE, answer, flag, held, post, summary
from votes.reading.fold import fold
from votes.reading.types import Decision, DecisionAction, PostKind, Reading

AMEND = PostKind.AMENDMENT
REPLACE = PostKind.REPLACEMENT
ENDORSE = PostKind.ENDORSEMENT

# (name, readings, expected ballots, expected held back as (post, author, prompt))
CASES = [
    ("one ballot", [post(10, "ann", "1B 2A 3=Build_dams")], {"ann": "1B 2A 3=Build_dams"}, []),
    (
        "amendment replaces only the prompts it answers",
        [post(10, "ann", "1A 2A"), post(11, "ann", "2B", kind=AMEND)],
        {"ann": "1A 2B"},
        [],
    ),
    (
        "replacement clears the earlier ballot",
        [post(10, "ann", "1A 2A 4AB"), post(11, "ann", "2B", kind=REPLACE)],
        {"ann": "2B"},
        [],
    ),
    (
        "a later post with no ballot changes nothing",
        [post(10, "ann", "1A"), post(11, "ann", kind=PostKind.NOT_BALLOT)],
        {"ann": "1A"},
        [],
    ),
    (
        "endorsement acts at its own place: the endorsed voter's later change is not copied",
        [
            post(10, "bob", "1A 2A"),
            post(11, "ann", "1A 2A", kind=ENDORSE, endorses=10),
            post(12, "bob", "1B", kind=AMEND),
        ],
        {"ann": "1A 2A", "bob": "1B 2A"},
        [],
    ),
    (
        "the endorser's own later amendment changes the endorsed copy",
        [
            post(10, "bob", "1A 2A"),
            post(11, "ann", "1A 2A", kind=ENDORSE, endorses=10),
            post(12, "ann", "2B", kind=AMEND),
        ],
        {"ann": "1A 2B", "bob": "1A 2A"},
        [],
    ),
    (
        "an endorsement after own answers replaces the answers it copies",
        [
            post(10, "ann", "1C 2B"),
            post(11, "bob", "1A"),
            post(12, "ann", "1A", kind=ENDORSE, endorses=11),
        ],
        {"ann": "1A 2B", "bob": "1A"},
        [],
    ),
    (
        "a held-back answer leaves the earlier one standing",
        [post(10, "ann", "1A 2A"), post(11, "ann", "2B", kind=AMEND, flags=(flag(1, "1C"),))],
        {"ann": "1A 2B"},
        [(11, "ann", 1)],
    ),
    (
        "a held-back answer with nothing earlier counts nothing",
        [post(10, "ann", "2A", flags=(flag(1),))],
        {"ann": "2A"},
        [(10, "ann", 1)],
    ),
    (
        "the voter's own later answer supersedes a held-back one",
        [post(10, "ann", "2A", flags=(flag(1),)), post(11, "ann", "1C", kind=AMEND)],
        {"ann": "1C 2A"},
        [],
    ),
    (
        "a held-back whole post changes nothing",
        [post(10, "ann", "1A 2A"), post(11, "ann", "1B 2B", kind=REPLACE, flags=(flag(None),))],
        {"ann": "1A 2A"},
        [(11, "ann", None)],
    ),
    (
        "a replacement clears the earlier ballot before its held-back answer",
        [post(10, "ann", "1A 2A"), post(11, "ann", "2B", kind=REPLACE, flags=(flag(1),))],
        {"ann": "2B"},
        [(11, "ann", 1)],
    ),
    (
        "a replacement supersedes earlier held-back answers",
        [post(10, "ann", "2A", flags=(flag(1),)), post(11, "ann", "2B", kind=REPLACE)],
        {"ann": "2B"},
        [],
    ),
    (
        "an excluded post counts nothing",
        [post(10, "ann", "1A"), post(11, "ann", "1B", kind=AMEND, excluded="after the close")],
        {"ann": "1A"},
        [],
    ),
    (
        "an answer to a prompt the vote does not have is held back",
        [post(10, "ann", "1A 9B")],
        {"ann": "1A"},
        [(10, "ann", 9)],
    ),
    (
        "a letter the prompt does not have is held back",
        [post(10, "ann", "1A"), post(11, "ann", "1D", kind=AMEND)],
        {"ann": "1A"},
        [(11, "ann", 1)],
    ),
    (
        "two letters for a single-choice prompt are held back",
        [post(10, "ann", "1AB 2A")],
        {"ann": "2A"},
        [(10, "ann", 1)],
    ),
    (
        "tracking proxy follows the final ballot",
        [post(10, "bob", "1A"), post(11, "ann", proxy="bob"), post(12, "bob", "1B", kind=AMEND)],
        {"ann": "1B", "bob": "1B"},
        [],
    ),
    (
        "pinned proxy keeps the ballot as of its post",
        [
            post(10, "bob", "1A"),
            post(11, "ann", proxy="bob", pinned=True),
            post(12, "bob", "1B", kind=AMEND),
        ],
        {"ann": "1A", "bob": "1B"},
        [],
    ),
    (
        "a proxy after own answers replaces them",
        [post(10, "ann", "1C 2B"), post(11, "bob", "1A"), post(12, "ann", proxy="bob")],
        {"ann": "1A", "bob": "1A"},
        [],
    ),
    (
        "own answers after a proxy override it prompt by prompt",
        [
            post(10, "bob", "1A 2A"),
            post(11, "ann", proxy="bob"),
            post(12, "ann", "2B", kind=AMEND),
            post(13, "bob", "1B 2A", kind=AMEND),
        ],
        {"ann": "1B 2B", "bob": "1B 2A"},
        [],
    ),
    (
        "proxies chain",
        [post(10, "cat", "1C"), post(11, "bob", proxy="cat"), post(12, "ann", proxy="bob")],
        {"ann": "1C", "bob": "1C", "cat": "1C"},
        [],
    ),
    (
        "a proxy name differing only in case still finds the voter",
        [post(10, "Bob", "1A"), post(11, "ann", proxy="BOB")],
        {"ann": "1A", "Bob": "1A"},
        [],
    ),
    (
        "a proxy cycle is held back and the earlier ballots stand",
        [
            post(10, "ann", "1A"),
            post(11, "bob", "1B"),
            post(12, "ann", proxy="bob"),
            post(13, "bob", proxy="ann"),
        ],
        {"ann": "1A", "bob": "1B"},
        [(12, "ann", None), (13, "bob", None)],
    ),
    (
        "a proxy to oneself is held back",
        [post(10, "ann", proxy="ann")],
        {},
        [(10, "ann", None)],
    ),
    (
        "a voter following a cycle member with nothing counted is held back",
        [
            post(10, "ann", proxy="bob"),
            post(11, "bob", proxy="ann"),
            post(12, "cat", proxy="ann"),
        ],
        {},
        [(10, "ann", None), (11, "bob", None), (12, "cat", None)],
    ),
    (
        "a proxy to the quest master is held back",
        [post(10, "ann", proxy=QM)],
        {},
        [(10, "ann", None)],
    ),
    (
        "a proxy to nobody who voted is held back and the earlier answers stand",
        [post(10, "ann", "1C"), post(11, "ann", proxy="ghost")],
        {"ann": "1C"},
        [(11, "ann", None)],
    ),
    (
        "a proxy to a voter with only held-back answers is held back",
        [post(10, "bob", flags=(flag(None),)), post(11, "ann", proxy="bob")],
        {},
        [(10, "bob", None), (11, "ann", None)],
    ),
    (
        "a pinned proxy to a voter who only votes later is held back",
        [post(10, "ann", proxy="bob", pinned=True), post(11, "bob", "1A")],
        {"bob": "1A"},
        [(10, "ann", None)],
    ),
    (
        "a follower shares the target's held-back answer",
        [post(10, "bob", "2A", flags=(flag(1),)), post(11, "ann", proxy="bob")],
        {"ann": "2A", "bob": "2A"},
        [(10, "bob", 1), (11, "ann", 1)],
    ),
    (
        "a replacement drops an earlier proxy",
        [
            post(10, "bob", "1A 2A"),
            post(11, "ann", proxy="bob"),
            post(12, "ann", "1C", kind=REPLACE),
        ],
        {"ann": "1C", "bob": "1A 2A"},
        [],
    ),
    (
        "a write-in joining a poster takes that entry as it stood",
        [
            post(10, "bob", "3=General_improvements"),
            post(11, "ann", "3^bob"),
            post(12, "bob", "3=Something_else", kind=AMEND),
        ],
        {"ann": "3=General_improvements", "bob": "3=Something_else"},
        [],
    ),
    (
        "a write-in joining a poster with no write-in is held back",
        [post(10, "bob", "1A"), post(11, "ann", "1B 3^bob")],
        {"ann": "1B", "bob": "1A"},
        [(11, "ann", 3)],
    ),
    (
        "a write-in joining a poster who only writes later is held back",
        [post(10, "ann", "3^bob"), post(11, "bob", "3=Dams")],
        {"bob": "3=Dams"},
        [(10, "ann", 3)],
    ),
]


@pytest.mark.parametrize(
    ("name", "readings", "ballots", "flagged"), CASES, ids=[c[0] for c in CASES]
)
def test_it_folds(name, readings, ballots, flagged):
    folded = fold(VOTE, readings)
    assert summary(folded) == ballots
    assert held(folded) == flagged


def test_it_lists_excluded_posts_with_their_reason():
    readings = [post(10, QM, "1A", excluded="quest master's post"), post(11, "ann", "1B")]
    folded = fold(VOTE, readings)
    assert [(e.post_id, e.author, e.reason) for e in folded.excluded] == [
        (10, QM, "quest master's post")
    ]
    assert summary(folded) == {"ann": "1B"}


FLAGGED = [post(10, "ann", "1A 2A"), post(11, "ann", "2B", kind=AMEND, flags=(flag(1, "1C"),))]
WHOLE = [post(10, "ann", "1A 2A"), post(11, "ann", "1B", kind=AMEND, flags=(flag(None, "2B"),))]

# (name, readings, decision, expected ballots, expected held back)
DECISIONS = [
    ("accept counts the suggestion", FLAGGED, (11, 1, "accept", None), {"ann": "1C 2B"}, []),
    ("set counts the moderator's answer", FLAGGED, (11, 1, "set", "1B"), {"ann": "1B 2B"}, []),
    ("reject keeps the earlier answer", FLAGGED, (11, 1, "reject", None), {"ann": "1A 2B"}, []),
    (
        "a decision on another post changes nothing",
        FLAGGED,
        (99, 1, "reject", None),
        {"ann": "1A 2B"},
        [(11, "ann", 1)],
    ),
    (
        "accepting a whole post counts it with its suggestion",
        WHOLE,
        (11, None, "accept", None),
        {"ann": "1B 2B"},
        [],
    ),
    (
        "setting a whole post counts only the moderator's answer",
        WHOLE,
        (11, None, "set", "2A"),
        {"ann": "1A 2A"},
        [],
    ),
    (
        "rejecting a whole post counts nothing of it",
        WHOLE,
        (11, None, "reject", None),
        {"ann": "1A 2A"},
        [],
    ),
    (
        "setting a write-in join accepts it as written",
        [post(10, "ann", "3^bob")],
        (10, 3, "set", "3=Dams"),
        {"ann": "3=Dams"},
        [],
    ),
    (
        "a moderator's answer with a letter the prompt lacks is still held back",
        FLAGGED,
        (11, 1, "set", "1Z"),
        {"ann": "1A 2B"},
        [(11, "ann", 1)],
    ),
]


@pytest.mark.parametrize(
    ("name", "readings", "decision", "ballots", "flagged"), DECISIONS, ids=[c[0] for c in DECISIONS]
)
def test_it_applies_decisions(name, readings, decision, ballots, flagged):
    post_id, prompt, action, given_answer = decision
    ruling = Decision(
        post_id, prompt, DecisionAction(action), answer(given_answer) if given_answer else None
    )
    folded = fold(VOTE, readings, [ruling])
    assert summary(folded) == ballots
    assert held(folded) == flagged


def test_it_keeps_the_joined_name_and_the_giving_post():
    folded = fold(VOTE, [post(10, "bob", "3=Dams"), post(11, "ann", "3^bob")])
    counted = folded.ballots["ann"][3]
    assert (counted.answer.text, counted.answer.joins, counted.post_id) == ("Dams", "bob", 11)


def test_it_credits_a_followed_answer_to_the_proxy_post():
    folded = fold(VOTE, [post(10, "bob", "1A"), post(11, "ann", proxy="bob")])
    assert folded.ballots["ann"][1].post_id == 11


def test_it_follows_a_chain_longer_than_the_recursion_limit():
    voters = [f"v{i}" for i in range(3000)]
    readings = [post(i, name, proxy=voters[i + 1]) for i, name in enumerate(voters[:-1])]
    readings.append(post(5000, voters[-1], "1B"))
    folded = fold(VOTE, readings)
    assert len(folded.ballots) == 3000
    assert set(summary(folded).values()) == {"1B"}


def test_it_holds_back_a_cycle_reached_through_a_long_chain():
    voters = [f"v{i}" for i in range(2000)]
    readings = [post(i, v, proxy=voters[(i + 1) % len(voters)]) for i, v in enumerate(voters)]
    folded = fold(VOTE, readings)
    assert folded.ballots == {}
    assert len(folded.flagged) == 2000


AUTHORS = ["ann", "bob", "cat", QM]
_letters = st.sampled_from(
    ["1A", "1B", "1C", "1D", "2A", "2B", "4AB", "4C", "5CAB", "3=Dams", "3^bob"]
)


@st.composite
def _readings(draw) -> list[Reading]:
    readings = []
    for post_id in range(1, draw(st.integers(0, 14)) + 1):
        author = draw(st.sampled_from(AUTHORS))
        shape = draw(st.sampled_from(["ballot", "amend", "replace", "proxy", "pinned", "excluded"]))
        answers = " ".join(draw(st.lists(_letters, max_size=3)))
        flags = tuple(flag(p) for p in draw(st.lists(st.sampled_from([None, 1, 2]), max_size=1)))
        if shape in ("proxy", "pinned"):
            target = draw(st.sampled_from([*AUTHORS, "ghost"]))
            readings.append(post(post_id, author, answers, proxy=target, pinned=shape == "pinned"))
            continue
        kind = {"amend": AMEND, "replace": REPLACE}.get(shape, PostKind.BALLOT)
        excluded = "after the close" if shape == "excluded" else None
        readings.append(post(post_id, author, answers, kind=kind, flags=flags, excluded=excluded))
    return readings


@settings(max_examples=300, deadline=None)
@given(_readings())
def test_it_folds_deterministically(readings):
    again = [Reading.from_json(r.to_json()) for r in readings]
    assert fold(VOTE, readings) == fold(VOTE, again)


@settings(max_examples=300, deadline=None)
@given(_readings())
def test_it_counts_only_valid_answers_from_the_voters_posts(readings):
    folded = fold(VOTE, readings)
    posts_by = {(r.post_id, r.author) for r in readings if r.excluded is None}
    for voter, ballot in folded.ballots.items():
        for number, counted in ballot.items():
            prompt = VOTE.prompt(number)
            assert prompt is not None
            assert (counted.post_id, voter) in posts_by
            assert all(prompt.option(x) for x in counted.answer.letters)
            if prompt.kind == "single":
                assert len(counted.answer.letters) == 1


def _naive(readings: list[Reading], voter: str) -> dict[int, str]:
    """Last answer per prompt since the last replacement: the rule without proxies or flags."""
    ballot: dict[int, str] = {}
    for r in readings:
        if r.author != voter or r.excluded:
            continue
        if r.kind == REPLACE:
            ballot = {}
        for a in r.answers:
            ballot[a.prompt] = "".join(a.letters)
    return ballot


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(AUTHORS[:3]),
            st.sampled_from(["ballot", "amend", "replace"]),
            st.lists(st.sampled_from(["1A", "1B", "2A", "2B", "4AB", "4D"]), max_size=3),
        )
    )
)
def test_it_matches_last_answer_wins_without_proxies_or_flags(posts):
    kinds = {"ballot": PostKind.BALLOT, "amend": AMEND, "replace": REPLACE}
    readings = [
        post(i, author, " ".join(answers), kind=kinds[shape])
        for i, (author, shape, answers) in enumerate(posts)
    ]
    folded = fold(VOTE, readings)
    for voter in AUTHORS[:3]:
        got = {n: "".join(c.answer.letters) for n, c in folded.ballots.get(voter, {}).items()}
        assert got == _naive(readings, voter)
