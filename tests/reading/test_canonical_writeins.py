"""A write-in from the ballot form comes back as written and changes no other answer.

The ballot form posts canonical_text; a write-in's text is whatever the player
typed, so it may hold ballot-like text. canonical_text keeps it inert (one
line, brackets escaped): each case below is posted next to a `1-B` answer and
must read back as `1-B` plus the write-in as written (on one line), with
nothing held back. Texts that still read as another prompt's answer are
refused by the form (votes/posting.py, tests/test_ballot_form.py).
"""

import pytest

from tests.reading.test_safety_and_properties import VOTE, post
from votes.reading import canonical_text, read_post
from votes.reading.canonical import written
from votes.reading.types import Answer, PostKind

WRITE_INS = [
    ("a line that answers prompt 1", "more tractors\n1-C"),
    ("a tally heading at a line start", "#####\nmore tractors"),
    ("a tally post's rule", "##### tally"),
    ("a revision heading", "Revised vote:\nkeep the tractors"),
    ("a change of mind", "scratch that, 1-A"),
    ("a quote of everything", "[QUOTE]more tractors[/QUOTE]"),
    ("a quote of a ballot", '[QUOTE="Anya, post: 3"]1-A[/QUOTE] her idea'),
    ("a stray closing quote", "tractors [/QUOTE] and farms"),
    ("blank lines", "more\n\n\ntractors"),
    ("a spoiler", "[SPOILER=plan]tractors[/SPOILER]"),
    ("a strike", "[S]tractors[/S] farms"),
    ("an [X] line", "[X] Plan Tractor"),
    ("a ranked bracket", "[1] farms [2] roads"),
    ("an endorsement", "+1"),
    ("an agreement", "what Anya said"),
    ("a caret", "^ this"),
    ("letters alone", "B"),
    ("a proxy", "[X] Anya"),
    ("a tally list", "Vote tally:\n1-A 3\n1-B 2"),
    ("an escape of our own", "a [PLAIN]b[/PLAIN] and [/PLAIN] c"),
    ("tabs and non-breaking spaces", "more\t tractors\u00a0\n  now"),
    ("an option's own words", "Punish them\nShow leniency"),
]


@pytest.mark.parametrize("why, text", WRITE_INS, ids=[w for w, _ in WRITE_INS])
def test_a_write_in_comes_back_as_written(why, text):
    body = canonical_text([Answer(1, letters=("B",)), Answer(3, text=text)], VOTE)
    reading = read_post(post(body), VOTE)
    got = [(a.prompt, a.letters, a.text) for a in reading.answers]
    assert got == [(1, ("B",), None), (3, (), written(text))], why
    assert not reading.flags, why
    assert reading.kind is PostKind.BALLOT


def test_a_write_in_is_one_line_with_its_words_and_line_breaks_kept_visible():
    assert written("  more\n\n tractors \n") == "more / tractors"
    body = canonical_text([Answer(3, text="[B]more[/B]\ntractors")], VOTE)
    assert "\n" not in body
    assert "[B]" not in body  # escaped: no tag can form in it
