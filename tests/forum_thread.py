"""A XenForo thread that keeps growing, served by a forum on 127.0.0.1 that the test controls.

`ForumThread` starts as the fixture pages 1 and 2 of tests/fixtures/xenforo/
(the Lighthouse Keepers of Vael quest; page 2 then holds 8 posts) and changes
as a test says: `add` a post (on the last page, a new page after 25), `edit`
one, `delete` one (gone, as a guest sees it), `add_chapter` (a threadmarked
post of the quest master's with a vote). Pages are made from the fixture's own
markup: page 1 as saved, later pages in page 2's frame, new posts in the markup
the parser reads (tests/test_xenforo_parse.py checks it on the hand-written pages).

`ForumServer` serves the thread at `/threads/lighthouse-keepers-of-vael-a-coastal-quest.48213/`:
pages with an ETag and a Last-Modified (a 304 to a matching conditional
request, unless `conditional` is off), errors queued with `fail(path, status,
retry_after=...)`, other pages set with `serve(path, body, content_type)`, and
every request recorded (`requests`: path, headers, when it started and ended),
so tests can check the pace and that no two requests overlapped.
Nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "xenforo"
THREAD_PATH = "/threads/lighthouse-keepers-of-vael-a-coastal-quest.48213/"
QUEST_MASTER = "Harrow_Quill"
QUEST_MASTER_ID = 1207
PER_PAGE = 25
# After the fixture's last post (Mar 4, 2024 at 20:19 UTC), and still before any close.
FIRST_NEW_POST_AT = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)

_ARTICLE = re.compile(r"(?ms)^\t\t<(article|div) class=\"message .*?^\t\t</\1>\n")
_NAV = re.compile(r'(?s)<ul class="pageNav-main">.*?</ul>')


@dataclass
class _NewPost:
    id: int
    author: str
    user_id: int
    position: int
    at: datetime
    body: str  # the bbWrapper's HTML
    edited_at: datetime | None = None
    threadmark: str | None = None


@dataclass
class ForumThread:
    """The thread's posts after page 1, and how to render each page."""

    first_page: str = field(init=False)
    prefix: str = field(init=False)
    suffix: str = field(init=False)
    articles: list[tuple[int, str | _NewPost]] = field(init=False)
    next_id: int = 5120200
    next_position: int = 34
    # A forum user's id is theirs: each new author gets the next one (forum identities key on it).
    user_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.first_page = (FIXTURES / "thread-page-1.html").read_text()
        second = (FIXTURES / "thread-page-2.html").read_text()
        found = list(_ARTICLE.finditer(second))
        self.prefix, self.suffix = second[: found[0].start()], second[found[-1].end() :]
        self.articles = [(_post_id(m.group(0)), m.group(0)) for m in found]

    # Changing the thread

    def add(
        self, author: str, body: str, *, user_id: int | None = None, threadmark: str | None = None
    ):
        """A new post at the end of the thread; returns its id. `body` is the post's HTML.

        `user_id` is the author's forum id: by default the one this author had
        before, or the next one free from 8000.
        """
        if user_id is None:
            user_id = self.user_ids.setdefault(author, 8000 + len(self.user_ids))
        post = _NewPost(
            id=self.next_id,
            author=author,
            user_id=user_id,
            position=self.next_position,
            at=FIRST_NEW_POST_AT + timedelta(minutes=self.next_position),
            body=body,
            threadmark=threadmark,
        )
        self.next_id += 7  # forum ids grow with the whole forum's posts, not the thread's
        self.next_position += 1
        self.articles.append((post.id, post))
        return post.id

    def add_chapter(self, title: str, body: str) -> int:
        return self.add(QUEST_MASTER, body, user_id=QUEST_MASTER_ID, threadmark=title)

    def edit(self, post_id: int, body: str) -> None:
        post = self._new_post(post_id)
        post.body = body
        post.edited_at = post.at + timedelta(minutes=30)

    def delete(self, post_id: int) -> None:
        self.articles = [(i, a) for i, a in self.articles if i != post_id]

    def _new_post(self, post_id: int) -> _NewPost:
        for i, article in self.articles:
            if i == post_id and isinstance(article, _NewPost):
                return article
        raise KeyError(f"post {post_id} was not added by the test")

    # Pages

    @property
    def page_count(self) -> int:
        return 1 + max(1, -(-len(self.articles) // PER_PAGE))

    def page(self, number: int) -> str | None:
        if not 1 <= number <= self.page_count:
            return None
        if number == 1:
            return self._framed(self.first_page, 1)
        chunk = self.articles[(number - 2) * PER_PAGE : (number - 1) * PER_PAGE]
        body = "".join(a if isinstance(a, str) else _article(a) for _, a in chunk)
        return self._framed(self.prefix + body + self.suffix, number)

    def pages(self) -> dict[str, str]:
        """Path -> HTML of every page."""
        return {
            THREAD_PATH + ("" if n == 1 else f"page-{n}"): self.page(n) or ""
            for n in range(1, self.page_count + 1)
        }

    def _framed(self, page: str, number: int) -> str:
        nav = "".join(
            f'<li class="pageNav-page {"pageNav-page--current" if n == number else ""}">'
            f'<a href="{THREAD_PATH}{"" if n == 1 else f"page-{n}"}">{n}</a></li>'
            for n in range(1, self.page_count + 1)
        )
        page = _NAV.sub(lambda _: f'<ul class="pageNav-main">{nav}</ul>', page)
        return re.sub(r">\d+ of \d+<", f">{number} of {self.page_count}<", page)


def _post_id(article: str) -> int:
    found = re.search(r'data-content="post-(\d+)"', article)
    assert found is not None
    return int(found.group(1))


def _article(post: _NewPost) -> str:
    """A post in XenForo 2's markup, as the parser reads it."""
    link = f"{THREAD_PATH}post-{post.id}"
    author = html.escape(post.author)
    threadmark = (
        '<div class="message-cell message-cell--threadmark-header">'
        f'<span class="threadmarkLabel">{html.escape(post.threadmark)}</span></div>'
        if post.threadmark
        else ""
    )
    edited = (
        '<div class="message-lastEdit">Last edited: '
        f'<time class="u-dt" datetime="{post.edited_at.isoformat()}">{post.edited_at:%b %d}</time>'
        "</div>"
        if post.edited_at
        else ""
    )
    time = f'<time class="u-dt" datetime="{post.at.isoformat()}">{post.at:%b %d}</time>'
    return f"""
<article class="message message--post js-post"
  data-author="{author}" data-content="post-{post.id}" id="js-post-{post.id}">
  {threadmark}
  <div class="message-inner">
    <div class="message-cell message-cell--user"><section class="message-user">
      <h4 class="message-name"><a href="/members/u.{post.user_id}/" class="username"
        data-user-id="{post.user_id}">{author}</a></h4>
    </section></div>
    <div class="message-cell message-cell--main">
      <header class="message-attribution message-attribution--split">
        <ul class="message-attribution-main"><li><a href="{link}">{time}</a></li></ul>
        <ul class="message-attribution-opposite"><li><a href="{link}">#{post.position}</a></li></ul>
      </header>
      <div class="message-content js-messageContent">
        <article class="message-body js-selectToQuote">
          <div class="bbWrapper">{post.body}</div>
        </article>
        {edited}
      </div>
    </div>
  </div>
</article>
"""


# The server


@dataclass(frozen=True)
class Request:
    path: str
    status: int
    headers: dict[str, str]
    started: float  # time.monotonic()
    ended: float


@dataclass
class _Fault:
    status: int
    retry_after: str | None = None


class ForumServer:
    """http.server on 127.0.0.1 in a thread, serving a `ForumThread` as it is at each request."""

    def __init__(self, thread: ForumThread) -> None:
        self.thread = thread
        self.conditional = True
        self.requests: list[Request] = []
        self.faults: dict[str, deque[_Fault]] = {}
        self.extra: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._modified: dict[str, tuple[str, datetime]] = {}  # path -> (etag, when it changed)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_port}"

    @property
    def thread_url(self) -> str:
        return self.base + THREAD_PATH

    def page_path(self, number: int) -> str:
        return THREAD_PATH + ("" if number == 1 else f"page-{number}")

    def start(self) -> ForumServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail(self, path: str, status: int, *, retry_after: str | None = None, times: int = 1):
        """Answer the next `times` requests for `path` with `status` (and Retry-After)."""
        queue = self.faults.setdefault(path, deque())
        queue.extend(_Fault(status, retry_after) for _ in range(times))

    def serve(self, path: str, body: str, content_type: str = "text/html; charset=utf-8"):
        self.extra[path] = (body.encode(), content_type)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # Answering

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            queue = self.faults.get(path)
            fault = queue.popleft() if queue else None
        if fault is not None:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, extra, f"<h1>Error {fault.status}</h1>".encode()
        if path in self.extra:
            body, kind = self.extra[path]
            return 200, {"Content-Type": kind}, body
        page = self.thread.pages().get(path)
        if page is None:
            return 404, {}, b"<h1>Not found</h1>"
        return self._page(path, page.encode(), headers)

    def _page(self, path: str, body: bytes, headers: dict[str, str]):
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        with self._lock:
            known = self._modified.get(path)
            if known is None or known[0] != etag:
                # Whole seconds, as HTTP dates are; each change a second later than the last.
                last = known[1] if known else datetime(2024, 3, 5, tzinfo=UTC)
                self._modified[path] = (etag, last + timedelta(seconds=1))
            modified = self._modified[path][1]
        validators = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        if not self.conditional:
            validators = {}
        elif headers.get("If-None-Match") == etag:
            return 304, validators, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", **validators}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                started = time.monotonic()
                headers = dict(self.headers.items())
                status, extra, body = server._answer(self.path, headers)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with server._lock:
                    server.requests.append(
                        Request(self.path, status, headers, started, time.monotonic())
                    )

            def log_message(self, format, *args) -> None:
                pass

        return Handler
