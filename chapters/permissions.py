"""Who may do what with chapters and votes: the one place these rules live.

Every rule delegates to the quest's roles (quest.permissions): only the quest
master writes, publishes and runs votes; moderators audit (they see the vote's
record); everyone who may read the quest reads its published chapters. Who
sees a vote's results is the votes app's rule: votes.permissions.can_see_results.
"""

from chapters.models import Chapter
from quest import permissions as quest_permissions
from quest.models import Quest


def can_read_chapter(user, chapter: Chapter) -> bool:
    if not quest_permissions.can_read(user, chapter.quest):
        return False
    return chapter.is_published or can_see_drafts(user, chapter.quest)


def can_see_drafts(user, quest: Quest) -> bool:
    return quest_permissions.can_manage(user, quest)


def can_write_chapter(user, quest: Quest) -> bool:
    return quest_permissions.can_manage(user, quest)


def can_publish(user, chapter: Chapter) -> bool:
    return quest_permissions.can_manage(user, chapter.quest) and not chapter.is_published


def can_run_vote(user, quest: Quest) -> bool:
    """Set prompts, close, extend and reopen: the quest master only."""
    return quest_permissions.can_manage(user, quest)


def can_see_vote_events(user, quest: Quest) -> bool:
    return quest_permissions.can_moderate(user, quest)
