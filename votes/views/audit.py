"""The audit page: how each post of a vote's window was read, and the moderators' rulings.

Only the quest master and this quest's moderators see it. Decisions post one
form per held-back or counted answer, and any post (chatter included) can be
decided whole or prompt by prompt; every decision can be undone, with a
reason of its own. With htmx the post's block is swapped for its new state
(or, once it leaves the tab shown, for a one-line "Decided: … Undo" row) and
the tab counts, the page title and the decision list follow out of band;
without JavaScript the same POST redirects back to the page, which shows that
row at the top of the list.
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
from votes import audit, audit_pages, selectors
from votes.models import Decision, TallyRun
from votes.views import access

TABS = (
    ("held", "Held back"),
    ("all", "All"),
    ("excluded", "Excluded"),
    ("mentions", "Mentions"),
    ("decided", "Decided"),
)


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


class UndoForm(forms.Form):
    decision = forms.IntegerField()
    reason = TextField(required=False, max_length=audit.REASON_MAX + 100)
    show = forms.ChoiceField(choices=TABS, required=False)


def _tab(value: str | None) -> str:
    return value if value in audit.SHOW else "held"


@login_required
@require_GET
@vary_on_headers("HX-Request")
def vote_audit(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """A page of one tab's posts with their readings; the `posts` partial for tabs and pages.

    `q` keeps a voter's posts (a name, or part of one) or one post (its number).
    """
    vote = access.vote_for_moderator(request, slug, number)
    template = "votes/audit.html"
    if request.htmx:
        template += "#posts"
    show, query = _tab(request.GET.get("show")), request.GET.get("q", "")[:150]
    context = _context(vote, show=show, query=query, page=request.GET.get("page"))
    context["decided_row"] = _decided_row(vote, request.GET.get("decided"), context)
    return render(request, template, context)


def _context(
    vote: Vote,
    *,
    show: str,
    query: str = "",
    page: str | None = None,
    with_items: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """The page's context: every tab's count, and only the shown page's posts built in full.

    `with_items=False` leaves the posts out (an answer to a decision shows one post only).
    """
    decisions = audit.decisions_for(vote)
    spec = selectors.vote_spec(vote)
    listed = audit_pages.listing(vote, decisions, show=show, query=query, page=page)
    pks = list(listed.page.object_list) if with_items else []
    items = audit.audit_posts(
        vote, spec=spec, decisions=decisions, show="all", pks=pks, tally_holds=listed.holds
    )
    return {
        "quest": vote.chapter.quest,
        "chapter": vote.chapter,
        "vote": vote,
        "show": show,
        "q": listed.query,
        "page": listed.page,
        "tabs": [(value, label, listed.counts[value]) for value, label in TABS],
        "held_count": listed.counts["held"],
        "items": items,
        "decisions": decisions,
        "undone": audit.undone_ids(decisions),
        "prompts": spec.prompts,
        "spec": spec,
        "accepted_reason": audit.ACCEPTED_REASON,
        "can_decide": True,
        **extra,
    }


def _decided_row(vote: Vote, pk: str | None, context: dict[str, Any]) -> Decision | None:
    """The decision just made without JavaScript, when its post has left the tab shown."""
    if not pk or not pk.isdigit():
        return None
    decision = next((d for d in context["decisions"] if d.pk == int(pk)), None)
    if decision is None or decision.pk in context["undone"]:
        return None  # a stale link: undone since
    if any(i.post.pk == decision.post_id for i in context["items"]):
        return None  # the post is listed in full, its decision with it
    return decision


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote_decide(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """Record a ruling on one post; answer with its block (htmx) or go back to the page."""
    vote = access.vote_for_moderator(request, slug, number)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _refused(request, vote, form, ("letters", "text", "proxy", "reason"))
    post = get_object_or_404(Post, quest=vote.chapter.quest, ref=form.cleaned_data["post"])
    show = _tab(form.cleaned_data["show"])
    try:
        decision = audit.decision_record(
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
        return _answer(request, vote, post, show, errors=[str(m) for m in e.messages])
    return _answer(request, vote, post, show, decision=decision)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote_undo(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """Take back a decision, with its own reason; answer as `vote_decide` does."""
    vote = access.vote_for_moderator(request, slug, number)
    form = UndoForm(request.POST)
    if not form.is_valid():
        return _refused(request, vote, form, ("reason",))
    target = get_object_or_404(
        Decision.objects.select_related("post"), vote=vote, pk=form.cleaned_data["decision"]
    )
    show = _tab(form.cleaned_data["show"])
    try:
        undo = audit.decision_undo(
            decision=target, reason=form.cleaned_data["reason"], by=request.user
        )
    except ValidationError as e:
        return _answer(request, vote, target.post, show, errors=[str(m) for m in e.messages])
    return _answer(request, vote, target.post, show, decision=undo)


def _refused(
    request: HtmxHttpRequest, vote: Vote, form: forms.Form, fields: tuple[str, ...]
) -> HttpResponse:
    """A form that did not validate: what was wrong with its texts, by the post if known."""
    said = [str(e) for name in fields for e in form.errors.get(name, [])]
    errors = said or ["The decision form was incomplete; try again."]
    show = _tab(form.cleaned_data.get("show"))
    post = None
    if isinstance(form, DecisionForm) and form.cleaned_data.get("post"):
        post = Post.objects.filter(quest=vote.chapter.quest, ref=form.cleaned_data["post"]).first()
    elif isinstance(form, UndoForm) and form.cleaned_data.get("decision"):
        target = Decision.objects.filter(vote=vote, pk=form.cleaned_data["decision"]).first()
        post = target.post if target is not None else None
    return _answer(request, vote, post, show, errors=errors)


def _answer(
    request: HtmxHttpRequest,
    vote: Vote,
    post: Post | None,
    show: str,
    *,
    errors: list[str] | None = None,
    decision: Decision | None = None,
) -> HttpResponse:
    """After a decision or an undo: the post's new block and what changed around it.

    htmx: the post's block, or the one-line decided row once the post has left
    the tab; out of band, the tab counts, the title and the decision list.
    Otherwise (or for a post outside the window): back to the page, saying so.
    """
    errors = errors or []
    undoing = decision is not None and decision.action == Decision.Action.UNDO
    done = "Decision undone" if undoing else "Decision recorded"
    if request.htmx and post is not None:
        context = _context(vote, show=show, with_items=False, errors=errors, decision=decision)
        found = audit.audit_posts(
            vote, spec=context["spec"], decisions=context["decisions"], show="all", ref=post.ref
        )
        if found:
            item = found[0]
            context |= {"item": item, "done": None if errors else done}
            context["gone"] = not errors and not item.in_tab(show)
            return render(request, "votes/audit.html#answer", context)
    for error in errors:
        messages.error(request, error)
    if not errors:
        messages.success(request, f"{done}; the tally is being recounted.")
    query = f"?show={show}"
    if decision is not None and not undoing:
        query += f"&decided={decision.pk}"
    url = reverse("vote-audit", args=[vote.chapter.quest.slug, vote.chapter.number])
    return redirect(url + query + (f"#post-{post.ref}" if post else ""))


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
