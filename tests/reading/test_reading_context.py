"""ReadingContext: a vote's thread kept between posts reads each post as the whole thread does.

The worker reads a new post against every post before it; a context keeps
those posts (and what was read of them) so that reading post N reads post N,
not the thread again (issue 14). Whatever order posts arrive in chunks, a
context's readings are the readings `read_thread` gives.
"""

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from votes.reading import ReadingContext, read_post, read_thread

from .example import XBALLOTS, load_thread
from .helpers import VOTE, post

_, EXAMPLE_VOTE, EXAMPLE = load_thread()
EXPECTED = [r.to_json() for r in read_thread(EXAMPLE_VOTE, EXAMPLE)]

BALLOTS = [
    post("1-B\n2-A", id=1, author="Anya"),
    post("[QUOTE=Anya]1-B\n2-A[/QUOTE]\nI second this", id=2, author="Boris", hours=2),
    post("Same as Anya", id=3, author="Chen", hours=3),
    post("Revised vote:\n1-A", id=4, author="Anya", hours=4),
    post("[X] Boris", id=5, author="Dara", hours=5),
    post("I think B is a mistake, honestly.", id=6, author="Emil", hours=6),
]


def test_posts_read_one_at_a_time_read_as_the_whole_thread_does():
    context = ReadingContext(EXAMPLE_VOTE)
    assert [context.read(p).to_json() for p in EXAMPLE] == EXPECTED
    assert len(context) == len(EXAMPLE)


@settings(max_examples=40)
@given(st.lists(st.integers(0, len(EXAMPLE)), max_size=6).map(sorted))
def test_chunks_of_any_size_read_as_the_whole_thread_does(cuts):
    context = ReadingContext(EXAMPLE_VOTE)
    bounds = [0, *cuts, len(EXAMPLE)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        context.add(EXAMPLE[start:end])
    assert [context.reading(p.id).to_json() for p in EXAMPLE] == EXPECTED


def test_a_context_started_from_earlier_posts_reads_a_new_post_as_read_post_does():
    for i, new in enumerate(BALLOTS):
        context = ReadingContext(VOTE, BALLOTS[:i])
        assert context.read(new) == read_post(new, VOTE, BALLOTS[:i])


def test_endorsements_proxies_and_changes_follow_the_posts_before_them():
    context = ReadingContext(VOTE)
    readings = [context.read(p) for p in BALLOTS]
    assert readings == read_thread(VOTE, BALLOTS)
    assert readings[1].endorses == 1 and readings[4].proxy_of == "Boris"


def test_a_post_added_twice_is_kept_once():
    context = ReadingContext(VOTE, BALLOTS[:2])
    context.add(BALLOTS[:3])
    assert len(context) == 3 and 3 in context and 4 not in context
    assert context.reading(3) == read_thread(VOTE, BALLOTS[:3])[2]


# A long thread's context keeps older bodies compressed (issue 14); keep=0 packs
# every post as soon as it is added, so each later read unpacks what it needs,
# and every Reading but the latest as soon as the next post is read.
_, XBALLOT_VOTE, XBALLOT_POSTS = load_thread(XBALLOTS / "thread.json")


@settings(max_examples=20)
@given(st.lists(st.integers(0, len(EXAMPLE)), max_size=6).map(sorted))
def test_a_context_with_every_body_packed_reads_as_the_whole_thread_does(cuts):
    context = ReadingContext(EXAMPLE_VOTE, keep=0)
    bounds = [0, *cuts, len(EXAMPLE)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        context.add(EXAMPLE[start:end])
    assert [context.reading(p.id).to_json() for p in EXAMPLE] == EXPECTED


def test_packed_posts_are_found_by_quoted_text_endorsed_and_followed():
    context = ReadingContext(VOTE, keep=0)
    assert [context.read(p) for p in BALLOTS] == read_thread(VOTE, BALLOTS)
    assert context.reading(2).endorses == 1  # a quote by name and text, not by id


def test_plans_defined_in_packed_posts_are_still_plans():
    context = ReadingContext(XBALLOT_VOTE, keep=1)
    readings = [context.read(p) for p in XBALLOT_POSTS]
    assert readings == read_thread(XBALLOT_VOTE, XBALLOT_POSTS)


def test_another_text_of_a_post_reads_as_read_post_with_the_posts_before_it():
    context = ReadingContext(VOTE, BALLOTS, keep=0)
    edited = replace(BALLOTS[2], body="1-A\n2-Fly")
    renamed = replace(BALLOTS[4], author="Boris")  # a forum name claimed since
    new = post("[X] Anya", id=9, author="Fyodor", hours=9)
    assert context.read_instead(edited) == read_post(edited, VOTE, BALLOTS[:2])
    assert context.read_instead(renamed) == read_post(renamed, VOTE, BALLOTS[:4])
    assert context.read_instead(new) == read_post(new, VOTE, BALLOTS)
    # The kept posts are as they were.
    assert [context.reading(p.id) for p in BALLOTS] == read_thread(VOTE, BALLOTS)


def test_a_context_keeps_only_its_latest_readings_whole_and_reads_the_rest_back_the_same():
    context = ReadingContext(EXAMPLE_VOTE, EXAMPLE, keep=2)
    readings = [context.reading(p.id) for p in EXAMPLE]
    memo = context._posts.memo
    assert len(memo.readings) <= 4 and len(memo.packed) >= len(EXAMPLE) - 4
    assert [context.reading(p.id) for p in EXAMPLE] == readings
    assert [r.to_json() for r in readings] == EXPECTED
