"""A small fixture vote and a compact way to state what a post should read as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from votes.reading import read_post
from votes.reading.types import (
    OptionSpec,
    Partition,
    PostIn,
    PromptKind,
    PromptSpec,
    Reading,
    Revision,
    VoteSpec,
)

OPENS = datetime(2024, 4, 20, 18, 0, tzinfo=UTC)
CLOSES = datetime(2024, 4, 23, 18, 0, tzinfo=UTC)
QM = "panpiotr"

VOTE = VoteSpec(
    prompts=(
        PromptSpec(
            1,
            PromptKind.SINGLE,
            "Decide the fate of the agents who betrayed Beria.",
            (
                OptionSpec("A", "Show leniency"),
                OptionSpec("B", "Punish them for their role in Beria's failed coup."),
            ),
        ),
        PromptSpec(
            2,
            PromptKind.SINGLE,
            "Should USSR end the ongoing conflict in Korea?",
            (OptionSpec("A", "Yes"), OptionSpec("B", "No")),
        ),
        PromptSpec(3, PromptKind.WRITE_IN, "Please write down initiatives for the first 100 days."),
        PromptSpec(
            4,
            PromptKind.MULTI,
            "Which industries get new funding? Choose any.",
            (
                OptionSpec("A", "Tank factories"),
                OptionSpec("B", "Shipyards"),
                OptionSpec("C", "Phased release of prisoners"),
                OptionSpec("D", "Collective farms"),
            ),
        ),
        PromptSpec(
            5,
            PromptKind.RANKED,
            "Rank the cities for the new metro lines.",
            (OptionSpec("A", "Kiev"), OptionSpec("B", "Minsk"), OptionSpec("C", "Riga")),
        ),
    ),
    quest_master=QM,
    post_id=100,
    opens_at=OPENS,
    closes_at=CLOSES,
)


def post(
    body: str,
    *,
    id: int = 1000,
    author: str = "Player",
    hours: float = 1,
    edited_hours: float | None = None,
    revisions: tuple[tuple[str, float], ...] = (),
) -> PostIn:
    return PostIn(
        id=id,
        author=author,
        posted_at=OPENS + timedelta(hours=hours),
        body=body,
        edited_at=OPENS + timedelta(hours=edited_hours) if edited_hours is not None else None,
        revisions=tuple(Revision(b, OPENS + timedelta(hours=h)) for b, h in revisions),
    )


def shown(answer, vote: VoteSpec = VOTE) -> str:
    if answer.text is not None:
        return answer.text
    prompt = vote.prompt(answer.prompt)
    if prompt is not None and prompt.kind is PromptKind.RANKED:
        return ">".join(answer.letters)
    return "".join(answer.letters)


def check(reading: Reading, expected: dict) -> None:
    """Compare a Reading with a compact expectation.

    Keys: prompt numbers -> "B", "AC", "C>A>B" (ranked), "~phrase" (write-in
    containing the phrase), "flag" or "flag:B" (held back, suggesting B);
    "*" -> "flag" (the whole post held back); "kind" -> a PostKind value;
    "excluded" -> a phrase of the exclusion reason; "endorses", "proxy_of",
    "joins" -> values of those fields. Prompts not named must have no answer.
    """
    got = {a.prompt: a for a in reading.answers}
    flags = {f.prompt: f for f in reading.flags}
    for key, want in expected.items():
        if key == "kind":
            assert reading.kind == want, reading
        elif key == "excluded":
            assert reading.excluded and want in reading.excluded, reading
        elif key == "endorses":
            assert reading.endorses == want, reading
        elif key == "proxy_of":
            assert (reading.proxy_of, reading.proxy_pinned) == want, reading
        elif key == "joins":
            assert [a.joins for a in reading.answers if a.joins] == [want], reading
        elif key == "*":
            assert None in flags and not reading.answers, reading
        else:
            _check_prompt(reading, key, want, got, flags)
    named = {k for k in expected if isinstance(k, int)}
    extra_answers = set(got) - named
    assert not extra_answers, reading
    if "*" not in expected:
        extra_flags = set(flags) - named
        assert not extra_flags, reading


def _check_prompt(reading: Reading, key: int, want: str, got: dict, flags: dict) -> None:
    """One prompt's expectation: "flag", "flag:B", "~phrase" or the letters."""
    if want.startswith("flag"):
        assert key in flags and key not in got, reading
        if ":" in want:
            suggestion = flags[key].suggestion
            assert suggestion is not None and shown(suggestion) == want[5:], reading
    elif want.startswith("~"):
        assert key in got and got[key].text is not None, reading
        assert want[1:].casefold() in got[key].text.casefold(), reading
    else:
        assert key in got and shown(got[key]) == want, reading


def read(body: str, earlier: tuple[PostIn, ...] = (), **kw) -> Reading:
    return read_post(post(body, **kw), VOTE, earlier)


# A vote mixing two `lines` prompts ([X] ballots, issue 15) with a lettered one.
LINES_VOTE = VoteSpec(
    prompts=(
        PromptSpec(1, PromptKind.LINES, "What does the expedition do?"),
        PromptSpec(2, PromptKind.LINES, "Rank the routes home.", partition=Partition.LINE),
        PromptSpec(
            3, PromptKind.SINGLE, "Who leads?", (OptionSpec("A", "Anya"), OptionSpec("B", "Bo"))
        ),
    ),
    quest_master=QM,
    post_id=100,
    opens_at=OPENS,
    closes_at=CLOSES,
)
