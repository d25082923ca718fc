"""Access helpers for views: find the quest or post a page is about, for the one asking.

Each takes the request and the URL's arguments and returns the object, or
raises Http404 (a private quest, or a post in one, does not exist for those
who may not read it) or PermissionDenied (they may read it, not do this).
A view's first line calls one, so its access rule is in plain sight; the
rules themselves are in quest/permissions.py. The chapters and votes views
start from `quest_for_reader` too, so a quest is let in one way everywhere.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from quest import selectors
from quest.middleware import shows_quest
from quest.models import Post, Quest
from quest.permissions import can_edit_post, can_join, can_manage, can_moderate, can_post, can_read


def quest_for_reader(request: HttpRequest, slug: str) -> Quest:
    quest = get_object_or_404(Quest.objects.select_related("quest_master"), slug=slug)
    if not can_read(request.user, quest):
        # A private quest does not reveal that it exists.
        raise Http404("No such quest.")
    shows_quest(request, quest)
    return quest


def quest_for_player(request: HttpRequest, slug: str) -> Quest:
    quest = quest_for_reader(request, slug)
    if not can_post(request.user, quest):
        raise PermissionDenied("You cannot post in this quest.")
    return quest


def quest_for_quest_master(request: HttpRequest, slug: str) -> Quest:
    quest = quest_for_reader(request, slug)
    if not can_manage(request.user, quest):
        raise PermissionDenied("Only the quest master can do this.")
    return quest


def quest_for_invitee(request: HttpRequest, slug: str, token: str) -> Quest:
    quest = get_object_or_404(Quest.objects.select_related("quest_master"), slug=slug)
    if not can_join(request.user, quest, token):
        # An old or mistyped link says no more than a missing quest would.
        raise Http404("No such invitation.")
    shows_quest(request, quest)
    return quest


def post_for_reader(request: HttpRequest, slug: str, ref: int) -> Post:
    quest = quest_for_reader(request, slug)
    post = selectors.post_by_ref(quest, ref)
    if post is None:
        raise Http404("No such post.")
    return post


def post_for_author(request: HttpRequest, slug: str, ref: int) -> Post:
    post = post_for_reader(request, slug, ref)
    if not can_edit_post(request.user, post):
        raise PermissionDenied("You can only edit your own posts.")
    return post


def post_for_moderator(request: HttpRequest, slug: str, ref: int) -> Post:
    post = post_for_reader(request, slug, ref)
    if not can_moderate(request.user, post.quest):
        raise PermissionDenied("Only the quest master and moderators can see revisions.")
    return post
