"""Short-hand for Readings and votes in the fold and tally tables.

`ballot("1B 2A 3=Build dams")` gives answers: a number and letters for a
letter prompt, `N=text` for a write-in, `N^Name` for a write-in joining Name.
`summary(folded)` turns the result back into the same short-hand, so a table
row reads like the posts it is about. `lines` prompts are built from `XLine`s as
the fold leaves them: `counted(post, "Scout the wreck", xline("Repair", task="Ship"))`.
"""

from votes.reading.fold import fold
from votes.reading.types import (
    Answer,
    Counted,
    Flag,
    Folded,
    OptionSpec,
    PostKind,
    PromptKind,
    PromptSpec,
    Reading,
    VoteSpec,
    XLine,
)
from votes.tally import tally_json

QM = "panpiotr"


def _options(letters: str) -> tuple[OptionSpec, ...]:
    return tuple(OptionSpec(x, f"Option {x}") for x in letters)


VOTE = VoteSpec(
    prompts=(
        PromptSpec(1, PromptKind.SINGLE, "Decide the fate", _options("ABC")),
        PromptSpec(
            2, PromptKind.SINGLE, "End the war?", (OptionSpec("A", "Yes"), OptionSpec("B", "No"))
        ),
        PromptSpec(3, PromptKind.WRITE_IN, "Write down initiatives"),
        PromptSpec(4, PromptKind.MULTI, "Choose any", _options("ABCD")),
        PromptSpec(5, PromptKind.RANKED, "Rank the plans", _options("ABC")),
    ),
    quest_master=QM,
    post_id=1,
)


def answer(token: str) -> Answer:
    number = int("".join(c for c in token[:2] if c.isdigit()))
    rest = token[len(str(number)) :]
    if rest.startswith("="):
        return Answer(number, text=rest[1:])
    if rest.startswith("^"):
        return Answer(number, joins=rest[1:])
    return Answer(number, letters=tuple(rest))


def ballot(text: str) -> tuple[Answer, ...]:
    """Answers from space-separated tokens; write-in text uses `_` for spaces."""
    return tuple(answer(t.replace("_", " ")) for t in text.split())


def post(
    post_id: int,
    author: str,
    answers: str = "",
    *,
    kind: PostKind | None = None,
    flags: tuple[Flag, ...] = (),
    proxy: str | None = None,
    pinned: bool = False,
    excluded: str | None = None,
    endorses: int | None = None,
) -> Reading:
    if kind is None:
        kind = PostKind.PROXY if proxy else PostKind.BALLOT
    return Reading(
        post_id=post_id,
        author=author,
        kind=kind,
        answers=ballot(answers),
        flags=flags,
        endorses=endorses,
        proxy_of=proxy,
        proxy_pinned=pinned,
        excluded=excluded,
    )


def flag(prompt: int | None, suggestion: str = "", reason: str = "unsure") -> Flag:
    return Flag(prompt, reason, answer(suggestion) if suggestion else None)


def render(a: Answer) -> str:
    if a.text is not None or a.joins is not None:
        return f"{a.prompt}={(a.text or '^' + str(a.joins)).replace(' ', '_')}"
    return f"{a.prompt}{''.join(a.letters)}"


def summary(folded: Folded) -> dict[str, str]:
    return {
        voter: " ".join(render(c.answer) for _, c in sorted(ballot.items()))
        for voter, ballot in folded.ballots.items()
    }


def held(folded: Folded) -> list[tuple[int, str, int | None]]:
    return [(h.post_id, h.author, h.prompt) for h in folded.flagged]


# --- A "choose any" prompt tallied (prompt 4 of VOTE, options A to D) -----------

MULTI = 4


def multi_tally(answers: list[str], rule=None, status: str = "closed"):
    """The quest-tally/1 document when each answer is one voter's letters for prompt 4 ("AC")."""
    readings = [post(i, f"v{i}", f"4{a}") for i, a in enumerate(answers, start=1)]
    rules = {MULTI: rule} if rule is not None else {}
    return tally_json(
        vote=VOTE,
        folded=fold(VOTE, readings),
        quest="q",
        chapter=1,
        status=status,
        pass_rules=rules,
    )


def multi_of(tally):
    return next(p for p in tally["prompts"] if p["number"] == MULTI)


def passed_letters(tally) -> str:
    return "".join(o["letter"] for o in multi_of(tally)["options"] if o["passed"])


# --- `lines` prompts ([X] ballots), as the fold leaves them -----------------------

LINES = PromptSpec(1, PromptKind.LINES, "What does the crew do?")


def xline(text: str, **fields) -> XLine:
    return XLine(text, **fields)


def counted(post_id: int, *lines: str | XLine, prompt: int = 1) -> Counted:
    """One voter's counted answer: plain strings are [X] lines."""
    xs = tuple(x if isinstance(x, XLine) else XLine(x) for x in lines)
    return Counted(Answer(prompt, lines=xs), post_id)


def ranked(post_id: int, *texts: str) -> Counted:
    """[#1] first text, [#2] the second, ..."""
    return counted(post_id, *(XLine(t, rank=i) for i, t in enumerate(texts, start=1)))


def lines_vote(*prompts: PromptSpec) -> VoteSpec:
    return VoteSpec(prompts=prompts or (LINES,), quest_master=QM, post_id=1)


def lines_tally(ballots: dict[str, Counted], prompt: PromptSpec = LINES, **kwargs):
    """The whole quest-tally/1 document of a vote with this one `lines` prompt."""
    folded = Folded(ballots={voter: {prompt.number: c} for voter, c in ballots.items()})
    return tally_json(
        vote=lines_vote(prompt), folded=folded, quest="q", chapter=1, status="open", **kwargs
    )
