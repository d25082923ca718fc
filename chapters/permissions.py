"""Who may do what with chapters and votes: the one place these rules live.

Every rule delegates to the quest's roles (quest.permissions): only the quest
master writes, publishes and runs votes; moderators audit (they see the vote's
record and always see results); everyone who may read the quest reads its
published chapters.
"""

from chapters.models import Chapter, Vote
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


def can_see_results(user, vote: Vote, *, has_voted: bool) -> bool:
    """Whether this viewer may see the vote's tally now.

    `has_voted` is whether the viewer has a current ballot in this vote; the
    votes app knows that and supplies it. Staff always see results: they audit
    the tally while the vote runs.
    """
    quest = vote.chapter.quest
    if not quest_permissions.can_read(user, quest):
        return False
    if quest_permissions.can_moderate(user, quest):
        return True
    match vote.results_visibility:
        case Vote.Visibility.ALWAYS:
            return True
        case Vote.Visibility.AFTER_VOTING:
            return has_voted or vote.is_closed
        case Vote.Visibility.AFTER_CLOSE:
            return vote.is_closed
    return False
