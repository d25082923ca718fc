"""A token that moves whenever a quest's visibility changes, for caches of public content.

Anything kept in the cache because a quest is public and served without the
access check (the tally poll's shared partial, votes/poll.py) records this
token when it is written, read *before* the quest row was read, and is served
only while the token is unchanged. Making the quest private moves it (now,
and again once the change is committed), so such content stops being served
at once, without the quest app knowing who keeps what.
"""

import logging
import secrets

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600  # an evicted token is made again: what recorded the old one is dropped


def key(slug: str) -> str:
    return f"quest:visibility:{slug}"


def token(slug: str) -> str | None:
    """The quest's token now, made if missing; None with the cache out of reach."""
    try:
        cache.add(key(slug), secrets.token_hex(8), KEEP_SECONDS)
        return cache.get(key(slug))
    except RedisError:
        return None


def visibility_changed(slug: str) -> None:
    """Move the token now and again after the commit (the one readers of the new row rely on)."""
    _move(slug)
    transaction.on_commit(lambda: _move(slug))


def _move(slug: str) -> None:
    try:
        cache.set(key(slug), secrets.token_hex(8), KEEP_SECONDS)
    except RedisError as e:
        # Readers of the cache are cut off as well meanwhile; what was kept
        # under the old token also expires with its own short lifetime.
        log.warning("Visibility token of quest %s not moved, cache unavailable: %s", slug, e)
