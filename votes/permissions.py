"""Who may see what the votes app shows: the one place its rules live.

The tally pages (HTML, JSON, BBCode, the ballots CSV) and the permission
tests all ask `can_see_results`. Who may open a vote's pages at all is the
quest's rule (quest.permissions), applied by votes/views/access.py.
"""

from chapters.models import Vote
from quest import permissions as quest_permissions
from votes import selectors


def can_see_results(user, vote: Vote, *, has_voted: bool | None = None) -> bool:
    """Whether this viewer may see the vote's tally and results now.

    Staff (the quest master and moderators) always see them: they audit the
    tally while the vote runs. Everyone else who may read the quest sees them
    as the vote's `results_visibility` says: always, once they have voted (or
    the vote closed), or once the vote closed. `has_voted` is whether the
    viewer has a current ballot in this vote; left out, it is looked up, and
    only when the answer depends on it.
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
            if vote.is_closed:
                return True
            return has_voted if has_voted is not None else selectors.has_ballot(vote, user)
        case Vote.Visibility.AFTER_CLOSE:
            return vote.is_closed
    return False
