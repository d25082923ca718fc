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
   is ever sent without it (but a public quest's reader partial, 5.); a 304
   holds nothing the client did not have.
4. While ballots stream in, every recount (several a second) moves the stamp,
   so every poll would go through the view. With TALLY_POLL_SETTLE_SECONDS
   set, a poller shown the tally less than that long ago keeps it through
   recounts: the new counts reach it at its first poll after that, so each
   player's page costs at most one full answer per that many seconds. The
   at-once stamp is never held back: a close, a final tally, a ruling or a
   call shows at the next poll.

5. A reader's poll (`?as=reader`: what the page asks for when drawn for
   someone who is not staff) of a *public* quest gets the same partial
   whoever asks, so the view, having rendered it once for a stamp, keeps it
   under that stamp (`share`) and this middleware sends it to every other
   such poll, 200 or 304, with no session, user or query (`answer_shared`).
   Kept only when it cannot depend on the viewer: the quest public, results
   not shown "once you have voted" on an open vote, the viewer not staff
   (staff pages poll the plain URL, which never takes this path). The entry
   records the quest's visibility token (quest/visibility.py), read before
   the view read the quest row; making the quest private moves it, so the
   entry stops being served. The window: between the commit that makes a
   quest private and the token's move right after it (a cache write, ~1 ms),
   a poll may still get the partial of a moment before, as it would have had
   it polled a moment earlier. Like a session's entry (4.), the kept partial
   is served through an open vote's recounts for TALLY_POLL_SETTLE_SECONDS,
   never through an at-once change. Had that move failed (Redis refusing writes
   while answering reads), the entry is still dropped at the vote's next
   change (past the settle time) or after SHARE_SECONDS. The player's own panel is polled apart
   (votes/views/ballot.py `chapter_ballot_panel`).

6. The player's own panel polls its own URL (`chapter-ballot-panel`). It
   changes when the player's ballot does, or what of theirs the tally holds
   back or leaves out: the recount moves a *voter stamp* for exactly those
   voters (`tally_changed(voters=...)`). The panel view remembers, for the
   session cookie, the voter stamp and the vote's at-once stamp it read
   before the ballot rows, and the panel it sent (`remember_panel`); this
   middleware answers the panel's poll while neither moved (`answer_panel`):
   304, or the kept panel itself to a poll that asks with an older ETag or
   none (a second request sent before the first's answer came back: what the
   player's session was sent already, nothing more). A recount of other
   players' posts costs the player nothing.
   Its "recounting…" note names the player's posts in the window not read
   yet at their current text (`waiting`: a recount reads them, or the worker
   just before it). Every `tally_changed` also writes which refs are read
   (`_counted`: their span and the refs missing in it, one query), and a
   remembered panel waiting only for posts read by then goes to the view. So
   the note is answered 304 through other players' recounts for as long as it
   is true, and goes at the first poll after the recount that reads (or
   follows the reading of) the player's post; that recount moves their stamp
   too when it changes their ballot. Not stamped: the note appearing when the
   player posts (the ballot form's answer says "being counted…" meanwhile).

The poll carried the player's own "Your ballot" panel (`?with=ballot`); pages
opened before the panel was split off still poll that way, and are answered
as they were (by the view, 304 through the remembered entry).

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
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags
from redis.exceptions import RedisError

from chapters.models import Vote
from quest import visibility
from quest.models import Post
from votes.models import Reading

log = logging.getLogger(__name__)

POLL_URL_NAME = "chapter-tally"
PANEL_URL_NAME = "chapter-ballot-panel"
REMEMBER_SECONDS = 120  # how stale an unstamped change may get on a page left open
SHARE_SECONDS = 60  # as REMEMBER_SECONDS, for the shared partial (5.)
READER = "reader"  # `?as=reader`: the poll of a page drawn for someone who is not staff
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


def _counted_key(slug: str, number: int | str) -> str:
    return f"votes:tally-counted:{slug}:{number}"


def _voter_stamp_key(slug: str, number: int | str, voter: str) -> str:
    named = hashlib.sha256(voter.encode()).hexdigest()[:32]
    return f"votes:voter-stamp:{slug}:{number}:{named}"


def _panel_key(request: HttpRequest, slug: str, number: int | str) -> str:
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    who = hashlib.sha256(cookie.encode()).hexdigest()[:32]
    return f"votes:panel-poll:{slug}:{number}:{who}"


def _shared_key(request: HttpRequest, slug: str, number: int | str) -> str:
    # Dates in the partial are shown in the viewer's zone (quest.middleware.TimezoneMiddleware).
    zone = hashlib.sha256(request.COOKIES.get("tz", "").encode()).hexdigest()[:16]
    return f"votes:tally-shared:{slug}:{number}:{zone}"


def is_reader_poll(request: HttpRequest) -> bool:
    return is_poll(request) and request.GET.get("as") == READER and "with" not in request.GET


def is_poll(request: HttpRequest) -> bool:
    """A chapter page's tally poll: htmx asking for the partial."""
    return request.method == "GET" and request.headers.get("HX-Request") == "true"


# --- 1. Moving the stamp --------------------------------------------------------------


def tally_changed(
    *,
    vote: Vote,
    at_once: bool = True,
    voters: Collection[str] = (),
    counted: "Counted | None" = None,
) -> None:
    """What pollers of `vote` are shown changed, or will once this transaction commits.

    `at_once=False` (an open vote's recount): a poller may see it up to
    TALLY_POLL_SETTLE_SECONDS late. `voters`: whose own panel changed too (6.).
    `counted`: which refs are read, when the caller (a recount) knows; asked of
    the database otherwise.

    Moved now and again after the commit. The second is the one a poll can
    rely on: a poll that read the first before the commit saw the old rows and
    remembered them under it, and the second moves past that. The first makes
    the change visible to callers whose transaction is not committed here (a
    test's, a management command's outer atomic block).
    """
    where = _where(vote.pk)
    if where is None:
        return
    slug, number = where
    voters = tuple(voters)
    counted = _counted(vote.pk) if counted is None else counted
    _move(slug, number, at_once=at_once, voters=voters, counted=counted)
    transaction.on_commit(
        lambda: _move(slug, number, at_once=at_once, voters=voters, counted=counted)
    )


def _where(vote_id: int) -> tuple[str, int] | None:
    return (
        Vote.objects.filter(pk=vote_id)
        .values_list("chapter__quest__slug", "chapter__number")
        .first()
    )


Counted = tuple[int, int, tuple[int, ...]]  # (lowest, highest, refs between not counted)


def _counted(vote_id: int) -> Counted:
    """The refs of the vote's posts read at their current text, small: their span and the
    refs missing in it.

    Called with a recount's own change, so these are the posts it counted. The
    window's posts follow each other and are read out of order only a little
    (a few waiting for the worker), so the missing refs are few; a ref outside
    the span is not counted. The missing ones are looked for among the quest's
    posts in the span, not every number in it: an imported thread's refs are
    the forum's, far apart (a 25,000-post import spans 125 million numbers).
    """
    refs = set(
        Reading.objects.filter(vote_id=vote_id, post_version=F("post__version")).values_list(
            "post__ref", flat=True
        )
    )
    if not refs:
        return (0, -1, ())
    low, high = min(refs), max(refs)
    quest = Vote.objects.filter(pk=vote_id).values("chapter__quest_id")[:1]
    between = Post.objects.filter(quest_id=Subquery(quest), ref__gt=low, ref__lt=high)
    refs_between = between.values_list("ref", flat=True).iterator(chunk_size=5000)
    # Not an anti-join in SQL: on a vote whose Readings were just written, before
    # PostgreSQL's statistics see them, it can plan a scan of every Reading per post.
    return (low, high, tuple(sorted(r for r in refs_between if r not in refs)))


def counted_span(counted: Collection[int], not_counted: Collection[int]) -> Counted:
    """`Counted` from the refs of a window read at their current text and those not:
    what a recount knows without asking the database (`_counted` asks it)."""
    if not counted:
        return (0, -1, ())
    low, high = min(counted), max(counted)
    return (low, high, tuple(sorted(r for r in not_counted if low < r < high)))


def _is_counted(counted: Counted | None, refs: Collection[int]) -> bool:
    """Whether every ref of `refs` is among those the latest run counted."""
    if counted is None:
        return False
    low, high, missing = counted
    return all(low <= ref <= high and ref not in missing for ref in refs)


def _move(
    slug: str,
    number: int,
    *,
    at_once: bool,
    voters: tuple[str, ...] = (),
    counted: Counted | None = None,
) -> None:
    every, now = _stamp_keys(slug, number)
    moved: dict[str, Any] = {every: secrets.token_hex(8)}
    if at_once:
        moved[now] = secrets.token_hex(8)
    moved |= {_voter_stamp_key(slug, number, voter): secrets.token_hex(8) for voter in voters}
    if counted is not None:
        moved[_counted_key(slug, number)] = counted
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


def share(
    request: HttpRequest,
    slug: str,
    number: int,
    *,
    token: tuple[str, str],
    visibility: str,
    etag: str,
    html: str,
    final: bool,
) -> None:
    """Keep a public quest's reader partial for every reader's poll under the stamp read before.

    The caller has checked, from rows read after `token` and `visibility`,
    that the quest is public and the partial the same for every reader.
    """
    entry = (*token, time.time(), visibility, etag, final, html)
    with contextlib.suppress(RedisError):  # if not, the next poll goes through the view again
        cache.set(_shared_key(request, slug, number), entry, SHARE_SECONDS)


def voter_stamp(slug: str, number: int, voter: str) -> str | None:
    """The voter's stamp now (made if missing), read before the panel's rows are (6.)."""
    key = _voter_stamp_key(slug, number, voter)
    try:
        cache.add(key, secrets.token_hex(8), STAMP_SECONDS)
        return cache.get(key)
    except RedisError:
        return None


def remember_panel(
    request: HttpRequest,
    slug: str,
    number: int,
    *,
    token: tuple[str, str],
    voter: str,
    mine: str,
    etag: str,
    waiting: tuple[int, ...],
    html: str | None = None,
    final: bool = False,
) -> None:
    """Remember the panel's ETag (and the panel, `html`, when rendered) under the vote's
    at-once stamp and the voter's stamp `mine`, with the refs it says are not counted yet."""
    entry = (token[1], _voter_stamp_key(slug, number, voter), mine, etag, waiting, html, final)
    with contextlib.suppress(RedisError):
        cache.set(_panel_key(request, slug, number), entry, REMEMBER_SECONDS)


# --- 3. Answering before the session is loaded ------------------------------------------


def answer(request: HttpRequest) -> HttpResponse | None:
    """The kept reader partial (5.), or a 304 for a poll whose remembered ETag still holds.

    None: ask the view.
    """
    polled = _polled_vote(request)
    if polled is None:
        return None
    name, slug, number = polled
    if name == PANEL_URL_NAME:
        return answer_panel(request, slug, number)
    if is_reader_poll(request):
        shared = answer_shared(request, slug, number)
        if shared is not None:
            return shared
    return _answer_remembered(request, slug, number)


def _answer_remembered(request: HttpRequest, slug: str, number: int) -> HttpResponse | None:
    """A 304 for this session's poll while its remembered ETag holds (3., 4.)."""
    asked = request.headers.get("If-None-Match")
    if not asked:
        return None
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


def _polled_vote(request: HttpRequest) -> tuple[str, str, int] | None:
    """Which poll (URL name), quest slug and chapter number; None for any other request."""
    if not is_poll(request) or "messages" in request.COOKIES:
        return None  # a message waits to be shown: the view never answers 304 then
    path = request.path_info
    if not path.endswith(("/tally/", "/ballot-panel/")):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name not in (POLL_URL_NAME, PANEL_URL_NAME):
        return None
    return match.url_name, match.kwargs["slug"], match.kwargs["number"]


def answer_panel(request: HttpRequest, slug: str, number: int) -> HttpResponse | None:
    """The player's panel while neither their stamp nor the at-once one moved (6.): 304 for
    the remembered ETag, else the kept panel. None: ask the view."""
    keys = [_stamp_keys(slug, number)[1], _panel_key(request, slug, number)]
    try:
        now, entry = (cache.get_many(keys).get(key) for key in keys)
        if now is None or entry is None:
            return None
        seen_now, mine_key, seen_mine, etag, waiting, html, final = entry
        if seen_now != now:
            return None
        found = cache.get_many([mine_key, _counted_key(slug, number)])
    except RedisError:
        return None
    if found.get(mine_key) != seen_mine:
        return None
    if waiting and _is_counted(found.get(_counted_key(slug, number)), waiting):
        return None  # "recounting…" is no longer true: the view shows what is counted
    asked = request.headers.get("If-None-Match")
    response: HttpResponse
    if asked and f'"{etag}"' in parse_etags(asked):
        response = HttpResponseNotModified()
    elif html is not None:
        # 286 (htmx's "stop polling") once final, as the view's HttpResponseStopPolling.
        response = HttpResponse(html, status=286 if final else 200)
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS  # as XFrameOptionsMiddleware
        response["Content-Length"] = str(len(response.content))  # as CommonMiddleware
    else:
        return None
    response["ETag"] = f'"{etag}"'
    response["Vary"] = VARY
    # Whoever may see a panel, never a shared cache: it is one player's.
    patch_cache_control(response, private=True)
    return response


def answer_shared(request: HttpRequest, slug: str, number: int) -> HttpResponse | None:
    """A public quest's reader partial kept for this stamp (304 if the poller has it); None: ask on.

    One cache round trip: the vote's stamps, the quest's visibility token and
    the kept entry, compared. Kept through an open vote's recounts for
    TALLY_POLL_SETTLE_SECONDS, as a session's remembered ETag is (4.): in a
    rush the first pollers after every recount would otherwise all reach the
    view together before one of them has kept the new partial.
    """
    keys = [*_stamp_keys(slug, number), visibility.key(slug), _shared_key(request, slug, number)]
    try:
        found: dict[str, Any] = cache.get_many(keys)
    except RedisError:
        return None
    every, now, token, entry = (found.get(key) for key in keys)
    if every is None or now is None or token is None or entry is None:
        return None
    seen_every, seen_now, seen_at, seen_token, etag, final, html = entry
    if seen_token != token or seen_now != now:
        return None  # the quest's visibility changed, or the vote at once: the view decides
    if seen_every != every and time.time() - seen_at >= settings.TALLY_POLL_SETTLE_SECONDS:
        return None
    asked = request.headers.get("If-None-Match")
    response: HttpResponse
    if asked and f'"{etag}"' in parse_etags(asked):
        response = HttpResponseNotModified()
    else:
        # 286 (htmx's "stop polling") once final, as the view's HttpResponseStopPolling.
        response = HttpResponse(html, status=286 if final else 200)
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS  # as XFrameOptionsMiddleware
        response["Content-Length"] = str(len(response.content))  # as CommonMiddleware
    response["ETag"] = f'"{etag}"'
    response["Vary"] = VARY
    return response


class TallyPollMiddleware:
    """Answer an unchanged tally poll 304 before the session, the user or the ORM is touched.

    Placed above SessionMiddleware: nothing below it runs for such a poll.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return answer(request) or self.get_response(request)
