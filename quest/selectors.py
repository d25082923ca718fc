"""Reads for quests and the thread: the queries behind the list pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from quest import registry
from quest.models import Post, PostRevision, Quest
from quest.permissions import readable_quests

POSTS_PER_PAGE = 25
QUESTS_PER_PAGE = 30

# Primary keys and refs are 64-bit; a longer number from a URL would make the
# database driver raise instead of simply finding nothing.
MAX_DB_INT = 2**63 - 1


def quests_for_home(user: User | AnonymousUser) -> QuerySet[Quest]:
    """The quests `user` may read (public ones, and private ones they belong to),
    latest activity first, each with what the home page shows of its chapters.

    One query: the chapters app annotates it through the `quests_with_chapters` hook.
    """
    quests = Quest.objects.filter(readable_quests(user)).by_activity()
    return registry.quests_with_chapters(quests.select_related("quest_master"))


def home_page(page_number: str | int | None, *, user: User | AnonymousUser) -> Page[Quest]:
    return Paginator(quests_for_home(user), QUESTS_PER_PAGE).get_page(page_number)


def demo_quest() -> Quest | None:
    """The public quest the home page offers to look around in (settings.DEMO_QUEST_SLUG)."""
    slug = settings.DEMO_QUEST_SLUG
    return Quest.objects.filter(slug=slug, is_public=True).only("slug").first() if slug else None


def thread_posts(quest: Quest) -> QuerySet[Post]:
    # `chapter` is the reverse one-to-one from Chapter.post: joined, not queried per post;
    # `forum_identity` names a claimed forum name beside the player's (quest/_post.html).
    return (
        Post.objects.filter(quest=quest)
        .in_thread_order()
        .select_related("author", "chapter", "forum_identity")
        .defer("chapter__body")
    )


def thread_paginator(quest: Quest) -> Paginator[Post]:
    return Paginator(thread_posts(quest), POSTS_PER_PAGE)


def thread_page(quest: Quest, page_number: str | int | None) -> Page[Post]:
    """Page `page_number` of the thread; "last" or a number past the end is the last page,
    anything that is not a number is the first."""
    paginator = thread_paginator(quest)
    if page_number == "last":
        page_number = paginator.num_pages
    return paginator.get_page(page_number)


def page_of_post(post: Post) -> int:
    before = Post.objects.filter(quest_id=post.quest_id, seq__lt=post.seq).count()
    return before // POSTS_PER_PAGE + 1


def post_by_ref(quest: Quest, ref: int) -> Post | None:
    if not 0 <= ref <= MAX_DB_INT:
        return None
    return Post.objects.filter(quest=quest, ref=ref).select_related("author", "quest").first()


def post_revisions(post: Post) -> QuerySet[PostRevision]:
    return post.revisions.select_related("editor").order_by("version")
