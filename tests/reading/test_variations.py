"""Issue 9: a labelled ballot, varied the way players vary it, is never lost or misread.

Every firm ballot case of the existing tables that is read on its own (no
earlier posts) is transformed: lower case, wrapped in bold or colour, a reason
appended on its line, a vote phrase before it, a quote of the vote block above
it, chatter paragraphs around it. Each variation must read as the same answers
or be held back, never as nothing and never as other answers (the hypothesis
property, transformations combined); and for each transformation alone at
least 90% of the cases must still read firmly as the same answers (holding
everything back is not a pass).
"""

from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import check, read, shown
from .second_pass_cases import QUOTED_VOTE
from .test_forum_styles import STYLES
from .test_grammar import (
    HELD_BACK,
    MULTI_RANKED,
    NO_OPTION,
    NUMBERED,
    OPTION_TEXT,
    OWN_TEXT,
    UNDER_PROMPT,
    VOTING_STATEMENTS,
    WRITE_INS,
)
from .test_thread_rules import PROSE

# The tables whose posts are read with no earlier posts (ENDORSE, PROXY, AMEND
# and the rest of test_thread_rules need a thread before them).
TABLES = [
    OWN_TEXT,
    NUMBERED,
    MULTI_RANKED,
    OPTION_TEXT,
    UNDER_PROMPT,
    WRITE_INS,
    HELD_BACK,
    VOTING_STATEMENTS,
    NO_OPTION,
    STYLES,
    PROSE,
]
FIRM_RATE = 0.9


def _is_firm(expected: dict) -> bool:
    """Answers only: no flags, no whole-post hold, no kind or proxy to check."""
    if not expected or not all(isinstance(k, int) for k in expected):
        return False
    return not any(v.startswith("flag") for v in expected.values())


def _as_check(expected: dict) -> dict:
    # "=text" (exact write-in) is compared as "~text": a variation may add to it.
    return {k: "~" + v[1:] if v.startswith("=") else v for k, v in expected.items()}


def _firm_cases() -> list[tuple[str, dict]]:
    found: dict[str, dict] = {}
    for table in TABLES:
        for body, expected in table:
            if _is_firm(expected):
                found.setdefault(body, _as_check(expected))
    return list(found.items())


CASES = _firm_cases()

# -- the ways players vary a ballot ---------------------------------------

REASONS = [
    " because the tanks matter",
    " - the tanks matter",
    " (the tanks matter)",
    ", since peace matters more than pride",
    " because frankly the grain situation is dire",
]
PHRASES = ["my vote: ", "Vote: ", "ok my vote: ", "Final answer: ", "My vote is ", "Voting "]
COLOURS = ["red", "#ff0000", "green", "rgb(184, 49, 47)"]
CHATTER = [
    "Great chapter, the funeral scene gave me chills.",
    "Wow, what an update. I did not see the coup coming at all.",
    "Can't wait to see how the Politburo reacts to this.",
    "Long time lurker, first time voting here. Love this quest!",
]


def lower_case(body: str) -> str:
    return body.lower()


def in_bold(body: str) -> str:
    return f"[B]{body}[/B]"


def in_colour(body: str, colour: str = "red") -> str:
    return f"[COLOR={colour}]{body}[/COLOR]"


def with_reason(body: str, reason: str = REASONS[0]) -> str:
    return body.rstrip() + reason


def after_phrase(body: str, phrase: str = PHRASES[0]) -> str:
    return phrase + body


def under_the_vote_quoted(body: str) -> str:
    return f"{QUOTED_VOTE}\n{body}"


def among_chatter(body: str, before: str = CHATTER[0], after: str = CHATTER[2]) -> str:
    return f"{before}\n\n{body}\n\n{after}"


TRANSFORMS = {
    "lower case": lower_case,
    "bold": in_bold,
    "colour": in_colour,
    "reason on the same line": with_reason,
    "vote phrase before": after_phrase,
    "vote block quoted above": under_the_vote_quoted,
    "chatter around": among_chatter,
}

# -- what a variation reads as --------------------------------------------


def _matches(answer, want: str | None) -> bool:
    if want is None:
        return False
    if want.startswith("~"):
        return answer.text is not None and want[1:].casefold() in answer.text.casefold()
    return shown(answer) == want


def outcome(reading, expected: dict) -> str:
    """How a variation reads against the expected answers.

    - firm: exactly the expected answers, and nothing held back;
    - held: no answer but the expected ones, and each expected one missing is
      held back (for its prompt, or the whole post);
    - other: an answer that is not the expected one (or to another prompt);
    - lost: an expected answer neither given nor held back.
    """
    got = {a.prompt: a for a in reading.answers}
    if not all(_matches(a, expected.get(p)) for p, a in got.items()):
        return "other"
    held = {f.prompt for f in reading.flags}
    missing = set(expected) - set(got)
    if not missing and not held:
        return "firm"
    if None in held or missing <= held:
        return "held"
    return "lost"


def _shown(reading) -> str:
    answers = {a.prompt: a.text or shown(a) for a in reading.answers}
    return f"{answers} held={[f.prompt for f in reading.flags]}"


# -- the tests ------------------------------------------------------------


def test_the_tables_hold_enough_firm_cases_to_vary():
    assert len(CASES) >= 150


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_most_varied_ballots_still_read_firmly(name):
    transform = TRANSFORMS[name]
    not_firm = []
    for body, expected in CASES:
        reading = read(transform(body))
        if outcome(reading, expected) != "firm":
            not_firm.append(f"{body!r}: {_shown(reading)}, want {expected}")
    rate = 1 - len(not_firm) / len(CASES)
    shown_misses = "\n".join(not_firm[:25])
    assert rate >= FIRM_RATE, f"{name}: {rate:.1%} firm of {len(CASES)}\n{shown_misses}"


STEPS = st.one_of(
    st.just(lower_case),
    st.just(in_bold),
    st.sampled_from(COLOURS).map(lambda c: partial(in_colour, colour=c)),
    st.sampled_from(REASONS).map(lambda r: partial(with_reason, reason=r)),
    st.sampled_from(PHRASES).map(lambda p: partial(after_phrase, phrase=p)),
    st.just(under_the_vote_quoted),
    st.tuples(st.sampled_from(CHATTER), st.sampled_from(CHATTER)).map(
        lambda pair: partial(among_chatter, before=pair[0], after=pair[1])
    ),
)


@settings(max_examples=400, deadline=None)
# Each kind of variation at most once: nobody writes "my vote: my vote: 1-B".
@given(
    case=st.sampled_from(CASES),
    steps=st.lists(
        STEPS, min_size=1, max_size=3, unique_by=lambda f: getattr(f, "func", f).__name__
    ),
)
def test_a_varied_ballot_reads_as_the_same_answers_or_is_held_back(case, steps):
    body, expected = case
    for step in steps:
        body = step(body)
    reading = read(body)
    result = outcome(reading, expected)
    assert result in ("firm", "held"), f"{result}: {body!r} read as {_shown(reading)}"


def test_a_lower_case_statement_goes_on_with_the_prompts_it_names():
    # Found by the property test above: after "i vote b on the first", the lower-case
    # letters that name their prompt were not read ("a on the second and c on 4").
    body = "i vote b on the first, a on the second and c on 4., since we must"
    check(read(body), {1: "B", 2: "A", 4: "C"})
