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

A long thread is loaded LOAD_BATCH posts at a time, and the context keeps
the bodies of all but its latest posts compressed (votes.reading.ReadingContext):
a 100,000-post import is read in memory that grows with a fraction of its
text. What is kept of each post to tell an edit that raced the load is a
fingerprint (`_fingerprint`), not its text.

Nothing here writes: the worker (`services.post_reading_refresh`) and the
recount (`services._read_and_store`) store what it reads. The previews read
with `selectors.reading_of`, which reads a post as its context here does
(tests/test_preview_matches_stored.py, tests/test_reading_contexts.py).
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from chapters.models import Vote
from quest.models import Post, Quest
from votes import selectors
from votes.names import voter_names
from votes.reading import ReadingContext
from votes.reading.types import PostIn, Reading, VoteSpec

KEPT_VOTES = 8  # a worker reads a handful of open votes at a time
# And at most this many posts in all (a post is its text and what was read of
# it, 1-2 KB): past it the least recently read votes are dropped, down to the
# one being read, however long (an imported 100,000-post thread is kept alone).
KEPT_POSTS = 100_000
# Posts loaded from the database at a time (by seq): one batch's bodies are held
# whole at once, the rest of the thread compressed.
LOAD_BATCH = 2000
# The latest posts of a kept thread whose bodies are kept as loaded (about 5 MB);
# older ones are kept compressed (votes.reading.ReadingContext).
KEPT_BODIES = 5000
# Posts the recount reads and stores at a time (`window_reading_batches`).
READ_BATCH = 1000


@dataclass
class _Kept:
    key: tuple[Any, ...]
    context: ReadingContext
    last_seq: int  # the last post loaded (posts are loaded in seq order)
    ends: bool  # the window ends (the next chapter is posted): no post comes into it
    # ref -> the post as loaded, by digest (the kept thread does not hold every text as it came)
    posts: dict[int, bytes] = field(default_factory=dict)
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
        if kept.posts.get(post.ref) == _fingerprint(fresh):
            reading = kept.context.reading(post.ref)
        else:
            # The caller's text is not the kept one (an edit committed between
            # the two loads): read the caller's against the posts before it, as
            # `selectors.reading_of` would, and leave the kept thread as it is
            # (the edit's own read follows).
            reading = kept.context.read_instead(fresh)
    return selectors.deleted_reading(reading) if post.deleted else reading


def window_readings(*, vote: Vote, refs: Collection[int]) -> dict[int, Reading]:
    """Post ref -> how it reads, for the posts `refs` of the vote's window, through the
    vote's kept thread brought up to the window's end (`window_reading_batches` at once)."""
    return {
        ref: r for batch in window_reading_batches(vote=vote, refs=list(refs)) for ref, r in batch
    }


def window_reading_batches(
    *, vote: Vote, refs: Sequence[int], size: int | None = None
) -> Iterator[list[tuple[int, Reading]]]:
    """(ref, how it reads) for the posts `refs` of the vote's window (the recount's stale
    posts, in thread order), `size` posts a batch, through the vote's kept thread brought
    up to the window's end; refs not in the window are left out.

    A batch at a time, so that the recount stores each batch before the next is
    read and never holds every Reading of a long window at once (a 100,000-post
    import: issue 14). The kept thread is locked for one batch only and brought
    up to date again for the next (one query when nothing changed): a post
    changed in between is read against the thread as it is then, as the
    recount's next pass would.
    """
    size = size or READ_BATCH
    for start in range(0, len(refs), size):
        with _lock:
            kept = _brought_up_to(vote, upto_seq=None)
            context, deleted = kept.context, kept.deleted
            batch = [
                (ref, context.reading(ref)) for ref in refs[start : start + size] if ref in context
            ]
            batch = [
                (ref, selectors.deleted_reading(r) if ref in deleted else r) for ref, r in batch
            ]
        if batch:
            yield batch
    # A window that ends takes no new post, and an edit or a new spec changes
    # its key, so its kept thread would only be loaded again: once its stale
    # posts are read it is dropped, not kept holding its posts. An import of a
    # whole thread reads one ended window after another, each of up to a few
    # thousand posts (issue 14); the vote still open is kept.
    with _lock:
        done = _kept.get(vote.pk)
        if done is not None and done.ends:
            del _kept[vote.pk]


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
        kept = _Kept(
            key=key,
            context=ReadingContext(spec, keep=KEPT_BODIES),
            last_seq=start - 1,
            ends=window_end is not None,
        )
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
    for rows in thread_batches(vote, after_seq=after_seq, upto_seq=upto_seq):
        kept.context.add([row.post for row in rows])
        kept.posts.update((row.post.id, _fingerprint(row.post)) for row in rows)
        kept.deleted.update(row.post.id for row in rows if row.deleted)
        kept.last_seq = rows[-1].seq


def thread_batches(
    vote: Vote, *, after_seq: int, upto_seq: int | None
) -> Iterator[list[selectors.ThreadPost]]:
    """The thread's posts after `after_seq` up to `upto_seq` (None: all), in seq order,
    LOAD_BATCH seqs a query (each batch not empty): `selectors.thread_posts_in` a
    batch at a time, so that a long thread's bodies are not all loaded at once."""
    quest = vote.chapter.quest
    last = upto_seq
    if last is None or last - after_seq > LOAD_BATCH:
        # Where to stop: one indexed query (a worker's new post, one batch, needs none).
        posts = Post.objects.filter(quest_id=quest.pk, seq__gt=after_seq)
        if upto_seq is not None:
            posts = posts.filter(seq__lte=upto_seq)
        last = posts.aggregate(last=Max("seq"))["last"]
        if last is None:
            return
    names = voter_names(quest)
    start = after_seq
    while start < last:
        end = min(start + LOAD_BATCH, last)
        rows = selectors.thread_posts_in(
            quest_id=quest.pk, after_seq=start, upto_seq=end, names=names
        )
        if rows:
            yield rows
        start = end


def _fingerprint(post: PostIn) -> bytes:
    """What tells two copies of a post apart: a digest of every field (16 bytes a post)."""
    digest = hashlib.blake2b(digest_size=16)
    fields = (post.id, post.author, post.posted_at, post.edited_at, post.revisions)
    digest.update(repr(fields).encode())
    digest.update(b"\0" + post.body.encode())
    return digest.digest()
