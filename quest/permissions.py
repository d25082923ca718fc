"""Who may do what in a quest: the one place these rules live for the quest app.

Roles: the quest master (the quest's creator), moderators they appoint,
players (any signed-in user), and anonymous readers.
"""

from enum import StrEnum

from quest.models import Membership, Quest


class Role(StrEnum):
    QUEST_MASTER = "quest_master"
    MODERATOR = "moderator"
    PLAYER = "player"
    ANONYMOUS = "anonymous"


def role_in(user, quest: Quest) -> Role:
    if not user.is_authenticated:
        return Role.ANONYMOUS
    if quest.quest_master_id == user.pk:
        return Role.QUEST_MASTER
    # Cached per request object: a page asks this several times.
    cache = user.__dict__.setdefault("_quest_roles", {})
    if quest.pk not in cache:
        cache[quest.pk] = Membership.objects.filter(
            quest=quest, user=user, role=Membership.Role.MODERATOR
        ).exists()
    return Role.MODERATOR if cache[quest.pk] else Role.PLAYER


def can_read(user, quest: Quest) -> bool:
    return quest.is_public or role_in(user, quest) != Role.ANONYMOUS


def can_post(user, quest: Quest) -> bool:
    return user.is_authenticated and user.is_active


def can_edit_post(user, post) -> bool:
    return user.is_authenticated and post.author_id == user.pk


def can_moderate(user, quest: Quest) -> bool:
    """Audit readings, decide held-back answers, see revisions, verify tallies."""
    return role_in(user, quest) in (Role.QUEST_MASTER, Role.MODERATOR)


def can_manage(user, quest: Quest) -> bool:
    """Run the quest: appoint moderators, write and publish chapters, run votes."""
    return role_in(user, quest) == Role.QUEST_MASTER
