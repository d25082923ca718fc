"""Reads for quests and the thread: the queries behind the list pages."""

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from chapters.models import Chapter, Vote
from quest.models import Post, Quest
from quest.permissions import readable_quests
from votes.models import Reading

POSTS_PER_PAGE = 25
QUESTS_PER_PAGE = 30

# Primary keys and refs are 64-bit; a longer number from a URL would make the
# database driver raise instead of simply finding nothing.
MAX_DB_INT = 2**63 - 1


def quests_for_home(user) -> QuerySet[Quest]:
    """The quests `user` may read (public ones, and private ones they belong to),
    latest activity first, each with what the home page shows.

    Annotated in one query: `latest_chapter_number`, `latest_chapter_title`
    (the latest published chapter) and `open_vote_chapter` (the number of the
    chapter whose vote is open, or None).
    """
    latest = Chapter.objects.filter(quest=OuterRef("pk"), status=Chapter.Status.PUBLISHED).order_by(
        "-number"
    )
    open_vote = Vote.objects.open().filter(chapter__quest=OuterRef("pk")).order_by("-pk")
    return (
        Quest.objects.filter(readable_quests(user))
        .by_activity()
        .select_related("quest_master")
        .annotate(
            latest_chapter_number=Subquery(latest.values("number")[:1]),
            latest_chapter_title=Subquery(latest.values("title")[:1]),
            open_vote_chapter=Subquery(open_vote.values("chapter__number")[:1]),
            has_open_vote=Exists(open_vote),
        )
    )


def home_page(page_number, *, user) -> Page:
    return Paginator(quests_for_home(user), QUESTS_PER_PAGE).get_page(page_number)


def thread_posts(quest: Quest) -> QuerySet[Post]:
    # `chapter` is the reverse one-to-one from Chapter.post: joined, not queried per post.
    return (
        Post.objects.filter(quest=quest)
        .in_thread_order()
        .select_related("author", "chapter")
        .defer("chapter__body")
    )


def thread_paginator(quest: Quest) -> Paginator:
    return Paginator(thread_posts(quest), POSTS_PER_PAGE)


def thread_page(quest: Quest, page_number) -> Page:
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


def open_vote(quest: Quest) -> Vote | None:
    return (
        Vote.objects.open()
        .filter(chapter__quest=quest)
        .select_related("chapter")
        .order_by("-chapter__number")
        .first()
    )


def ballot_vote(quest: Quest) -> Vote | None:
    """The vote a post written now is read against: the latest published chapter's, if open."""
    latest = Chapter.objects.filter(quest=quest, status=Chapter.Status.PUBLISHED).order_by(
        "-number"
    )
    return (
        Vote.objects.open()
        .filter(chapter=Subquery(latest.values("pk")[:1]))
        .exclude(post=None)
        .select_related("chapter")
        .first()
    )


def post_readings(posts: list[Post]) -> dict[int, dict]:
    """post pk -> its stored Reading's JSON, for a page of posts in one query (newest wins)."""
    if not posts:
        return {}
    rows = Reading.objects.filter(post__in=[p.pk for p in posts]).order_by("read_at", "pk")
    return dict(rows.values_list("post_id", "data"))


def post_revisions(post: Post) -> QuerySet:
    return post.revisions.select_related("editor").order_by("version")
