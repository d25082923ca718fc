"""A voting statement asked or supposed is held back, never counted (rule 6).

"What if we pick A on 2?" names an answer without giving it. Held back with
the answer it names as the suggestion, so a moderator confirms it in one click
when it was meant; stated in a clause of its own, or after a condition the
voter sets ("If not, I vote B on 1"), it counts as before.
"""

import pytest

from tests.reading.helpers import VOTE, check, post
from votes.reading import read_post

ASKED = [
    ("What happens if we pick A on 2? Do we lose face with China?", {2: "flag:A"}),
    ("Would it be crazy if I vote A on 2?", {2: "flag:A"}),
    ("If we pick B on 1 the MGB will hate us.", {1: "flag:B"}),
    ("what if i vote A on 2", {2: "flag:A"}),
    ("if I vote for B on 1, will they rebel", {1: "flag:B"}),
    ("Should I go with B on 1?", {1: "flag:B"}),
]
STATED = [
    ("I vote B on 1, why not?", {1: "B"}),
    ("If not, I vote B on 1", {1: "B"}),
    ("I'm going with B on 1 if nobody objects.", {1: "B"}),
    ("I vote B on 1. Anyone else?", {1: "B"}),
    ("After all that, I vote 1-B", {1: "B"}),
    ("For 1 I'm going with B.", {1: "B"}),
]


@pytest.mark.parametrize(("body", "expected"), ASKED, ids=[b for b, _ in ASKED])
def test_a_statement_asked_or_supposed_is_held_with_what_it_names(body, expected):
    reading = read_post(post(body), VOTE)
    check(reading, expected)
    assert all("asked or supposed" in f.reason or "mentioned" in f.reason for f in reading.flags)


@pytest.mark.parametrize(("body", "expected"), STATED, ids=[b for b, _ in STATED])
def test_a_statement_in_a_clause_of_its_own_counts(body, expected):
    check(read_post(post(body), VOTE), expected)
