"""The players' ballot form and "how will this be read": posting a ballot, previewing a reading.

The form never counts anything itself: it posts the ballot's canonical text in
the thread through `post_create`, and the reader and the recount treat that
post like any other. The previews run the same pure reader over the thread as
it stands, so what a player sees is what the workers will read.
"""

from dataclasses import dataclass, field
from dataclasses import replace as dc_replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chapters.models import Vote
from quest.models import Post
from quest.services import post_create
from votes import selectors
from votes.models import Ballot
from votes.reading import canonical_text, read_post
from votes.reading.bbcode import strip_tags
from votes.reading.types import Answer, PostIn, PostKind, Reading, VoteSpec

# The form shows the whole ballot, so a second ballot from it replaces the first
# whole: a prompt left empty in the form is withdrawn, not left standing.
CHANGING_PREFIX = "Revised vote:"
VOTE_CLOSED = "The vote has closed: your ballot was not posted."
NOTHING_CHOSEN = "Choose at least one answer."


# --- Posting a ballot ---------------------------------------------------------


def ballot_post(*, vote: Vote, user, answers: list[Answer]) -> Post:
    """Post the ballot's canonical text in the thread as `user`; the reader does the rest.

    1. The vote row is locked and must still be open (closing takes the same lock).
    2. Only answered prompts of this vote are written, one line each.
    3. When the voter has an earlier ballot, "Revised vote:" heads the post so
       that it replaces that ballot whole, but only if it reads the same.
    """
    with transaction.atomic():
        locked = Vote.objects.select_for_update().get(pk=vote.pk)
        if not accepts_ballots(locked):
            raise ValidationError(VOTE_CLOSED, code="closed")
        spec = selectors.vote_spec(vote)
        answers = [a for a in answers if spec.prompt(a.prompt) is not None]
        body = canonical_text(answers, spec) if answers else ""
        if not body:
            raise ValidationError(NOTHING_CHOSEN, code="empty")
        body = _headed_for_a_change(vote, spec, user, body)
        return post_create(quest=vote.chapter.quest, author=user, body=body)


def accepts_ballots(vote: Vote) -> bool:
    """Whether a ballot posted now would be read against this vote."""
    # The beat task closes a vote on time, a little late: the clock decides first.
    closes_at = vote.closes_at
    return vote.is_open and (closes_at is None or closes_at > timezone.now())


def _headed_for_a_change(vote: Vote, spec: VoteSpec, user, body: str) -> str:
    earlier = _thread_so_far(vote)
    plain = read_post(_as_new_post(earlier, user, body), spec, earlier)
    if plain.kind is PostKind.BALLOT:  # the voter's first ballot: nothing to change
        return body
    headed = f"{CHANGING_PREFIX}\n{body}"
    again = read_post(_as_new_post(earlier, user, headed), spec, earlier)
    same = _answers_of(again) == _answers_of(plain) and not again.flags and not plain.flags
    return headed if same and again.kind is PostKind.REPLACEMENT else body


def _answers_of(reading: Reading) -> list[tuple]:
    return [(a.prompt, a.letters, a.text) for a in reading.answers]


def current_answers(*, vote: Vote, user) -> dict:
    """The user's current counted ballot, as stored: {"1": {"letters": [...], "text": ...}}."""
    row = Ballot.objects.filter(vote=vote, voter=user.get_username(), is_current=True)
    return row.values_list("answers", flat=True).first() or {}


def answers_as_stored(answers: list[Answer]) -> dict:
    """Answers in a Ballot row's shape, to fill the form in again."""
    return {str(a.prompt): {"letters": list(a.letters), "text": a.text} for a in answers}


# --- Previews -----------------------------------------------------------------


@dataclass
class Shown:
    """A Reading as a player sees it: what counts, what is held back, the text marked up."""

    kind: str
    counted: list[dict] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)
    not_read: str | None = None  # why this is not read as a ballot
    segments: list[tuple[str, str | None]] = field(default_factory=list)  # (text, mark class)


def reading_preview(*, vote: Vote, user, body: str) -> Shown:
    """How `body` would be read if `user` posted it now, after the thread as it stands."""
    spec = selectors.vote_spec(vote)
    earlier = _thread_so_far(vote)
    post = _as_new_post(earlier, user, body)
    return describe(
        read_post(post, spec, earlier), spec, body, plain=_plain_reading(post, spec, earlier)
    )


def posted_reading(*, vote: Vote, post: Post) -> Shown:
    """How a post already in the thread reads against the vote, with the posts before it."""
    spec = selectors.vote_spec(vote)
    earlier = [selectors.post_in(p) for p in selectors.context_posts(vote, upto_seq=post.seq)]
    mine = selectors.post_in(post)
    return describe(read_post(mine, spec, earlier), spec, post.body)


def _thread_so_far(vote: Vote) -> list[PostIn]:
    return [selectors.post_in(p) for p in selectors.context_posts(vote)]


def _as_new_post(earlier: list[PostIn], user, body: str) -> PostIn:
    next_id = max((p.id for p in earlier), default=0) + 1
    return PostIn(id=next_id, author=user.get_username(), posted_at=timezone.now(), body=body)


def _plain_reading(post: PostIn, spec: VoteSpec, earlier: list[PostIn]) -> Reading:
    # The same text with every tag taken away, quotes and spoilers included:
    # if that holds answers and the real text does not, they were hidden.
    return read_post(dc_replace(post, body=strip_tags(post.body)), spec, earlier)


def describe(reading: Reading, spec: VoteSpec, body: str, *, plain: Reading | None = None) -> Shown:
    """The template's view of a Reading (pure)."""
    shown = Shown(kind=str(reading.kind))
    shown.counted = [_answer_row(a, spec) for a in reading.answers]
    shown.held = [
        {
            "prompt": f.prompt,
            "reason": f.reason,
            "suggestion": _answer_row(f.suggestion, spec) if f.suggestion else None,
        }
        for f in reading.flags
    ]
    if not reading.answers and not reading.flags:
        shown.not_read = _why_not_read(reading, plain)
    spans = [(s, "counted") for a in reading.answers for s in a.spans]
    spans += [(s, "held") for f in reading.flags for s in f.spans]
    spans += [(s, "held") for f in reading.flags if f.suggestion for s in f.suggestion.spans]
    shown.segments = marked_segments(body, spans)
    return shown


def _answer_row(answer: Answer, spec: VoteSpec) -> dict:
    prompt = spec.prompt(answer.prompt)
    options = []
    for letter in answer.letters:
        option = prompt.option(letter) if prompt else None
        options.append({"letter": letter, "text": option.text if option else ""})
    return {
        "prompt": answer.prompt,
        "prompt_text": prompt.text if prompt else "",
        "ranked": bool(prompt and prompt.kind == "ranked"),
        "options": options,
        "text": answer.text,
        "joins": answer.joins,
        "reason": answer.reason,
    }


def _why_not_read(reading: Reading, plain: Reading | None) -> str:
    if reading.excluded:
        return reading.excluded
    match reading.kind:
        case PostKind.QUEST_MASTER:
            return "the quest master's posts are never ballots"
        case PostKind.TALLY:
            return "it looks like a tally post, and a tally is never a ballot"
        case PostKind.PROXY:
            return f"it follows {reading.proxy_of}'s ballot (a proxy vote)"
        case PostKind.ENDORSEMENT:
            return f"it copies the ballot of post #{reading.endorses}"
    if plain is not None and (plain.answers or plain.flags):
        return (
            "text inside [QUOTE], [SPOILER], [S] or [CODE] does not count: "
            "write your answers outside them"
        )
    return 'no answers found: write one line per prompt, like "1-B"'


def marked_segments(body: str, spans: list[tuple[tuple[int, int], str]]) -> list[tuple]:
    """`body` cut into (text, mark) pieces; a held-back mark wins where spans overlap.

    The template escapes every piece, so nothing in the body is ever markup.
    """
    marks: list[str | None] = [None] * len(body)
    for (start, end), kind in sorted(spans, key=lambda s: s[1] == "held"):
        for i in range(max(start, 0), min(end, len(body))):
            marks[i] = kind
    segments: list[tuple] = []
    start = 0
    for i in range(1, len(body) + 1):
        if i == len(body) or marks[i] != marks[start]:
            segments.append((body[start:i], marks[start]))
            start = i
    return segments


# --- The thread's "Read as" line ------------------------------------------------


def read_as(data: dict) -> dict | None:
    """A stored Reading's JSON as one compact line for the thread, or None for plain chat.

    {"answers": "1-B · 2-A · 3 write-in", "held": [...reasons], "excluded": reason}
    """
    reading = Reading.from_json(data)
    if reading.excluded:
        return {"answers": "", "held": [], "excluded": reading.excluded}
    answers = " · ".join(
        f"{a.prompt} write-in" if a.text is not None else f"{a.prompt}-{''.join(a.letters)}"
        for a in reading.answers
    )
    held = [f.reason for f in reading.flags]
    if reading.kind is PostKind.PROXY and reading.proxy_of:
        answers = answers or f"following {reading.proxy_of}"
    if not answers and not held:
        return None
    return {"answers": answers, "held": held, "excluded": None}
