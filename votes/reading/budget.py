"""The time one post may take to read: a safety net under a linear grammar.

Every scanner in this package is linear in the text's length and every
repetition is capped, so a 100 KB post reads in tens of milliseconds. The
budget is for what no test foresaw: the entry points give each post a deadline,
the line walk and the prose rules check it as they go, and a post that runs
over is held back for a moderator ("could not be read in time") instead of
holding a worker, a recount or a page hostage.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

READ_BUDGET_SECONDS = 2.0

_deadline: ContextVar[float | None] = ContextVar("reading_deadline", default=None)


class OutOfTime(Exception):
    """Raised inside the reader when the post's deadline has passed."""


def check() -> None:
    """Raise OutOfTime once the current post's deadline has passed (cheap otherwise)."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime


def start(seconds: float) -> Token[float | None]:
    """Give the code that runs until `stop(token)` `seconds` before check() raises.

    A pair of calls rather than a context manager: the reader starts a budget
    for every post, and a generator-based `with` costs more than the checks.
    """
    return _deadline.set(time.monotonic() + seconds)


def stop(token: Token[float | None]) -> None:
    _deadline.reset(token)
