"""The players' ballot form on the chapter page, and "how will this be read" previews."""

import hashlib
from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from chapters.models import Vote
from quest import ratelimit
from quest.forms import PostForm
from quest.http import AuthenticatedHttpRequest, HtmxHttpRequest
from quest.permissions import can_manage
from votes import poll, posting, previews, selectors
from votes.forms import BallotForm
from votes.names import voter_name
from votes.views import access


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@ratelimit.rate_limited("ballot")
def chapter_ballot(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """The ballot form (GET), and posting it in the thread (POST).

    The chapter page loads the form with htmx; without JavaScript its link
    opens this page, and a posted ballot redirects back to the chapter.
    """
    vote = access.vote_for_player(request, slug, number, with_prompts=True)
    if request.method == "POST":
        return _ballot_submit(request, vote)
    form = None
    if posting.accepts_ballots(vote) and not can_manage(request.user, vote.chapter.quest):
        current = posting.current_answers(vote=vote, user=request.user)
        form = BallotForm(vote=vote, initial_answers=current)
    return _render_ballot(request, vote, form)


def _ballot_submit(request: AuthenticatedHttpRequest, vote: Vote) -> HttpResponse:
    if can_manage(request.user, vote.chapter.quest):
        raise PermissionDenied("The quest master's posts are not ballots.")
    form = BallotForm(request.POST, vote=vote)
    if not posting.accepts_ballots(vote):
        form.add_error(None, posting.VOTE_CLOSED)
    elif form.is_valid():
        try:
            post = posting.ballot_post(
                vote=vote,
                user=request.user,
                answers=form.answers(),
                token=form.submission_token,
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            if not request.htmx:
                messages.success(
                    request,
                    f"Your ballot was posted as post #{post.ref}. "
                    "It will be counted in the tally shortly.",
                )
                return redirect(f"{vote.chapter.get_absolute_url()}#ballot")
            shown = previews.posted_reading(vote=vote, post=post)
            # Shown again filled in, with the same token: sent again unchanged it
            # lands on this post; changed, it is a new ballot.
            again = posting.answers_as_stored(form.answers())
            initial = {"submission": form.submission_token}
            fresh = BallotForm(vote=vote, initial_answers=again, initial=initial)
            response = _render_ballot(request, vote, fresh, posted=post, shown=shown)
            # The player's panel asks again at once (it says "recounting…" until
            # the recount counts this post, then shows it at its next poll).
            response["HX-Trigger"] = "ballot-posted"
            return response
    # htmx 2 does not swap error responses: the form with its errors comes back as 200.
    return _render_ballot(request, vote, form, status=200 if request.htmx else 400)


def _render_ballot(
    request: HtmxHttpRequest,
    vote: Vote,
    form: BallotForm | None,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    template_name = "votes/ballot.html"
    if request.htmx:
        template_name += "#ballot"
    context = {
        "quest": vote.chapter.quest,
        "chapter": vote.chapter,
        "vote": vote,
        "form": form,
        "is_quest_master": can_manage(request.user, vote.chapter.quest),
        **extra,
    }
    return render(request, template_name, context, status=status)


@login_required
@require_POST
@ratelimit.rate_limited("preview")
def reading_preview(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """How a text would be read against this vote if the user posted it now (htmx box)."""
    vote = access.vote_for_reader(request, slug, number, with_prompts=True)
    form: PostForm | None = None  # an empty box is not an error yet: it asks for text
    shown = None
    if request.POST.get("body", "").strip():
        form = PostForm(request.POST)
        if form.is_valid():
            body = form.cleaned_data["body"]
            shown = previews.reading_preview(vote=vote, user=request.user, body=body)
    context = {"vote": vote, "form": form, "shown": shown}
    return render(request, "votes/_reading_preview.html", context)


PANEL_POLL_SECONDS = 5


def _panel_etag(request: HttpRequest, slug: str, number: int) -> str | None:
    # The stamps are read before the ballot rows, so a recount committed
    # meanwhile moves them past what is remembered (votes/poll.py 6.).
    token = poll.stamp(slug, number) if poll.is_poll(request) else None
    vote = access.vote_for_reader(request, slug, number, with_prompts=True)
    request.panel_vote = vote  # type: ignore[attr-defined]  # kept for the panel view
    name = voter_name(vote.chapter.quest, request.user) if request.user.is_authenticated else ""
    mine = poll.voter_stamp(slug, number, name) if token is not None and name else None
    panel = selectors.ballot_panel(vote=vote, user=request.user)
    request.ballot_panel = panel  # type: ignore[attr-defined]  # built once per request
    if panel is None:
        return None
    # Everything the panel shows is in the BallotPanel (and the vote's state, below).
    etag = hashlib.sha256(f"{panel!r}:{vote.status}".encode()).hexdigest()[:32]
    remember = None
    if token is not None and mine is not None:
        remember = partial(
            poll.remember_panel,
            request,
            slug,
            number,
            token=token,
            voter=name,
            mine=mine,
            etag=etag,
            waiting=panel.waiting,
        )
        remember()  # the ETag alone: what a 304 from this check needs next time
    request.panel_remember = remember  # type: ignore[attr-defined]  # and with the panel
    return etag


@login_required
@require_GET
@vary_on_headers("HX-Request", "Cookie")
@condition(etag_func=_panel_etag)
def chapter_ballot_panel(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """The player's "Your ballot" panel, polled on its own beside the tally.

    Every PANEL_POLL_SECONDS, and a second after a ballot is posted (the
    `ballot-posted` event: the recount has usually counted it by then); while
    nothing of the player's changed it is answered before this view, 304 or
    the panel kept from its last answer (votes/poll.py 6.). Polling stops with
    the vote's final tally.
    """
    vote: Vote = request.panel_vote  # type: ignore[attr-defined]  # read by the ETag check
    panel = request.ballot_panel  # type: ignore[attr-defined]  # set by the ETag check
    if panel is None:
        return HttpResponse(status=204)  # the quest master: no panel, nothing to swap
    context = {
        "quest": vote.chapter.quest,
        "chapter": vote.chapter,
        "vote": vote,
        "ballot_panel": panel,
        "panel_poll_seconds": PANEL_POLL_SECONDS,
    }
    response = render(request, "votes/_ballot_panel.html", context)
    patch_cache_control(response, private=True)  # one player's: never in a shared cache
    final = vote.is_closed and not panel.recounting
    remember = request.panel_remember  # type: ignore[attr-defined]  # set by the ETag check
    if remember is not None:
        remember(html=response.content.decode(), final=final)
    if final:
        return HttpResponseStopPolling(response.content, headers=dict(response.headers))
    return response
