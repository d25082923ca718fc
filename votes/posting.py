"""Posting a ballot from the players' ballot form.

The form never counts anything itself: it posts the ballot's canonical text in
the thread through `post_create`, and the reader and the recount treat that
post like any other. How a text will be read is in votes/previews.py.
"""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chapters.models import Vote
from quest.models import Post
from quest.services import post_create, submission_record, submission_repeat
from votes import selectors
from votes.models import Ballot
from votes.previews import as_new_post
from votes.reading import canonical_text, read_post
from votes.reading.canonical import written
from votes.reading.types import Answer, PostIn, PostKind, Reading, VoteSpec

# The form shows the whole ballot, so a second ballot from it replaces the first
# whole: a prompt left empty in the form is withdrawn, not left standing.
CHANGING_PREFIX = "Revised vote:"
VOTE_CLOSED = "The vote has closed: your ballot was not posted."
NOTHING_CHOSEN = "Choose at least one answer."


def ballot_post(*, vote: Vote, user: User, answers: list[Answer], token: str = "") -> Post:
    """Post the ballot's canonical text in the thread as `user`; the reader does the rest.

    1. The vote row is locked (closing takes the same lock, and so does the
       same form sent twice at once: the second waits for the first).
    2. Only answered prompts of this vote are written, one line each.
    3. The form's `token` already posted these answers (a double click, Back
       then Post): that post is the result, and nothing is posted again.
    4. The vote must still be open.
    5. When the voter has an earlier ballot, "Revised vote:" heads the post so
       that it replaces that ballot whole, but only if it reads the same.
    """
    with transaction.atomic():
        locked = Vote.objects.select_for_update().get(pk=vote.pk)
        spec = selectors.vote_spec(vote)
        answers = [a for a in answers if spec.prompt(a.prompt) is not None]
        body = canonical_text(answers, spec) if answers else ""
        # The answers as chosen, not the post: a repeat would be headed "Revised vote:".
        form = f"ballot:{vote.pk}"
        done = submission_repeat(user=user, token=token, form=form, text=body)
        if done is not None:
            return done
        if not accepts_ballots(locked):
            raise ValidationError(VOTE_CLOSED, code="closed")
        if not body:
            raise ValidationError(NOTHING_CHOSEN, code="empty")
        _check_reads_back(body, answers, spec)
        post = post_create(
            quest=vote.chapter.quest, author=user, body=_headed_for_a_change(vote, user, body)
        )
        submission_record(user=user, token=token, form=form, text=body, post=post)
        return post


def _check_reads_back(body: str, answers: list[Answer], spec: VoteSpec) -> None:
    """The ballot's text must read back as exactly what was chosen, or it is not posted.

    canonical_text keeps a write-in on one line with its brackets escaped, which
    leaves most text inert; a write-in that still reads as something else (`2-A`
    in the write-in for prompt 3 holds prompt 2 for a moderator) is refused with
    what to change, and the form keeps everything the player wrote.
    """
    alone = PostIn(id=1, author="", posted_at=timezone.now(), body=body)
    reading = read_post(alone, spec)
    got = sorted((a.prompt, a.letters, a.text) for a in reading.answers)
    wanted = sorted(
        (a.prompt, tuple(a.letters), None if a.text is None else written(a.text)) for a in answers
    )
    if got == wanted and not reading.flags:
        return
    writeins = ", ".join(str(a.prompt) for a in answers if a.text is not None)
    why = "; ".join(dict.fromkeys(f.reason for f in reading.flags)) or "it changes another answer"
    where = f"Your write-in for prompt {writeins}" if writeins else "Your ballot"
    raise ValidationError(
        f"{where} would not be read as you wrote it ({why}). Reword it, for example "
        "without a prompt number next to a letter; nothing was posted.",
        code="unreadable",
    )


def accepts_ballots(vote: Vote) -> bool:
    """Whether a ballot posted now would be read against this vote."""
    # The beat task closes a vote on time, a little late: the clock decides first.
    closes_at = vote.closes_at
    return vote.is_open and (closes_at is None or closes_at > timezone.now())


def _headed_for_a_change(vote: Vote, user: User, body: str) -> str:
    earlier = selectors.reading_context(vote)
    plain = selectors.reading_of(vote=vote, post=as_new_post(earlier, user, body), earlier=earlier)
    if plain.kind is PostKind.BALLOT:  # the voter's first ballot: nothing to change
        return body
    headed = f"{CHANGING_PREFIX}\n{body}"
    again = selectors.reading_of(
        vote=vote, post=as_new_post(earlier, user, headed), earlier=earlier
    )
    same = _answers_of(again) == _answers_of(plain) and not again.flags and not plain.flags
    return headed if same and again.kind is PostKind.REPLACEMENT else body


def _answers_of(reading: Reading) -> list[tuple[int, tuple[str, ...], str | None]]:
    return [(a.prompt, a.letters, a.text) for a in reading.answers]


def current_answers(*, vote: Vote, user: User) -> dict[str, Any]:
    """The user's current counted ballot, as stored: {"1": {"letters": [...], "text": ...}}."""
    row = Ballot.objects.filter(vote=vote, voter=user.get_username(), is_current=True)
    return row.values_list("answers", flat=True).first() or {}


def answers_as_stored(answers: list[Answer]) -> dict[str, dict[str, Any]]:
    """Answers in a Ballot row's shape, to fill the form in again."""
    return {str(a.prompt): {"letters": list(a.letters), "text": a.text} for a in answers}
