"""How a text will be read: the reply and edit boxes' previews, the thread's "Read as" lines.

The previews read a text the way the worker will read the post: through
`selectors.reading_of`, as that post (author, place in the thread, edit time
and revisions) with the posts before it, so a preview shows what will be
stored. Posting a ballot from the form is in votes/posting.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace

from django.utils import timezone

from chapters.models import Vote
from quest.models import Post
from votes import selectors
from votes.line_words import answer_lines, entries_count
from votes.models import Reading as ReadingRow
from votes.names import voter_name
from votes.reading import read_post
from votes.reading.bbcode import strip_tags
from votes.reading.types import Answer, PostIn, PostKind, PromptKind, Reading, Revision, VoteSpec

# --- Previews -----------------------------------------------------------------


@dataclass
class Shown:
    """A Reading as a player sees it: what counts, what is held back and why, the text marked up.

    At most one of `excluded` and `not_read` is set, and only when nothing
    counts and nothing is held back: the post as a whole is then left out of
    the tally (`excluded`, a reason the reader gives), or is not a ballot at all
    (`not_read`: chatter, the quest master's post, a tally, a proxy…).
    """

    kind: str
    counted: list[dict] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)
    excluded: str | None = None  # why this post will not be counted at all
    not_read: str | None = None  # why this is not read as a ballot
    mentions: list[str] = field(default_factory=list)  # what chatter says about the vote
    segments: list[tuple[str, str | None]] = field(default_factory=list)  # (text, mark class)
    pending: bool = False  # read alone, not yet by the worker in the thread: being counted


def reading_preview(*, vote: Vote, user, body: str) -> Shown:
    """How `body` will be read if `user` posts it now, after the thread as it stands."""
    earlier = selectors.reading_context(vote)
    post = as_new_post(earlier, voter_name(vote.chapter.quest, user), body)
    return _shown(vote, post, earlier)


def edit_preview(*, vote: Vote, post: Post, body: str) -> Shown:
    """How `post` will be read once its text is `body`: same author, same place in the thread."""
    earlier = selectors.reading_context(vote, before_seq=post.seq)
    return _shown(vote, _as_edited(post, body), earlier)


def posted_reading(*, vote: Vote, post: Post) -> Shown:
    """How a post just made reads, for the poster, without loading the window.

    The worker's stored Reading when it is there and current (the embedded
    default reads the post as it commits). Else the post read alone, marked
    `pending`: the ballot form's canonical text reads the same alone as in the
    thread (posting checks it), and the tally's poll brings the counted ballot
    (the chapter page's "Your ballot" panel).
    """
    spec = selectors.vote_spec(vote)
    row = ReadingRow.objects.filter(vote=vote, post=post).first()
    if row is not None and not row.is_stale(post, vote):
        return describe(Reading.from_json(row.data), spec, post.body)
    alone = _described(spec, selectors.post_in(post), lambda p: read_post(p, spec))
    return dc_replace(alone, pending=True)


def _shown(vote: Vote, post: PostIn, earlier: list[PostIn]) -> Shown:
    def read(p: PostIn) -> Reading:
        return selectors.reading_of(vote=vote, post=p, earlier=earlier)

    return _described(selectors.vote_spec(vote), post, read)


def _described(spec: VoteSpec, post: PostIn, read: Callable[[PostIn], Reading]) -> Shown:
    reading = read(post)
    plain = None
    if not reading.answers and not reading.flags:
        # The same text with every tag taken away, quotes and spoilers included:
        # if that holds answers and the real text does not, they were hidden.
        plain = read(dc_replace(post, body=strip_tags(post.body)))
    return describe(reading, spec, post.body, plain=plain)


def as_new_post(earlier: list[PostIn], author: str, body: str) -> PostIn:
    """`body` as if the voter named `author` posted it now, after `earlier` (the next post id)."""
    next_id = max((p.id for p in earlier), default=0) + 1
    return PostIn(id=next_id, author=author, posted_at=timezone.now(), body=body)


def _as_edited(post: Post, body: str) -> PostIn:
    """The post as `selectors.post_in` gives it once `quest.services.post_edit` saves `body`."""
    current = selectors.post_in(post)
    if body == post.body:  # saving the same text changes nothing
        return current
    now = timezone.now()
    revisions = current.revisions
    if not post.imported:  # the text being replaced, up to now
        revisions = (*revisions, Revision(body=post.body, at=now))
    return dc_replace(current, body=body, edited_at=now, revisions=revisions)


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
        shown.excluded = _why_excluded(reading)
        shown.not_read = None if shown.excluded else _why_not_read(reading, plain)
        shown.mentions = list(reading.mentions)
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
        "ranked": bool(prompt and prompt.kind is PromptKind.RANKED),
        "options": options,
        "text": answer.text,
        "joins": answer.joins,
        "reason": answer.reason,
        "lines": answer_lines(answer),  # a `lines` prompt's entries; [] otherwise
    }


def _why_excluded(reading: Reading) -> str | None:
    # The quest master's posts and tallies are never ballots: said below, in full.
    if reading.kind in (PostKind.QUEST_MASTER, PostKind.TALLY):
        return None
    return reading.excluded


def _why_not_read(reading: Reading, plain: Reading | None) -> str:
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
    return (
        "no answers found, so it reads as chatter, not a vote: "
        'to vote, write one line per prompt, like "1-B"'
    )


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


def read_as_lines(posts: list[Post]) -> dict[int, dict]:
    """Post pk -> its "Read as" line, for a page of the thread: one query.

    Posts with no stored Reading, or read as plain chat, are left out.
    """
    lines = {pk: read_as(data) for pk, data in selectors.post_readings(posts).items()}
    return {pk: line for pk, line in lines.items() if line is not None}


def read_as(data: dict) -> dict | None:
    """A stored Reading's JSON as one compact line for the thread, or None for plain chat.

    {"answers": "1-B · 2-A · 3 write-in · 4: 2 [X] entries", "held": [...], "excluded": reason}
    """
    reading = Reading.from_json(data)
    if reading.excluded:
        return {"answers": "", "held": [], "excluded": reading.excluded}
    answers = " · ".join(_compact(a) for a in reading.answers)
    held = [f.reason for f in reading.flags]
    if reading.kind is PostKind.PROXY and reading.proxy_of:
        answers = answers or f"following {reading.proxy_of}"
    if not answers and not held:
        return None
    return {"answers": answers, "held": held, "excluded": None}


def _compact(answer: Answer) -> str:
    if answer.lines:
        return f"{answer.prompt}: {entries_count(answer)}"
    if answer.text is not None:
        return f"{answer.prompt} write-in"
    return f"{answer.prompt}-{''.join(answer.letters)}"
