"""Issue 9's targets on the hand-labelled posts: no ballot lost, under 3% of chatter held.

The labels (labelled_posts.json) are a person's reading of every post of the public
example, the two seed pastes and the forum-style set; labelled.py classifies what
the reader made of each.
"""

from functools import cache

import pytest

from votes.reading.types import Answer, Flag, PostKind, Reading

from .labelled import (
    BALLOT,
    CHATTER,
    COUNTED,
    HELD,
    HELD_TARGET,
    LOST,
    QUEST_MASTER,
    Label,
    Measure,
    answer_faults,
    labels,
    measure_source,
    outcome,
    pooled_line,
    sources,
    thread,
)

SOURCES = sorted(sources())


@cache
def _measure(name: str) -> Measure:
    return measure_source(name)


def _listed(name: str, post_ids) -> str:
    posts = sources()[name]["posts"]
    return "\n".join(f"  {name}/{p}: {posts[str(p)]['excerpt']}" for p in post_ids)


# -- the targets ------------------------------------------------------------


@pytest.mark.parametrize("name", SOURCES)
def test_it_loses_no_labelled_ballot(name):
    m = _measure(name)
    assert not m.ballots_lost, f"{m.line()}\n{_listed(name, m.ballots_lost)}"


def test_it_holds_back_under_3_percent_of_the_labelled_chatter():
    # Pooled: seed-001 alone has 4 chatter posts, where one hold would be 25%.
    measures = [_measure(name) for name in SOURCES]
    held = sum(len(m.chatter_held) for m in measures)
    chatter = sum(m.count(CHATTER) for m in measures)
    listed = "\n".join(_listed(m.source, m.chatter_held) for m in measures if m.chatter_held)
    assert held < HELD_TARGET * chatter, f"{pooled_line(measures)}\n{listed}"


@pytest.mark.parametrize("name", SOURCES)
def test_it_counts_no_labelled_chatter(name):
    m = _measure(name)
    counted = m.ids(CHATTER, COUNTED)
    assert not counted, _listed(name, counted)


@pytest.mark.parametrize("name", SOURCES)
def test_it_drops_no_part_of_a_labelled_ballot(name):
    # An obvious answer of a counted or held ballot is counted or held, never dropped.
    m = _measure(name)
    assert not m.answers_lost, "\n".join(
        f"{_listed(name, [p])}: prompts {prompts}" for p, prompts in m.answers_lost.items()
    )


@pytest.mark.parametrize("name", SOURCES)
def test_it_counts_no_obvious_answer_as_another(name):
    m = _measure(name)
    assert not m.answers_wrong, "\n".join(
        f"{_listed(name, [p])}: {wrong}" for p, wrong in m.answers_wrong.items()
    )


# -- the label file ---------------------------------------------------------


@pytest.mark.parametrize("name", SOURCES)
def test_it_labels_every_post_of_every_source(name):
    _, posts = thread(name)
    assert {p.id for p in posts} == set(labels(name))
    assert {label.kind for label in labels(name).values()} <= {BALLOT, CHATTER, QUEST_MASTER}


def test_it_has_forty_forum_style_posts_of_each_label():
    kinds = [label.kind for label in labels("forum-style").values()]
    assert kinds.count(BALLOT) >= 40 and kinds.count(CHATTER) >= 40


# -- the classifier ---------------------------------------------------------


def _reading(**kw) -> Reading:
    return Reading(post_id=1, author="Player", kind=kw.pop("kind", PostKind.BALLOT), **kw)


ANSWER = Answer(1, ("B",))
FLAG = Flag(1, "held")
CASES = [
    (BALLOT, _reading(answers=(ANSWER,)), COUNTED),
    (BALLOT, _reading(answers=(ANSWER,), flags=(Flag(2, "held"),)), COUNTED),
    (BALLOT, _reading(flags=(FLAG,)), HELD),
    (BALLOT, _reading(kind=PostKind.PROXY, proxy_of="Tamsin"), COUNTED),
    (BALLOT, _reading(kind=PostKind.ENDORSEMENT, answers=(ANSWER,), endorses=7), COUNTED),
    (BALLOT, _reading(kind=PostKind.NOT_BALLOT), LOST),
    (BALLOT, _reading(kind=PostKind.NOT_BALLOT, mentions=("names option words",)), LOST),
    (CHATTER, _reading(kind=PostKind.NOT_BALLOT), CHATTER),
    (CHATTER, _reading(kind=PostKind.TALLY), CHATTER),
    (CHATTER, _reading(flags=(FLAG,)), HELD),
    (CHATTER, _reading(answers=(ANSWER,)), COUNTED),
    (CHATTER, _reading(kind=PostKind.PROXY, proxy_of="Tamsin"), COUNTED),
    (QUEST_MASTER, _reading(kind=PostKind.QUEST_MASTER), None),
]


@pytest.mark.parametrize(("kind", "reading", "expected"), CASES)
def test_it_classifies_what_the_reader_did_with_a_labelled_post(kind, reading, expected):
    assert outcome(reading, Label(kind)) == expected


def test_it_leaves_posts_before_the_window_unmeasured():
    assert outcome(_reading(kind=PostKind.NOT_BALLOT), Label(CHATTER, in_window=False)) is None


def test_it_finds_dropped_and_wrong_answers_of_a_ballot():
    label = Label(BALLOT, expect={"1": "B", "2": "AD", "3": "~Steel Horse", "follows": "x"})
    reading = _reading(answers=(ANSWER, Answer(2, ("A",)), Answer(3, text="Old Faithful")))
    assert answer_faults(reading, label) == (
        [],
        ["2: read 'A', want 'AD'", "3: read 'Old Faithful', want '~Steel Horse'"],
    )
    assert answer_faults(_reading(answers=(ANSWER,)), label) == ([2, 3], [])
    held = _reading(answers=(ANSWER,), flags=(Flag(2, "held"), Flag(3, "held")))
    assert answer_faults(held, label) == ([], [])


def test_it_counts_a_measure_per_label():
    m = Measure(
        "s", labels={1: BALLOT, 2: BALLOT, 3: CHATTER}, outcomes={1: LOST, 2: HELD, 3: HELD}
    )
    assert (m.ballots_lost, m.chatter_held) == ([1], [3])
    assert m.line() == "chatter held: 1 of 1 (100.0%)  ballots lost: 1 of 2"
