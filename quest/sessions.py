"""Sessions read from the cache, kept in the database (SESSION_ENGINE, issue 14).

Django's `cached_db` store: a signed-in request reads its session from Redis,
not from a query, and every write still goes to the database first, so the
database stays the record. Two changes, both for when Redis fails:

- A cache that cannot be reached is skipped, as the rate limits skip it
  (quest/ratelimit.py): the session is read from, and written to, the
  database alone, and the failure is logged. Django's store would raise
  (its load writes the cache back without a guard), failing every signed-in
  request while Redis is down.
- A session is kept in the cache for SESSION_CACHE_SECONDS at most, not for
  the session's life: a log-out made while Redis was unreachable deletes the
  database row but cannot delete the cached copy, and that copy must not come
  back for weeks once Redis is up again. (A password change logs other
  sessions out whatever the cache holds: the session's hash of the password is
  checked against the user row, read on every request.)
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SESSION_CACHE_SECONDS = 10 * 60


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache: Any = _Forgiving(caches[settings.SESSION_CACHE_ALIAS])


class _Forgiving:
    """The session cache's few calls, each skipped with a log line when Redis fails."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self._cache.get(key, default)
        except RedisError as e:
            logger.warning("Session read from the database, cache unavailable: %s", e)
            return default

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        cap = SESSION_CACHE_SECONDS if timeout is None else min(timeout, SESSION_CACHE_SECONDS)
        try:
            self._cache.set(key, value, cap)
        except RedisError as e:
            logger.warning("Session not cached, cache unavailable: %s", e)

    def delete(self, key: str) -> None:
        try:
            self._cache.delete(key)
        except RedisError as e:
            # The database row is gone already; the cached copy expires on its own.
            logger.error("Session deleted from the database only, cache unavailable: %s", e)

    def __contains__(self, key: str) -> bool:
        try:
            return key in self._cache
        except RedisError as e:
            # Only asked for a new session key: the database says whether it is taken.
            logger.warning("Session key checked in the database only, cache unavailable: %s", e)
            return False
