"""Readings, ballots, moderator decisions, tally runs and recount bookkeeping.

The database is the only source of truth: a tally is always recomputed from
the stored Readings and Decisions, never incremented, so a lost or doubled
task message cannot lose or double a vote.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from votes.reading.types import RULES_VERSION

if TYPE_CHECKING:
    from chapters.models import Vote
    from quest.models import Post
    from votes.reading.types import Reading as ReadingOut


class Reading(models.Model):
    """How one post was read against one vote (votes.reading.types.Reading as JSON)."""

    vote = models.ForeignKey("chapters.Vote", on_delete=models.CASCADE, related_name="readings")
    post = models.ForeignKey("quest.Post", on_delete=models.CASCADE, related_name="readings")
    post_version = models.PositiveIntegerField()
    spec_version = models.PositiveIntegerField()
    rules_version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)
    data = models.JSONField()
    read_at = models.DateTimeField(default=timezone.now)
    # The facts of `data` the audit lists and counts its tabs by (votes/audit_pages.py),
    # kept beside it so a tab of a 10,000-post window reads no JSON; written with
    # `data`, always through `Reading.columns`.
    excluded = models.TextField(blank=True, default="")  # why it is not counted, as read
    held = models.BooleanField(default=False)  # it holds something back for a moderator
    held_prompts = models.JSONField(default=list, blank=True)  # which (null: the whole post)
    mentions = models.BooleanField(default=False)  # it says something about the vote

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "post"], name="reading_unique_per_post")
        ]

    def __str__(self) -> str:
        return f"reading of {self.post_id} for {self.vote_id}: {self.kind}"

    # The fields `columns` fills, for upserts (`bulk_create(update_fields=...)`).
    READ_FIELDS = ("rules_version", "kind", "data", "excluded", "held", "held_prompts", "mentions")

    @staticmethod
    def columns(reading: "ReadingOut") -> dict[str, Any]:
        """The row's fields that come from `reading`: its JSON and the audit's facts of it."""
        return {
            "rules_version": reading.rules_version,
            "kind": str(reading.kind),
            "data": reading.to_json(),
            "excluded": reading.excluded or "",
            "held": bool(reading.flags),
            "held_prompts": [f.prompt for f in reading.flags],
            "mentions": bool(reading.mentions),
        }

    # Staleness, the one definition: a Reading is current only while the post,
    # what it is read against (the vote's prompts and window) and the reading
    # rules are all as they were when it was made. The recount, the sweeper,
    # the worker and the audit page all ask here.

    @staticmethod
    def current_versions(*, post_version: int, spec_version: int) -> tuple[int, int, int]:
        """The (post, spec, rules) versions a current Reading was made from, for
        checks over many posts that load versions only (`versions` to compare)."""
        return (post_version, spec_version, RULES_VERSION)

    @property
    def versions(self) -> tuple[int, int, int]:
        return (self.post_version, self.spec_version, self.rules_version)

    def is_stale(self, post: "Post", vote: "Vote") -> bool:
        """Whether this Reading was made from another version of `post`, of `vote`'s
        prompts and window, or of the reading rules: the post must be read again."""
        current = Reading.current_versions(
            post_version=post.version, spec_version=vote.spec_version
        )
        return self.versions != current


class Ballot(models.Model):
    """A voter's counted ballot, as of the latest recount.

    Earlier ballots stay as history (`is_current=False`); a partial unique
    index keeps exactly one current ballot per voter per vote.
    """

    vote = models.ForeignKey("chapters.Vote", on_delete=models.CASCADE, related_name="ballots")
    voter = models.CharField(max_length=150)
    # {"1": {"letters": [...], "text": ..., "post": ref}, ...}
    answers = models.JSONField()
    # SHA-256 of the answers' canonical JSON: a recount compares digests
    # instead of decoding every stored ballot.
    digest = models.CharField(max_length=64, default="")
    is_current = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "voter"],
                condition=Q(is_current=True),
                name="ballot_one_current_per_voter",
            )
        ]

    def __str__(self) -> str:
        return f"{self.voter}'s ballot on {self.vote_id}"


class DecisionQuerySet(models.QuerySet["Decision"]):
    def standing(self) -> "DecisionQuerySet":
        """The rulings the fold applies: neither undone nor an undo themselves."""
        return self.exclude(action=Decision.Action.UNDO).filter(undone_by__isnull=True)


class Decision(models.Model):
    """A moderator's ruling on a post of the window, or one prompt of it: an input to every recount.

    Any post may be ruled on, whatever it was read as (held back, counted,
    chatter). Append-only: a later decision on the same (post, prompt)
    supersedes an earlier one, and both stay on record. An UNDO row takes back
    the decision it `reverts`, with its own reason: from then on the fold
    leaves both out (`standing()`), as if the undone ruling had never been made.
    """

    class Action(models.TextChoices):
        ACCEPT = "accept", "Accept the suggested reading"
        SET = "set", "Count another answer"
        REJECT = "reject", "Count nothing"
        PROXY = "proxy", "Follow another voter"
        UNDO = "undo", "Undo a decision"

    vote = models.ForeignKey("chapters.Vote", on_delete=models.CASCADE, related_name="decisions")
    post = models.ForeignKey("quest.Post", on_delete=models.CASCADE, related_name="decisions")
    prompt = models.PositiveIntegerField(null=True, blank=True)  # null: the whole post
    action = models.CharField(max_length=10, choices=Action.choices)
    answer = models.JSONField(null=True, blank=True)
    # PROXY: the voter whose counted ballot the post's author follows, as posted.
    proxy_of = models.CharField(max_length=150, blank=True, default="")
    # UNDO: the decision taken back (at most once: the unique constraint below).
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["vote", "at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["reverts"], name="decision_undone_once"),
        ]

    def __str__(self) -> str:
        return f"{self.action} on post {self.post_id} prompt {self.prompt}"


class EntryMergeQuerySet(models.QuerySet["EntryMerge"]):
    def standing(self) -> "EntryMergeQuerySet":
        """The merges every recount applies: those not undone, oldest first."""
        return self.filter(undone_at__isnull=True).order_by("at", "pk")


class EntryMerge(models.Model):
    """A moderator's merge of two write-in entries of one prompt: an input to every recount.

    The entry written `merged` counts as the entry written `kept` (its wording
    names both; votes.merging). Not a Decision: it rules on entries, not on a
    post. Undoing (splitting) fills the `undone_*` fields once; the row stays
    on record, and the vote's record (VoteEvent) tells both steps with reasons.
    """

    vote = models.ForeignKey("chapters.Vote", on_delete=models.CASCADE, related_name="entry_merges")
    prompt = models.PositiveIntegerField()
    merged = models.TextField()  # the entry merged away, as it read in the tally
    kept = models.TextField()  # the entry it joins, as it read in the tally
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    undo_reason = models.TextField(blank=True)

    objects = EntryMergeQuerySet.as_manager()

    class Meta:
        ordering = ["vote", "at", "pk"]

    def __str__(self) -> str:
        return f"prompt {self.prompt} of {self.vote_id}: {self.merged!r} into {self.kept!r}"


class TallyRun(models.Model):
    """One computed tally, stored only when the result changed."""

    vote = models.ForeignKey("chapters.Vote", on_delete=models.CASCADE, related_name="tally_runs")
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()  # quest-tally/1
    sha256 = models.CharField(max_length=64)
    rules_version = models.PositiveIntegerField()
    # What it was computed from: [[post ref, version], ...], decision and entry merge ids.
    inputs = models.JSONField(default=dict)
    is_final = models.BooleanField(default=False)

    class Meta:
        ordering = ["vote", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["vote"], condition=Q(is_final=True), name="tally_one_final_per_vote"
            )
        ]

    def __str__(self) -> str:
        return f"tally of {self.vote_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class Outcome(models.Model):
    """The quest master's call on a closed vote: a pick among tied options, adopted write-ins."""

    vote = models.ForeignKey("chapters.Vote", on_delete=models.CASCADE, related_name="outcomes")
    prompt = models.PositiveIntegerField()
    letters = models.JSONField(default=list, blank=True)  # decided option(s)
    write_ins = models.JSONField(default=list, blank=True)  # adopted entry texts
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "prompt"], name="outcome_unique_per_prompt")
        ]

    def __str__(self) -> str:
        return f"outcome of prompt {self.prompt} on {self.vote_id}"


class RecountStateQuerySet(models.QuerySet["RecountState"]):
    def behind(self, *, queued_before: datetime) -> "RecountStateQuerySet":
        """States whose recount is behind (`RecountState.is_behind`, in SQL) and
        not queued since `queued_before`: their recount message may be lost."""
        return self.filter(
            Q(done_at__isnull=True) | Q(wanted_at__gt=F("done_at")),
            wanted_at__isnull=False,
        ).filter(Q(queued_at__isnull=True) | Q(queued_at__lt=queued_before))


class RecountState(models.Model):
    """Recount bookkeeping for one vote, written by votes.services only.

    A recount is wanted when `wanted_at` is later than `done_at` (or none was
    done yet); `queued_at`, set while a recount task waits to start, folds a
    burst of requests into one task. The first request for a recount makes the
    row, so a vote nobody asked to count has none, and a page (GET) never makes one.
    """

    vote = models.OneToOneField(
        "chapters.Vote", on_delete=models.CASCADE, primary_key=True, related_name="recount_state"
    )
    wanted_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = RecountStateQuerySet.as_manager()

    def __str__(self) -> str:
        return f"recount state of {self.vote_id}"

    @property
    def is_behind(self) -> bool:
        """Whether a recount was wanted after the last one started."""
        wanted, done = self.wanted_at, self.done_at
        return wanted is not None and (done is None or wanted > done)


class FollowedThread(models.Model):
    """A quest that follows its forum thread live: where the thread is, how often
    to look, and how far the last look got (votes/importers/follow.py).

    Progress is recorded page by page as it is made (`pages`, `last_page`), so a
    refresh that crashed or ran out of time resumes where it stopped.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Not fetched yet"
        OK = "ok", "Following"
        FAILED = "failed", "The last refresh failed"

    quest = models.OneToOneField(
        "quest.Quest", on_delete=models.CASCADE, related_name="followed_thread"
    )
    url = models.URLField(max_length=500)  # the thread's address, its first page
    refresh_minutes = models.PositiveIntegerField(default=10)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)
    # How far the thread has been read: its page count from the page navigation,
    # the last page fetched, and the last post seen there (its "#N" on the forum).
    page_count = models.PositiveIntegerField(default=0)
    last_page = models.PositiveIntegerField(default=0)
    last_post_id = models.BigIntegerField(null=True, blank=True)
    last_post_position = models.PositiveIntegerField(null=True, blank=True)
    last_post_url = models.URLField(max_length=500, blank=True)
    # Scheduling: beat sends a refresh once `next_refresh_at` has passed; a
    # refresh holds the thread until `claimed_until`, so two never run at once.
    next_refresh_at = models.DateTimeField(null=True, blank=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.CharField(max_length=500, blank=True)  # why it failed, for the quest master

    def __str__(self) -> str:
        return f"{self.quest} following {self.url}"


class FollowedPage(models.Model):
    """One page of a followed thread as last fetched: its validators for a
    conditional request, and the digest of its content then and at the last import."""

    thread = models.ForeignKey(FollowedThread, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    imported_sha256 = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["thread", "number"]
        constraints = [
            models.UniqueConstraint(fields=["thread", "number"], name="followed_page_unique")
        ]

    def __str__(self) -> str:
        return f"page {self.number} of {self.thread}"


class ImportJob(models.Model):
    """One import from the import page, and how far it got.

    Written outside the import's transaction, so the page polling it sees each
    step as it is made, and a failed import leaves its message here while
    nothing of the thread is stored. What to import (the uploaded files or
    pasted text, as `[{"name": ..., "text": ...}]`) waits in `sources` and is
    emptied once the import has ended.
    """

    class Kind(models.TextChoices):
        FILES = "files", "Files"
        TEXT = "text", "Pasted text"
        URL = "url", "Forum thread address"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    format = models.CharField(max_length=10, blank=True)  # blank: guessed from the files
    url = models.URLField(max_length=500, blank=True)
    sources = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=100, blank=True)  # what it is doing, for the page
    pages_total = models.PositiveIntegerField(default=0)
    pages_fetched = models.PositiveIntegerField(default=0)
    posts_stored = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)  # why it failed
    quest = models.ForeignKey(
        "quest.Quest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"import {self.pk} by {self.by_id}: {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
