"""Pages for quests and the thread: home, accounts, reading, posting, staff.

Every view finds its objects through one helper of quest/access.py
(`access.quest_for_<role>`, `access.post_for_<role>`), so the access rule for a
page is the first thing it does and lives in one line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from quest import access, bbcode, ratelimit, registry, selectors, services
from quest.forms import AppointModeratorForm, InviteMembersForm, PostForm, QuestForm, SignupForm
from quest.http import AuthenticatedHttpRequest, HtmxHttpRequest
from quest.middleware import shows_quest
from quest.models import Membership, Post, Quest, QuestEvent
from quest.permissions import (
    can_manage,
    can_moderate,
    can_post,
    is_member,
)

User = get_user_model()
csp_logger = logging.getLogger("quest.csp")

# A browser's violation report is well under 2 KB; anything much larger is not one.
CSP_REPORT_MAX_BYTES = 16_384


# --- Home and accounts ------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    page = selectors.home_page(request.GET.get("page"), user=request.user)
    for quest in page:  # the list a member sees names the private quests they are in
        shows_quest(request, quest)
    return render(request, "quest/home.html", {"page": page, "demo": selectors.demo_quest()})


@require_http_methods(["GET", "POST"])
@ratelimit.rate_limited("signup", key=ratelimit.address)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}! You are signed in.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


_login_page = LoginView.as_view()


@require_http_methods(["GET", "POST"])
def log_in(request: HtmxHttpRequest) -> HttpResponseBase:
    """Django's log-in page, refused for a while after too many wrong passwords.

    Counted per username (guessing one account's password) and per address
    (trying one password on many accounts). Only failures count, so logging in
    often is never limited; and once limited even the right password is
    refused, or guessing on would still tell a guesser when they were right.
    """
    if request.method != "POST":
        return _login_page(request)
    counters = [
        ("login_account", ratelimit.account(request.POST.get("username", ""))),
        ("login_address", ratelimit.address(request)),
    ]
    for kind, who in counters:
        retry_after = ratelimit.wait(kind, who)
        if retry_after is not None:
            return ratelimit.too_many(request, kind, retry_after)
    response = _login_page(request)
    if response.status_code == 200:  # the form again: no such username and password
        for kind, who in counters:
            ratelimit.hit(kind, who)
    return response


# Each request sends an email to whoever owns the address typed in.
password_reset = ratelimit.rate_limited("password_reset", key=ratelimit.address)(
    PasswordResetView.as_view()
)


@login_required
@require_http_methods(["GET", "POST"])
@ratelimit.rate_limited("create")
def quest_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = QuestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        quest = services.quest_create(
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            by=request.user,
        )
        messages.success(request, "Your quest is open: write the first chapter when ready.")
        return redirect(quest)
    return render(request, "quest/quest_form.html", {"form": form})


# --- The thread ----------------------------------------------------------------------


def _post_url(quest: Quest) -> Callable[[int], str]:
    """Where a quote's "Author said:" header links: the quoted post's permalink."""
    return lambda ref: reverse("post-permalink", args=[quest.slug, ref])


def _quote_prefill(quest: Quest, raw_ref: str | None) -> str:
    """The reply box's starting text for `?quote=<ref>`, or "" when there is nothing to quote."""
    if not raw_ref or not raw_ref.isdigit():
        return ""
    post = selectors.post_by_ref(quest, int(raw_ref))
    if post is None:
        return ""
    return bbcode.quote_for_reply(post.author.get_username(), post.ref, post.body)


def _thread_context(
    request: HttpRequest, quest: Quest, page: Page[Post], form: PostForm | None
) -> dict[str, Any]:
    user = request.user
    return {
        "quest": quest,
        "page": page,
        "form": form,
        "open_vote": registry.thread_open_vote(quest),
        "closed_vote": registry.thread_closed_vote(quest),
        # The quest master of a new quest is asked for the first chapter.
        "needs_first_chapter": can_manage(user, quest) and not registry.quest_has_chapters(quest),
        # The reply box shows how a ballot in it would be read against this vote.
        "ballot_vote": registry.reply_vote(quest) if form is not None else None,
        "can_post": can_post(user, quest),
        "can_moderate": can_moderate(user, quest),
        "can_manage": can_manage(user, quest),
    }


def _render_thread(
    request: HtmxHttpRequest,
    quest: Quest,
    page: Page[Post],
    form: PostForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    template_name = "quest/thread.html"
    if request.htmx and not request.htmx.boosted:
        template_name += "#thread"
    # Rendered here rather than by a template filter so quote headers can link
    # to permalinks in this quest.
    post_url = _post_url(quest)
    page.object_list = list(page.object_list)
    read_as = registry.read_as_lines(page.object_list)
    for post in page.object_list:
        post.html = bbcode.render(post.body, post_url=post_url)
        post.read_as = read_as.get(post.pk)
    context = _thread_context(request, quest, page, form)
    return render(request, template_name, context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def quest_thread(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    quest = access.quest_for_reader(request, slug)
    quote = request.GET.get("quote")
    # Quoting replies at the end of the thread, so it opens on the last page.
    page = selectors.thread_page(quest, request.GET.get("page", "last" if quote else 1))
    form = None
    if can_post(request.user, quest) and not page.has_next():
        form = PostForm(initial={"body": _quote_prefill(quest, quote)})
    return _render_thread(request, quest, page, form)


@login_required
@require_POST
@ratelimit.rate_limited("post")
def post_reply(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    quest = access.quest_for_player(request, slug)
    form = PostForm(request.POST)
    if not form.is_valid():
        if form.has_error("body", "required"):
            # A double click's second click, on the page the first one opened, lands there too.
            done = services.submission_stray_click(
                user=request.user, token=form.submission_token, quest=quest
            )
            if done is not None:
                return redirect(done)
        # Shown on the last page, with everything typed kept in the box.
        page = selectors.thread_page(quest, "last")
        return _render_thread(request, quest, page, form, status=400)
    # The same form sent twice (a double click, Back then Post) lands on its first post.
    post = services.post_reply(
        quest=quest,
        author=request.user,
        body=form.cleaned_data["body"],
        token=form.submission_token,
    )
    return redirect(post)


@require_GET
def post_permalink(request: HttpRequest, slug: str, ref: int) -> HttpResponse:
    post = access.post_for_reader(request, slug, ref)
    url = reverse("quest-thread", args=[slug])
    page = selectors.page_of_post(post)
    query = f"?page={page}" if page > 1 else ""
    return redirect(f"{url}{query}#{post.anchor}")


@login_required
@require_http_methods(["GET", "POST"])
@ratelimit.rate_limited("post")
def post_edit(request: AuthenticatedHttpRequest, slug: str, ref: int) -> HttpResponse:
    post = access.post_for_author(request, slug, ref)
    form = PostForm(request.POST or None, initial={"body": post.body})
    if request.method == "POST" and form.is_valid():
        services.post_edit(
            post=post,
            body=form.cleaned_data["body"],
            by=request.user,
            token=form.submission_token,
        )
        messages.success(request, "Your post was saved.")
        return redirect(post)
    context = {
        "post": post,
        "form": form,
        # Editing is how a player fixes a misread ballot: the box shows how the edit will read.
        "reading_vote": registry.post_vote(post),
    }
    status = 400 if form.is_bound else 200
    return render(request, "quest/post_edit.html", context, status=status)


@login_required
@require_POST
@ratelimit.rate_limited("preview")
def post_edit_reading(request: HttpRequest, slug: str, ref: int) -> HttpResponse:
    """How the post will be read once saved with the text in the edit box (htmx box).

    Read as the worker will read the saved post: the same author and place in
    the thread, against the vote whose window holds it.
    """
    post = access.post_for_author(request, slug, ref)
    vote = registry.post_vote(post)
    form: PostForm | None = None  # an empty box is not an error yet: it asks for text
    shown = None
    if request.POST.get("body", "").strip():
        form = PostForm(request.POST)
        if vote is not None and form.is_valid():
            shown = registry.edit_preview(vote=vote, post=post, body=form.cleaned_data["body"])
    context = {"vote": vote, "form": form, "shown": shown, "no_vote": vote is None}
    return render(request, "votes/_reading_preview.html", context)


@login_required
@require_GET
def post_revisions(request: HttpRequest, slug: str, ref: int) -> HttpResponse:
    post = access.post_for_moderator(request, slug, ref)
    post_url = _post_url(post.quest)
    revisions = list(selectors.post_revisions(post))
    for revision in revisions:
        revision.html = bbcode.render(revision.body, post_url=post_url)
    return render(
        request,
        "quest/post_revisions.html",
        {"post": post, "quest": post.quest, "revisions": revisions},
    )


@require_POST
@ratelimit.rate_limited("preview")
def bbcode_preview(request: HttpRequest) -> HttpResponse:
    """What a post will look like, for the Preview button under the reply box."""
    form = PostForm(request.POST)
    html = bbcode.render(form.cleaned_data["body"]) if form.is_valid() else ""
    return render(request, "quest/thread.html#preview", {"preview_html": html, "form": form})


# --- Staff ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def quest_moderators(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    quest = access.quest_for_quest_master(request, slug)
    form = AppointModeratorForm(quest=quest)
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            return _remove_moderator(request, quest)
        form = AppointModeratorForm(request.POST, quest=quest)
        if form.is_valid():
            user = form.cleaned_data["username"]
            services.moderator_appoint(quest=quest, user=user, by=request.user)
            messages.success(request, f"{user.username} is now a moderator of this quest.")
            return redirect("quest-moderators", quest.slug)
    memberships = (
        Membership.objects.filter(quest=quest, role=Membership.Role.MODERATOR)
        .select_related("user", "appointed_by")
        .order_by("user__username")
    )
    status = 400 if form.is_bound else 200
    return render(
        request,
        "quest/moderators.html",
        {"quest": quest, "memberships": memberships, "form": form},
        status=status,
    )


def _remove_moderator(request: HttpRequest, quest: Quest) -> HttpResponse:
    raw = request.POST.get("user", "")
    if not raw.isdigit() or int(raw) > selectors.MAX_DB_INT:
        messages.error(request, "Choose a moderator to remove.")
        return redirect("quest-moderators", quest.slug)
    membership = (
        Membership.objects.filter(quest=quest, user_id=int(raw), role=Membership.Role.MODERATOR)
        .select_related("user")
        .first()
    )
    if membership is None:
        messages.error(request, "That person is not a moderator of this quest.")
    else:
        services.moderator_remove(quest=quest, user=membership.user)
        messages.success(request, f"{membership.user.username} is no longer a moderator.")
    return redirect("quest-moderators", quest.slug)


# --- Members of a private quest ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def quest_members(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The quest master's page for who may read a private quest: invite, link, remove."""
    quest = access.quest_for_quest_master(request, slug)
    form = InviteMembersForm()
    if request.method == "POST":
        match request.POST.get("action"):
            case "remove":
                return _remove_member(request, quest)
            case "reset_link":
                return _reset_link(request, quest)
            case "make_private" | "make_public" as action:
                return _set_visibility(request, quest, is_public=action == "make_public")
        form = InviteMembersForm(request.POST)
        if form.is_valid() and _invite(request, quest, form):
            return redirect("quest-members", quest.slug)
    return _render_members(request, quest, form)


def _invite(request: AuthenticatedHttpRequest, quest: Quest, form: InviteMembersForm) -> bool:
    names = form.cleaned_data["names"]
    try:
        added = services.members_invite(quest=quest, names=names, by=request.user)
    except ValidationError as e:
        form.add_error("names", e)
        return False
    if added:
        messages.success(request, f"Invited {', '.join(u.get_username() for u in added)}.")
    else:
        messages.info(request, "Everyone named is already a member of this quest.")
    return True


def _remove_member(request: AuthenticatedHttpRequest, quest: Quest) -> HttpResponse:
    raw = request.POST.get("user", "")
    user = None
    if raw.isdigit() and int(raw) <= selectors.MAX_DB_INT:
        user = User.objects.filter(pk=int(raw)).first()
    if user is not None and services.member_remove(quest=quest, user=user, by=request.user):
        messages.success(request, f"{user.get_username()} is no longer a member of this quest.")
    else:
        messages.error(request, "That person is not an invited player of this quest.")
    return redirect("quest-members", quest.slug)


def _reset_link(request: AuthenticatedHttpRequest, quest: Quest) -> HttpResponse:
    services.invite_link_reset(quest=quest, by=request.user)
    messages.success(request, "There is a new invitation link; the old one no longer works.")
    return redirect("quest-members", quest.slug)


def _set_visibility(
    request: AuthenticatedHttpRequest, quest: Quest, *, is_public: bool
) -> HttpResponse:
    services.quest_visibility_set(quest=quest, is_public=is_public, by=request.user)
    if is_public:
        messages.success(request, "The quest is public: everyone can read it.")
    else:
        messages.success(request, "The quest is private: only its members can read it.")
    return redirect("quest-members", quest.slug)


def _render_members(request: HttpRequest, quest: Quest, form: InviteMembersForm) -> HttpResponse:
    memberships = (
        Membership.objects.filter(quest=quest)
        .select_related("user", "appointed_by")
        .order_by("role", "user__username")
    )
    link = reverse("quest-join", args=[quest.slug, quest.invite_token])
    context = {
        "quest": quest,
        "form": form,
        "moderators": [m for m in memberships if m.role == Membership.Role.MODERATOR],
        "players": [m for m in memberships if m.role == Membership.Role.PLAYER],
        "invite_link": request.build_absolute_uri(link),
        "events": QuestEvent.objects.filter(quest=quest).select_related("by").order_by("-pk")[:20],
    }
    status = 400 if form.is_bound else 200
    return render(request, "quest/members.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def quest_join(request: AuthenticatedHttpRequest, slug: str, token: str) -> HttpResponse:
    """The invitation link: a page with a Join button, which makes the user a member."""
    quest = access.quest_for_invitee(request, slug, token)
    if is_member(request.user, quest):
        messages.info(request, "You are already a member of this quest.")
        return redirect(quest)
    if request.method == "POST":
        services.member_join(quest=quest, user=request.user)
        messages.success(request, f"Welcome to {quest.title}: you are now a member.")
        return redirect(quest)
    # Not "quest": the site header would link to a thread the user cannot open yet.
    return render(request, "quest/join.html", {"invited_quest": quest})


# --- Help ------------------------------------------------------------------------------


@require_GET
def help_voting(request: HttpRequest) -> HttpResponse:
    return render(request, "quest/help_voting.html")


# --- Security reports ------------------------------------------------------------------


@csrf_exempt  # browsers post reports without our token (and without cookies)
@require_POST
@ratelimit.rate_limited("csp_report", key=ratelimit.address)
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log a Content-Security-Policy violation a browser reports (SECURE_CSP's report-uri).

    Anyone can post here, so reports are rate limited per address, and the body
    is capped before it is read and is logged as re-encoded JSON: one line,
    whatever control characters it held.
    """
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > CSP_REPORT_MAX_BYTES:
        return HttpResponse("Report too large.", status=413, content_type="text/plain")
    body = request.read(CSP_REPORT_MAX_BYTES + 1)
    if len(body) > CSP_REPORT_MAX_BYTES:
        return HttpResponse("Report too large.", status=413, content_type="text/plain")
    try:
        report = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than any report
        return HttpResponse("Not a JSON report.", status=400, content_type="text/plain")
    if not isinstance(report, dict | list):
        return HttpResponse("Not a JSON report.", status=400, content_type="text/plain")
    csp_logger.warning("CSP violation: %s", json.dumps(report, sort_keys=True))
    return HttpResponse(status=204)
