"""Each vote's thread kept in the worker's memory between posts, so a new post is read alone.

Reading post N needs the posts before it (quotes, endorsements, each voter's
earlier ballots), and loading them from the database for every post costs the
whole window: about 2 s a post at 10,000 posts. A worker process keeps, for
the last few votes it read (`KEPT_VOTES`), the vote's thread as a
`votes.reading.ReadingContext`, and loads only the posts saved since.

A kept thread is only appended to, so it is used only while its key still
describes the thread: the quest (its id and creation time: ids come back after
a rollback on SQLite), the vote's spec as the reader takes it, the window's
bounds and where the posts read with it start (the previous chapter), and the
quest's `post_changes`, which every change to a post already in the thread
moves on (quest.services.post_changes_record). Anything else is loaded again,
as `selectors.reading_context` loads it. The key is read before the posts, so a
change committed in between only makes the next read load the thread again.

Nothing here writes: the worker (`services.post_reading_refresh`) and the
recount (`services._read_and_store`) store what it reads. The previews read
with `selectors.reading_of`, which reads a post as its context here does
(tests/test_preview_matches_stored.py, tests/test_reading_contexts.py).
"""

import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from chapters.models import Vote
from quest.models import Post, Quest
from votes import selectors
from votes.names import voter_names
from votes.reading import ReadingContext, read_post
from votes.reading.types import PostIn, Reading, VoteSpec

KEPT_VOTES = 8  # a worker reads a handful of open votes at a time
# And at most this many posts in all (a post is its text and what was read of
# it, 1-2 KB): past it the least recently read votes are dropped, down to the
# one being read, however long (an imported 100,000-post thread is kept alone).
KEPT_POSTS = 100_000


@dataclass
class _Kept:
    key: tuple[Any, ...]
    context: ReadingContext
    last_seq: int  # the last post loaded (posts are loaded in seq order)
    posts: dict[int, PostIn] = field(default_factory=dict)  # ref -> the post as read
    deleted: set[int] = field(default_factory=set)  # refs of the posts deleted on the forum


_kept: OrderedDict[int, _Kept] = OrderedDict()
# A context is not safe to extend and read from two threads at once (the
# embedded default runs tasks in the web process's threads).
_lock = threading.Lock()


def post_reading(*, vote: Vote, post: Post) -> Reading:
    """How `post` (in `vote`'s window) reads against the posts before it: what the worker stores.

    The vote's kept thread is brought up to `post` (loading only the posts
    after the last one kept) and the post read there; a post deleted on the
    forum reads as `selectors.deleted_reading` says.
    """
    fresh = selectors.post_in(post)
    with _lock:
        kept = _brought_up_to(vote, upto_seq=post.seq)
        if kept.posts.get(post.ref) == fresh:
            reading = kept.context.reading(post.ref)
        else:
            # The caller's text is not the kept one (an edit committed between
            # the two loads): read the caller's, as `selectors.reading_of` would,
            # and leave the kept thread as it is (the edit's own read follows).
            earlier = []
            for ref, kept_post in kept.posts.items():
                if ref == post.ref:
                    break
                earlier.append(kept_post)
            reading = read_post(fresh, kept.context.vote, earlier)
    return selectors.deleted_reading(reading) if post.deleted else reading


def window_readings(*, vote: Vote, refs: Collection[int]) -> dict[int, Reading]:
    """Post ref -> how it reads, for the posts `refs` of the vote's window (the recount's
    stale posts), through the vote's kept thread brought up to the window's end."""
    with _lock:
        kept = _brought_up_to(vote, upto_seq=None)
        wanted = [ref for ref in refs if ref in kept.context]
        readings = {ref: kept.context.reading(ref) for ref in wanted}
        deleted = kept.deleted & readings.keys()
    return {
        ref: selectors.deleted_reading(r) if ref in deleted else r for ref, r in readings.items()
    }


def kept_clear() -> None:
    """Forget every kept thread (a benchmark's cold start; a worker never needs to)."""
    with _lock:
        _kept.clear()


def _brought_up_to(vote: Vote, *, upto_seq: int | None) -> _Kept:
    """The vote's kept thread holding every post up to `upto_seq` (None: the window's end).

    1. The key is read (one row of the quest, the window, the vote's spec).
    2. A kept thread with another key is dropped and the thread loaded again
       from where its posts start; one with this key loads the posts after its
       last one only.
    3. The vote becomes the most recently used; the least recently used are
       dropped past KEPT_VOTES votes or KEPT_POSTS posts.
    """
    key, spec, start, window_end = _key(vote)
    kept = _kept.get(vote.pk)
    if kept is None or kept.key != key:
        kept = _Kept(key=key, context=ReadingContext(spec), last_seq=start - 1)
        _kept[vote.pk] = kept
    upto = window_end - 1 if window_end is not None else None
    if upto_seq is not None and (upto is None or upto_seq < upto):
        upto = upto_seq
    if upto is None or kept.last_seq < upto:
        _load(kept, vote, after_seq=kept.last_seq, upto_seq=upto)
    _kept.move_to_end(vote.pk)
    while len(_kept) > 1 and (
        len(_kept) > KEPT_VOTES or sum(len(k.context) for k in _kept.values()) > KEPT_POSTS
    ):
        _kept.popitem(last=False)
    return kept


def _key(vote: Vote) -> tuple[tuple[Any, ...], VoteSpec, int, int | None]:
    """(what a kept thread must have been loaded with, the vote's spec, the first seq
    read with it, the window's end)."""
    quest_id = vote.chapter.quest_id
    # First: a post changed after this read makes the next read load the thread again.
    changes, created_at = (
        Quest.objects.filter(pk=quest_id).values_list("post_changes", "created_at").get()
    )
    window = selectors.window_bounds(vote)
    if window is None:
        raise ValueError(f"{vote} is not posted: it has no window to read")
    start = selectors.context_start(vote, window=window)
    spec = selectors.vote_spec(vote)
    return (quest_id, created_at, vote.pk, window, start, changes, spec), spec, start, window[1]


def _load(kept: _Kept, vote: Vote, *, after_seq: int, upto_seq: int | None) -> None:
    """Append the posts after `after_seq` up to `upto_seq` (None: all) to the kept thread."""
    rows = selectors.thread_posts_in(
        quest_id=vote.chapter.quest_id,
        after_seq=after_seq,
        upto_seq=upto_seq,
        names=voter_names(vote.chapter.quest),
    )
    kept.context.add([row.post for row in rows])
    kept.posts.update((row.post.id, row.post) for row in rows)
    kept.deleted.update(row.post.id for row in rows if row.deleted)
    if rows:
        kept.last_seq = rows[-1].seq
