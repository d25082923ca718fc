"""Forum identities: who wrote a post imported from a forum, and players claiming those names.

Writes, as in services.py (`<noun>_<verb>(*, ...)`); the importers, the follow
loop and the claim page call them.

How a name in an imported thread maps to an account (README, "Forum names"):

- A thread from a forum (the quest has a `forum`) names authors as the forum
  does. Each forum user (the forum's numeric id where it says it, else the
  name) is one ForumIdentity, with an account of its own that cannot sign in
  (no usable password, inactive). Its username, fixed when the identity is
  first seen, is the name the reader and the tally know the voter by: the
  forum name itself when no account has that name in any letter case, else
  `name@forum` (`~2`, `~3`, … should that be taken too). So "Anya" of two
  forums are two voters, and a forum voter never shares a name with a local
  account. Sign-up refuses names holding "@" and names taken in any case
  (quest.forms.SignupForm), so nobody can sign up as a forum voter either.
- Accounts the importer made before identities existed (a forum name with no
  usable password, never signed in, that posted in or runs a quest of that
  forum) become that name's identity's account, so a thread followed since
  then keeps its voters.
- A thread not from a forum (a quest-thread/1 file without `forum` or
  `source_url`, a paste) names local accounts, as it always has
  (services.imported_author_get_or_create).

A signed-in player claims a forum name on a quest that follows its forum
thread: `forum_name_claim_start` gives a one-time code; the next fetch that finds
the code in a post written by that name links the name to their account
(`forum_name_claims_match`), and the identity's posts become theirs
(`forum_identity_link`), so they and their in-app ballots are one voter.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from quest.bbcode import strip_quote_blocks
from quest.models import ForumIdentity, ForumNameClaim, Membership, Post, Quest
from quest.services import post_changes_record

USERNAME_CHARS = 150  # django.contrib.auth's User.username
CLAIM_DAYS = 7
# Codes a player may have waiting at once on one quest: asking again is not a way
# to fill the table.
PENDING_CLAIMS_AT_MOST = 5


def forum_of(*, forum: str = "", source_url: str = "") -> str:
    """The forum key of a thread: its host, from `forum` or else from its address ("" for none)."""
    host = forum.strip() or (urlsplit(source_url).hostname or "" if source_url else "")
    return host.lower()


# --- Identities -------------------------------------------------------------------------


def forum_identity_get_or_create(
    *, forum: str, name: str, forum_user_id: int | None = None
) -> ForumIdentity:
    """The identity of `name` on `forum` (its forum user id when known), made on first sight.

    1. With an id: the identity of that id; else one seen by name only, which
       gets the id now. A renamed forum user keeps their identity (and voter
       name); `name` follows the forum.
    2. Without an id: the identity of that name (one known by id too).
    3. None: a new identity, with a new account (module docstring), or the
       account the importer made for the name before identities existed.
    """
    forum, name = forum.lower(), name.strip()[:USERNAME_CHARS]
    found = _identity_find(forum, name, forum_user_id)
    if found is not None:
        return found
    try:
        with transaction.atomic():  # another import may make the same identity at once
            user = _legacy_account(forum, name) or _identity_account(forum, name)
            return ForumIdentity.objects.create(
                forum=forum, forum_user_id=forum_user_id, name=name, user=user
            )
    except IntegrityError:
        found = _identity_find(forum, name, forum_user_id)
        if found is None:
            raise
        return found


def _identity_find(forum: str, name: str, forum_user_id: int | None) -> ForumIdentity | None:
    identities = ForumIdentity.objects.select_related("user", "linked_user")
    if forum_user_id is None:
        return (
            identities.filter(forum=forum, name=name)
            .order_by(F("forum_user_id").asc(nulls_first=True), "pk")
            .first()
        )
    found = identities.filter(forum=forum, forum_user_id=forum_user_id).first()
    if found is None:
        found = identities.filter(forum=forum, name=name, forum_user_id=None).first()
        if found is None:
            return None
        found.forum_user_id = forum_user_id
        found.save(update_fields=["forum_user_id"])
    if found.name != name:
        found.name = name
        found.save(update_fields=["name"])
    return found


def forum_author(identity: ForumIdentity) -> User:
    """The account the identity's posts are authored by: the player's once claimed."""
    return identity.linked_user or identity.user


def _identity_account(forum: str, name: str) -> User:
    username = next(u for u in _usernames(forum, name) if not _username_taken(u))
    user = User(username=username, is_active=False)
    user.set_unusable_password()
    user.save()
    return user


def _usernames(forum: str, name: str) -> Iterator[str]:
    """The name itself, then `name@forum`, then `name@forum~2`, … each cut to fit."""
    yield name
    n = 1
    while True:
        tail = f"@{forum}" + (f"~{n}" if n > 1 else "")
        yield name[: USERNAME_CHARS - len(tail)] + tail
        n += 1


def _username_taken(username: str) -> bool:
    # Any letter case: sign-up refuses a name that differs from one only in case.
    return User.objects.filter(username__iexact=username).exists()


def _legacy_account(forum: str, name: str) -> User | None:
    """The account an import made for `name` before identities existed, if it is one.

    It cannot sign in (no usable password, never signed in), is nobody's
    identity yet, and posted in or runs a quest of this forum: a thread
    followed since then keeps its voters' names and ballots.
    """
    user = User.objects.filter(
        username=name, last_login__isnull=True, forum_identity__isnull=True
    ).first()
    if user is None or user.has_usable_password():
        return None
    on_forum = (
        Post.objects.filter(author=user, quest__forum=forum).exists()
        or Quest.objects.filter(quest_master=user, forum=forum).exists()
    )
    return user if on_forum else None


# --- Claiming a forum name ------------------------------------------------------------


def forum_name_claim_start(
    *, quest: Quest, user: User, name: str, now: datetime | None = None
) -> ForumNameClaim:
    """A one-time code for `user` to post in the quest's forum thread as `name`.

    The caller has checked that the quest follows its forum thread. A code
    still waiting for the same name is given again (the claim page can be come
    back to). Raises ValidationError, changing nothing, when the name is empty
    or too long, is linked to an account already, or the player has too many
    codes waiting.
    """
    now = now or timezone.now()
    name = name.strip()
    forum = forum_of(forum=quest.forum, source_url=quest.source_url)
    if not forum:
        raise ValidationError(
            "This quest is not from a forum thread: there is no forum name to claim."
        )
    if not name:
        raise ValidationError("Enter your name on the forum, as your posts there show it.")
    if len(name) > USERNAME_CHARS:
        raise ValidationError(f"A forum name is at most {USERNAME_CHARS} characters long.")
    linked = (
        ForumIdentity.objects.filter(forum=forum, name__iexact=name, linked_user__isnull=False)
        .select_related("linked_user")
        .first()
    )
    if linked is not None:
        whose = "your account" if linked.linked_user_id == user.pk else "another account"
        raise ValidationError(f"“{linked.name}” on {forum} is linked to {whose} already.")
    waiting = ForumNameClaim.objects.filter(
        quest=quest, user=user, status=ForumNameClaim.Status.PENDING, expires_at__gt=now
    )
    same = waiting.filter(name__iexact=name).first()
    if same is not None:
        return same
    if waiting.count() >= PENDING_CLAIMS_AT_MOST:
        raise ValidationError(
            f"You have {PENDING_CLAIMS_AT_MOST} codes waiting on this quest already: post one "
            "of them on the forum, or wait until they expire."
        )
    return ForumNameClaim.objects.create(
        quest=quest,
        user=user,
        forum=forum,
        name=name,
        created_at=now,
        expires_at=now + timedelta(days=CLAIM_DAYS),
    )


@transaction.atomic
def forum_name_claims_match(
    *, quest: Quest, posts: Iterable[Post], now: datetime | None = None
) -> set[int]:
    """Settle the quest's waiting claims whose code the posts hold; returns the quests
    whose posts changed author (what they are read as must be read again).

    The code counts in a post's own words only (not inside a quote of someone
    else's post). Posted by the claimed name before the code expired, it links
    the name to the player (`forum_identity_link`) and is used up; posted by
    anyone else, or after it expired, it links nothing and the claim's note
    says why. Posts are taken in thread order.
    """
    now = now or timezone.now()
    claims = list(ForumNameClaim.objects.filter(quest=quest, status=ForumNameClaim.Status.PENDING))
    if not claims:
        return set()
    changed: set[int] = set()
    for post in sorted(posts, key=lambda p: p.seq):
        own = strip_quote_blocks(post.body).upper()
        if "QTC-" not in own:
            continue
        for claim in claims:
            if claim.status == ForumNameClaim.Status.PENDING and claim.code in own:
                changed |= _claim_settle(claim, post, now)
    return changed


def _claim_settle(claim: ForumNameClaim, post: Post, now: datetime) -> set[int]:
    where = f"Post {post.ref} ({post.posted_at:%Y-%m-%d %H:%M} UTC)"
    identity = post.forum_identity
    written_by = identity.name if identity is not None else post.author.get_username()
    changed: set[int] = set()
    if claim.is_expired(now):
        claim.note = (
            f"{where} holds this code, but the code expired on {claim.expires_at:%Y-%m-%d}: "
            "nothing was linked. Ask for a new code."
        )
    elif (
        identity is None
        or identity.forum != claim.forum
        or identity.name.casefold() != claim.name.casefold()
    ):
        claim.note = (
            f"{where} holds this code, but it was written by {written_by}, not by "
            f"{claim.name}: nothing was linked. Only a post by {claim.name} links the name."
        )
    elif identity.linked_user_id not in (None, claim.user_id):
        claim.note = f"{where} holds this code, but {identity.name} is linked to another account."
    else:
        if identity.linked_user_id is None:
            changed = forum_identity_link(identity=identity, user=claim.user, now=now)
        claim.status = ForumNameClaim.Status.LINKED
        claim.identity = identity
        claim.post = post
        claim.linked_at = now
        claim.note = f"{where} by {identity.name} held this code: the name is linked."
    claim.note = claim.note[:500]
    claim.save(update_fields=["status", "identity", "post", "linked_at", "note"])
    return changed


@transaction.atomic
def forum_identity_link(
    *, identity: ForumIdentity, user: User, now: datetime | None = None
) -> set[int]:
    """Make `user` the author of everything the identity wrote; returns the quests touched.

    Its posts (each still knows who wrote it on the forum: `forum_identity`),
    the quests it runs (a thread starter claiming their name) and its roles
    in quests move to `user`, so that the reader sees one voter. Reading them
    again is the caller's (the votes app's) part.
    """
    identity.linked_user = user
    identity.linked_at = now or timezone.now()
    identity.save(update_fields=["linked_user", "linked_at"])
    own = identity.user
    posts = Post.objects.filter(author=own)
    quests = set(posts.values_list("quest_id", flat=True).distinct())
    # Posts from before identities existed do not say who wrote them yet.
    posts.filter(forum_identity=None).update(forum_identity=identity)
    Post.objects.filter(forum_identity=identity).exclude(author=user).update(author=user)
    runs = Quest.objects.filter(quest_master=own)
    quests |= set(runs.values_list("pk", flat=True))
    # The player's own posts in the forum's other quests go by the claimed name now too
    # (votes/names.py): what they were read as may change.
    theirs = Quest.objects.filter(posts__author=user).distinct()
    quests |= {
        pk
        for pk, quest_forum, source_url in theirs.values_list("pk", "forum", "source_url")
        if forum_of(forum=quest_forum, source_url=source_url) == identity.forum
    }
    runs.update(quest_master=user)
    for membership in Membership.objects.filter(user=own):
        if Membership.objects.filter(quest_id=membership.quest_id, user=user).exists():
            membership.delete()  # the player has a role there already: theirs stands
        else:
            membership.user = user
            membership.save(update_fields=["user"])
        quests.add(membership.quest_id)
    # The threads' posts (and quest masters) have a new author: kept threads are out of date.
    post_changes_record(quest_ids=quests)
    return quests


def forum_name_of(user: User, *, forum: str) -> str:
    """The name `user` goes by on `forum`: their identity's, or the one they claimed there;
    else their username (what a quest-thread/1 export writes as an author)."""
    identity = getattr(user, "forum_identity", None)
    if identity is not None and identity.forum == forum:
        return identity.name
    claimed = ForumIdentity.objects.filter(linked_user=user, forum=forum).order_by("pk").first()
    return claimed.name if claimed is not None else user.get_username()
