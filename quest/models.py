"""Quests, their staff, and the thread of posts.

A quest's thread is an ordered list of posts. Each post has two numbers:
`seq`, its position in the thread (the order ballots are folded in), and
`ref`, the number people quote and link to (`[QUOTE="name, post: ref"]`,
`#post-ref`). Imported posts keep the forum's post id as `ref`, so quotes in
imported bodies still point at the right post.

A quest or post that came from a forum keeps where it came from (`source_url`,
the quest's `forum` host, a post's `forum_user_id`), as the `quest-thread/1`
format carries them. A post that disappeared from the forum is marked
`deleted`, never removed: the thread keeps it, the tally does not count it.

A private quest (`is_public=False`) is for its members only: the quest master,
its moderators and the players it invited (`Membership`); players join by
name or through the quest's invitation link, which holds `invite_token`.
"""

import secrets
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


def new_invite_token() -> str:
    return secrets.token_urlsafe(24)


def new_submission_token(now: datetime | None = None) -> str:
    """A posting form's one-time token (Submission): when it was issued, and a random part.

    The time (milliseconds, hex) lets the posting service tell a form shown
    after a post from one shown before it (services.submission_repeat).
    """
    at = now or timezone.now()
    return f"{int(at.timestamp() * 1000):x}.{secrets.token_urlsafe(12)}"


def submission_token_issued_at(token: str) -> datetime | None:
    """When `token` was issued (new_submission_token), or None for a token of another shape."""
    stamp, dot, _ = token.partition(".")
    if not dot:
        return None
    try:
        return datetime.fromtimestamp(int(stamp, 16) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


class QuestQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)

    def by_activity(self):
        return self.order_by("-last_activity_at", "-pk")


class Quest(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    quest_master = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quests_run"
    )
    is_public = models.BooleanField(default=True)
    # The secret part of the invitation link; a new one voids the old link.
    invite_token = models.CharField(max_length=64, default=new_invite_token)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(db_index=True)
    # Where an imported thread came from: its address and the forum's host.
    source_url = models.URLField(max_length=500, blank=True)
    forum = models.CharField(max_length=253, blank=True)
    # The thread's highest post `seq` and `ref` so far: posting moves them on in
    # one UPDATE (services.post_create), so a new post's numbers never need the
    # thread read or the quest row locked for longer than the insert.
    last_seq = models.PositiveIntegerField(default=0)
    last_ref = models.BigIntegerField(default=0)
    # Moved on (F() + 1, in the same transaction) whenever a post already in the
    # thread changes: an edit, a deletion mark, a new author by a forum-name
    # claim. A reader that kept the thread in memory (votes/contexts.py) knows
    # by this one number whether what it kept is still the thread.
    post_changes = models.PositiveBigIntegerField(default=0)

    objects = QuestQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("quest-thread", args=[self.slug])


class Membership(models.Model):
    """A role a user holds in one quest besides being its quest master.

    In a private quest only members (and the quest master) may read and post.
    """

    class Role(models.TextChoices):
        MODERATOR = "moderator", "Moderator"
        # Invited into a private quest, by name or through the invitation link.
        PLAYER = "player", "Player"
        # Runs an imported quest in the app; `Quest.quest_master` stays the forum
        # thread's starter, whose posts are never read as ballots.
        QUEST_MASTER = "quest_master", "Quest master"

    quest = models.ForeignKey(Quest, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MODERATOR)
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quest", "user"], name="membership_unique_per_quest")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.quest})"


class QuestEvent(models.Model):
    """Append-only record of what the quest master did to a quest's membership and forum link."""

    class Kind(models.TextChoices):
        MEMBER_INVITED = "member_invited", "Member invited"
        MEMBER_JOINED = "member_joined", "Member joined by link"
        MEMBER_REMOVED = "member_removed", "Member removed"
        INVITE_LINK_RESET = "invite_link_reset", "Invitation link replaced"
        MADE_PRIVATE = "made_private", "Made private"
        MADE_PUBLIC = "made_public", "Made public"
        FORUM_LINKED = "forum_linked", "Forum thread linked"
        FORUM_UNLINKED = "forum_unlinked", "Forum thread unlinked"

    quest = models.ForeignKey(Quest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    # Usernames are kept as text: the record outlives a deleted account.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["quest", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.quest} at {self.at:%Y-%m-%d %H:%M}"


class PostQuerySet(models.QuerySet):
    def in_thread_order(self):
        return self.order_by("seq")

    def between(self, *, after_seq: int, before_seq: int | None):
        """Posts strictly after `after_seq` and, when given, strictly before `before_seq`."""
        qs = self.filter(seq__gt=after_seq)
        return qs.filter(seq__lt=before_seq) if before_seq is not None else qs


class Post(models.Model):
    quest = models.ForeignKey(Quest, on_delete=models.CASCADE, related_name="posts")
    seq = models.PositiveIntegerField()
    ref = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts"
    )
    body = models.TextField()
    posted_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every edit (and when `deleted` changes); a Reading remembers the
    # version it read, so a stale reading is found by comparing two integers.
    version = models.PositiveIntegerField(default=1)
    # Imported posts only know their last edit time, not their revisions.
    imported = models.BooleanField(default=False)
    # From a forum: the post's address there and its author's numeric id there.
    source_url = models.URLField(max_length=500, blank=True)
    forum_user_id = models.PositiveBigIntegerField(null=True, blank=True)
    # The post disappeared from the forum: kept and shown, never read as a ballot.
    deleted = models.BooleanField(default=False)
    # Who wrote it on the forum. `author` is that identity's own account, or the
    # player's once they claimed the name (ForumIdentity.linked_user).
    forum_identity = models.ForeignKey(
        "ForumIdentity", on_delete=models.PROTECT, null=True, blank=True, related_name="posts"
    )

    objects = PostQuerySet.as_manager()

    # Not columns: the thread page sets these on the posts it shows, for its template.
    html: str  # the body rendered from BBCode
    read_as: Any  # the "Read as" line votes gives (quest.registry.read_as_lines), or None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quest", "seq"], name="post_unique_seq"),
            models.UniqueConstraint(fields=["quest", "ref"], name="post_unique_ref"),
        ]
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"post {self.ref} by {self.author} in {self.quest}"

    def get_absolute_url(self) -> str:
        return reverse("post-permalink", args=[self.quest.slug, self.ref])

    @property
    def anchor(self) -> str:
        return f"post-{self.ref}"


class PostRevision(models.Model):
    """Every text a post has had, the current one included, and whether it was deleted then."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    body = models.TextField()
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    html: str  # not a column: the revisions page sets it, the body rendered from BBCode

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "version"], name="revision_unique_version")
        ]
        ordering = ["post", "version"]

    def __str__(self) -> str:
        return f"revision {self.version} of {self.post_id}"


class Submission(models.Model):
    """A posting form's one-time token, and the post it last made.

    Every render of a posting form (the thread's reply box, the edit box, the
    ballot form) carries a new token in a hidden field. The service that posts
    looks the token up in the transaction that inserts, after the lock that
    orders posting: the same token sent again with the same text (a double
    click, a retry on a slow network, Back then Post) lands on the post it
    made instead of posting twice. Sent with changed text (Back, edit, Post)
    it posts anew, so nothing a player wrote is lost. The token says when it
    was issued (new_submission_token), for a form the browser shows again with
    a later token (services.submission_repeat says when).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64)
    # SHA-256 of the form's name and the text the token last posted (see services.submission_*).
    digest = models.CharField(max_length=64)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="submission_unique_token")
        ]

    def __str__(self) -> str:
        return f"submission {self.token} by {self.user_id}"


class ForumIdentity(models.Model):
    """A name on one forum: who wrote a post imported from there.

    Names are per forum: "Anya" of forum.example and "Anya" of other.example
    are two identities, and neither is an account anyone signs in to. Each has
    its own `user`, the account its posts are authored by (no usable password,
    inactive; quest.identities says how its username is chosen), so the reader
    keeps them two voters. An identity is the forum's numeric user id where the
    forum tells it, else its name. A player who claims the name (ForumNameClaim)
    becomes `linked_user`: the identity's posts are theirs from then on.
    """

    forum = models.CharField(max_length=253)  # the forum's host, as Quest.forum
    forum_user_id = models.PositiveBigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=150)  # as the forum last showed it
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forum_identity"
    )
    linked_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="forum_identities",
    )
    linked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["forum", "forum_user_id"],
                condition=models.Q(forum_user_id__isnull=False),
                name="forum_identity_unique_id",
            ),
            models.UniqueConstraint(
                fields=["forum", "name"],
                condition=models.Q(forum_user_id__isnull=True),
                name="forum_identity_unique_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.forum}"

    @property
    def author_id(self) -> int:
        """The account the identity's posts are authored by now."""
        return self.linked_user_id or self.user_id


def new_claim_code() -> str:
    """A one-time code to post on the forum: QTC- and 12 letters or digits, easy to copy."""
    # No 0/O, 1/I/L, U: a code copied by hand or read aloud is still the code.
    alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
    chars = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"QTC-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


class ForumNameClaim(models.Model):
    """A player's claim of a forum name on a quest that follows its forum thread.

    The player is shown `code`; the first fetch of the thread that finds it in a
    post written by that name (before `expires_at`) links the name to their
    account (quest.identities.forum_name_claims_match). A code is used once.
    `note` says what the fetches saw, for the claim page.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the code on the forum"
        LINKED = "linked", "Linked"

    quest = models.ForeignKey(Quest, on_delete=models.CASCADE, related_name="forum_name_claims")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_name_claims"
    )
    forum = models.CharField(max_length=253)
    name = models.CharField(max_length=150)
    code = models.CharField(max_length=32, unique=True, default=new_claim_code)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    note = models.CharField(max_length=500, blank=True)
    # The post that held the code, and the identity it linked.
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    identity = models.ForeignKey(
        ForumIdentity, on_delete=models.SET_NULL, null=True, blank=True, related_name="claims"
    )
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"claim of {self.name} on {self.forum} by {self.user_id}"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.status == self.Status.PENDING and (now or timezone.now()) >= self.expires_at
