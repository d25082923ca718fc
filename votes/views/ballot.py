"""The players' ballot form on the chapter page, and "how will this be read" previews."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from chapters.models import Vote
from quest import ratelimit
from quest.forms import PostForm
from quest.http import AuthenticatedHttpRequest, HtmxHttpRequest
from quest.permissions import can_manage
from votes import posting, previews
from votes.forms import BallotForm
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
            return _render_ballot(request, vote, fresh, posted=post, shown=shown)
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
