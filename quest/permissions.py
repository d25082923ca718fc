"""Who may do what in a quest: the one place these rules live for the quest app.

Roles: the quest master (the quest's creator, or whoever imported its forum
thread: a membership with the quest master's role), moderators they appoint,
players they invited, outsiders (any other signed-in user) and anonymous
readers. A public quest is read by everyone and played by every signed-in
user. A private quest is for its members only (the quest master, moderators
and invited players): to everyone else it does not exist.
"""

import secrets
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, OuterRef, Q

from quest.models import Membership, Post, Quest


class Role(StrEnum):
    QUEST_MASTER = "quest_master"
    MODERATOR = "moderator"
    PLAYER = "player"
    OUTSIDER = "outsider"
    ANONYMOUS = "anonymous"


MEMBERS = frozenset({Role.QUEST_MASTER, Role.MODERATOR, Role.PLAYER})


def role_in(user: User | AnonymousUser, quest: Quest) -> Role:
    if not user.is_authenticated:
        return Role.ANONYMOUS
    if quest.quest_master_id == user.pk:
        return Role.QUEST_MASTER
    cache = _roles_known(user)
    if quest.pk not in cache:
        membership = Membership.objects.filter(quest=quest, user=user)
        cache[quest.pk] = membership.values_list("role", flat=True).first()
    match cache[quest.pk]:
        case Membership.Role.QUEST_MASTER:
            return Role.QUEST_MASTER
        case Membership.Role.MODERATOR:
            return Role.MODERATOR
        case Membership.Role.PLAYER:
            return Role.PLAYER
    return Role.OUTSIDER


def role_loaded(user: User | AnonymousUser, quest: Quest, membership_role: str | None) -> None:
    """The user's Membership.role in `quest` (None: none), loaded with something else:
    role_in takes it from here instead of asking (the ballot side's vote brings it)."""
    if user.is_authenticated:
        _roles_known(user)[quest.pk] = membership_role


def _roles_known(user: User) -> dict[int, str | None]:
    # Cached per request object: a page asks this several times.
    known: dict[int, str | None] = user.__dict__.setdefault("_quest_roles", {})
    return known


def is_member(user: User | AnonymousUser, quest: Quest) -> bool:
    return role_in(user, quest) in MEMBERS


def can_read(user: User | AnonymousUser, quest: Quest) -> bool:
    return quest.is_public or is_member(user, quest)


def readable_quests(user: User | AnonymousUser) -> Q:
    """can_read as a filter on Quest, for lists: public quests and the user's own."""
    if not user.is_authenticated:
        return Q(is_public=True)
    member = Membership.objects.filter(quest=OuterRef("pk"), user=user)
    return Q(is_public=True) | Q(quest_master=user) | Q(Exists(member))


def can_post(user: User | AnonymousUser, quest: Quest) -> bool:
    return user.is_authenticated and user.is_active and can_read(user, quest)


def can_join(user: User | AnonymousUser, quest: Quest, token: str) -> bool:
    """Whether `token` is the quest's current invitation link, for a signed-in user."""
    return user.is_authenticated and secrets.compare_digest(
        token.encode(), quest.invite_token.encode()
    )


def can_edit_post(user: User | AnonymousUser, post: Post) -> bool:
    return user.is_authenticated and post.author_id == user.pk


def can_moderate(user: User | AnonymousUser, quest: Quest) -> bool:
    """Audit readings, decide held-back answers, see revisions, verify tallies."""
    return role_in(user, quest) in (Role.QUEST_MASTER, Role.MODERATOR)


def can_manage(user: User | AnonymousUser, quest: Quest) -> bool:
    """Run the quest: appoint moderators, invite members, write chapters, run votes."""
    return role_in(user, quest) == Role.QUEST_MASTER
