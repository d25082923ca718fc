"""Rate limits: at most N requests of a kind in S seconds from one user or address.

The limits are `settings.RATE_LIMITS` (kind -> (N, S)). The counters live in
Django's cache, which is Redis whenever REDIS_URL is set, so every process on
every host counts together; on the embedded default it is the local memory
cache of the one process there is.

How a request is counted (a sliding window counter):

1. Time is cut into windows of S seconds. Each (kind, who, window) has one
   counter, created if missing and bumped (SET NX, then INCR, pipelined in one
   round trip; `cache.add` and `cache.incr` off Redis): each is a single atomic
   command in Redis, so two processes never lose a count.
2. The rate over the last S seconds is estimated as this window's count plus
   the previous window's count, weighted by how much of that window is still
   inside the last S seconds. A fixed window alone would let 2N through
   around a window's edge.
3. A request that brings the estimate over N is refused with the number of
   seconds until a request would fit again. Refused requests count too, so
   hammering on only pushes that time back.

When the cache cannot be reached, requests are let through and the failure is
logged: an outage of the counter must not lock players out.
"""

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from redis.exceptions import RedisError

from quest.cache import RedisCache
from quest.http import HtmxHttpRequest

logger = logging.getLogger(__name__)

# What the 429 page says there were too many of ("Too many posts in a short time").
KINDS = {
    "login_account": "failed log-ins for this account",
    "login_address": "failed log-ins from your address",
    "signup": "sign-ups from your address",
    "password_reset": "password reset requests from your address",
    "post": "posts",
    "ballot": "ballots",
    "preview": "previews",
    "create": "new quests and chapters",
    "csp_report": "violation reports from your address",
}


# --- Who is counted -----------------------------------------------------------------


def address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the header a trusted proxy sets.

    Behind a proxy every request comes from the proxy, so the proxy must put the
    client's address in a header it overwrites (CLIENT_ADDRESS_HEADER, such as
    HTTP_X_REAL_IP). The last entry of a list is the one our proxy added.
    """
    raw = request.META.get(settings.CLIENT_ADDRESS_HEADER or "REMOTE_ADDR", "")
    raw = raw.rsplit(",", 1)[-1].strip() or request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:  # not from a web server or proxy we know: still one client
        return f"addr:{hashlib.sha256(raw.encode()).hexdigest()[:32]}"
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        # One IPv6 client holds a whole /64: counting single addresses would
        # give it billions of counters.
        return f"addr:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"addr:{ip}"


def user_or_address(request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return address(request)


def account(username: str) -> str:
    """The account a log-in names, whether or not it exists, in any letter case."""
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
    return f"account:{digest[:32]}"


# --- Counting --------------------------------------------------------------------------


def hit(kind: str, who: str) -> int | None:
    """Count a request; the seconds to wait when it is one too many, else None."""
    return _check(kind, who, count=True)


def wait(kind: str, who: str) -> int | None:
    """The seconds to wait before one more request would be allowed, counting nothing."""
    return _check(kind, who, count=False)


def _check(kind: str, who: str, *, count: bool) -> int | None:
    limit, seconds = settings.RATE_LIMITS[kind]
    window, elapsed = divmod(time.time(), seconds)
    current = f"ratelimit:{kind}:{who}:{int(window)}"
    previous = f"ratelimit:{kind}:{who}:{int(window) - 1}"
    try:
        if count:
            this, last = _counted(current, previous, timeout=2 * seconds)
        else:
            found = cache.get_many([current, previous])
            this, last = found.get(current, 0), found.get(previous, 0)
    except (RedisError, ValueError) as e:
        logger.warning("Rate limit %s not checked for %s, cache unavailable: %s", kind, who, e)
        return None
    coming = 0 if count else 1  # asking whether one more would fit
    estimate = last * (1 - elapsed / seconds) + this + coming
    if estimate <= limit:
        return None
    if estimate <= limit + 1:
        # Logged where the limit is reached, not for every request hammering on
        # past it: a flood of refused requests must not flood the log instead.
        logger.info("Rate limit %s reached by %s", kind, who)
    return _retry_after(limit, seconds, elapsed, this, last)


def _counted(current: str, previous: str, *, timeout: int) -> tuple[int, int]:
    """Count one in `current` (kept for `timeout` seconds); the counts of both windows.

    On Redis, one pipelined round trip (SET NX, INCR, GET), not the cache calls'
    four: a ballot POST counts itself on every request.
    """
    backend = caches[DEFAULT_CACHE_ALIAS]  # `cache` is a proxy: not an instance of it
    if not isinstance(backend, RedisCache):  # the embedded default's local memory
        cache.add(current, 0, timeout=timeout)
        return cache.incr(current), cache.get(previous, 0)
    key = backend.make_and_validate_key(current)
    previous_key = backend.make_and_validate_key(previous)
    pipe = backend.client(write=True).pipeline(transaction=False)
    pipe.set(key, 0, ex=timeout, nx=True)
    pipe.incr(key)
    pipe.get(previous_key)
    _, this, last = pipe.execute()
    return this, 0 if last is None else int(last)


def _retry_after(limit: int, seconds: int, elapsed: float, this: int, last: int) -> int:
    """Seconds until one more request fits: `last` fades first, then `this` once it is `last`."""
    room = limit - 1 - this  # what the previous window's weighted count must fall to
    if room >= 0:
        left = seconds * (1 - room / last) - elapsed
    else:
        left = (seconds - elapsed) + seconds * (1 - (limit - 1) / this)
    return max(1, math.ceil(left))


# --- Views ----------------------------------------------------------------------------------


def rate_limited[View: Callable[..., HttpResponseBase]](
    kind: str,
    *,
    key: Callable[[HttpRequest], str] = user_or_address,
    methods: tuple[str, ...] = ("POST",),
) -> Callable[[View], View]:
    """Refuse a view's `methods` requests past the `kind` limit, counted per `key(request)`.

    Put it under @login_required, so that sign-in redirects are not counted.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in methods:
                retry_after = hit(kind, key(request))
                if retry_after is not None:
                    return too_many(request, kind, retry_after)
            return view(request, *args, **kwargs)

        # The view's own signature: `wrapped` takes and returns what it does.
        return cast(View, wrapped)

    return decorator


def too_many(request: HtmxHttpRequest, kind: str, retry_after: int) -> HttpResponse:
    """The 429 page, or for htmx its message alone, saying when to try again."""
    template_name = "429.html"
    if request.htmx:
        template_name += "#retry"
    context = {"too_many": KINDS[kind], "retry_in": _duration(retry_after)}
    response = render(request, template_name, context, status=429)
    response["Retry-After"] = str(retry_after)
    if request.htmx:
        # Inside the element that asked rather than over it: a preview box keeps
        # its id and trigger, so it shows a preview again once the wait is over.
        response["HX-Reswap"] = "innerHTML"
    patch_vary_headers(response, ["HX-Request"])
    return response


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"
