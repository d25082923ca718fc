"""Indexes over one thread's posts, built when first needed.

`read_post` reads one new post with the whole window as `earlier`, and most
posts need none of these (a quote by post id needs the id index; a proxy or a
"Same as X" the first-post index). Positions by author come from one C-level
pass over the case-folded names: all at once for a whole thread, one author at
a time for a single post.

A long thread kept between reads (reader.ReadingContext) packs the bodies of
its older posts (`pack_before`): each is kept zlib-compressed and unpacked by
`post(i)` when a later post reads it (a quote by text, an endorsement, a plan),
so what the thread holds grows with a fraction of its text, not with all of it.
Every body the reader reads of an earlier post comes through `post(i)`, so a
packed post reads exactly as it did.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import replace
from operator import attrgetter

from .bbcode import Quote, scan
from .found import MAX_BODY
from .social import Posters
from .text import bare
from .types import PostIn

_AUTHOR = attrgetter("author")
_ID = attrgetter("id")
_BARE_KEPT = 10_000  # bare texts of quoted-post candidates kept for the next quote


class PostIndex:
    """The posts of one thread in order, and lookups by id, author and quoted text."""

    def __init__(self, posts: Sequence[PostIn], *, one_post: bool = False):
        self.posts = posts if isinstance(posts, list) else list(posts)
        self.keys = list(map(str.casefold, map(_AUTHOR, self.posts)))
        self._index: dict[int, int] | None = None
        self._first_seen: dict[str, int] | None = None
        self._by_author: dict[str, list[int]] = {}
        if not one_post:
            for i, key in enumerate(self.keys):
                self._by_author.setdefault(key, []).append(i)
        self._one_post = one_post
        self.bare_bodies: dict[int, str] = {}
        # Position -> the body, compressed, of a packed post (its PostIn's body is "").
        self._packed: dict[int, bytes] = {}
        self.packed_upto = 0  # every post before this position with a body is packed

    def post(self, i: int) -> PostIn:
        """Post i with its body (unpacked, if it was packed)."""
        packed = self._packed.get(i)
        if packed is None:
            return self.posts[i]
        return replace(self.posts[i], body=zlib.decompress(packed).decode())

    def body(self, i: int) -> str:
        packed = self._packed.get(i)
        return self.posts[i].body if packed is None else zlib.decompress(packed).decode()

    def pack_before(self, end: int) -> None:
        """Keep the bodies of the posts before position `end` compressed.

        Level 1: most of the saving for a fraction of the time of the default.
        Only posts with no revisions are packed (an edited post made in the app,
        rare, is kept whole).
        """
        posts, packed = self.posts, self._packed
        for i in range(self.packed_upto, end):
            p = posts[i]
            if p.body and not p.revisions:
                packed[i] = zlib.compress(p.body.encode(), 1)
                posts[i] = replace(p, body="")
        self.packed_upto = max(self.packed_upto, end)

    def extend(self, posts: Sequence[PostIn]) -> None:
        """Append posts after the last; the indexes already built are kept up to date."""
        start = len(self.posts)
        self.posts.extend(posts)
        new_keys = [p.author.casefold() for p in posts]
        self.keys.extend(new_keys)
        for i, (post, key) in enumerate(zip(posts, new_keys, strict=True), start):
            if self._index is not None:
                self._index.setdefault(post.id, i)
            if self._first_seen is not None:
                self._first_seen.setdefault(key, i)
            if not self._one_post or key in self._by_author:
                self._by_author.setdefault(key, []).append(i)

    def position_of(self, post_id: int) -> int | None:
        """Position of the first post with this id."""
        if self._index is None:
            n = len(self.posts)
            # Reversed, so the first position of a repeated id is the one kept.
            ids = reversed(list(map(_ID, self.posts)))
            self._index = dict(zip(ids, range(n - 1, -1, -1), strict=True))
        return self._index.get(post_id)

    def first_seen(self, key: str) -> tuple[int, str] | None:
        """The first post by a case-folded name: (position, the name as written)."""
        if self._first_seen is None:
            n = len(self.keys)
            self._first_seen = dict(zip(reversed(self.keys), range(n - 1, -1, -1), strict=True))
        i = self._first_seen.get(key)
        return None if i is None else (i, self.posts[i].author)

    def by_author(self, key: str) -> list[int]:
        """Positions of the posts by a case-folded name, in order."""
        found = self._by_author.get(key)
        if found is None:
            found = []
            if self._one_post:  # list.index scans in C, far faster than a loop here
                keys, j = self.keys, -1
                try:
                    while True:
                        j = keys.index(key, j + 1)
                        found.append(j)
                except ValueError:
                    pass
            self._by_author[key] = found
        return found

    def posters_before(self, i: int) -> Posters:
        return _PostersView(self, i, self.keys[i])

    def quoted_post(self, quote: Quote, i: int) -> int | None:
        """The earlier post a quote is of: by post id, else by author and quoted text."""
        if quote.post_id is not None:
            j = self.position_of(quote.post_id)
            return j if j is not None and j < i else None
        wanted = bare(quote.text)
        if not wanted:
            return None
        candidates = self.by_author(quote.author.casefold()) if quote.author else range(i)
        checked = 0
        for j in reversed(candidates):
            if j >= i:
                continue
            checked += 1
            if checked > 200:  # bounded: an old post is not worth a long search
                break
            if wanted in self._bare_body(j) or any(
                wanted in bare(scan(r.body[:MAX_BODY]).text) for r in self.posts[j].revisions
            ):
                return j  # quoted as it stands, or as it stood before an edit
        if quote.author:
            # Edited since the quote, with no revisions to match against: the author's
            # latest post edited after this one was written is what was quoted.
            after = self.posts[i].posted_at
            edited = [j for j in candidates if j < i and (self.posts[j].edited_at or after) > after]
            return edited[-1] if edited else None
        return None

    def _bare_body(self, j: int) -> str:
        if j not in self.bare_bodies:
            if len(self.bare_bodies) >= _BARE_KEPT:  # a cache: bounded, as the thread is not
                self.bare_bodies.clear()
            self.bare_bodies[j] = bare(scan(self.body(j)[:MAX_BODY]).text)
        return self.bare_bodies[j]


class _PostersView:
    """Posters who wrote before post i (other than its author), by case-folded name."""

    def __init__(self, index: PostIndex, i: int, me: str) -> None:
        self._index, self._i, self._me = index, i, me

    def get(self, key: str, /) -> str | None:
        seen = self._index.first_seen(key)
        if seen is None or seen[0] >= self._i or key == self._me:
            return None
        return seen[1]
