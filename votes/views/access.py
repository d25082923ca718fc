"""Who may see or act on a vote: one helper per role, shared by the votes pages.

Each view's first line calls one of these, so its access rule is in plain sight.
The quest is let in as on every page (quest/access.py); who sees results is
votes/permissions.py.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from chapters.models import Chapter, Vote
from quest.access import quest_for_reader
from quest.permissions import can_manage, can_moderate, can_post


def vote_for_reader(
    request: HttpRequest, slug: str, number: int, *, with_prompts: bool = False
) -> Vote:
    """A published chapter's vote that is in the thread; private quests stay hidden."""
    quest = quest_for_reader(request, slug)
    # The recount state too: the tally pages ask whether the tally is behind; and
    # the thread the quest follows on a forum, for their "as of forum post #N".
    votes = Vote.objects.select_related(
        "chapter__quest__quest_master",
        "chapter__quest__followed_thread",
        "post",
        "recount_state",
    )
    if with_prompts:
        votes = votes.prefetch_related("prompts__options")
    vote = (
        votes.filter(
            chapter__quest=quest, chapter__number=number, chapter__status=Chapter.Status.PUBLISHED
        )
        .exclude(post=None)
        .first()
    )
    if vote is None:
        raise Http404("This chapter has no vote.")
    return vote


def vote_for_player(
    request: HttpRequest, slug: str, number: int, *, with_prompts: bool = False
) -> Vote:
    vote = vote_for_reader(request, slug, number, with_prompts=with_prompts)
    if not can_post(request.user, vote.chapter.quest):
        raise PermissionDenied("You cannot post in this quest.")
    return vote


def vote_for_moderator(request: HttpRequest, slug: str, number: int) -> Vote:
    vote = vote_for_reader(request, slug, number)
    if not can_moderate(request.user, vote.chapter.quest):
        raise PermissionDenied("Only the quest master and this quest's moderators audit votes.")
    return vote


def vote_for_quest_master(request: HttpRequest, slug: str, number: int) -> Vote:
    vote = vote_for_reader(request, slug, number)
    if not can_manage(request.user, vote.chapter.quest):
        raise PermissionDenied("Only the quest master can do this.")
    return vote
