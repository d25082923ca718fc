"""A forum on 127.0.0.1 for tests that fetch thread pages: http.server in a thread.

`forum_serving()` serves the XenForo fixture pages at a thread's address
(`/threads/lighthouse-keepers-of-vael-a-coastal-quest.48213/`, `page-2`,
`page-3`), and a few bad answers: `/missing/` a 404, `/threads/data.1/` JSON,
`/threads/not-a-thread.2/` an HTML page with no posts. Nothing leaves the machine.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

PAGES = Path(__file__).resolve().parent / "fixtures" / "xenforo"
THREAD = "/threads/lighthouse-keepers-of-vael-a-coastal-quest.48213/"
NOT_A_THREAD = "/threads/not-a-thread.2/"
NOT_HTML = "/threads/data.1/"
MISSING = "/threads/missing.3/"


def _routes() -> dict[str, tuple[str, bytes]]:
    html = "text/html; charset=utf-8"
    routes = {THREAD: (html, (PAGES / "thread-page-1.html").read_bytes())}
    for n in (2, 3):
        routes[f"{THREAD}page-{n}"] = (html, (PAGES / f"thread-page-{n}.html").read_bytes())
    routes[NOT_A_THREAD] = (html, b"<!doctype html><html><body><p>Welcome!</p></body></html>")
    routes[NOT_HTML] = ("application/json", b'{"format": "quest-thread/1"}')
    return routes


class _Forum(BaseHTTPRequestHandler):
    routes: dict[str, tuple[str, bytes]] = {}
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        found = self.routes.get(self.path)
        if found is None:
            self.send_error(404, "Not Found")
            return
        kind, body = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def forum_serving() -> Iterator[tuple[str, list[str]]]:
    """The forum's base address (`http://127.0.0.1:PORT`) and the paths requested so far."""
    handler = type("Forum", (_Forum,), {"routes": _routes(), "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler.seen
    finally:
        server.shutdown()
        server.server_close()
