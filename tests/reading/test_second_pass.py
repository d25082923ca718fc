"""Issue 9, the reader's second pass: every shape players vote in, read firmly or held back.

Tables are in second_pass_cases.py. Posts read on their own are checked with
helpers.check(). A post that points at another voter ("what Anya said", "^",
a quote) is checked by what the tally counts for its author after folding the
thread: whether the reader copies the ballot or records a proxy, the counted
answers must be the same.
"""

import re

import pytest

from votes.reading import read_thread
from votes.reading.fold import fold
from votes.reading.types import Folded

from . import second_pass_cases as cases
from .helpers import VOTE, check, post, read, shown

VOTER = "Player"


def _ids(table) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for row in table:
        slug = re.sub(r"[^0-9A-Za-z^+@>]+", "-", row[0]).strip("-")[:48] or "empty"
        seen[slug] = seen.get(slug, 0) + 1
        ids.append(slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")
    return ids


def _counted(body: str, earlier: tuple) -> Folded:
    """The thread folded, with the post read last, two hours into the vote."""
    posts = [*earlier, post(body, id=1000, author=VOTER, hours=2)]
    return fold(VOTE, read_thread(VOTE, posts))


def _matches(answer, want: str) -> bool:
    if want.startswith("~"):
        return answer.text is not None and want[1:].casefold() in answer.text.casefold()
    return shown(answer) == want


def check_counted(folded: Folded, expected: dict) -> None:
    """helpers.check()'s syntax, applied to what the tally counts for VOTER."""
    got = {p: c.answer for p, c in folded.ballots.get(VOTER, {}).items()}
    held = {h.prompt for h in folded.flagged if h.author == VOTER}
    shown_got = {p: shown(a) for p, a in got.items()}
    for key, want in expected.items():
        if key == "*":
            assert None in held and not got, (shown_got, held)
        elif want.startswith("flag"):
            assert key in held and key not in got, (shown_got, held)
        else:
            assert key in got and _matches(got[key], want), (shown_got, held)
    named = {k for k in expected if isinstance(k, int)}
    assert not set(got) - named, (shown_got, held)
    if "*" not in expected:
        assert not held - named, (shown_got, held)


AGREEMENT = cases.AGREE_NAMED + cases.AGREE_AMENDED + cases.AGREE_ADJACENT


@pytest.mark.parametrize(("body", "earlier", "expected"), AGREEMENT, ids=_ids(AGREEMENT))
def test_it_counts_agreement_with_a_named_or_adjacent_voter(body, earlier, expected):
    check_counted(_counted(body, earlier), expected)


@pytest.mark.parametrize(
    ("body", "earlier", "expected"), cases.AGREE_HELD, ids=_ids(cases.AGREE_HELD)
)
def test_it_holds_back_agreement_with_no_one_or_with_no_ballot(body, earlier, expected):
    check_counted(_counted(body, earlier), expected)


@pytest.mark.parametrize(
    ("body", "earlier", "expected"),
    cases.ENDORSE_WITH_COMMENT,
    ids=_ids(cases.ENDORSE_WITH_COMMENT),
)
def test_it_counts_an_endorsement_with_commentary(body, earlier, expected):
    check_counted(_counted(body, earlier), expected)


@pytest.mark.parametrize(
    ("body", "earlier", "expected"), cases.ENDORSER_SAW, ids=_ids(cases.ENDORSER_SAW)
)
def test_it_copies_what_the_endorser_saw(body, earlier, expected):
    check_counted(_counted(body, earlier), expected)


@pytest.mark.parametrize(
    ("body", "expected"), cases.CHANGES_OF_MIND, ids=_ids(cases.CHANGES_OF_MIND)
)
def test_a_later_answer_in_the_post_replaces_the_earlier(body, expected):
    check(read(body), expected)


@pytest.mark.parametrize(("body", "expected"), cases.COMPACT, ids=_ids(cases.COMPACT))
def test_it_reads_letters_in_any_case_and_compact_forms(body, expected):
    check(read(body), expected)


@pytest.mark.parametrize(("body", "expected"), cases.MARKED_BLOCKS, ids=_ids(cases.MARKED_BLOCKS))
def test_the_marked_option_of_a_copied_vote_block_is_the_answer(body, expected):
    check(read(body), expected)


@pytest.mark.parametrize(("body", "expected"), cases.DECLARED, ids=_ids(cases.DECLARED))
def test_it_reads_a_ballot_declared_in_a_sentence(body, expected):
    check(read(body), expected)


@pytest.mark.parametrize(("body", "expected"), cases.CHATTER, ids=_ids(cases.CHATTER))
def test_chatter_naming_options_or_numbers_stays_chatter(body, expected):
    check(read(body), expected)


@pytest.mark.parametrize(
    ("body", "earlier", "expected"),
    cases.CHATTER_IN_THREAD,
    ids=_ids(cases.CHATTER_IN_THREAD),
)
def test_chatter_naming_voters_stays_chatter(body, earlier, expected):
    check_counted(_counted(body, earlier), expected)


@pytest.mark.parametrize(("body", "expected"), cases.HELD, ids=_ids(cases.HELD))
def test_it_holds_back_what_a_moderator_would_doubt(body, expected):
    check_counted(_counted(body, ()), expected)


def test_the_thread_before_each_post_reads_as_the_tables_say():
    """The fixtures themselves: each voter's ballot is what the tables copy."""
    folded = fold(VOTE, read_thread(VOTE, cases.THREAD))
    for voter, expected in [
        ("Anya", cases.ANYA_VOTE),
        ("Boris", cases.BORIS_VOTE),
        ("Vera Koval", cases.VERA_VOTE),
    ]:
        got = folded.ballots[voter]
        assert set(got) == set(expected), voter
        assert all(_matches(got[p].answer, want) for p, want in expected.items()), voter
    assert "Dmitri" not in folded.ballots
