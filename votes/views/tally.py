"""The tally as people see it: a live partial, JSON, BBCode and CSV."""

import contextlib
import hashlib
from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import condition, require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling
from redis.exceptions import RedisError

from chapters.kinds import PassRule
from chapters.models import Vote
from quest import visibility
from quest.forms import TextField
from quest.http import AuthenticatedHttpRequest, HtmxHttpRequest
from quest.permissions import can_manage, can_moderate
from votes import entry_merges, poll, selectors, services
from votes.ballots_export import ballot_csv_lines
from votes.importers.follow import as_of_bbcode, forum_as_of
from votes.models import EntryMerge, TallyRun
from votes.permissions import can_see_results
from votes.tally import (
    TOP_RULE,
    Call,
    Tally,
    pass_rule_text,
    passing,
    results,
    tied_options,
)
from votes.views import access
from votes.views.voters import first_of, first_voters

POLL_SECONDS = 3
_NOT_READ = object()
NOT_COUNTED_YET = "The first count of this vote is under way; try again in a few seconds."


class OutcomeForm(forms.Form):
    """One of the quest master's calls: pick among tied options, adopt or withdraw a write-in."""

    prompt = forms.IntegerField(min_value=1)
    letters = forms.MultipleChoiceField(
        required=False, choices=[(c, c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    )
    write_in = TextField(required=False, max_length=20_000)
    withdraw = TextField(required=False, max_length=20_000)
    reason = TextField(required=False, max_length=500)


def _etag(request: HttpRequest, slug: str, number: int) -> str | None:
    # The tally's hash plus who is looking: the same tally renders differently
    # for staff and for a player who has not voted yet. None before the first
    # count, so every poll looks again.
    # The quest master sees buttons for their calls that moderators do not.
    # The partial and the page differ too: Chromium revalidates a cached polled
    # partial when the page itself is opened (a Vary mismatch), and a shared
    # ETag would answer 304 and show the bare partial as the page.
    # A poll's ETag is remembered under the vote's stamp, read before any row,
    # so the next poll can be answered 304 without the view (votes/poll.py).
    token = poll.stamp(slug, number) if poll.is_poll(request) else None
    if token is not None and poll.is_reader_poll(request):
        # Read before the quest row too: a reader partial kept for everyone records it (5.).
        request.tally_visibility = visibility.token(slug)  # type: ignore[attr-defined]  # before the quest row
    vote = _vote(request, slug, number)
    run = selectors.latest_tally(vote)
    request.tally_run = run  # type: ignore[attr-defined]  # the view shows the run the ETag names
    if run is None:
        return None
    if messages.get_messages(request):
        return None  # a message waits to be shown (len() does not consume it): no 304
    role = _viewer_role(request, vote)
    viewer = f"{run.sha256}:{run.is_final}:{can_see_results(request.user, vote)}:{role}"
    if selectors.tally_is_behind(vote, run):
        # Shown "recounting…" until the recount stores its run (which moves the
        # stamp); a recount whose message was lost is sent again from here.
        viewer += ":behind"
        services.vote_recount_nudge(vote=vote)
    if run.is_final:
        # The quest master's calls (a tie's pick, adopted write-ins) show on a closed vote's page.
        viewer += ":" + selectors.calls_digest(vote)
    if role != "reader":
        # Staff see the standing write-in merges, one that counts nothing included.
        viewer += ":" + selectors.merges_digest(vote)
    viewer += ":partial" if request.headers.get("HX-Request") else ":page"
    if followed := forum_as_of(vote.chapter.quest):  # "as of forum post #N, fetched at T"
        viewer += f":{followed.last_post_id}:{followed.last_fetched_at}"
    if _with_panel(request):  # the poll brings the player's panel: their ballot changes it too
        viewer += ":" + selectors.ballot_version(vote=vote, user=request.user)
    etag = hashlib.sha256(viewer.encode()).hexdigest()[:32]
    if token is not None:
        private = not vote.chapter.quest.is_public
        poll.remember(request, slug, number, token=token, etag=etag, private=private)
        request.tally_stamp = token  # type: ignore[attr-defined]  # keys the rendered partial
        request.tally_etag = etag  # type: ignore[attr-defined]  # sent with a kept reader partial
    return etag


def _vote(request: HttpRequest, slug: str, number: int) -> Vote:
    """`access.vote_for_reader`, once per request: the ETag check and the view both need it."""
    vote = getattr(request, "tally_vote", None)
    if vote is None:
        vote = access.vote_for_reader(request, slug, number)
        request.tally_vote = vote  # type: ignore[attr-defined]  # loaded once per request
    return vote


def _with_panel(request: HttpRequest) -> bool:
    """Whether the chapter page's poll asks for the player's "Your ballot" panel too."""
    return request.headers.get("HX-Request") == "true" and request.GET.get("with") == "ballot"


@require_GET
@vary_on_headers("HX-Request", "Cookie")
@condition(etag_func=_etag)
def chapter_tally(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """The live tally: a page, or (for htmx polling) just its `tally` partial.

    Polling revalidates with the ETag, so an unchanged tally costs a 304
    (usually answered before this view, votes/poll.py); once the vote is
    closed and its tally final, polling stops. The page only reads: a tally
    found behind is shown as stored, marked "recounting…".
    """
    vote = _vote(request, slug, number)
    if request.htmx:
        context = _poll_context(request, vote)
        template = "votes/tally.html#tally"
    else:
        context = _tally_context(request, vote)
        template = "votes/tally.html"
    response = render(request, template, context)
    if request.htmx and context["final"]:
        # @condition adds the ETag to whatever the view returns.
        return HttpResponseStopPolling(response.content)
    return response


def _poll_context(request: HtmxHttpRequest, vote: Vote) -> dict[str, Any]:
    """The partial's context, its shared part rendered once per stamp for all readers.

    A rush's pollers all ask for the new tally after each recount; readers
    (not staff: their partial holds forms with their CSRF token) see the same
    HTML for the same stamp, run and visibility, so it is rendered once and
    kept. Only the player's own panel is built per poll.
    """
    token = getattr(request, "tally_stamp", None)
    if token is None or _viewer_role(request, vote) != "reader":
        return _tally_context(request, vote)
    run, recounting = _stored_tally(vote, request)
    visible = can_see_results(request.user, vote)
    followed = forum_as_of(vote.chapter.quest)
    shape = [
        vote.pk,
        token,
        run.pk if run else None,
        run.is_final if run else None,
        recounting,
        visible,
        vote.status,
        _with_panel(request),
        (followed.last_post_id, str(followed.last_fetched_at)) if followed else None,
        request.COOKIES.get("tz", ""),  # its times are shown in the viewer's zone
    ]
    key = "votes:tally-html:" + hashlib.sha256(repr(shape).encode()).hexdigest()[:32]
    try:
        kept = cache.get(key)
    except RedisError:
        kept = None
    if kept is None:
        context = _tally_context(request, vote)
        html = render_to_string("votes/tally.html#tally_live", context, request)
        with contextlib.suppress(RedisError):  # if not, rendered again next time
            cache.set(key, (html, context["final"]), poll.REMEMBER_SECONDS)
    else:
        html, final = kept
        context = {"quest": vote.chapter.quest, "final": final}
        if _with_panel(request):
            context["ballot_panel"] = selectors.ballot_panel(vote=vote, user=request.user)
    shown = getattr(request, "tally_visibility", None)
    if shown is not None and poll.is_reader_poll(request) and _same_for_every_reader(vote):
        poll.share(
            request,
            vote.chapter.quest.slug,
            vote.chapter.number,
            token=token,
            visibility=shown,
            etag=request.tally_etag,  # type: ignore[attr-defined]  # set by the ETag check
            html=html,
            final=context["final"],
        )
    return {**context, "tally_live": mark_safe(html)}  # rendered above, escaped


def _same_for_every_reader(vote: Vote) -> bool:
    """Whether every reader of `vote` who is not staff sees the same partial (votes/poll.py 5.).

    From the quest row read after the visibility token was: a quest made
    private meanwhile is seen private here, or moves the token past the entry.
    """
    if not vote.chapter.quest.is_public:
        return False  # members only: every poll goes through the access check
    # "Once you have voted" differs between those who have and those who have not.
    return vote.is_closed or vote.results_visibility != Vote.Visibility.AFTER_VOTING


def _viewer_role(request: HttpRequest, vote: Vote) -> str:
    quest = vote.chapter.quest
    if can_manage(request.user, quest):
        return "quest_master"
    return "staff" if can_moderate(request.user, quest) else "reader"


def _tally_context(
    request: HttpRequest, vote: Vote, *, notice: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the tally page and its partial show; `notice` says what a call just did."""
    run, recounting = _stored_tally(vote, request)
    visible = can_see_results(request.user, vote)
    is_staff = can_moderate(request.user, vote.chapter.quest)
    shown = visible and run is not None
    # Links for the voters the page names only: the first few of each option.
    links = selectors.answer_posts(vote, voters=first_voters(run.data)) if shown and run else {}
    final = run is not None and run.is_final and not recounting
    calls = selectors.calls(vote) if final and shown else {}
    return {
        "quest": vote.chapter.quest,
        "chapter": vote.chapter,
        "vote": vote,
        "run": run,
        "tally": _for_display(run.data, links, vote, calls) if shown and run else None,
        "visible": visible,
        "recounting": recounting,
        "is_staff": is_staff,
        "final": final,
        "poll_seconds": POLL_SECONDS,
        "can_manage": can_manage(request.user, vote.chapter.quest),
        "results": _results_for_display(run.data, calls) if final and run else [],
        # Staff merge write-in entries, or split them again, under each write-in prompt.
        "merging": (
            entry_merges.merges_shown(vote, run.data, recounting=recounting)
            if is_staff and shown and run
            else {}
        ),
        "forum_as_of": forum_as_of(vote.chapter.quest),  # the thread the quest follows, if any
        "notice": notice,
        # How the vote moved: drawn from the stored runs, shown with the tally.
        "movement": selectors.tally_movement(vote) if shown else [],
        # Staff poll the plain URL; a reader's poll may be answered with the partial
        # kept for every reader (votes/poll.py 5.); a page opened before the panel
        # polled apart asks for it with the tally (`?with=ballot`) and gets it so.
        "poll_query": (
            "?with=ballot"
            if _with_panel(request)
            else ""
            if is_staff or can_manage(request.user, vote.chapter.quest)
            else f"?as={poll.READER}"
        ),
        "ballot_panel": (
            selectors.ballot_panel(vote=vote, user=request.user) if _with_panel(request) else None
        ),
    }


def _stored_tally(vote: Vote, request: HttpRequest | None = None) -> tuple[TallyRun | None, bool]:
    """The latest stored tally, and whether it is behind; if so a recount is asked for.

    With `request`, the run its ETag was computed from, if it was.
    """
    kept = getattr(request, "tally_run", _NOT_READ)
    run = selectors.latest_tally(vote) if kept is _NOT_READ else cast(TallyRun | None, kept)
    behind = selectors.tally_is_behind(vote, run)
    if behind:
        services.vote_recount_nudge(vote=vote)
    return run, behind


def _for_display(tally: Tally, links: dict, vote: Vote, calls: Mapping[int, Call]) -> dict:
    """The tally JSON with bar widths, voter links, ties and passing options for the template."""
    prompts = []
    for p in tally["prompts"]:
        rows = p.get("options") or p.get("entries") or []
        top = max((r["votes"] for r in rows), default=0) or 1
        leaders = set(p.get("leaders") or [])
        rule = p.get("pass_rule", TOP_RULE)
        threshold = rule["kind"] != PassRule.TOP
        passes = set(passing(p)) if threshold else set()
        shown = []
        for r in rows:
            letter = r.get("letter")
            shown.append(
                {
                    **r,
                    **first_of(vote, p["number"], r, links),  # the rest on demand
                    "width": round(100 * r["votes"] / top),
                    "leads": letter in (passes if threshold else leaders),
                    "passes": letter in passes,
                }
            )
        call = calls.get(p["number"])
        prompts.append(
            {
                **p,
                "rows": shown,
                "tie": tied_options(p),
                "settled": list(call.letters) if call else [],
                "threshold": pass_rule_text(rule) if threshold else "",
            }
        )
    return {**tally, "prompts": prompts}


def _results_for_display(tally: Tally, calls: Mapping[int, Call]) -> list[dict]:
    """The results, each tied option with its text and whether it is the current pick."""
    out = []
    for r in results(tally, calls):
        texts = {o["letter"]: o["text"] for o in r["options"]}
        picked = {d["letter"] for d in r["decided"]}
        choices = [{"letter": x, "text": texts.get(x, ""), "chosen": x in picked} for x in r["tie"]]
        out.append({**r, "choices": choices, "settled": bool(r["tie"]) and not r["tied"]})
    return out


@require_GET
def chapter_tally_json(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    vote = access.vote_for_reader(request, slug, number)
    if not can_see_results(request.user, vote):
        return JsonResponse(
            {"error": "Results are hidden until you vote or the vote closes."}, status=403
        )
    run, _ = _stored_tally(vote)
    if run is None:
        return _not_counted_yet(json=True)
    # A closed vote's tally with the quest master's calls: settled ties, adopted write-ins.
    return JsonResponse(selectors.tally_document(vote, run), json_dumps_params={"indent": 1})


@require_GET
def chapter_tally_bbcode(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The tally as forum BBCode, voters linked to the posts that gave their answers."""
    vote = access.vote_for_reader(request, slug, number)
    if not can_see_results(request.user, vote):
        return HttpResponse("Results are hidden for now.", status=403, content_type="text/plain")
    run, _ = _stored_tally(vote)
    if run is None:
        return _not_counted_yet(json=False)
    text = selectors.tally_bbcode(vote, run=run, base_url=request.build_absolute_uri("/"))
    if followed := forum_as_of(vote.chapter.quest):
        text = f"{text.rstrip()}\n{as_of_bbcode(followed)}\n"
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


def _not_counted_yet(*, json: bool) -> HttpResponse:
    """A 503 with a retry hint: the vote's first recount has not stored a tally yet."""
    response: HttpResponse
    if json:
        response = JsonResponse({"error": NOT_COUNTED_YET}, status=503)
    else:
        response = HttpResponse(NOT_COUNTED_YET, status=503, content_type="text/plain")
    response["Retry-After"] = str(POLL_SECONDS)
    return response


@require_GET
def chapter_ballots_csv(
    request: HttpRequest, slug: str, number: int
) -> HttpResponse | StreamingHttpResponse:
    vote = access.vote_for_reader(request, slug, number)
    if not can_see_results(request.user, vote):
        return HttpResponse("Results are hidden for now.", status=403, content_type="text/plain")
    # Streamed from the stored ballots and the latest tally, as the page shows them.
    response = StreamingHttpResponse(ballot_csv_lines(vote), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{slug}-chapter-{number}-ballots.csv"'
    return response


@require_POST
def vote_outcome(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    """The quest master settles a tie (or changes the pick), adopts or withdraws a write-in.

    With htmx the answer is the tally partial, the decision and what the call
    did shown at once; without, a redirect to the page at that prompt's result.
    """
    vote = access.vote_for_quest_master(request, slug, number)
    user = request.user
    assert user.is_authenticated  # only the quest master gets past vote_for_quest_master
    form = OutcomeForm(request.POST)
    prompt = None
    if form.is_valid():
        prompt = form.cleaned_data["prompt"]
        try:
            text, ok = _outcome_apply(vote, form.cleaned_data, by=user), True
        except ValidationError as e:
            text, ok = " ".join(e.messages), False
    else:
        # A write-in that cannot be kept says why; anything else is a stale or forged form.
        refused = form.errors.get("write_in") or form.errors.get("reason")
        said = " ".join(str(e) for e in refused) if refused else "Choose an option or an entry."
        text, ok = said, False
    if request.htmx:
        notice = {"prompt": prompt, "text": text, "ok": ok}
        context = _tally_context(request, vote, notice=notice)
        if prompt not in {r["number"] for r in context["results"]}:
            notice["prompt"] = None  # no result to show it by: shown above the tally
        return render(request, "votes/tally.html#tally", context)
    (messages.success if ok else messages.error)(request, text)
    url = reverse("chapter-tally", args=[slug, number])
    return redirect(f"{url}#result-{prompt}" if prompt else url)


def _outcome_apply(vote: Vote, data: dict[str, Any], *, by: User) -> str:
    """Make the call the form asks for; what it did, in words."""
    prompt, reason = data["prompt"], data["reason"]
    if data["withdraw"]:
        services.write_in_withdraw(
            vote=vote, prompt=prompt, text=data["withdraw"], by=by, reason=reason
        )
        return f"Prompt {prompt}: “{_short(data['withdraw'])}” is no longer adopted."
    if data["write_in"]:
        services.write_in_adopt(
            vote=vote, prompt=prompt, text=data["write_in"], by=by, reason=reason
        )
        return f"Prompt {prompt}: adopted “{_short(data['write_in'])}”."
    change = services.outcome_pick(
        vote=vote, prompt=prompt, letters=data["letters"], by=by, reason=reason
    )
    picked = ", ".join(change.outcome.letters)
    if change.changed:
        return f"Prompt {prompt}: changed from {', '.join(change.was)} to {picked}."
    if change.was:
        return f"Prompt {prompt}: {picked} was already the decision; nothing changed."
    return f"Prompt {prompt}: decided {picked}."


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


@require_POST
def next_chapter(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """ "Write the next chapter": a draft that opens with this vote's results."""
    vote = access.vote_for_quest_master(request, slug, number)
    user = request.user
    assert user.is_authenticated  # only the quest master gets past vote_for_quest_master
    try:
        draft = services.next_chapter_start(vote=vote, by=user)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect("chapter-tally", slug, number)
    return redirect("chapter-edit", slug, draft.number)


# --- Merging write-in entries (votes/entry_merges.py) ------------------------------


class EntryMergeForm(forms.Form):
    """Merge two entries of a write-in prompt; `keep` says whose wording names them."""

    prompt = forms.IntegerField(min_value=1)
    # As the entries read in the tally, spaces included: they are matched exactly.
    a = TextField(required=False, strip=False, max_length=20_000)
    b = TextField(required=False, strip=False, max_length=20_000)
    keep = forms.ChoiceField(choices=[("a", "a"), ("b", "b")])
    reason = TextField(required=False, max_length=entry_merges.REASON_MAX + 100)


class EntrySplitForm(forms.Form):
    """Undo a merge: the entry merged away counts on its own again."""

    merge = forms.IntegerField()
    reason = TextField(required=False, max_length=entry_merges.REASON_MAX + 100)


@login_required
@require_POST
def entry_merge(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """A moderator merges two write-in entries: the tally partial (htmx), or back to the page."""
    vote = access.vote_for_moderator(request, slug, number)
    form = EntryMergeForm(request.POST)
    if not form.is_valid():
        return _merge_answer(request, vote, None, _form_problem(form), ok=False)
    data = form.cleaned_data
    kept, merged = (data["a"], data["b"]) if data["keep"] == "a" else (data["b"], data["a"])
    try:
        entry_merges.entry_merge(
            vote=vote,
            prompt=data["prompt"],
            merged=merged,
            kept=kept,
            reason=data["reason"],
            by=request.user,
        )
    except ValidationError as e:
        return _merge_answer(request, vote, data["prompt"], " ".join(e.messages), ok=False)
    said = f"“{_short(merged)}” is merged into “{_short(kept)}”: counted as one entry."
    return _merge_answer(request, vote, data["prompt"], said, ok=True)


@login_required
@require_POST
def entry_split(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """A moderator undoes a merge, saying why; answered as `entry_merge` is."""
    vote = access.vote_for_moderator(request, slug, number)
    form = EntrySplitForm(request.POST)
    if not form.is_valid():
        return _merge_answer(request, vote, None, _form_problem(form), ok=False)
    merge = EntryMerge.objects.filter(vote=vote, pk=form.cleaned_data["merge"]).first()
    if merge is None:
        return _merge_answer(request, vote, None, "There is no such merge.", ok=False)
    try:
        entry_merges.entry_merge_undo(
            merge=merge, reason=form.cleaned_data["reason"], by=request.user
        )
    except ValidationError as e:
        return _merge_answer(request, vote, merge.prompt, " ".join(e.messages), ok=False)
    said = f"“{_short(merge.merged)}” is split from “{_short(merge.kept)}”: counted on its own."
    return _merge_answer(request, vote, merge.prompt, said, ok=True)


def _form_problem(form: forms.Form) -> str:
    """What was wrong with a merge form's texts; anything else is a stale or forged form."""
    said = [str(e) for name in ("a", "b", "reason") for e in form.errors.get(name, [])]
    return " ".join(said) or "Choose the two entries to merge."


def _merge_answer(
    request: HtmxHttpRequest, vote: Vote, prompt: int | None, text: str, *, ok: bool
) -> HttpResponse:
    """The tally partial with what was done said by the prompt (htmx), or the page with a message.

    The tally shown may be the one before the merge: it says "recounting…" and
    polls until the recount the merge asked for is stored.
    """
    slug, number = vote.chapter.quest.slug, vote.chapter.number
    if request.htmx:
        # Loaded again: the recount the merge asked for is to show as under way.
        context = _tally_context(request, access.vote_for_reader(request, slug, number))
        said = {"prompt": prompt, "text": text, "ok": ok}
        if prompt in context["merging"]:
            context["merge_notice"] = said  # by the write-in prompt's merges
        else:
            context["notice"] = {**said, "prompt": None}  # above the tally
        return render(request, "votes/tally.html#tally", context)
    (messages.success if ok else messages.error)(request, text)
    url = reverse("chapter-tally", args=[slug, number])
    return redirect(f"{url}#tp-{prompt}" if prompt else url)
