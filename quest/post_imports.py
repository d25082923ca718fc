"""Writes for imported threads in bulk: a batch of posts, a batch of authors.

What `services.post_create` and `services.imported_author_get_or_create` do
for one, done for a batch (votes/importers/thread_json.py stores a thread
1,000 posts at a time), so an import's statements do not grow with its posts:
one UPDATE of the quest's counters, the posts, their first revisions. On
PostgreSQL the rows go in by COPY, the floor bench/import.py measures
against; elsewhere by one INSERT each.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from quest.models import Post, PostRevision, Quest


@dataclass(frozen=True, slots=True)
class ImportedPost:
    """A post of an imported thread, checked, as `posts_import` stores it."""

    ref: int
    author_id: int
    body: str
    posted_at: datetime
    edited_at: datetime | None = None
    source_url: str = ""
    forum_user_id: int | None = None
    deleted: bool = False
    forum_identity_id: int | None = None


_COLUMNS = [f.name for f in fields(ImportedPost)]
_values = attrgetter(*_COLUMNS)  # a post's fields in _COLUMNS' order, as a tuple


@transaction.atomic
def posts_import(*, quest: Quest, posts: Sequence[ImportedPost]) -> None:
    """Append imported posts to the thread, in order: `post_create` for a batch at once.

    1. The quest's counters move on by the batch in one UPDATE (as
       services._post_numbers does for one post), which holds the quest row
       until the import commits; the batch takes the `seq`s up to the new
       `last_seq`.
    2. The posts, then their first revisions.
    Nothing is asked to be read: an import asks for its votes to be read at the end.
    """
    if not posts:
        return
    Quest.objects.filter(pk=quest.pk).update(
        last_seq=F("last_seq") + len(posts),
        last_ref=Greatest(F("last_ref"), Value(max(p.ref for p in posts))),
        last_activity_at=Greatest(F("last_activity_at"), Value(max(p.posted_at for p in posts))),
    )
    last_seq = Quest.objects.filter(pk=quest.pk).values_list("last_seq", flat=True).get()
    first = last_seq - len(posts) + 1
    if connection.vendor == "postgresql":
        _copy(quest, posts, first)
        return
    rows = Post.objects.bulk_create(
        Post(quest=quest, seq=seq, imported=True, **dict(zip(_COLUMNS, _values(p), strict=True)))
        for seq, p in enumerate(posts, first)
    )
    PostRevision.objects.bulk_create(
        PostRevision(
            post=row,
            version=1,
            body=row.body,
            created_at=row.posted_at,
            editor_id=row.author_id,
            deleted=row.deleted,
        )
        for row in rows
    )


def _copy(quest: Quest, posts: Sequence[ImportedPost], first: int) -> None:
    """The batch by COPY; the revisions find their posts' ids by `seq` (COPY returns none)."""
    post_columns = ", ".join(["quest_id", "seq", "version", "imported", *_COLUMNS])
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {Post._meta.db_table} ({post_columns}) FROM STDIN") as copy:
            for seq, post in enumerate(posts, first):
                copy.write_row((quest.pk, seq, 1, True, *_values(post)))
        ids = Post.objects.filter(quest=quest, seq__gte=first, seq__lt=first + len(posts))
        # Loaded before the next COPY: the connection runs nothing else while one is open.
        pks = list(ids.order_by("seq").values_list("pk", flat=True))
        revision_columns = "post_id, version, body, deleted, created_at, editor_id"
        table = PostRevision._meta.db_table
        with cursor.copy(f"COPY {table} ({revision_columns}) FROM STDIN") as copy:
            for pk, post in zip(pks, posts, strict=True):
                copy.write_row((pk, 1, post.body, post.deleted, post.posted_at, post.author_id))


def imported_authors_get_or_create(*, names: Iterable[str]) -> dict[str, User]:
    """`services.imported_author_get_or_create` for many names: one SELECT, one INSERT."""
    wanted = set(names)
    found = {user.username: user for user in User.objects.filter(username__in=wanted)}
    new = [User(username=name) for name in sorted(wanted - found.keys())]
    for user in new:
        user.set_unusable_password()
    User.objects.bulk_create(new)
    return found | {user.username: user for user in new}
