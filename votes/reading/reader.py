"""Read posts into Readings: the public entry points of the reading package.

The algorithm is `thread.Thread.reading`; README.md lists the modules it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import budget
from .bbcode import scan
from .found import MAX_BODY
from .thread import Thread
from .types import PostIn, Reading, VoteSpec
from .xlines import suggestions

# A context keeps this many of its latest posts' bodies as they came (a later post
# reads most often the posts just before it), about 5 MB; older bodies are
# compressed. A vote of a few thousand posts pays nothing: compressing a post
# costs about a tenth of reading it.
KEEP_BODIES = 5000


def read_post(
    post: PostIn,
    vote: VoteSpec,
    earlier: Sequence[PostIn] = (),
    *,
    seconds: float = budget.READ_BUDGET_SECONDS,
) -> Reading:
    """Read one post against the vote, with the thread before it (in order).

    A post that takes longer than `seconds` to read is held back, not waited for.
    """
    thread = Thread(vote, [*earlier, post], one_post=True, seconds=seconds)
    return thread.reading(len(thread.posts) - 1)


def read_thread(
    vote: VoteSpec, posts: Sequence[PostIn], *, seconds: float = budget.READ_BUDGET_SECONDS
) -> list[Reading]:
    """Read every post of a thread, each with the posts before it, each within `seconds`."""
    thread = Thread(vote, posts, seconds=seconds)
    return [thread.reading(i) for i in range(len(thread.posts))]


class ReadingContext:
    """One vote's thread kept between posts, so that reading post N reads only post N.

    The worker path reads each new post against every post before it in the
    window; rebuilding that thread for each post costs the whole window, and a
    context costs only the new post: `add` appends posts in thread order (a
    page fetched from a forum, a chunk of an import, the posts saved since),
    `reading` reads any post of it against the posts before it, as
    `read_thread` would, each read once and memoised, with its own budget.

    Memory: only the last `keep` posts' bodies are kept as they came; older
    bodies are kept compressed (index.PostIndex.pack_before) and unpacked when
    a later post reads them, and so are the Readings of the posts more than
    `keep` before the latest read (memo.Memo.pack_before), so a
    100,000-post thread holds a fraction of its text and of its Readings, plus
    each post's name and dates (issue 14).

    Posts are only appended: a context stays right while no post in it changes.
    An edited or deleted post, or a changed vote, needs a new context; the
    caller's version key (votes/contexts.py) says when.
    """

    def __init__(
        self,
        vote: VoteSpec,
        posts: Sequence[PostIn] = (),
        *,
        seconds: float = budget.READ_BUDGET_SECONDS,
        keep: int = KEEP_BODIES,
    ) -> None:
        self.vote = vote
        self._keep = keep
        self._posts = Thread(vote, list(posts), seconds=seconds)
        self._position = {p.id: i for i, p in enumerate(self._posts.posts)}
        self._pack()

    def __len__(self) -> int:
        return len(self._posts.posts)

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._position

    def add(self, posts: Sequence[PostIn]) -> None:
        """Append posts that come after every post already here, in thread order."""
        fresh = [p for p in posts if p.id not in self._position]
        start = len(self._posts.posts)
        self._posts.extend(fresh)
        self._position.update((p.id, i) for i, p in enumerate(fresh, start))
        self._pack()

    def reading(self, post_id: int) -> Reading:
        """How the post with this id reads against the posts before it here."""
        i = self._position[post_id]
        reading = self._posts.reading(i)
        # Readings more than `keep` posts before the latest read are packed, up to
        # a thousand at a time (memo.Memo.pack_before).
        end = i - self._keep
        if end >= self._posts.memo.packed_upto + min(max(self._keep, 1), 1000):
            self._posts.memo.pack_before(end)
        return reading

    def read(self, post: PostIn) -> Reading:
        """Append `post` (if new) and read it: `read_post(post, vote, every post here)`."""
        self.add([post])
        return self.reading(post.id)

    def read_instead(self, post: PostIn) -> Reading:
        """How `post`, another version of the post here with its id, reads against the
        posts before that one: `read_post(post, vote, those posts)`. Nothing is kept.

        An edit committed while the worker read the thread: the text the caller has
        is read, the context stays as it is.
        """
        thread = self._posts
        i = self._position.get(post.id)
        if i is None:  # not here: read after every post here
            earlier = [thread.index.post(j) for j in range(len(thread.posts))]
            return read_post(post, self.vote, earlier, seconds=thread.seconds)
        kept = thread.posts[i]
        if kept.author != post.author or kept.posted_at != post.posted_at:
            # Read where the post stands by its name and time: a thread of its own.
            earlier = [thread.index.post(j) for j in range(i)]
            return read_post(post, self.vote, earlier, seconds=thread.seconds)
        # The same name and time at the same place: only the text differs, and
        # reading post i looks only at the posts before it (read as they were).
        return thread.read_in_budget(i, post)

    def _pack(self) -> None:
        end = len(self._posts.posts) - self._keep
        if end > self._posts.index.packed_upto:
            self._posts.index.pack_before(end)


def line_suggestions(body: str, vote: VoteSpec) -> dict[int, list[str]]:
    """The unticked `[ ]` lines of a post (a quest master's vote post): each `lines`
    prompt's suggestions, sub-lines under their line with their dashes (docs/xballots.md)."""
    return suggestions(scan(body[:MAX_BODY]), vote)
