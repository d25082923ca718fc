"""Moderators merge write-in entries that are one idea, and split them again.

A merge is a recorded decision with a reason, like a ruling on a post
(votes/audit.py), but on two entries of a write-in prompt rather than on a
post: an `EntryMerge` row that every recount replays (votes.merging), and a
line in the vote's record (VoteEvent) naming who merged what into what and
why. Undoing it ("split") is recorded the same way, with its own reason.

On a closed vote a merge is made as a moderator's decision is: the recount
it asks for stores a new final tally, so the results and the BBCode follow.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from chapters import events
from chapters.models import Vote
from quest.permissions import can_moderate
from votes import selectors
from votes.line_tally import entry_label, label_key
from votes.merging import merge_applies
from votes.models import EntryMerge
from votes.poll import tally_changed
from votes.reading.types import PromptKind
from votes.services import vote_recount_request
from votes.tally import entry_key, merge_suggestions

REASON_MAX = 2_000
REASON_REQUIRED = "Give a reason: it is kept with the merge."
NOT_MODERATOR = "Only the quest master and this quest's moderators merge write-ins."
# Whose entries are merged: write-ins by their text, `lines` entries by their
# label ("[Ship] Repair the reactor"), each compared by its tally's own key.
_KEYS: dict[str, Callable[[str], str]] = {
    PromptKind.WRITE_IN: entry_key,
    PromptKind.LINES: label_key,
}


def entry_merge(
    *, vote: Vote, prompt: int, merged: str, kept: str, reason: str, by: User
) -> EntryMerge:
    """Count the write-in entry `merged` as the entry `kept` (whose wording names both).

    Both must be entries of the prompt in the latest tally, as they read there.
    Nothing is written unless every check passes; then the merge, its line in
    the vote's record and a recount request land together.
    """
    if not can_moderate(by, vote.chapter.quest):
        raise PermissionDenied(NOT_MODERATOR)
    reason = (reason or "").strip()
    problems = _reason_problems(reason) + _entry_problems(vote, prompt, merged, kept)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        # Two moderators merging at once are taken one after the other, so the
        # second is told the entry is merged already.
        Vote.objects.select_for_update(no_key=True).filter(pk=vote.pk).first()
        problem = _standing_problem(vote, prompt, merged, kept)
        if problem:
            raise ValidationError(problem)
        row = EntryMerge.objects.create(
            vote=vote, prompt=prompt, merged=merged, kept=kept, reason=reason, by=by
        )
        events.entries_merged(vote, by=by, prompt=prompt, merged=merged, kept=kept, reason=reason)
        tally_changed(vote=vote)  # staff see the merge listed at once
        vote_recount_request(vote=vote)
    return row


def entry_merge_undo(*, merge: EntryMerge, reason: str, by: User) -> EntryMerge:
    """Split a merge again, saying why: the entry counts on its own from the next recount."""
    vote = merge.vote
    if not can_moderate(by, vote.chapter.quest):
        raise PermissionDenied(NOT_MODERATOR)
    reason = (reason or "").strip()
    problems = _reason_problems(reason)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        # Locked, so two moderators splitting at once make one undo, and the second is told.
        row = EntryMerge.objects.select_for_update().get(pk=merge.pk)
        if row.undone_at is not None:
            raise ValidationError("That merge was already undone.")
        row.undone_at, row.undone_by, row.undo_reason = timezone.now(), by, reason
        row.save(update_fields=["undone_at", "undone_by", "undo_reason"])
        events.entries_split(
            vote, by=by, prompt=row.prompt, merged=row.merged, kept=row.kept, reason=reason
        )
        tally_changed(vote=vote)
        vote_recount_request(vote=vote)
    return row


def _reason_problems(reason: str) -> list[str]:
    if not reason:
        return [REASON_REQUIRED]
    if len(reason) > REASON_MAX:
        return [f"Keep the reason under {REASON_MAX:,} characters."]
    return []


def _entry_problems(vote: Vote, prompt: int, merged: str, kept: str) -> list[str]:
    """What stops merging these two entries of `prompt`, as the latest tally shows them."""
    kind = vote.prompts.filter(number=prompt).values_list("kind", flat=True).first()
    if kind is None:
        return [f"The vote has no prompt {prompt}."]
    if kind not in _KEYS:
        return [
            f"Prompt {prompt} is not a write-in prompt or an [X] lines prompt: "
            "only their entries are merged."
        ]
    if not merged or not kept:
        return ["Choose the two entries to merge."]
    if _KEYS[kind](merged) == _KEYS[kind](kept):
        return ["An entry cannot be merged into itself: choose two different entries."]
    run = selectors.latest_tally(vote)
    tallied = next((p for p in run.data["prompts"] if p["number"] == prompt), None) if run else None
    entries = set(_names(tallied or {}))
    unknown = [text for text in (merged, kept) if text not in entries]
    return [f"“{_short(text)}” is not an entry of prompt {prompt} now." for text in unknown]


def _standing_problem(vote: Vote, prompt: int, merged: str, kept: str) -> str:
    """A standing merge this one would contradict (the tally may not show it yet)."""
    kind = vote.prompts.filter(number=prompt).values_list("kind", flat=True).first()
    key = _KEYS.get(kind or "", entry_key)
    for row in EntryMerge.objects.filter(vote=vote, prompt=prompt).standing():
        if key(row.merged) == key(merged):
            return f"“{_short(merged)}” is already merged into “{_short(row.kept)}”."
        if key(row.merged) == key(kept):
            return (
                f"“{_short(kept)}” is itself merged into “{_short(row.kept)}”: "
                "merge into that entry instead."
            )
    adopted = vote.outcomes.filter(prompt=prompt).values_list("write_ins", flat=True).first()
    if adopted and merged in adopted:
        return f"“{_short(merged)}” is adopted: keep its wording, or withdraw the adoption first."
    return ""


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


def _names(prompt: Mapping[str, Any]) -> list[str]:
    """The prompt's entries as a merge names them: a `lines` entry by its label, with its task."""
    entries = prompt.get("entries") or []
    if prompt.get("kind") == PromptKind.LINES:
        return [entry_label(e["text"], e.get("task")) for e in entries]
    return [e["text"] for e in entries]


# --- What the tally page shows of them -------------------------------------------


def merges_shown(
    vote: Vote, tally: Mapping[str, Any], *, recounting: bool
) -> dict[int, dict[str, Any]]:
    """Per write-in or `lines` prompt of a stored tally: its standing merges and merge suggestions.

    A standing merge says whether the tally shown counts it (`applies`), or
    waits for the recount under way (`pending`); one that neither applies nor
    waits names entries no one writes any more. Suggestions are for entries
    still apart, so one a moderator acted on is gone once the merge is counted.
    """
    rows = list(EntryMerge.objects.filter(vote=vote).standing().select_related("by"))
    shown: dict[int, dict[str, Any]] = {}
    for p in tally["prompts"]:
        if p["kind"] not in _KEYS:
            continue
        key, names = _KEYS[p["kind"]], _names(p)
        # Named as merges name them: a `lines` entry's label stands for its text.
        entries = [
            {**e, "text": name} for e, name in zip(p.get("entries") or [], names, strict=True)
        ]
        groups = [{key(t) for t in [e["text"], *e.get("merged_from", [])]} for e in entries]
        standing = []
        for row in rows:
            if row.prompt != p["number"]:
                continue
            applies = merge_applies(key(row.merged), key(row.kept), groups)
            standing.append({"row": row, "applies": applies, "pending": recounting and not applies})
        shown[p["number"]] = {
            "standing": standing,
            "suggestions": merge_suggestions(entries),
            "entries": names,
        }
    return shown
