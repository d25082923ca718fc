"""ReadingContext: a vote's thread kept between posts reads each post as the whole thread does.

The worker reads a new post against every post before it; a context keeps
those posts (and what was read of them) so that reading post N reads post N,
not the thread again (issue 14). Whatever order posts arrive in chunks, a
context's readings are the readings `read_thread` gives.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from votes.reading import ReadingContext, read_post, read_thread

from .example import load_thread
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
