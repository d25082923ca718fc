"""The audit page: how each post of a vote's window was read, and the moderators' rulings.

Only the quest master and this quest's moderators see it. Decisions post one
form per held-back or counted answer, and any post (chatter included) can be
decided whole or prompt by prompt; with htmx the post's block is swapped for
its new state, without JavaScript the page is loaded again.
"""

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from chapters.models import Vote
from quest.forms import TextField
from quest.http import AuthenticatedHttpRequest, HtmxHttpRequest
from quest.models import Post
from votes import audit, selectors
from votes.models import Decision, TallyRun
from votes.reading.types import VoteSpec
from votes.views import access

TABS = (("held", "Held back"), ("all", "All"), ("excluded", "Excluded"), ("mentions", "Mentions"))


class DecisionForm(forms.Form):
    post = forms.IntegerField()  # the post's ref
    prompt = forms.IntegerField(required=False, min_value=1)  # empty: the whole post
    # A ruling on the whole post counts one answer, to the prompt named here.
    answer_prompt = forms.IntegerField(required=False, min_value=1)
    action = forms.ChoiceField(choices=Decision.Action.choices)
    letters = TextField(required=False, max_length=200)
    text = TextField(required=False, max_length=20_000)
    proxy = TextField(required=False, max_length=150)  # PROXY: the voter followed
    reason = TextField(required=False, max_length=audit.REASON_MAX + 100)
    show = forms.ChoiceField(choices=TABS, required=False)

    def answer(self) -> dict[str, Any] | None:
        """What SET counts: letters ("B", "A, C", "C > A > B") or write-in text."""
        data = self.cleaned_data
        if data["action"] != Decision.Action.SET:
            return None
        letters = [x for x in re.split(r"[\s,;/>]+", data["letters"]) if x]
        prompt = data["prompt"] if data["prompt"] is not None else data["answer_prompt"]
        return {"prompt": prompt, "letters": letters, "text": data["text"]}


def _tab(value: str | None) -> str:
    return value if value in audit.SHOW else "held"


@login_required
@require_GET
@vary_on_headers("HX-Request")
def vote_audit(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """Every post of the window with its reading; the `posts` partial for the filter tabs."""
    vote = access.vote_for_moderator(request, slug, number)
    template = "votes/audit.html"
    if request.htmx:
        template += "#posts"
    return render(request, template, _context(vote, show=_tab(request.GET.get("show"))))


def _context(vote: Vote, *, show: str, **extra: Any) -> dict[str, Any]:
    decisions = audit.decisions_for(vote)
    spec = selectors.vote_spec(vote)
    return {
        "quest": vote.chapter.quest,
        "chapter": vote.chapter,
        "vote": vote,
        "show": show,
        "tabs": TABS,
        "items": audit.audit_posts(vote, spec=spec, decisions=decisions, show=show),
        "decisions": decisions,
        "prompts": spec.prompts,
        "accepted_reason": audit.ACCEPTED_REASON,
        "can_decide": True,
        **extra,
    }


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote_decide(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """Record a ruling on one post; re-render its block (htmx) or go back to the page."""
    vote = access.vote_for_moderator(request, slug, number)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _refused(request, vote, form)
    post = get_object_or_404(Post, quest=vote.chapter.quest, ref=form.cleaned_data["post"])
    try:
        audit.decision_record(
            vote=vote,
            post=post,
            prompt=form.cleaned_data["prompt"],
            action=form.cleaned_data["action"],
            answer=form.answer(),
            reason=form.cleaned_data["reason"],
            by=request.user,
            proxy_of=form.cleaned_data["proxy"],
        )
    except ValidationError as e:
        errors = [str(message) for message in e.messages]
        return _decided(request, vote, post, errors, show=form.cleaned_data["show"])
    return _decided(request, vote, post, [], show=form.cleaned_data["show"])


def _refused(request: HtmxHttpRequest, vote: Vote, form: DecisionForm) -> HttpResponse:
    """A decision form that did not validate: what was wrong with its texts, by the post."""
    fields = ("letters", "text", "proxy", "reason")
    said = [str(e) for name in fields for e in form.errors.get(name, [])]
    ref = form.cleaned_data.get("post")
    post = Post.objects.filter(quest=vote.chapter.quest, ref=ref).first() if ref else None
    errors = said or ["The decision form was incomplete; try again."]
    return _decided(request, vote, post, errors, show=form.cleaned_data.get("show", ""))


def _decided(
    request: HtmxHttpRequest, vote: Vote, post: Post | None, errors: list[str], show: str = ""
) -> HttpResponse:
    slug, number = vote.chapter.quest.slug, vote.chapter.number
    if request.htmx and post is not None:
        spec = selectors.vote_spec(vote)
        decisions = [d for d in audit.decisions_for(vote) if d.post_id == post.pk]
        items = audit.audit_posts(vote, spec=spec, decisions=decisions, show="all", ref=post.ref)
        if items:  # else the post is not in the window: say so on the page
            context = _context_one(vote, spec, items[0], errors)
            return render(request, "votes/audit.html#post", context)
    for error in errors:
        messages.error(request, error)
    if not errors:
        messages.success(request, "Decision recorded; the tally is being recounted.")
    url = reverse("vote-audit", args=[slug, number]) + f"?show={_tab(show)}"
    return redirect(url + (f"#post-{post.ref}" if post else ""))


def _context_one(
    vote: Vote, spec: VoteSpec, item: audit.PostAudit, errors: list[str]
) -> dict[str, Any]:
    return {
        "quest": vote.chapter.quest,
        "chapter": vote.chapter,
        "vote": vote,
        "item": item,
        "prompts": spec.prompts,
        "accepted_reason": audit.ACCEPTED_REASON,
        "can_decide": True,
        "errors": errors,
        "just_decided": not errors,
    }


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote_verify(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """Recompute the final (or latest) tally from scratch and compare it with the stored one."""
    vote = access.vote_for_moderator(request, slug, number)
    run = (
        TallyRun.objects.filter(vote=vote, is_final=True).first()
        or TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()
    )
    verification = audit.tally_verify(run=run) if run is not None else None
    if request.htmx:
        context: dict[str, Any] = {"quest": vote.chapter.quest, "chapter": vote.chapter}
        context |= {"vote": vote, "run": run, "verification": verification}
        return render(request, "votes/audit.html#verify", context)
    show = _tab(request.POST.get("show"))
    return render(
        request,
        "votes/audit.html",
        _context(vote, show=show, run=run, verification=verification),
    )
