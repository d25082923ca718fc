"""One small function per kind of vote event; each writes an append-only row.

Call them inside the transaction that makes the change, so the record and
the change land together or not at all.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from chapters.models import Vote, VoteEvent


def _log(vote: Vote, kind: str, *, by: User | None, reason: str = "", **data: Any) -> VoteEvent:
    return VoteEvent.objects.create(vote=vote, kind=kind, by=by, reason=reason, data=data)


def vote_opened(vote: Vote, *, by: User | None) -> VoteEvent:
    return _log(vote, VoteEvent.Kind.OPENED, by=by, closes_at=_iso(vote.closes_at))


def vote_closed(vote: Vote, *, by: User | None, reason: str = "") -> VoteEvent:
    return _log(vote, VoteEvent.Kind.CLOSED, by=by, reason=reason)


def vote_extended(
    vote: Vote, *, by: User | None, reason: str, old_closes_at: datetime | None
) -> VoteEvent:
    return _log(
        vote,
        VoteEvent.Kind.EXTENDED,
        by=by,
        reason=reason,
        old_closes_at=_iso(old_closes_at),
        new_closes_at=_iso(vote.closes_at),
    )


def vote_reopened(vote: Vote, *, by: User | None, reason: str) -> VoteEvent:
    return _log(vote, VoteEvent.Kind.REOPENED, by=by, reason=reason, closes_at=_iso(vote.closes_at))


def prompts_changed(vote: Vote, *, by: User | None, ballots_existed: bool) -> VoteEvent:
    return _log(vote, VoteEvent.Kind.PROMPTS_CHANGED, by=by, ballots_existed=ballots_existed)


def outcome_picked(
    vote: Vote, *, by: User | None, prompt: int, picked: list[str], reason: str = ""
) -> VoteEvent:
    """A tie settled; `picked` names the options as shown ("B) South")."""
    return _log(
        vote, VoteEvent.Kind.OUTCOME_PICKED, by=by, reason=reason, prompt=prompt, picked=picked
    )


def outcome_changed(
    vote: Vote, *, by: User | None, prompt: int, picked: list[str], was: list[str], reason: str
) -> VoteEvent:
    """A settled tie decided otherwise: `was` names the options picked before."""
    return _log(
        vote,
        VoteEvent.Kind.OUTCOME_CHANGED,
        by=by,
        reason=reason,
        prompt=prompt,
        picked=picked,
        was=was,
    )


def write_in_adopted(
    vote: Vote, *, by: User | None, prompt: int, text: str, reason: str = ""
) -> VoteEvent:
    return _log(
        vote, VoteEvent.Kind.WRITE_IN_ADOPTED, by=by, reason=reason, prompt=prompt, text=text
    )


def write_in_withdrawn(
    vote: Vote, *, by: User | None, prompt: int, text: str, reason: str
) -> VoteEvent:
    return _log(
        vote, VoteEvent.Kind.WRITE_IN_WITHDRAWN, by=by, reason=reason, prompt=prompt, text=text
    )


def entries_merged(
    vote: Vote, *, by: User | None, prompt: int, merged: str, kept: str, reason: str
) -> VoteEvent:
    """Two write-in entries counted as one: `merged` now counts as `kept`."""
    return _log(
        vote,
        VoteEvent.Kind.ENTRIES_MERGED,
        by=by,
        reason=reason,
        prompt=prompt,
        merged=merged,
        kept=kept,
    )


def entries_split(
    vote: Vote, *, by: User | None, prompt: int, merged: str, kept: str, reason: str
) -> VoteEvent:
    """A merge of write-in entries undone: `merged` counts on its own again."""
    return _log(
        vote,
        VoteEvent.Kind.ENTRIES_SPLIT,
        by=by,
        reason=reason,
        prompt=prompt,
        merged=merged,
        kept=kept,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
