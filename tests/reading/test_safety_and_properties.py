"""Hostile input, bounded work, and properties that hold for any post."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from votes.reading import canonical_text, read_post
from votes.reading.types import Answer, PromptKind

from .helpers import VOTE, check, post, read

HOSTILE = [
    "-" * 50_000,
    "[QUOTE]" * 1000 + "1-A" + "[/QUOTE]" * 1000,
    "1-\n" * 10_000,
    "[QUOTE]1-A",
    "[/QUOTE]1-A",
    "[SPOILER]1-A",
    "[B][I][U]" * 3000,
    "1" * 50_000,
    "1-" * 25_000,
    "[" * 50_000,
    "[QUOTE=" + "a" * 50_000,
    "\x00" * 1000 + "1-A",
    "1 A " * 12_000,
    "I vote " * 10_000,
    "a, " * 30_000,
    "4-" + "A, " * 20_000,
    "[QUOTE=\n" * 10_000 + "1-A",
    "[QUOTE=" + "\n" * 50_000 + "]1-A",
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_it_reads_hostile_posts_without_raising(body):
    reading = read(body)
    assert reading.post_id == 1000


def test_it_reads_unclosed_tags_as_the_forum_shows_them():
    check(read("[QUOTE]1-A"), {1: "A"})
    check(read("[SPOILER]1-A"), {1: "A"})


def test_it_holds_back_posts_over_100_kb_unread():
    reading = read("1-A\n" + "x" * 100_001)
    check(reading, {"*": "flag"})
    assert "100 KB" in reading.flags[0].reason


BALLOTISH = st.sampled_from(
    ["1-A", "1 B;", "2 - Yes", "3-", "4 AB", "5: C > A", "[QUOTE]", "[/QUOTE]", "[X]", "\n",
     "\n\n", "I second this", "+1", "#1: C", "[B]", "[/B]", "1.", "B", " ", "we should",
     "New vote", "[SPOILER]", "[/SPOILER]", "A) Show leniency", "Korea", "-", "\u2014", "9"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_it_never_raises_on_arbitrary_text(body):
    read(body)


@settings(max_examples=300, deadline=None)
@given(st.lists(BALLOTISH, max_size=40).map("".join))
def test_it_never_raises_and_is_deterministic_on_ballotish_text(body):
    assert read(body) == read(body)


@settings(max_examples=200, deadline=None)
@given(st.lists(BALLOTISH, max_size=30).map("".join), st.text(max_size=10))
@example(inner="\n1-A", author="\n")  # a newline in the quote's attribute
def test_it_never_counts_text_inside_a_quote(inner, author):
    author = author.replace("]", "").replace("[", "")
    inner = inner.replace("[/QUOTE]", "").replace("[QUOTE]", "")
    alone = read("Hello.")
    quoted = read(f"[QUOTE={author or 'x'}]{inner}[/QUOTE]\nHello.")
    assert quoted.answers == alone.answers and quoted.flags == alone.flags


WORD = st.sampled_from(["build", "more", "roads", "tractors", "in", "Kiev", "and", "farms", "now"])


def _answer(prompt):
    if prompt.kind is PromptKind.WRITE_IN:
        text = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
        return text.map(lambda t: Answer(prompt.number, text=t))
    letters = [o.letter for o in prompt.options]
    if prompt.kind is PromptKind.SINGLE:
        return st.sampled_from(letters).map(lambda x: Answer(prompt.number, letters=(x,)))
    if prompt.kind is PromptKind.MULTI:
        chosen = st.sets(st.sampled_from(letters), min_size=1).map(lambda s: tuple(sorted(s)))
    else:
        chosen = st.permutations(letters).flatmap(
            lambda p: st.integers(1, len(p)).map(lambda n: tuple(p[:n]))
        )
    return chosen.map(lambda x: Answer(prompt.number, letters=x))


BALLOTS = st.tuples(*(st.one_of(st.none(), _answer(p)) for p in VOTE.prompts)).map(
    lambda xs: [x for x in xs if x is not None]
)


@settings(max_examples=300, deadline=None)
@given(BALLOTS)
def test_it_reads_back_the_canonical_text_of_any_ballot(answers):
    reading = read_post(post(canonical_text(answers, VOTE)), VOTE)
    got = [(a.prompt, a.letters, a.text) for a in reading.answers]
    assert got == [(a.prompt, a.letters, a.text) for a in answers]
    assert not reading.flags


def test_it_writes_canonical_text_one_answer_a_line():
    answers = [
        Answer(5, letters=("C", "A")),
        Answer(1, letters=("B",)),
        Answer(4, letters=("A", "C")),
        Answer(3, text="General improvements\n\non the economy"),
    ]
    assert canonical_text(answers, VOTE) == (
        "1-B\n3-General improvements / on the economy\n4-AC\n5-C>A"
    )
