"""Reads for the votes app: turning rows into the pure reader's inputs, and reading a post."""

from collections.abc import Sequence

from django.db.models import Min, Subquery

from chapters.models import Chapter, Vote
from quest.models import Post, Quest
from votes.models import Reading as ReadingRow
from votes.reading import read_post
from votes.reading.types import (
    OptionSpec,
    PostIn,
    PromptKind,
    PromptSpec,
    Reading,
    Revision,
    VoteSpec,
)

_POST_FIELDS = ("pk", "seq", "ref", "author__username", "body", "posted_at", "edited_at")


def vote_spec(vote: Vote) -> VoteSpec:
    prompts = tuple(
        PromptSpec(
            number=p.number,
            kind=PromptKind(p.kind),
            text=p.text,
            options=tuple(OptionSpec(o.letter, o.text) for o in p.options.all()),
        )
        for p in vote.prompts.prefetch_related("options")
    )
    quest = vote.chapter.quest
    return VoteSpec(
        prompts=prompts,
        quest_master=quest.quest_master.username,
        post_id=vote.post.ref if vote.post_id else None,
        opens_at=vote.opens_at,
        closes_at=vote.closes_at,
    )


def window_bounds(vote: Vote) -> tuple[int, int | None] | None:
    """(after_seq, before_seq) of the posts a vote reads; None before it is posted.

    The window runs from the vote's post to the next chapter's post.
    """
    if not vote.post_id:
        return None
    start = vote.post.seq
    nxt = (
        Chapter.objects.filter(quest_id=vote.chapter.quest_id, post__seq__gt=start)
        .aggregate(seq=Min("post__seq"))
        .get("seq")
    )
    return start, nxt


def vote_for_post(post: Post) -> Vote | None:
    """The vote whose window holds this post, if any."""
    vote_post = (
        Post.objects.filter(quest_id=post.quest_id, seq__lt=post.seq, vote__isnull=False)
        .order_by("-seq")
        .select_related("vote")
        .first()
    )
    if vote_post is None:
        return None
    vote = vote_post.vote
    bounds = window_bounds(vote)
    if bounds is None or (bounds[1] is not None and post.seq >= bounds[1]):
        return None
    return vote


def reply_vote(quest: Quest) -> Vote | None:
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
    rows = ReadingRow.objects.filter(post__in=[p.pk for p in posts]).order_by("read_at", "pk")
    return dict(rows.values_list("post_id", "data"))


def window_index(vote: Vote) -> list[tuple[int, int, int]]:
    """(pk, ref, version) of the window's posts in thread order: enough to find stale readings."""
    bounds = window_bounds(vote)
    if bounds is None:
        return []
    return list(
        Post.objects.filter(quest_id=vote.chapter.quest_id)
        .between(after_seq=bounds[0], before_seq=bounds[1])
        .order_by("seq")
        .values_list("pk", "ref", "version")
    )


def context_posts(vote: Vote, *, upto_seq: int | None = None) -> list[Post]:
    """The thread from the previous chapter up to (not including) `upto_seq`.

    The reader needs the posts before a post for quotes, endorsements and
    proxy names; discussion rarely reaches further back than one chapter.
    """
    bounds = window_bounds(vote)
    if bounds is None:
        return []
    quest_id = vote.chapter.quest_id
    prev_chapter_seq = (
        Chapter.objects.filter(quest_id=quest_id, post__seq__lt=bounds[0])
        .order_by("-post__seq")
        .values_list("post__seq", flat=True)
        .first()
    )
    qs = Post.objects.filter(quest_id=quest_id, seq__gte=prev_chapter_seq or 0)
    if upto_seq is not None:
        qs = qs.filter(seq__lt=upto_seq)
    elif bounds[1] is not None:
        qs = qs.filter(seq__lt=bounds[1])
    return list(qs.select_related("author").prefetch_related("revisions").order_by("seq"))


def reading_context(vote: Vote, *, before_seq: int | None = None) -> list[PostIn]:
    """The posts a post is read with: the thread before `before_seq` (None: the window so far)."""
    return [post_in(p) for p in context_posts(vote, upto_seq=before_seq)]


def reading_of(*, vote: Vote, post: PostIn, earlier: Sequence[PostIn]) -> Reading:
    """How `post` reads against `vote`, standing in the thread right after `earlier`.

    The one way a single post is read: the worker storing its Reading
    (`services.post_read`) and the previews under the reply and edit boxes all
    come here, with `earlier` from `reading_context`, so a preview shows what
    will be stored. The recount reads many posts at once with `read_thread`,
    which reads each post as this does (tests/test_preview_matches_stored.py).
    """
    return read_post(post, vote_spec(vote), earlier)


def post_in(post: Post) -> PostIn:
    """A post as the reader sees it; revisions only where the app stored them."""
    revisions: tuple[Revision, ...] = ()
    if not post.imported and post.version > 1:
        revs = sorted(post.revisions.all(), key=lambda r: r.version)
        # revisions[i].at is when revisions[i] was replaced by the next one.
        revisions = tuple(
            Revision(body=r.body, at=nxt.created_at) for r, nxt in zip(revs, revs[1:], strict=False)
        )
    return PostIn(
        id=post.ref,
        author=post.author.username,
        posted_at=post.posted_at,
        body=post.body,
        edited_at=post.edited_at,
        revisions=revisions,
    )
