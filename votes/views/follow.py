"""The quest master's page for the forum thread a quest follows: link, refresh, status."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from quest.access import quest_for_quest_master
from quest.http import AuthenticatedHttpRequest, HtmxHttpRequest
from quest.models import Quest
from votes.forms import FollowForm
from votes.importers import follow
from votes.models import FollowedThread

# While a refresh is on its way the status polls this often.
POLL_SECONDS = 3
# A refresh asked for longer ago than this and not done is taken as lost: polling stops.
BUSY_AT_MOST_SECONDS = 600


@login_required
@require_http_methods(["GET", "POST"])
def quest_follow(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Link the quest to its forum thread or change how often it is read (POST), or stop."""
    quest = quest_for_quest_master(request, slug)
    followed = _followed(quest)
    form = FollowForm(initial={"url": followed.url if followed else quest.source_url})
    if followed is not None:
        form.initial["refresh_minutes"] = followed.refresh_minutes
    if request.method == "POST":
        if request.POST.get("action") == "unfollow":
            return _unfollow(request, quest)
        form = FollowForm(request.POST)
        if form.is_valid() and _follow(request, quest, form):
            return redirect("quest-follow", quest.slug)
    return render(request, "votes/follow.html", _context(quest, followed, form=form))


def _follow(request: AuthenticatedHttpRequest, quest: Quest, form: FollowForm) -> bool:
    try:
        follow.thread_follow(
            quest=quest,
            url=form.cleaned_data["url"],
            refresh_minutes=form.cleaned_data["refresh_minutes"],
            by=request.user,
        )
    except ValidationError as e:
        form.add_error("url", e)
        return False
    messages.success(request, "The quest follows the thread: its pages are being read now.")
    return True


def _unfollow(request: AuthenticatedHttpRequest, quest: Quest) -> HttpResponse:
    if follow.thread_unfollow(quest=quest, by=request.user):
        messages.success(request, "The quest no longer follows its forum thread.")
    return redirect("quest-follow", quest.slug)


@require_GET
@vary_on_headers("HX-Request")
def quest_follow_status(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """How the last refresh went: the page's `status` partial, polled while one is on its way."""
    quest = quest_for_quest_master(request, slug)
    followed = _followed(quest)
    if followed is None:
        raise Http404("This quest follows no forum thread.")
    if not request.htmx:
        return redirect("quest-follow", quest.slug)
    return render(request, "votes/follow.html#status", _context(quest, followed, form=None))


@login_required
@require_POST
def quest_follow_refresh(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """ "Refresh now": read the thread at once (once, however often it is pressed)."""
    quest = quest_for_quest_master(request, slug)
    followed = _followed(quest)
    if followed is None:
        raise Http404("This quest follows no forum thread.")
    sent = follow.followed_thread_refresh_request(followed=followed)
    notice = (
        "Reading the thread now."
        if sent
        else "A refresh was asked for a moment ago: it is on its way."
    )
    if request.htmx:
        followed.refresh_from_db()
        context = _context(quest, followed, form=None, notice=notice)
        return render(request, "votes/follow.html#status", context)
    messages.info(request, notice)
    return redirect("quest-follow", quest.slug)


def _followed(quest: Quest) -> FollowedThread | None:
    return FollowedThread.objects.filter(quest=quest).first()


def _context(
    quest: Quest, followed: FollowedThread | None, *, form: FollowForm | None, notice: str = ""
) -> dict[str, Any]:
    return {
        "quest": quest,
        "followed": followed,
        "form": form,
        "busy": followed is not None and _busy(followed),
        "poll_seconds": POLL_SECONDS,
        "notice": notice,
    }


def _busy(followed: FollowedThread) -> bool:
    """Whether a refresh is running, or was asked for and has not run yet."""
    now = timezone.now()
    if followed.claimed_until is not None and followed.claimed_until > now:
        return True
    queued, attempted = followed.queued_at, followed.last_attempt_at
    if queued is None or (attempted is not None and attempted >= queued):
        return False
    return (now - queued).total_seconds() < BUSY_AT_MOST_SECONDS
