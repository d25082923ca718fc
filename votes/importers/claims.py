"""Forum-name claims settled by a fetch of a followed thread (quest/identities.py: what a claim is).

The follow loop hands over the posts an import brought in or changed. A
waiting claim whose code one of them holds is settled there; where a name was
linked to a player, every post it wrote is the player's now, and what the
posts of the quests touched were read as may have changed (who wrote a
ballot, whose ballot a later post follows or amends): their votes that are
not closed are read again from scratch, their spec version moved on as when
their prompts change. A closed vote keeps its final tally.
"""

from collections.abc import Iterable

from django.db.models import F

from chapters.models import Vote
from quest.identities import forum_name_claims_match
from quest.models import Post, Quest
from votes.services import vote_reread_request

__all__ = ["claims_settle"]


def claims_settle(*, quest: Quest, refs: Iterable[int]) -> set[int]:
    """Settle the quest's claims whose code the posts `refs` hold; returns the quests re-read."""
    posts = Post.objects.filter(quest=quest, ref__in=list(refs)).select_related(
        "forum_identity", "author"
    )
    changed = forum_name_claims_match(quest=quest, posts=posts)
    if not changed:
        return changed
    votes = Vote.objects.filter(chapter__quest_id__in=changed).exclude(status=Vote.Status.CLOSED)
    for vote in votes:
        Vote.objects.filter(pk=vote.pk).update(spec_version=F("spec_version") + 1)
        vote_reread_request(vote=vote)
    return changed
