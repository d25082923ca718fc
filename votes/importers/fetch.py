"""Fetching forum pages politely: the one way the app reads a page off a forum.

Every request made by `Fetcher.get`:

1. goes through `quest.outbound.check_outbound_url` (a host in FORUM_HOSTS;
   private and loopback addresses refused unless listed) and connects to an
   address it returned, the forum's name kept for the Host header and TLS;
2. waits its turn (`HostGate`): one request at a time to a forum host,
   FORUM_FETCH_PAUSE_SECONDS apart, counted across every process through the
   cache (Redis when REDIS_URL is set);
3. names the app and how to reach whoever runs it (FORUM_USER_AGENT);
4. is conditional when a copy of the page is on disk (If-None-Match,
   If-Modified-Since): a 304 answers with the copy;
5. is tried again after a network error, a 5xx or a 429, at most
   FORUM_FETCH_RETRIES times, FORUM_FETCH_BACKOFF_SECONDS apart and doubling,
   or as long as Retry-After asks; the whole host waits then, not just this
   request. A wait longer than FORUM_FETCH_MAX_WAIT_SECONDS ends the fetch with
   a FetchError that says when to try again;
6. follows redirects itself, each new address checked as in 1.

Fetched pages are kept on disk (`PageCache`, in FORUM_CACHE_DIR), and beside
each the JSON of what was read from it, so a page is parsed once per content.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.cache import cache

from quest.outbound import (
    DEFAULT_PORTS,
    OutboundTarget,
    Resolver,
    check_outbound_url,
    resolve_host,
)

__all__ = ["FetchError", "FetchSettings", "Fetched", "Fetcher", "HostGate", "PageCache"]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
RETRIED = frozenset({429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """A page could not be fetched; the message says why, for the quest master.

    `retry_after`: the seconds the forum asked us to wait, when it asked.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # where the page was found, after any redirect
    text: str
    content_type: str
    etag: str
    last_modified: str
    not_modified: bool  # a 304: `text` is the copy on disk


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str
    pause: float
    timeout: float
    retries: int
    backoff: float
    max_wait: float
    max_bytes: int
    allowed_hosts: tuple[str, ...]

    @classmethod
    def from_settings(cls) -> FetchSettings:
        return cls(
            user_agent=settings.FORUM_USER_AGENT,
            pause=settings.FORUM_FETCH_PAUSE_SECONDS,
            timeout=settings.FORUM_FETCH_TIMEOUT_SECONDS,
            retries=settings.FORUM_FETCH_RETRIES,
            backoff=settings.FORUM_FETCH_BACKOFF_SECONDS,
            max_wait=settings.FORUM_FETCH_MAX_WAIT_SECONDS,
            max_bytes=settings.IMPORT_MAX_BYTES,
            allowed_hosts=tuple(settings.FORUM_HOSTS),
        )

    @property
    def longest_request(self) -> float:
        """How long one try can hold a host's turn: a request and the longest wait after it."""
        return 2 * self.timeout + self.max_wait + 30


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: str
    headers: httpx.Headers
    text: str


# Taking turns


class _Turn:
    """How long the host must be left alone after this request: the pause, or longer."""

    def __init__(self, pause: float) -> None:
        self.delay = pause

    def wait(self, seconds: float) -> None:
        self.delay = max(self.delay, seconds)


class HostGate:
    """One request at a time to each forum host, a pause apart, in every process.

    The turn is a cache key added only when absent (Redis SET NX), with an
    expiry in case its holder dies; the time the host may next be asked is a
    second key. With the cache unreachable this process keeps its own.
    """

    POLL_SECONDS = 0.05
    _local_locks: dict[str, threading.Lock] = {}
    _local_next: dict[str, float] = {}
    _guard = threading.Lock()

    def __init__(
        self,
        *,
        pause: float,
        hold_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pause = pause
        self.hold_seconds = hold_seconds
        self.sleep = sleep
        self.clock = clock

    @contextmanager
    def turn(self, host: str) -> Iterator[_Turn]:
        release = self._acquire(host)
        turn = _Turn(self.pause)
        try:
            self._sleep_until(self._next(host))
            yield turn
        finally:
            self._set_next(host, self.clock() + turn.delay, turn.delay)
            release()

    def _acquire(self, host: str) -> Callable[[], None]:
        key, token = f"forum-fetch:{host}:turn", uuid.uuid4().hex
        deadline = self.clock() + 2 * self.hold_seconds
        while True:
            try:
                if cache.add(key, token, timeout=int(self.hold_seconds) + 1):
                    return lambda: self._release(key, token)
            except Exception:
                log.warning("the cache is unreachable: taking turns to %s in this process", host)
                return self._acquire_locally(host)
            if self.clock() > deadline:
                raise FetchError(f"Another fetch from {host} has not finished for too long.")
            self.sleep(self.POLL_SECONDS)

    def _release(self, key: str, token: str) -> None:
        try:
            if cache.get(key) == token:  # an expired turn may be someone else's by now
                cache.delete(key)
        except Exception:
            log.warning("the cache is unreachable: %s expires by itself", key)

    def _acquire_locally(self, host: str) -> Callable[[], None]:
        with self._guard:
            lock = self._local_locks.setdefault(host, threading.Lock())
        lock.acquire()
        return lock.release

    def _next(self, host: str) -> float:
        try:
            found = cache.get(f"forum-fetch:{host}:next")
        except Exception:
            found = None
        return max(float(found or 0), self._local_next.get(host, 0.0))

    def _set_next(self, host: str, at: float, delay: float) -> None:
        self._local_next[host] = at
        try:
            cache.set(f"forum-fetch:{host}:next", at, timeout=int(delay) + 60)
        except Exception:
            log.warning("the cache is unreachable: the pause before %s is kept here", host)

    def _sleep_until(self, at: float) -> None:
        delay = at - self.clock()
        if delay > 0:
            self.sleep(delay)


# Fetching


class Fetcher:
    """Fetches forum pages as the module docstring says; use it as a context manager."""

    def __init__(
        self,
        config: FetchSettings,
        *,
        pages: PageCache,
        gate: HostGate | None = None,
        resolve: Resolver = resolve_host,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.pages = pages
        self.gate = gate or HostGate(pause=config.pause, hold_seconds=config.longest_request)
        self.resolve = resolve
        # trust_env off: no proxy from the environment may reroute what outbound.py allowed.
        self.client = httpx.Client(
            timeout=config.timeout,
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"User-Agent": config.user_agent, "Accept": "text/html"},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
        """The page at `url`; conditional when a copy is on disk and validators are given."""
        copy = self.pages.read(url)
        headers = {}
        if copy is not None:
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        address = url
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._tries(address, headers)
            location = answer.headers.get("Location")
            if answer.status not in _REDIRECTS or not location:
                return self._result(address, answer, copy if address == url else None)
            address = urljoin(address, location)
            headers = {}  # the validators were the first address's
        raise FetchError(f"{url} redirects more than {MAX_REDIRECTS} times.")

    def _result(self, url: str, answer: _Answer, copy: str | None) -> Fetched:
        validators = {
            "etag": answer.headers.get("ETag", ""),
            "last_modified": answer.headers.get("Last-Modified", ""),
        }
        if answer.status == 304 and copy is not None:
            return Fetched(url, copy, "text/html", **validators, not_modified=True)
        if answer.status != 200:
            raise FetchError(_refusal(url, answer))
        self.pages.write(url, answer.text)
        content_type = answer.headers.get("Content-Type", "")
        return Fetched(url, answer.text, content_type, **validators, not_modified=False)

    def _tries(self, url: str, headers: dict[str, str]) -> _Answer:
        """One request, tried again as point 5 of the module docstring says."""
        target = check_outbound_url(
            url, allowed_hosts=self.config.allowed_hosts, resolve=self.resolve
        )
        for attempt in range(self.config.retries + 1):
            with self.gate.turn(_host_key(target)) as turn:
                answer, problem, asked = self._try(target, headers)
                if answer is not None:
                    return answer
                wait = asked if asked is not None else self.config.backoff * 2**attempt
                turn.wait(wait)
                if wait > self.config.max_wait:
                    raise FetchError(
                        f"{problem}, and asked us to wait {wait:.0f} s: the next refresh will.",
                        retry_after=wait,
                    )
        tries = self.config.retries + 1
        raise FetchError(
            f"{problem} ({tries} tries, {wait:.0f} s apart at the end).", retry_after=asked
        )

    def _try(
        self, target: OutboundTarget, headers: dict[str, str]
    ) -> tuple[_Answer | None, str, float | None]:
        """(the answer, or None with what went wrong and the wait the forum asked for)."""
        try:
            answer = self._send(target, headers)
        except httpx.TransportError as e:
            return None, f"{target.host} could not be reached ({str(e) or type(e).__name__})", None
        except httpx.HTTPError as e:  # an answer that cannot be read (a broken encoding): no retry
            raise FetchError(f"{target.url} could not be read ({e}).") from None
        if answer.status not in RETRIED:
            return answer, "", None
        problem = f"{target.host} answered {answer.status} {answer.reason}"
        return None, problem, _retry_after(answer.headers.get("Retry-After"), now=time.time())

    def _send(self, target: OutboundTarget, headers: dict[str, str]) -> _Answer:
        """GET from the first of the target's addresses that takes the connection."""
        error: httpx.TransportError | None = None
        for address in target.addresses:
            request = self.client.build_request(
                "GET",
                _direct_url(target, address),
                headers={**headers, "Host": _host_header(target)},
                extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
            )
            try:
                response = self.client.send(request, stream=True)
            except httpx.ConnectError as e:
                error = e
                continue
            try:
                return self._read(target, response)
            finally:
                response.close()
        assert error is not None  # outbound.py never returns a target without addresses
        raise error

    def _read(self, target: OutboundTarget, response: httpx.Response) -> _Answer:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self.config.max_bytes:
                raise FetchError(
                    f"{target.url} is larger than {self.config.max_bytes / 1_000_000:g} MB, "
                    "more than a forum page can be."
                )
        text = bytes(body).decode(response.encoding or "utf-8", errors="replace")
        return _Answer(response.status_code, response.reason_phrase, response.headers, text)


def _host_key(target: OutboundTarget) -> str:
    return f"{target.host}:{target.port}"


def _host_header(target: OutboundTarget) -> str:
    name = f"[{target.host}]" if ":" in target.host else target.host
    return name if target.port == DEFAULT_PORTS[target.scheme] else f"{name}:{target.port}"


def _direct_url(target: OutboundTarget, address: str) -> str:
    """The target's URL with the address outbound.py checked in place of its host."""
    parts = urlsplit(target.url)
    netloc = f"[{address}]" if ":" in address else address
    if target.port != DEFAULT_PORTS[target.scheme]:
        netloc += f":{target.port}"
    return urlunsplit((target.scheme, netloc, parts.path or "/", parts.query, ""))


def _retry_after(value: str | None, *, now: float) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def _refusal(url: str, answer: _Answer) -> str:
    status = f"{answer.status} {answer.reason}".strip()
    if answer.status in (401, 403):
        return f"The forum refused {url} ({status}): the thread may be private or need a log-in."
    if answer.status in (404, 410):
        return f"The forum has no page at {url} ({status}): is it the thread's address?"
    return f"The forum answered {url} with {status}."


# Pages on disk


class PageCache:
    """Fetched pages on disk, one file per address, and beside each what was read from it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def read(self, url: str) -> str | None:
        try:
            return self._path(url, ".html").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write(self, url: str, text: str) -> None:
        self._write(self._path(url, ".html"), text)

    def read_parsed(self, url: str, *, digest: str, version: str) -> dict[str, Any] | None:
        """What was read from the page, if it was read from this content by this parser."""
        try:
            stored = json.loads(self._path(url, ".json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        if stored.get("sha256") != digest or stored.get("parser") != version:
            return None
        data: dict[str, Any] = stored["page"]
        return data

    def write_parsed(self, url: str, data: dict[str, Any], *, digest: str, version: str) -> None:
        stored = {"sha256": digest, "parser": version, "page": data}
        self._write(self._path(url, ".json"), json.dumps(stored))

    def remove(self, url: str) -> None:
        for suffix in (".html", ".json"):
            self._path(url, suffix).unlink(missing_ok=True)

    def _path(self, url: str, suffix: str) -> Path:
        parts = urlsplit(url)
        # The host names a folder; the address's digest names the file, so no
        # address can reach outside the cache.
        folder = "".join(c if c.isalnum() or c in ".-" else "_" for c in parts.netloc) or "_"
        name = hashlib.sha256(url.encode()).hexdigest()[:40]
        return self.root / folder / f"{name}{suffix}"

    @staticmethod
    def _write(path: Path, text: str) -> None:
        # Written beside and renamed into place: a crash leaves the old copy or the new, whole.
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def content_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
