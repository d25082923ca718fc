"""Pages for chapters and their votes: reading, writing, publishing, running the window.

Every view finds its objects through one `_get_*_for_<role>` helper below (the
quest through quest/access.py's `quest_for_reader`, as every app's pages do),
so the access rule for a page is the first thing it does and lives in one line.
The rules themselves are in chapters.permissions.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from chapters import permissions, selectors, services
from chapters.detect import detect_prompts
from chapters.forms import (
    ChapterForm,
    ChapterPreviewForm,
    PromptsForm,
    VoteCloseForm,
    VotePasteForm,
    VoteSettingsForm,
    VoteWindowForm,
    detection_prompts,
)
from chapters.models import Chapter, Vote
from chapters.prompts import PromptData
from quest import bbcode, ratelimit, registry
from quest.access import quest_for_reader
from quest.http import AuthenticatedHttpRequest, HtmxHttpRequest
from quest.middleware import shows_quest
from quest.models import Quest

BALLOTS_EXIST_WARNING = "Ballots exist: changing prompts re-reads every post in the window"
NOTHING_DETECTED = (
    'No prompts found. A prompt is a numbered line ("1. …") with its lettered options '
    '("A) …") on the lines under it; a numbered line with no options is a write-in; '
    '"[ ] …" lines (under a question or a "Vote:" heading) are a vote with [X] lines.'
)


# --- Access helpers ------------------------------------------------------------


def _get_quest_for_quest_master(request: HttpRequest, slug: str) -> Quest:
    quest = quest_for_reader(request, slug)
    if not permissions.can_write_chapter(request.user, quest):
        raise PermissionDenied("Only the quest master can write chapters.")
    return quest


def _get_chapter_for_reader(request: HttpRequest, slug: str, number: int) -> Chapter:
    chapter = get_object_or_404(
        Chapter.objects.select_related("quest", "post"), quest__slug=slug, number=number
    )
    # Drafts do not exist for anyone but the quest master.
    if not permissions.can_read_chapter(request.user, chapter):
        raise Http404("No such chapter.")
    shows_quest(request, chapter.quest)
    return chapter


def _get_chapter_for_quest_master(request: HttpRequest, slug: str, number: int) -> Chapter:
    chapter = _get_chapter_for_reader(request, slug, number)
    if not permissions.can_write_chapter(request.user, chapter.quest):
        raise PermissionDenied("Only the quest master can change chapters.")
    return chapter


def _get_vote_for_quest_master(request: HttpRequest, slug: str, number: int) -> Vote:
    chapter = _get_chapter_for_reader(request, slug, number)
    if not permissions.can_run_vote(request.user, chapter.quest):
        raise PermissionDenied("Only the quest master can run the vote.")
    return _vote_of(chapter)


def _get_vote_for_moderator(request: HttpRequest, slug: str, number: int) -> Vote:
    chapter = _get_chapter_for_reader(request, slug, number)
    if not permissions.can_see_vote_events(request.user, chapter.quest):
        raise PermissionDenied("Only the quest's staff can see the vote's record.")
    return _vote_of(chapter)


def _vote_of(chapter: Chapter) -> Vote:
    vote = Vote.objects.filter(chapter=chapter).first()
    if vote is None:
        raise Http404("This chapter has no vote.")
    vote.chapter = chapter  # already loaded, with its quest
    return vote


# --- Reading -------------------------------------------------------------------


@require_GET
def chapter_index(request: HttpRequest, slug: str) -> HttpResponse:
    """Threadmarks: the published chapters in order, with each vote's state."""
    quest = quest_for_reader(request, slug)
    can_write = permissions.can_write_chapter(request.user, quest)
    chapters = selectors.chapters_for_index(quest=quest, with_drafts=can_write)
    return render(
        request,
        "chapters/index.html",
        {"quest": quest, "chapters": chapters, "can_write": can_write},
    )


@require_GET
@vary_on_headers("HX-Request")
def chapter_detail(request: HtmxHttpRequest, slug: str, number: int) -> HttpResponse:
    chapter = _get_chapter_for_reader(request, slug, number)
    template_name = "chapters/detail.html"
    if request.htmx:
        template_name += "#vote"
    return render(request, template_name, _detail_context(request, chapter))


def _detail_context(request: HtmxHttpRequest, chapter: Chapter, **forms: Any) -> dict[str, Any]:
    user, quest = request.user, chapter.quest
    vote = selectors.vote_with_prompts(chapter)
    can_run_vote = permissions.can_run_vote(user, quest)
    previous, following = selectors.chapter_neighbours(
        chapter, with_drafts=permissions.can_see_drafts(user, quest)
    )
    context: dict[str, Any] = {
        "quest": quest,
        "chapter": chapter,
        "vote": vote,
        "previous": previous,
        "following": following,
        # The chapter whose vote this one carries on from (its results open it).
        "follows": chapter.follows_vote.chapter if chapter.follows_vote is not None else None,
        "can_write": permissions.can_write_chapter(user, quest),
        "can_publish": permissions.can_publish(user, chapter),
        "can_run_vote": can_run_vote,
        # The votes app's part of the page (how to vote, the live tally),
        # once the vote is in the thread.
        "votes_panel": vote is not None and vote.post_id is not None,
        "events": None,
    }
    if vote is not None and context["votes_panel"] and not request.htmx:
        # What is counted for you, shown with the page (the tally's poll keeps it current).
        vote.chapter = chapter  # already loaded, with its quest
        context["ballot_panel"] = registry.ballot_panel(vote=vote, user=user)
    if not request.htmx:  # the #vote partial does not show the chapter's text
        context["body_html"] = bbcode.render(chapter.body, post_url=_post_url(quest))
    if vote is not None and permissions.can_see_vote_events(user, quest):
        context["events"] = list(selectors.vote_events(vote))
    if vote is not None and can_run_vote:
        context["close_form"] = forms.get("close_form") or VoteCloseForm()
        context["extend_form"] = forms.get("extend_form") or VoteWindowForm(prefix="extend")
        context["reopen_form"] = forms.get("reopen_form") or VoteWindowForm(prefix="reopen")
    return context


def _post_url(quest: Quest) -> Callable[[int], str]:
    return lambda ref: reverse("post-permalink", args=[quest.slug, ref])


@login_required
@require_GET
def vote_events(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The vote's record: who opened, closed, extended or reopened it, when and why."""
    vote = _get_vote_for_moderator(request, slug, number)
    return render(
        request,
        "chapters/vote_events.html",
        {
            "quest": vote.chapter.quest,
            "chapter": vote.chapter,
            "vote": vote,
            "events": selectors.vote_events(vote),
        },
    )


# --- Writing -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@ratelimit.rate_limited("create")
def chapter_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    quest = _get_quest_for_quest_master(request, slug)
    form = ChapterForm(request.POST or None, quest=quest)
    if request.method == "POST" and form.is_valid():
        try:
            chapter = services.chapter_create(
                quest=quest,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                by=request.user,
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, f"Chapter {chapter.number} saved as a draft.")
            return redirect("chapter-edit", quest.slug, chapter.number)
    return render(
        request, "chapters/chapter_form.html", {"quest": quest, "chapter": None, "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def chapter_edit(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    chapter = _get_chapter_for_quest_master(request, slug, number)
    initial = {"title": chapter.title, "body": chapter.body}
    form = ChapterForm(request.POST or None, initial=initial, quest=chapter.quest)
    if request.method == "POST" and form.is_valid():
        try:
            services.chapter_update(
                chapter=chapter,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                by=request.user,
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            if chapter.is_published:
                messages.success(request, "Chapter saved; its post in the thread is updated.")
                return redirect(chapter)
            messages.success(request, "Draft saved.")
            return redirect("chapter-edit", chapter.quest.slug, chapter.number)
    return render(
        request,
        "chapters/chapter_form.html",
        {
            "quest": chapter.quest,
            "chapter": chapter,
            "form": form,
            "can_publish": permissions.can_publish(request.user, chapter),
            "preview_html": bbcode.render(chapter.body) if chapter.body else "",
            # The vote is built on its own page (vote-prompts), which creates it on save.
            "vote": selectors.vote_with_prompts(chapter),
        },
    )


@login_required
@require_POST
@ratelimit.rate_limited("preview")
def chapter_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The editor's live preview of a chapter's body, within the chapter's length limit."""
    quest = _get_quest_for_quest_master(request, slug)
    form = ChapterPreviewForm(request.POST, quest=quest)
    html = bbcode.render(form.cleaned_data["body"]) if form.is_valid() else ""
    return render(request, "quest/thread.html#preview", {"preview_html": html, "form": form})


@login_required
@require_POST
def chapter_publish(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    chapter = _get_chapter_for_quest_master(request, slug, number)
    try:
        services.chapter_publish(chapter=chapter, by=request.user)
    except ValidationError as e:
        for message in e.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Chapter {chapter.number} is published in the thread.")
    return redirect("chapter-detail", chapter.quest.slug, chapter.number)


# --- Building the vote -----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def vote_prompts(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """Build the vote's prompts in a form: add, remove and move prompts and options.

    Every button posts the whole form, so typed input survives without
    JavaScript; with htmx only the builder is swapped. Only "Save" writes.
    """
    chapter = _get_chapter_for_quest_master(request, slug, number)
    vote = selectors.vote_with_prompts(chapter)
    if request.method == "GET":
        builder = PromptsForm.from_prompts(selectors.prompt_data(vote) if vote else [])
        settings_form = VoteSettingsForm.for_vote(vote)
        return _render_vote_form(request, chapter, vote, builder, settings_form)

    builder = PromptsForm.from_post(request.POST)
    op = request.POST.get("op", "save")
    if op != "save":
        builder.apply(op)
        template_name = "chapters/vote_form.html"
        if request.htmx:
            template_name += "#builder"
        context = _vote_form_context(chapter, vote, builder, VoteSettingsForm.for_vote(vote))
        return render(request, template_name, context)

    settings_form = VoteSettingsForm.for_vote(vote, data=request.POST)
    prompts = builder.prompts()
    if settings_form.is_valid() and prompts is not None:
        saved = _save_prompts(request, chapter, prompts, settings_form)
        if saved:
            return redirect(chapter)
    return _render_vote_form(request, chapter, vote, builder, settings_form)


def _save_prompts(
    request: AuthenticatedHttpRequest,
    chapter: Chapter,
    prompts: list[PromptData],
    settings_form: VoteSettingsForm,
) -> bool:
    try:
        services.vote_prompts_set(
            chapter=chapter,
            prompts=prompts,
            by=request.user,
            closes_at=settings_form.cleaned_data["closes_at"],
            opens_at=settings_form.cleaned_data["opens_at"],
            results_visibility=settings_form.cleaned_data["results_visibility"],
            ranked_method=settings_form.cleaned_data["ranked_method"] or Vote.RankedMethod.SCHULZE,
        )
    except ValidationError as e:
        settings_form.add_error(None, e)
        return False
    messages.success(request, "The vote's prompts are saved.")
    return True


def _vote_form_context(
    chapter: Chapter, vote: Vote | None, builder: PromptsForm, settings_form: VoteSettingsForm
) -> dict[str, Any]:
    return {
        "quest": chapter.quest,
        "chapter": chapter,
        "vote": vote,
        "builder": builder,
        "settings_form": settings_form,
        "ballots_exist": vote is not None and vote.readings.exists(),
        "ballots_exist_warning": BALLOTS_EXIST_WARNING,
    }


def _render_vote_form(
    request: HttpRequest,
    chapter: Chapter,
    vote: Vote | None,
    builder: PromptsForm,
    settings_form: VoteSettingsForm,
) -> HttpResponse:
    context = _vote_form_context(chapter, vote, builder, settings_form)
    return render(request, "chapters/vote_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def vote_paste(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    """Paste a forum vote block, check what was detected, then save it.

    Step 1 (`op=detect`) shows the detected prompts; step 2 (`op=save`) posts
    the same text back and detects it again, so what is saved is exactly what
    was shown, with nothing carried in hidden structures a browser could alter.
    """
    chapter = _get_chapter_for_quest_master(request, slug, number)
    vote = selectors.vote_with_prompts(chapter)
    saving = request.POST.get("op") == "save"
    form = VotePasteForm(request.POST or None)
    # The detect step shows the settings unbound: nothing about them was submitted yet.
    settings_form = VoteSettingsForm.for_vote(vote, data=request.POST if saving else None)
    detection = None
    if request.method == "POST" and form.is_valid():
        detection = detect_prompts(form.cleaned_data["text"])
        if not detection.prompts:
            form.add_error("text", NOTHING_DETECTED)
        elif saving and detection.ok and settings_form.is_valid():
            prompts = detection_prompts(detection)
            if _save_prompts(request, chapter, prompts, settings_form):
                return redirect(chapter)
    return render(
        request,
        "chapters/vote_paste.html",
        {
            "quest": chapter.quest,
            "chapter": chapter,
            "vote": vote,
            "form": form,
            "settings_form": settings_form,
            "detection": detection,
            "builder": PromptsForm.from_detection(detection) if detection else None,
            "ballots_exist": vote is not None and vote.readings.exists(),
            "ballots_exist_warning": BALLOTS_EXIST_WARNING,
        },
    )


# --- Running the window ------------------------------------------------------------


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote_close(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    vote = _get_vote_for_quest_master(request, slug, number)
    form = VoteCloseForm(request.POST)
    if not form.is_valid():
        return _render_vote_state(request, vote.chapter, close_form=form)
    closed = services.vote_close(vote=vote, by=request.user, reason=form.cleaned_data["reason"])
    if closed:
        messages.success(request, "The vote is closed.")
    else:
        messages.info(request, "The vote was not open.")
    return _vote_state_response(request, vote.chapter)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote_extend(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    vote = _get_vote_for_quest_master(request, slug, number)
    return _change_window(request, vote, services.vote_extend, "extend", "The vote is extended.")


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote_reopen(request: AuthenticatedHttpRequest, slug: str, number: int) -> HttpResponse:
    vote = _get_vote_for_quest_master(request, slug, number)
    return _change_window(request, vote, services.vote_reopen, "reopen", "The vote is open again.")


def _change_window(
    request: AuthenticatedHttpRequest,
    vote: Vote,
    service: Callable[..., Vote],
    prefix: str,
    done: str,
) -> HttpResponse:
    form = VoteWindowForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            service(
                vote=vote,
                closes_at=form.cleaned_data["closes_at"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, done)
            return _vote_state_response(request, vote.chapter)
    return _render_vote_state(request, vote.chapter, **{f"{prefix}_form": form})


def _vote_state_response(request: HtmxHttpRequest, chapter: Chapter) -> HttpResponse:
    if request.htmx:
        return _render_vote_state(request, chapter)
    return redirect(chapter)


def _render_vote_state(request: HtmxHttpRequest, chapter: Chapter, **forms: Any) -> HttpResponse:
    """The chapter page again (or its #vote partial for htmx), showing a form's errors."""
    template_name = "chapters/detail.html"
    if request.htmx:
        template_name += "#vote"
    return render(request, template_name, _detail_context(request, chapter, **forms))
