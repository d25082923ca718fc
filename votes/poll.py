"""The tally poll's cheap answer: "unchanged" decided from the cache alone.

Every player with a chapter open polls its tally every 3 s (1,000 of them in a
closing-hour rush: 333 requests a second). Deciding "unchanged" the full way,
in the view (votes/views/tally.py `_etag`: the session, the user, the vote and
its latest run loaded, the ETag computed), costs about what a page costs. So:

1. Every change a poller could be shown moves the vote's *stamp*, a random
   token in the cache (Redis when configured, so every web process and worker
   shares it): a recount stored (a new run, voters' ballots, the tally no
   longer behind), the vote's status, prompts or window changed, a moderator's
   ruling or merge, the quest master's call (`tally_changed`). All but an
   open vote's recounts also move its *at-once* stamp (see 4.).
2. The full view, answering a poll, remembers for that session cookie, vote and
   kind of poll the ETag it sent and the stamp it read *before* reading any row
   (`stamp`, `remember`): a change committed meanwhile moves the stamp past it.
3. `TallyPollMiddleware`, above the session and auth middleware, answers a
   conditional poll 304 when the session's remembered ETag is the one asked
   about and the stamp has not moved (`answer`): one cache round trip, no
   query. Anything else (no entry, a moved stamp, a message waiting, the cache
   down) goes on to the full view, access check and all, so nothing but a 304
   is ever sent without it; a 304 holds nothing the client did not have.
4. While ballots stream in, every recount (several a second) moves the stamp,
   so every poll would go through the view. With TALLY_POLL_SETTLE_SECONDS
   set, a poller shown the tally less than that long ago keeps it through
   recounts: the new counts reach it at its first poll after that, so each
   player's page costs at most one full answer per that many seconds. The
   at-once stamp is never held back: a close, a final tally, a ruling or a
   call shows at the next poll.

The poll carries the player's own "Your ballot" panel (`?with=ballot`), so its
ETag is per user (the view's ETag includes the player's ballot). It is kept per
session cookie rather than split out: a player's panel changes only through a
recount (their ballot, what is held, the run) or a ruling, which move the
stamp like any change to the shared tally.

Not stamped, so shown at the latest when a remembered entry expires
(REMEMBER_SECONDS) or the next stamped change comes: "recounting…" appearing
while a post waits to be read (the recount moves the stamp a moment later; a
lost one is sent again by the sweeper), the followed forum thread's "fetched
at", a change of the viewer's role in the quest, an expired session. Opening
the page itself always goes through the view.
"""

import contextlib
import hashlib
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags
from redis.exceptions import RedisError

from chapters.models import Vote

log = logging.getLogger(__name__)

POLL_URL_NAME = "chapter-tally"
REMEMBER_SECONDS = 120  # how stale an unstamped change may get on a page left open
STAMP_SECONDS = 24 * 3600  # a vote nobody polled for a day gets a new stamp: harmless
VARY = "HX-Request, Cookie"  # as the view's @vary_on_headers


def _stamp_keys(slug: str, number: int | str) -> tuple[str, str]:
    # By URL, not by vote id: the middleware knows only the URL.
    return f"votes:tally-stamp:{slug}:{number}", f"votes:tally-stamp-now:{slug}:{number}"


def _entry_key(request: HttpRequest, slug: str, number: int | str) -> str:
    kind = "ballot" if request.GET.get("with") == "ballot" else "tally"
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    # Visitors without a session all see the same partial; a session cookie is
    # a secret, so only its hash goes into the key.
    who = hashlib.sha256(cookie.encode()).hexdigest()[:32] if cookie else "visitor"
    return f"votes:tally-poll:{slug}:{number}:{kind}:{who}"


def is_poll(request: HttpRequest) -> bool:
    """A chapter page's tally poll: htmx asking for the partial."""
    return request.method == "GET" and request.headers.get("HX-Request") == "true"


# --- 1. Moving the stamp --------------------------------------------------------------


def tally_changed(*, vote: Vote, at_once: bool = True) -> None:
    """What pollers of `vote` are shown changed, or will once this transaction commits.

    `at_once=False` (an open vote's recount): a poller may see it up to
    TALLY_POLL_SETTLE_SECONDS late.

    Moved now and again after the commit. The second is the one a poll can
    rely on: a poll that read the first before the commit saw the old rows and
    remembered them under it, and the second moves past that. The first makes
    the change visible to callers whose transaction is not committed here (a
    test's, a management command's outer atomic block).
    """
    where = _where(vote.pk)
    if where is None:
        return
    _move(*where, at_once=at_once)
    transaction.on_commit(lambda: _move(*where, at_once=at_once))


def _where(vote_id: int) -> tuple[str, int] | None:
    return (
        Vote.objects.filter(pk=vote_id)
        .values_list("chapter__quest__slug", "chapter__number")
        .first()
    )


def _move(slug: str, number: int, *, at_once: bool) -> None:
    every, now = _stamp_keys(slug, number)
    moved = {every: secrets.token_hex(8)}
    if at_once:
        moved[now] = secrets.token_hex(8)
    try:
        cache.set_many(moved, STAMP_SECONDS)
    except RedisError as e:
        # Pollers cannot read the cache either meanwhile, so they get the full
        # view; the recount that follows an outage (the sweeper) moves it again.
        log.warning("Tally stamp of %s/%s not moved, cache unavailable: %s", slug, number, e)


# --- 2. The full view remembers what it sent ------------------------------------------


def stamp(slug: str, number: int) -> tuple[str, str] | None:
    """The vote's stamps now (made if missing), read before the view reads any row."""
    keys = _stamp_keys(slug, number)
    try:
        found = cache.get_many(keys)
        for key in keys:
            if key not in found:
                cache.add(key, secrets.token_hex(8), STAMP_SECONDS)
                found[key] = cache.get(key)
    except RedisError:
        return None
    every, now = (found[key] for key in keys)
    return (every, now) if every and now else None


def remember(
    request: HttpRequest,
    slug: str,
    number: int,
    *,
    token: tuple[str, str],
    etag: str,
    private: bool,
) -> None:
    """Remember the ETag the view computed for this poller under the stamps read before."""
    entry = (*token, time.time(), etag, private)
    with contextlib.suppress(RedisError):  # if not, the next poll goes through the view again
        cache.set(_entry_key(request, slug, number), entry, REMEMBER_SECONDS)


# --- 3. Answering before the session is loaded ------------------------------------------


def answer(request: HttpRequest) -> HttpResponse | None:
    """A 304 for a poll whose remembered ETag still holds; None: ask the view."""
    asked = request.headers.get("If-None-Match")
    if not asked or not is_poll(request) or "messages" in request.COOKIES:
        return None  # a message waits to be shown: the view never answers 304 then
    path = request.path_info
    if not path.endswith("/tally/"):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name != POLL_URL_NAME:
        return None
    slug, number = match.kwargs["slug"], match.kwargs["number"]
    keys = [*_stamp_keys(slug, number), _entry_key(request, slug, number)]
    try:
        found: dict[str, Any] = cache.get_many(keys)
    except RedisError:
        return None
    every, now, entry = (found.get(key) for key in keys)
    if every is None or now is None or entry is None:
        return None
    seen_every, seen_now, seen_at, etag, private = entry
    if seen_now != now or f'"{etag}"' not in parse_etags(asked):
        return None
    if seen_every != every and time.time() - seen_at >= settings.TALLY_POLL_SETTLE_SECONDS:
        return None
    response = HttpResponseNotModified()
    response["ETag"] = f'"{etag}"'
    response["Vary"] = VARY
    if private:
        patch_cache_control(response, private=True)  # as PrivateQuestCacheMiddleware would
    return response


class TallyPollMiddleware:
    """Answer an unchanged tally poll 304 before the session, the user or the ORM is touched.

    Placed above SessionMiddleware: nothing below it runs for such a poll.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return answer(request) or self.get_response(request)
