"""Django's Redis cache, with one client per connection pool instead of one per call.

Django's RedisCacheClient makes a new `redis.Redis` for every cache call; each
builds its table of response callbacks (~0.17 ms of CPU here), and every
signed-in request makes some (its session; a ballot its vote's prompts and
its rate limit too). A
client shared over its pool is what redis-py intends: it is safe to share
between threads, and the pool checks the process id, so a forked worker opens
its own connections.

`RedisCache.client()` hands out that client for what the cache's own calls
cannot do in one round trip (the rate limiter's pipeline, quest/ratelimit.py).
"""

from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _SharedClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[redis.ConnectionPool, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        # Django's choice of server (writes to the first, reads from any other), kept.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # not in the stubs
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = redis.Redis(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClient

    def client(self, *, write: bool = False) -> redis.Redis:
        """The Redis client the cache's calls use; keys through make_and_validate_key."""
        client: redis.Redis = self._cache.get_client(write=write)
        return client
