"""Posting a ballot from the players' ballot form.

The form never counts anything itself: it posts the ballot's canonical text in
the thread through `post_create`, and the reader and the recount treat that
post like any other. How a text will be read is in votes/previews.py.
"""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from chapters.models import Vote
from quest.models import Post
from quest.services import post_create, poster_lock, submission_record, submission_repeat
from votes import selectors
from votes.models import Ballot
from votes.names import voter_name
from votes.reading import canonical_text, read_post
from votes.reading.canonical import written
from votes.reading.text import bare
from votes.reading.types import Answer, PostIn, PostKind, PromptKind, Reading, VoteSpec

# The form shows the whole ballot, so a second ballot from it replaces the first
# whole: a prompt left empty in the form is withdrawn, not left standing.
CHANGING_PREFIX = "Revised vote:"
VOTE_CLOSED = "The vote has closed: your ballot was not posted."
NOTHING_CHOSEN = "Choose at least one answer."


def ballot_post(*, vote: Vote, user: User, answers: list[Answer], token: str = "") -> Post:
    """Post the ballot's canonical text in the thread as `user`; the reader does the rest.

    Nothing here reads the thread: the work is the same for a vote of ten posts
    and of ten thousand.
    1. The voter is locked (poster_lock: the same form sent twice at once waits
       for the first), and the vote row is held against closing (_hold_open).
    2. Only answered prompts of this vote are written: one line each, and a
       `lines` prompt's entries as "[X]" lines (canonical_text).
    3. The form's `token` already posted these answers (a double click, Back
       then Post): that post is the result, and nothing is posted again.
    4. The vote must still be open.
    5. When the voter may have an earlier ballot, "Revised vote:" heads the
       post so that it replaces that ballot whole (_headed_for_a_change).
    """
    with transaction.atomic():
        poster_lock(user=user)
        held = _hold_open(vote)
        spec = selectors.vote_spec(_as_held(vote, held))
        answers = [a for a in answers if spec.prompt(a.prompt) is not None]
        body = canonical_text(answers, spec) if answers else ""
        # The answers as chosen, not the post: a repeat would be headed "Revised vote:".
        form = f"ballot:{vote.pk}"
        done = submission_repeat(user=user, token=token, form=form, text=body)
        if done is not None:
            return done
        if not accepts_ballots(held):
            raise ValidationError(VOTE_CLOSED, code="closed")
        if not body:
            raise ValidationError(NOTHING_CHOSEN, code="empty")
        plain = _check_reads_back(body, answers, spec)
        post = post_create(
            quest=vote.chapter.quest,
            author=user,
            body=_headed_for_a_change(vote, user, body, spec, plain),
        )
        submission_record(user=user, token=token, form=form, text=body, post=post)
        return post


def _hold_open(vote: Vote) -> Vote:
    """The vote row, held until the ballot commits: closing (FOR UPDATE) waits for it.

    FOR KEY SHARE on PostgreSQL, so that ballots do not wait for each other nor
    for a recount (FOR NO KEY UPDATE), only for what changes the window:
    closing, extending, reopening. SQLite has no row locks; it runs one writer
    at a time anyway.
    """
    if connection.vendor != "postgresql":
        return Vote.objects.select_for_update().get(pk=vote.pk)
    table = connection.ops.quote_name(Vote._meta.db_table)
    return Vote.objects.raw(f"SELECT * FROM {table} WHERE id = %s FOR KEY SHARE", [vote.pk])[0]


def _as_held(vote: Vote, held: Vote) -> Vote:
    """`vote`, whose prompts the request loaded, unless they changed before the hold.

    Its spec version moved (prompts replaced, or the window moved): the prompts
    are read again, as they are now, not taken from what the request loaded.
    """
    if held.spec_version == vote.spec_version:
        return vote
    again = Vote.objects.select_related("chapter__quest__quest_master", "post")
    return again.get(pk=vote.pk)


def _check_reads_back(body: str, answers: list[Answer], spec: VoteSpec) -> Reading:
    """The ballot's text must read back as exactly what was chosen, or it is not posted.

    canonical_text keeps a write-in on one line with its brackets escaped, which
    leaves most text inert; a write-in that still reads as something else (`2-A`
    in the write-in for prompt 3 holds prompt 2 for a moderator) is refused with
    what to change, and the form keeps everything the player wrote. A `lines`
    prompt's "[X]" lines must come back as the lines of its entries (`1-B` as a
    line of one's own would answer prompt 1: refused). Returns the text's
    reading, alone.
    """
    alone = PostIn(id=1, author="", posted_at=timezone.now(), body=body)
    reading = read_post(alone, spec)
    # A `lines` prompt's line naming a plan or a player is held back when read alone
    # (no earlier post defines it): the thread settles it, so that is no reason to refuse.
    context = _held_lines_prompts(reading, spec)
    flags = [f for f in reading.flags if f.prompt not in context]
    got = sorted(_answer_key(a) for a in reading.answers if a.prompt not in context)
    wanted = sorted(_answer_key(a, form=True) for a in answers if a.prompt not in context)
    if got == wanted and not flags:
        return reading
    writeins = ", ".join(str(a.prompt) for a in answers if a.text is not None or a.lines)
    why = "; ".join(dict.fromkeys(f.reason for f in flags)) or "it changes another answer"
    where = f"Your write-in for prompt {writeins}" if writeins else "Your ballot"
    raise ValidationError(
        f"{where} would not be read as you wrote it ({why}). Reword it, for example "
        "without a prompt number next to a letter; nothing was posted.",
        code="unreadable",
    )


# What an answer is compared by: prompt, letters, write-in text, a `lines` answer's lines.
_AnswerKey = tuple[int, tuple[str, ...], str | None, tuple[str, ...]]


def _held_lines_prompts(reading: Reading, spec: VoteSpec) -> set[int]:
    """The `lines` prompts the reading holds back (a line of them, or all)."""
    lines = {p.number for p in spec.prompts if p.kind is PromptKind.LINES}
    return {f.prompt for f in reading.flags if f.prompt in lines}


def _answer_key(answer: Answer, *, form: bool = False) -> _AnswerKey:
    """An answer compared with its reading: letters, a write-in as the reader reads it
    back, and a `lines` answer's lines, each as bare words, whatever entries the
    prompt's partition cut them into."""
    text = answer.text
    if form and text is not None:
        text = written(text)
    lines = sorted(bare(line.lstrip("-")) for x in answer.lines for line in x.text.split("\n"))
    return (answer.prompt, tuple(answer.letters), text, tuple(lines))


def accepts_ballots(vote: Vote) -> bool:
    """Whether a ballot posted now would be read against this vote."""
    # The beat task closes a vote on time, a little late: the clock decides first.
    closes_at = vote.closes_at
    return vote.is_open and (closes_at is None or closes_at > timezone.now())


def _headed_for_a_change(vote: Vote, user: User, body: str, spec: VoteSpec, plain: Reading) -> str:
    """`body`, headed "Revised vote:" when the voter may have a ballot already.

    Decided without reading the window: the voter has a post in it read as a
    ballot, or one not read yet (selectors.may_have_ballot). Heading a first
    ballot is harmless: the headed text reads as the same answers (checked
    below, pure), and with no earlier ballot the reader takes it as the first.
    """
    if not selectors.may_have_ballot(vote=vote, user=user):
        return body
    headed = f"{CHANGING_PREFIX}\n{body}"
    # Read after a stand-in for the earlier ballot: it must replace it, with the same answers.
    now, name = timezone.now(), user.get_username()
    earlier = PostIn(id=1, author=name, posted_at=now, body=body)
    again = read_post(PostIn(id=2, author=name, posted_at=now, body=headed), spec, [earlier])
    context = _held_lines_prompts(plain, spec)  # held back alone, for the thread to settle
    flags = [f for f in again.flags if f.prompt not in context]
    same = _answers_of(again) == _answers_of(plain) and not flags
    return headed if same and again.kind is PostKind.REPLACEMENT else body


def _answers_of(reading: Reading) -> list[_AnswerKey]:
    return [_answer_key(a) for a in reading.answers]


def current_answers(*, vote: Vote, user: User) -> dict[str, Any]:
    """The user's current counted ballot, as stored: {"1": {"letters": [...], "text": ...}}."""
    row = Ballot.objects.filter(
        vote=vote, voter=voter_name(vote.chapter.quest, user), is_current=True
    )
    return row.values_list("answers", flat=True).first() or {}


def answers_as_stored(answers: list[Answer]) -> dict[str, dict[str, Any]]:
    """Answers in a Ballot row's shape, to fill the form in again."""
    return {
        str(a.prompt): {"letters": list(a.letters), "text": a.text}
        | ({"lines": [line.to_json() for line in a.lines]} if a.lines else {})
        for a in answers
    }
