"""Reading in bounded time: no post, however hostile, holds a worker or a page.

Every scanner that reads what players write is linear in the text's length,
with capped repetition: each family of adversarial.py (a separator or a
repetition the grammar accepts, run to 60,000 characters) reads well within
the per-post budget. The budget itself is the safety net: a post that runs
over, or that the reader fails on, is held back for a moderator and the rest
of the thread is still read.
"""

import contextlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapters.detect import detect_prompts
from quest import bbcode as page_bbcode
from votes import audit
from votes.importers.paste import PasteError, parse_paste
from votes.reading import read_post, read_thread
from votes.reading.bbcode import scan
from votes.reading.budget import READ_BUDGET_SECONDS
from votes.reading.types import PostKind

from . import adversarial
from .helpers import LINES_VOTE, VOTE, check, post, read

CASES = adversarial.cases()
OUT_OF_TIME = "could not be read in time"


def _read_in_time(body: str):
    reading = read(body)
    reasons = [f.reason for f in reading.flags]
    # Fast because linear, not because the safety net cut it short.
    assert not any(OUT_OF_TIME in r for r in reasons), reasons
    return reading


@pytest.mark.timeout(5)
@pytest.mark.parametrize("body", [b for _, b in CASES], ids=[i for i, _ in CASES])
def test_it_reads_each_adversarial_family_within_the_budget(body):
    assert len(body) >= adversarial.SIZE - 100
    _read_in_time(body)


@pytest.mark.timeout(5)
@pytest.mark.parametrize("body", [b for _, b in CASES], ids=[i for i, _ in CASES])
def test_it_scans_each_adversarial_family_in_every_other_scanner(body):
    detect_prompts(body)
    page_bbcode.render(body)
    page_bbcode.plain_text(body)
    page_bbcode.strip_tags(body)
    scan(body)
    with contextlib.suppress(PasteError):  # a clear refusal is an answer too
        parse_paste(body)


@pytest.mark.timeout(5)
def test_it_highlights_a_post_of_24000_spans_for_the_audit():
    body, spans = adversarial.spans_post()
    assert len(spans) == 24_000
    html = audit.highlight(body, spans, spans[::2])
    assert html.count('<mark class="counted">') == 24_000


def test_it_highlights_overlapping_spans_by_the_strongest_mark():
    html = audit.highlight("1-A 2-B", [(0, 3)], [(2, 7)])
    assert html == '<mark class="counted">1-A</mark><mark class="held"> 2-B</mark>'


@pytest.mark.timeout(5)
def test_it_caps_answers_on_one_line_and_holds_the_post_back():
    reading = _read_in_time("1-A " * 15_000)
    # The whole post waits for a moderator (the fold counts nothing of it until then).
    assert [f.prompt for f in reading.flags] == [None]
    assert "more than 40 answers on one line" in reading.flags[0].reason


def test_it_still_reads_a_real_long_ballot_line():
    check(read("1-A 2-B 4-AC 5-C>A"), {1: "A", 2: "B", 4: "AC", 5: "C>A"})


def test_it_holds_back_a_post_that_runs_over_its_budget():
    reading = read_post(post("1-A\n2-B"), VOTE, seconds=0.0)
    assert reading.kind is PostKind.NOT_BALLOT
    assert not reading.answers
    assert [f.prompt for f in reading.flags] == [None]
    assert OUT_OF_TIME in reading.flags[0].reason


class _Unorderable(datetime):
    """A post time that cannot be compared: the reader fails on it, typed or compiled."""

    def __lt__(self, other):
        raise RuntimeError("a time that cannot be compared")

    __gt__ = __le__ = __ge__ = __lt__


def test_it_holds_back_a_post_the_reader_fails_on_and_reads_the_rest():
    at = post("1-A", id=1).posted_at
    broken = replace(post("1-A", id=1), posted_at=_Unorderable.fromtimestamp(at.timestamp(), UTC))
    fine = post("1-B", id=2, author="Other")
    first, second = read_thread(VOTE, [broken, fine])
    assert "could not be read (an error in the reader)" in first.flags[0].reason
    check(second, {1: "B"})


def test_it_gives_each_post_of_a_thread_its_own_budget():
    posts = [post("1-A", id=1, author="A"), post("1-B", id=2, author="B")]
    assert all(not r.flags for r in read_thread(VOTE, posts, seconds=READ_BUDGET_SECONDS))


SEPARATORS = [
    " ", "\t", "\u00a0", "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015",
    "\u2212", ".", ":", "[", "]", "(", ")", ",", "\n", "/", ">", "&", "+", ";", "*", "#",
    "=", "[B]", "[QUOTE]", "[/QUOTE]", "and ", "1", "A", "a",
]  # fmt: skip


@st.composite
def _long_runs(draw):
    """`<number><long run of separators><letter>` pieces, up to about 90,000 characters."""
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        run = "".join(draw(st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=3)))
        length = draw(st.integers(1, 20_000))
        pieces.append(
            draw(st.sampled_from(["1", "2", "4", "5", "12", "I vote ", "[X] 1"]))
            + (run * (length // len(run) + 1))[:length]
            + draw(st.sampled_from(["A", "b", "AC", "C > A", "Yes", "A) Show", ""]))
        )
    return draw(st.sampled_from(["", "\n", " ", "; "])).join(pieces)


@pytest.mark.timeout(60)
@settings(max_examples=25, deadline=None)
@given(_long_runs())
def test_it_reads_long_separator_runs_within_the_budget(body):
    _read_in_time(body)


X_CASES = adversarial.x_cases()


@pytest.fixture(scope="module")
def x_earlier():
    return tuple(
        post(text, id=200 + i, author=who, hours=1 + i / 1000)
        for i, (who, text) in enumerate(adversarial.x_earlier())
    )


@pytest.mark.timeout(5)
@pytest.mark.parametrize("body", [b for _, b in X_CASES], ids=[i for i, _ in X_CASES])
def test_it_reads_each_x_ballot_family_within_the_budget(body, x_earlier):
    # Against a vote with `lines` prompts, after 200 posts that define plans and name
    # posters: the [X] scanner, the plan book and the proxies all run on every line.
    reading = read_post(post(body, id=9999, author="bench", hours=2), LINES_VOTE, x_earlier)
    reasons = [f.reason for f in reading.flags]
    assert not any(OUT_OF_TIME in r for r in reasons), reasons
