"""Chapters, their votes, and the prompts and options ballots are read against."""

from datetime import datetime
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from chapters import kinds, labels


class Chapter(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    quest = models.ForeignKey("quest.Quest", on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    post = models.OneToOneField(
        "quest.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="chapter"
    )
    # The closed vote whose results this chapter carries on from.
    follows_vote = models.ForeignKey(
        "chapters.Vote", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quest", "number"], name="chapter_unique_number")
        ]
        ordering = ["quest", "number"]

    def __str__(self) -> str:
        return f"{self.quest}: chapter {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("chapter-detail", args=[self.quest.slug, self.number])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def heading(self) -> str:
        """As pages name it: "Chapter 3: The Crossing", or the title alone if it says the number."""
        return labels.heading(self.number, self.title)


class VoteQuerySet(models.QuerySet["Vote"]):
    def open(self) -> Self:
        return self.filter(status=Vote.Status.OPEN)

    def due_to_close(self, now: datetime | None = None) -> Self:
        now = now or timezone.now()
        return self.filter(status=Vote.Status.OPEN, closes_at__isnull=False, closes_at__lte=now)

    def due_to_open(self, now: datetime | None = None) -> Self:
        now = now or timezone.now()
        return self.filter(status=Vote.Status.SCHEDULED, opens_at__isnull=False, opens_at__lte=now)


class Vote(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Visibility(models.TextChoices):
        ALWAYS = "always", "Always"
        AFTER_VOTING = "after_voting", "After voting"
        AFTER_CLOSE = "after_close", "After the vote closes"

    class RankedMethod(models.TextChoices):
        SCHULZE = "schulze", "Schulze"
        INSTANT_RUNOFF = "instant_runoff", "Instant runoff"

    chapter = models.OneToOneField(Chapter, on_delete=models.CASCADE, related_name="vote")
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)  # null: until closed by hand
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    results_visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.ALWAYS
    )
    ranked_method = models.CharField(
        max_length=16, choices=RankedMethod.choices, default=RankedMethod.SCHULZE
    )
    # The quest master's post in the thread that carries the prompts.
    post = models.OneToOneField(
        "quest.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="vote"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # Bumped whenever what a post is read against changes (prompts, options,
    # the window); a Reading made against an older spec is stale and the
    # post is read again.
    spec_version = models.PositiveIntegerField(default=1)

    objects = VoteQuerySet.as_manager()

    def __str__(self) -> str:
        return f"vote on {self.chapter}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class Prompt(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="prompts")
    number = models.PositiveIntegerField()
    text = models.TextField()
    kind = models.CharField(
        max_length=12, choices=kinds.CHOICES, default=kinds.PromptKind.SINGLE.value
    )
    # "Choose any" prompts only: which options pass (quest-tally/1 `pass_rule`).
    pass_rule = models.CharField(
        max_length=8, choices=kinds.PASS_RULE_CHOICES, default=kinds.PassRule.TOP.value
    )
    # The threshold of a `votes` rule (a whole number of votes) or a `share` rule
    # (a fraction of the prompt's voters, 0-1); null for `top`.
    pass_at_least = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    # `lines` prompts only (quest-thread/1): what one vote is, what "[X] Username"
    # does, and how ranked lines are decided. Other kinds keep the defaults.
    partition = models.CharField(
        max_length=10, choices=kinds.PARTITION_CHOICES, default=kinds.Partition.BLOCK.value
    )
    proxies = models.CharField(
        max_length=8, choices=kinds.PROXIES_CHOICES, default=kinds.Proxies.ON.value
    )
    method = models.CharField(
        max_length=16, choices=kinds.METHOD_CHOICES, default=kinds.Method.SCHULZE.value
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "number"], name="prompt_unique_number"),
            models.CheckConstraint(
                condition=Q(pass_rule=kinds.PassRule.TOP.value, pass_at_least__isnull=True)
                | Q(pass_rule=kinds.PassRule.VOTES.value, pass_at_least__gte=1)
                | Q(
                    pass_rule=kinds.PassRule.SHARE.value,
                    pass_at_least__gt=0,
                    pass_at_least__lte=1,
                ),
                name="prompt_pass_threshold",
            ),
        ]
        ordering = ["vote", "number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.text[:60]}"

    @property
    def passes_with(self) -> str:
        """What an option needs to pass a "choose any" prompt decided by a threshold
        ("at least 3 votes"); "" when the most votes win."""
        if self.kind != kinds.PromptKind.MULTI or self.pass_rule == kinds.PassRule.TOP:
            return ""
        at_least = float(self.pass_at_least) if self.pass_at_least is not None else None
        return kinds.pass_rule_words(self.pass_rule, at_least)


class Option(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="options")
    letter = models.CharField(max_length=2)
    text = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prompt", "letter"], name="option_unique_letter"),
            models.CheckConstraint(
                condition=Q(letter__regex=r"^[A-Z]{1,2}$"), name="option_letter_upper"
            ),
        ]
        ordering = ["prompt", "letter"]

    def __str__(self) -> str:
        return f"{self.letter}) {self.text[:60]}"


class VoteEvent(models.Model):
    """Append-only record of what the quest master (or the clock) did to a vote."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        CLOSED = "closed", "Closed"
        EXTENDED = "extended", "Extended"
        REOPENED = "reopened", "Reopened"
        PROMPTS_CHANGED = "prompts_changed", "Prompts changed"
        OUTCOME_PICKED = "outcome_picked", "Tie settled"
        OUTCOME_CHANGED = "outcome_changed", "Tie decision changed"
        WRITE_IN_ADOPTED = "write_in_adopted", "Write-in adopted"
        WRITE_IN_WITHDRAWN = "write_in_withdrawn", "Write-in adoption withdrawn"
        ENTRIES_MERGED = "entries_merged", "Write-ins merged"
        ENTRIES_SPLIT = "entries_split", "Write-in merge undone"

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # None when the clock did it (the beat task closing a vote on time).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    # Not a column: the closing time the event set, which selectors.vote_events reads out of data.
    closes_to: datetime | None
    # Not a column: what a quest master's call decided, in words (selectors.vote_events).
    summary: str

    class Meta:
        ordering = ["vote", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.vote} at {self.at:%Y-%m-%d %H:%M}"
