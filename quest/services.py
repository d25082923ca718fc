"""Writes for quests, staff, members and the thread. Views and importers call these."""

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from quest import events, registry, visibility
from quest.models import (
    Membership,
    Post,
    PostRevision,
    Quest,
    Submission,
    new_invite_token,
    submission_token_issued_at,
)


def quest_create(*, title: str, by: User, description: str = "", slug: str = "") -> Quest:
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


def moderator_appoint(*, quest: Quest, user: User, by: User) -> Membership:
    """Make `user` a moderator; an invited player is promoted."""
    membership, created = Membership.objects.get_or_create(
        quest=quest, user=user, defaults={"role": Membership.Role.MODERATOR, "appointed_by": by}
    )
    if not created and membership.role == Membership.Role.QUEST_MASTER:
        return membership  # running the quest already: never demoted by an appointment
    if not created and membership.role != Membership.Role.MODERATOR:
        membership.role = Membership.Role.MODERATOR
        membership.appointed_by = by
        membership.save(update_fields=["role", "appointed_by"])
    return membership


def quest_master_grant(*, quest: Quest, user: User) -> Membership | None:
    """Let `user` run the quest in the app beside its quest master (who imported its thread).

    `Quest.quest_master` stays who it is (an imported quest's forum thread
    starter, whose posts are never ballots); None when `user` is that already.
    """
    if user.pk == quest.quest_master_id:
        return None
    membership, _ = Membership.objects.update_or_create(
        quest=quest, user=user, defaults={"role": Membership.Role.QUEST_MASTER}
    )
    return membership


def moderator_remove(*, quest: Quest, user: User) -> None:
    """Take the moderator's role away; in a private quest, with it their access."""
    Membership.objects.filter(quest=quest, user=user, role=Membership.Role.MODERATOR).delete()


# --- Members of a private quest --------------------------------------------------------


@transaction.atomic
def members_invite(*, quest: Quest, names: Iterable[str], by: User) -> list[User]:
    """Invite players by username: all the names, or (one of them unknown) nobody.

    1. Each name is looked up: an exact username first, else the one account
       whose username matches ignoring case.
    2. Any name left unmatched raises a ValidationError naming every such name;
       nothing has been written yet.
    3. The quest master and people already members are passed over; everyone
       else gets a player membership and a `member_invited` event.
    Returns the users added, in the order their names were given.
    """
    users, unknown = _users_named(names)
    if unknown:
        listed = ", ".join(f"“{name}”" for name in unknown)
        raise ValidationError(
            f"There is no user called {listed}. Nobody was invited: "
            "correct the names and try again.",
            code="unknown_user",
        )
    added: list[User] = []
    for user in users:
        if user.pk == quest.quest_master_id:
            continue
        _, created = Membership.objects.get_or_create(
            quest=quest, user=user, defaults={"role": Membership.Role.PLAYER, "appointed_by": by}
        )
        if created:
            events.member_invited(quest, by=by, user=user)
            added.append(user)
    return added


def _users_named(names: Iterable[str]) -> tuple[list[User], list[str]]:
    """(the users the names stand for, the names that stand for nobody)."""
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    exact = {u.username: u for u in User.objects.filter(username__in=wanted)}
    rest = [n for n in wanted if n not in exact]
    folded: dict[str, list[User]] = {}
    for user in User.objects.annotate(folded=Lower("username")).filter(
        folded__in=[n.lower() for n in rest]
    ):
        folded.setdefault(user.folded, []).append(user)
    users: list[User] = []
    unknown: list[str] = []
    for name in wanted:
        matches = [exact[name]] if name in exact else folded.get(name.lower(), [])
        if len(matches) == 1:
            users.append(matches[0])
        else:
            # No account, or several differing only in case: the name does not say whom.
            unknown.append(name)
    return list(dict.fromkeys(users)), unknown


@transaction.atomic
def member_join(*, quest: Quest, user: User) -> Membership | None:
    """Add `user` as a player who came through the invitation link.

    The caller has checked the link (quest.permissions.can_join). The quest
    master and existing members are left as they are; returns the new
    membership, or None when nothing changed.
    """
    if user.pk == quest.quest_master_id:
        return None
    membership, created = Membership.objects.get_or_create(
        quest=quest, user=user, defaults={"role": Membership.Role.PLAYER}
    )
    if not created:
        return None
    events.member_joined(quest, user=user)
    return membership


@transaction.atomic
def member_remove(*, quest: Quest, user: User, by: User) -> bool:
    """Take an invited player out of the quest; returns whether they were one.

    Moderators are removed on the moderators page (moderator_remove).
    """
    deleted, _ = Membership.objects.filter(
        quest=quest, user=user, role=Membership.Role.PLAYER
    ).delete()
    if deleted:
        events.member_removed(quest, by=by, user=user)
    return bool(deleted)


@transaction.atomic
def invite_link_reset(*, quest: Quest, by: User) -> str:
    """Replace the invitation link's token: the old link stops working at once."""
    quest.invite_token = new_invite_token()
    quest.save(update_fields=["invite_token"])
    events.invite_link_reset(quest, by=by)
    return quest.invite_token


@transaction.atomic
def quest_visibility_set(*, quest: Quest, is_public: bool, by: User) -> bool:
    """Make the quest public or private (members only); returns whether it changed."""
    if quest.is_public == is_public:
        return False
    quest.is_public = is_public
    quest.save(update_fields=["is_public"])
    events.visibility_changed(quest, by=by)
    visibility.visibility_changed(quest.slug)  # public content kept in caches stops being served
    return True


# No savepoint inside a caller's transaction (a ballot, a reply, a chapter): none of
# them goes on after a failed post, and SAVEPOINT and RELEASE are two statements each.
@transaction.atomic(savepoint=False)
def post_create(
    *,
    quest: Quest,
    author: User,
    body: str,
    posted_at: datetime | None = None,
    ref: int | None = None,
    edited_at: datetime | None = None,
    imported: bool = False,
    request_reading: bool = True,
    source_url: str = "",
    forum_user_id: int | None = None,
    deleted: bool = False,
) -> Post:
    """Append a post to the thread and ask for it to be read.

    The post's `seq` and `ref` come from the quest's counters (_post_numbers),
    taken last, just before the insert. Bulk imports pass `request_reading=False` and ask
    for one recount per vote at the end instead of one read per post. A post
    imported from a forum passes what the forum says of it (`source_url`,
    `forum_user_id`, `deleted`).
    """
    posted_at = posted_at or timezone.now()
    seq, ref = _post_numbers(quest, ref=ref, posted_at=posted_at)
    post = Post.objects.create(
        quest=quest,
        seq=seq,
        ref=ref,
        author=author,
        body=body,
        posted_at=posted_at,
        edited_at=edited_at,
        imported=imported,
        source_url=source_url,
        forum_user_id=forum_user_id,
        deleted=deleted,
    )
    PostRevision.objects.create(
        post=post, version=1, body=body, created_at=posted_at, editor=author, deleted=deleted
    )
    if request_reading:
        _request_reading(post)
    return post


def _post_numbers(quest: Quest, *, ref: int | None, posted_at: datetime) -> tuple[int, int]:
    """The next post's (seq, ref): the quest's counters moved on by one UPDATE.

    No aggregate over the thread: the cost does not grow with it. The UPDATE
    keeps the quest row locked until the posting transaction commits, so
    posts become visible in `seq` order (a reader never sees post N+1 without
    post N), and nothing else waits on it: callers check everything first and
    take their numbers last, just before the insert. An imported post keeps
    the forum's `ref`; the counter only moves past it.

    In SQL, to read the counters back from the UPDATE itself (RETURNING, on
    PostgreSQL and SQLite): the ORM's update cannot, and every post asked again.
    """
    table = connection.ops.quote_name(Quest._meta.db_table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"  # SQLite's, of 2+
    next_ref = "last_ref + 1" if ref is None else f"{greatest}(last_ref, %(ref)s)"
    sql = f"""
        UPDATE {table} SET last_seq = last_seq + 1, last_ref = {next_ref},
          last_activity_at = {greatest}(last_activity_at, %(at)s)
        WHERE id = %(quest)s
        RETURNING last_seq, last_ref
    """
    at = connection.ops.adapt_datetimefield_value(posted_at)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ref": ref, "at": at, "quest": quest.pk})
        seq, last_ref = cursor.fetchone()
    return seq, last_ref if ref is None else ref


@transaction.atomic
def post_reply(*, quest: Quest, author: User, body: str, token: str = "") -> Post:
    """A reply from the thread's reply box, posted once per form render and text.

    1. The poster is locked first (poster_lock), so the same form sent twice
       at once waits here for the first to commit; other players do not.
    2. The form's token with the same text already posted: that post, again.
    3. Otherwise a new post, and the token remembers it.
    """
    poster_lock(user=author)
    form = f"reply:{quest.pk}"
    done = submission_repeat(user=author, token=token, form=form, text=body)
    if done is not None:
        return done
    post = post_create(quest=quest, author=author, body=body)
    submission_record(user=author, token=token, form=form, text=body, post=post)
    return post


@transaction.atomic
def post_edit(
    *, post: Post, body: str, by: User, at: datetime | None = None, token: str = ""
) -> Post:
    """Keep the old text as a revision and ask for the post to be read again.

    An edit form sent again with the same token and text (a double click, Back
    then Save) changes nothing, even if the post was edited since.
    """
    post = Post.objects.select_for_update().get(pk=post.pk)
    form = f"edit:{post.pk}"
    if submission_repeat(user=by, token=token, form=form, text=body) is not None:
        return post
    submission_record(user=by, token=token, form=form, text=body, post=post)
    if body == post.body:
        return post
    now = at or timezone.now()
    post.version += 1
    post.body = body
    post.edited_at = now
    post.save(update_fields=["version", "body", "edited_at"])
    PostRevision.objects.create(
        post=post, version=post.version, body=body, created_at=now, editor=by, deleted=post.deleted
    )
    post_changes_record(quest_ids=[post.quest_id])
    _request_reading(post)
    return post


@transaction.atomic
def post_forum_sync(
    *, post: Post, source_url: str, forum_user_id: int | None, deleted: bool
) -> Post:
    """Bring an imported post's forum record up to date: its address, author id, deletion.

    A post that disappeared from the forum (or came back) is a new version with
    the same text, so that its reading goes stale and the tally stops (or
    starts again) counting it; the revision records when it happened.
    """
    post = Post.objects.select_for_update().get(pk=post.pk)
    changed: list[str] = []
    if source_url and post.source_url != source_url:
        post.source_url = source_url
        changed.append("source_url")
    if forum_user_id is not None and post.forum_user_id != forum_user_id:
        post.forum_user_id = forum_user_id
        changed.append("forum_user_id")
    if post.deleted != deleted:
        post.deleted = deleted
        post.version += 1
        changed += ["deleted", "version"]
        PostRevision.objects.create(
            post=post,
            version=post.version,
            body=post.body,
            created_at=timezone.now(),
            editor=None,
            deleted=deleted,
        )
    if changed:
        post.save(update_fields=changed)
    if "deleted" in changed:
        post_changes_record(quest_ids=[post.quest_id])
        _request_reading(post)
    return post


def post_changes_record(*, quest_ids: Iterable[int]) -> None:
    """Say that posts already in these quests' threads changed (Quest.post_changes).

    Call it in the transaction that changes them, so that nobody sees the
    change without the count that says so.
    """
    Quest.objects.filter(pk__in=list(quest_ids)).update(post_changes=F("post_changes") + 1)


# --- Posting forms: one post per form render and text -----------------------------------


def poster_lock(*, user: User) -> None:
    """Hold `user`'s posting forms one at a time until the transaction ends.

    What orders a form sent twice at once (a double click, a retry): the second
    waits here and then finds the first one's Submission. One player's lock,
    not the quest's, so the thread's other players never queue behind it.
    FOR NO KEY UPDATE: rows inserted meanwhile that point at the user (their
    posts, elsewhere) do not wait for it.
    """
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").first()


def submission_repeat(*, user: User, token: str, form: str, text: str) -> Post | None:
    """The post this form render already made with this text, or None: post it.

    Call it in the posting transaction after the lock that orders posting (the
    poster's for a reply or a ballot, the post for an edit: poster_lock), so that a
    second request waiting on that lock finds the first one's row. `form` names
    the form and what it posts to ("reply:<quest pk>"): a token carried over to
    another form is not a repeat. No token (an old page, a script) is never one.

    A token not seen before may be one too, when the form was shown again:
    browsers show a page again on Back with what was typed kept, but not always
    with the token it had; a page at the address the post led to (the thread)
    comes back as rendered after the post, with a later token. So a token not
    seen before counts as a repeat when it was issued after a post this form
    made with the same text, and that post is still the player's latest in
    the quest (had they posted since, sending it again means something).

    Both asked in one query, in SQL (every ballot and reply asks: the ORM's two
    queries cost more CPU than this one): the token's row if there is one, else
    the latest with the same text from before the token was issued.
    """
    if not token:
        return None
    issued = submission_token_issued_at(token)
    submissions, posts = Submission._meta.db_table, Post._meta.db_table
    sql = f"""
        SELECT s.token = %(token)s, s.digest = %(digest)s, s.post_id, EXISTS (
          SELECT 1 FROM {posts} later
          WHERE later.quest_id = p.quest_id AND later.author_id = %(user)s
            AND later.seq > p.seq
        )
        FROM {submissions} s JOIN {posts} p ON p.id = s.post_id
        WHERE s.user_id = %(user)s
          AND (s.token = %(token)s OR (s.digest = %(digest)s AND s.at < %(issued)s))
        ORDER BY s.token = %(token)s DESC, s.at DESC
        LIMIT 1
    """
    params: dict[str, Any] = {
        "user": user.pk,
        "token": token,
        "digest": _submission_digest(form, text),
        "issued": connection.ops.adapt_datetimefield_value(issued),  # None: no earlier row
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    same_token, same_text, post_id, posted_since = row
    repeat = same_text if same_token else not posted_since
    return Post.objects.get(pk=post_id) if repeat else None


# How soon after a form is shown an empty one sent from it is taken for a stray click.
STRAY_CLICK = timedelta(seconds=10)


def submission_stray_click(*, user: User, token: str, quest: Quest) -> Post | None:
    """The post an empty reply box sent right after it was shown lands on, if any.

    A double click on a slow network: the first click posts, the second lands
    on the page the first one opened, the thread with its reply box empty again,
    and sends that. When the box was shown at most STRAY_CLICK ago, just after
    the player's post from a form in this quest, the second click lands on that
    post instead of saying the message is empty.
    """
    issued = submission_token_issued_at(token)
    if issued is None or timezone.now() - issued > STRAY_CLICK:
        return None
    row = (
        Submission.objects.filter(user=user, at__lt=issued, at__gte=issued - STRAY_CLICK)
        .select_related("post")
        .order_by("-at")
        .first()
    )
    return row.post if row is not None and row.post.quest_id == quest.pk else None


def submission_record(*, user: User, token: str, form: str, text: str, post: Post) -> None:
    """Remember what this form render posted last (in the posting transaction)."""
    if not token:
        return
    # One INSERT … ON CONFLICT, not update_or_create's locked read, insert and two savepoints.
    row = Submission(
        user=user, token=token, digest=_submission_digest(form, text), post=post, at=timezone.now()
    )
    Submission.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["user", "token"],
        update_fields=["digest", "post", "at"],
    )


def _submission_digest(form: str, text: str) -> str:
    return hashlib.sha256(f"{form}\x00{text}".encode()).hexdigest()


def imported_author_get_or_create(*, name: str) -> User:
    """The account an imported forum name posts as (no password: it cannot log in)."""
    user = User.objects.filter(username=name).first()
    if user is None:
        user = User(username=name)
        user.set_unusable_password()
        user.save()
    return user


def _request_reading(post: Post) -> None:
    # The votes app owns reading, above this app: it fills the hook. The need is
    # also recorded by the post's version (a Reading of an older version is
    # stale), so a lost request is found by the sweeper; this asks for it now.
    registry.post_needs_reading(post=post)
