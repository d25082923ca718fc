"""A player's page for claiming their forum name on a quest that follows its forum thread.

The player asks for a one-time code for the name they post under on the
forum, posts it in the thread, and comes back here to see what the reads of
the thread made of it (quest/identities.py; votes/importers/claims.py).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from quest import ratelimit
from quest.access import quest_for_reader
from quest.forms import ForumNameForm
from quest.http import AuthenticatedHttpRequest
from quest.identities import CLAIM_DAYS, forum_name_claim_start, forum_of
from quest.models import ForumIdentity, ForumNameClaim, Quest
from quest.permissions import can_post
from votes.models import FollowedThread

# The player's latest claims on the quest shown; older ones are of no use.
CLAIMS_SHOWN = 20


@login_required
@ratelimit.rate_limited("create")
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def quest_forum_name(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The player's claims of forum names on this quest; POST asks for a new code."""
    quest = quest_for_reader(request, slug)
    if not can_post(request.user, quest):
        raise PermissionDenied("You cannot post in this quest.")
    if not forum_of(forum=quest.forum, source_url=quest.source_url):
        raise Http404("This quest is not from a forum: there is no forum name to claim here.")
    # Codes are found by the reads of the followed thread; one not followed now may be later.
    followed = FollowedThread.objects.filter(quest=quest).first()
    form = ForumNameForm()
    status = 200
    if request.method == "POST":
        form = ForumNameForm(request.POST)
        claim = _claim(request, quest, form)
        if claim is None:
            status = 400
        elif not request.htmx:
            messages.success(request, f"Your code for “{claim.name}” is {claim.code}.")
            return redirect("quest-forum-name", quest.slug)
        else:
            form = ForumNameForm()
    template = "votes/forum_name.html" + ("#claims" if request.htmx else "")
    return render(request, template, _context(request, quest, followed, form), status=status)


def _claim(
    request: AuthenticatedHttpRequest, quest: Quest, form: ForumNameForm
) -> ForumNameClaim | None:
    if not form.is_valid():
        return None
    try:
        return forum_name_claim_start(
            quest=quest, user=request.user, name=form.cleaned_data["name"]
        )
    except ValidationError as e:
        form.add_error("name", e)
        return None


def _context(
    request: AuthenticatedHttpRequest,
    quest: Quest,
    followed: FollowedThread | None,
    form: ForumNameForm,
) -> dict[str, Any]:
    forum = forum_of(forum=quest.forum, source_url=quest.source_url)
    claims = list(
        ForumNameClaim.objects.filter(quest=quest, user=request.user).select_related("post")[
            :CLAIMS_SHOWN
        ]
    )
    return {
        "quest": quest,
        "followed": followed,
        "forum": forum,
        "form": form,
        "claims": claims,
        "linked": ForumIdentity.objects.filter(linked_user=request.user, forum=forum),
        "claim_days": CLAIM_DAYS,
        "now": timezone.now(),
    }
