"""Read posts into Readings: the public entry points of the reading package.

The algorithm is `thread.Thread.reading`; README.md lists the modules it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import budget
from .thread import Thread
from .types import PostIn, Reading, VoteSpec


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
