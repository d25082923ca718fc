"""Writes for quests, staff and the thread. Views and importers call these."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from quest.models import Membership, Post, PostRevision, Quest

User = get_user_model()


def quest_create(*, title: str, by, description: str = "", slug: str = "") -> Quest:
    now = timezone.now()
    base = slugify(slug or title)[:70] or "quest"
    candidate, n = base, 1
    while Quest.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return Quest.objects.create(
        slug=candidate,
        title=title,
        description=description,
        quest_master=by,
        last_activity_at=now,
    )


def moderator_appoint(*, quest: Quest, user, by) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        quest=quest, user=user, defaults={"role": Membership.Role.MODERATOR, "appointed_by": by}
    )
    return membership


def moderator_remove(*, quest: Quest, user) -> None:
    Membership.objects.filter(quest=quest, user=user).delete()


@transaction.atomic
def post_create(
    *,
    quest: Quest,
    author,
    body: str,
    posted_at: datetime | None = None,
    ref: int | None = None,
    edited_at: datetime | None = None,
    imported: bool = False,
    request_reading: bool = True,
) -> Post:
    """Append a post to the thread and ask for it to be read.

    The quest row is locked so that two posts at once get distinct, ordered
    `seq` and `ref` numbers. Bulk imports pass `request_reading=False` and ask
    for one recount per vote at the end instead of one read per post.
    """
    Quest.objects.select_for_update().filter(pk=quest.pk).first()
    top = Post.objects.filter(quest=quest).aggregate(seq=Max("seq"), ref=Max("ref"))
    posted_at = posted_at or timezone.now()
    post = Post.objects.create(
        quest=quest,
        seq=(top["seq"] or 0) + 1,
        ref=ref if ref is not None else (top["ref"] or 0) + 1,
        author=author,
        body=body,
        posted_at=posted_at,
        edited_at=edited_at,
        imported=imported,
    )
    PostRevision.objects.create(
        post=post, version=1, body=body, created_at=posted_at, editor=author
    )
    Quest.objects.filter(pk=quest.pk, last_activity_at__lt=posted_at).update(
        last_activity_at=posted_at
    )
    if request_reading:
        _request_reading(post)
    return post


@transaction.atomic
def post_edit(*, post: Post, body: str, by, at: datetime | None = None) -> Post:
    """Keep the old text as a revision and ask for the post to be read again."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if body == post.body:
        return post
    now = at or timezone.now()
    post.version += 1
    post.body = body
    post.edited_at = now
    post.save(update_fields=["version", "body", "edited_at"])
    PostRevision.objects.create(
        post=post, version=post.version, body=body, created_at=now, editor=by
    )
    _request_reading(post)
    return post


def imported_author(name: str):
    """The account an imported forum name posts as (no password: it cannot log in)."""
    user = User.objects.filter(username=name).first()
    if user is None:
        user = User(username=name)
        user.set_unusable_password()
        user.save()
    return user


def _request_reading(post: Post) -> None:
    # The votes app owns reading; the need is recorded by the post's version
    # (a Reading of an older version is stale), and this asks for it now.
    from votes.services import reading_request

    reading_request(post=post)
