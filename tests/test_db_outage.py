"""Outages: PostgreSQL restarted under load, Redis down while players post.

While the database cannot be reached every request gets a clean 503 (a page,
or a fragment for htmx polling) with a retry hint and `Retry-After`, never a
traceback or a bare 500; when it returns the app serves again by itself.
With Redis down, posting still works and the player is told the ballot will
be counted shortly (the sweeper re-sends its reading when Redis is back).
"""

import http.client
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, connections
from django.test import RequestFactory
from django.urls import reverse
from django.utils.crypto import get_random_string
from playwright import sync_api

from quest.middleware import DatabaseUnavailableMiddleware, database_unavailable
from quest.models import Post, Quest
from tests.factories import chapter_url, make_quest, make_user, make_vote, prompt_list, vote_in
from tests.services import PostgresServer, WebServer, production_env
from tests.test_security_headers import COLLECT_VIOLATIONS

PROMPTS = prompt_list("single")
RETRY_HINT = "Try again in"
HTMX = {"HX-Request": "true"}


# --- The 503 answer, without a database --------------------------------------------------
# No django_db mark: any query these make fails the test.


def _answer(request) -> object:
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    return middleware.process_exception(request, OperationalError("connection refused"))


def test_it_answers_a_lost_database_with_a_503_page_and_a_retry_hint():
    response = _answer(RequestFactory().get("/q/the-red-alert/"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "<title>Back in a moment · Quest Tally</title>" in html
    assert f"{RETRY_HINT} 5 seconds" in html
    assert '<meta http-equiv="refresh" content="5">' in html  # a page tries again by itself
    assert "Log in" in html  # the signed-out header: no session or user was loaded


def test_it_answers_htmx_polling_with_a_503_fragment():
    response = _answer(RequestFactory().get("/q/x/chapters/1/tally/", headers=HTMX))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert RETRY_HINT in html
    assert "<html" not in html and "<body" not in html
    # Swapped inside the polling element (static/js/app.js), which keeps polling.
    assert response["HX-Reswap"] == "innerHTML"
    assert "HX-Request" in response["Vary"]


def test_it_tells_a_sender_that_nothing_was_saved():
    response = _answer(RequestFactory().post("/q/x/reply/", {"body": "1-A"}))

    html = response.content.decode()
    assert "What you sent was not saved" in html
    assert "http-equiv" not in html  # reloading would not send it again


def test_it_leaves_other_errors_to_the_500_handler():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


# --- PostgreSQL stopped and restarted while requests arrive ----------------------------------


@pytest.fixture
def postgres_server(transactional_db) -> Iterator[PostgresServer]:
    """The throwaway PostgreSQL, running again after the test whatever it did.

    Set up after the test database, so it is torn down before the tables are
    emptied: that needs the server, and a connection opened after the restart.
    """
    server = PostgresServer()
    try:
        yield server
    finally:
        server.start()
        # This process's connections died with the server: open new ones.
        connections.close_all()


@pytest.fixture
def web_server(transactional_db, tmp_path: Path) -> Iterator[WebServer]:
    """gunicorn with production settings on this test's database (rows here are committed)."""
    # The loop below posts faster than a person: not what this test is about.
    env = production_env(connection.settings_dict, settings.SECRET_KEY, RATE_LIMIT_POST="100000/60")
    server = WebServer(env=env, workdir=tmp_path)
    try:
        yield server.start()
    finally:
        server.stop()


@dataclass
class Exchange:
    kind: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all
    retry_after: str | None
    body: str


@dataclass
class Request:
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""
    ok: int = 200


def _send(server: WebServer, request: Request) -> Exchange:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        conn.request(request.method, request.path, body=request.body, headers=request.headers)
        response = conn.getresponse()
        body = response.read().decode(errors="replace")
        status, retry_after = response.status, response.getheader("Retry-After")
    except OSError as e:
        status, retry_after, body = 0, None, repr(e)
    finally:
        conn.close()
    return Exchange(request.kind, started, time.monotonic(), status, retry_after, body)


class Load:
    """One thread per kind of request, each sending its request again and again."""

    def __init__(self, server: WebServer, requests: list[Request]) -> None:
        self.server = server
        self.requests = {r.kind: r for r in requests}
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(r,), daemon=True) for r in requests
        ]

    def _run(self, request: Request) -> None:
        while not self._stop.is_set():
            exchange = _send(self.server, request)
            with self._lock:
                self.exchanges.append(exchange)
            time.sleep(0.02)

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def seen(self) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges)

    def ok(self, exchange: Exchange) -> bool:
        return exchange.status == self.requests[exchange.kind].ok

    def wait_for_success_of_each_kind(self, *, since: float, timeout: float) -> bool:
        """Whether every kind of request succeeded, started at `since` or later, in time."""

        def each_kind_succeeded() -> bool:
            done = {e.kind for e in self.seen() if e.started >= since and self.ok(e)}
            return done == set(self.requests)

        deadline = time.monotonic() + timeout
        while not each_kind_succeeded() and time.monotonic() < deadline:
            time.sleep(0.05)
        return each_kind_succeeded()


def _requests(vote, player_session: str) -> list[Request]:
    csrf = get_random_string(32)
    signed_in = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={player_session}; csrftoken={csrf}"}
    quest = vote.chapter.quest
    return [
        Request("thread page", "GET", reverse("quest-thread", args=[quest.slug]), {}),
        Request("tally polling", "GET", chapter_url(vote, "chapter-tally"), HTMX),
        Request("signed-in chapter", "GET", chapter_url(vote, "chapter-detail"), signed_in),
        Request(
            "posting",
            "POST",
            reverse("post-reply", args=[quest.slug]),
            {
                **signed_in,
                "X-CSRFToken": csrf,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body="body=1-B",
            ok=302,
        ),
    ]


@pytest.mark.exclusive
@pytest.mark.services
def test_it_answers_503_while_postgresql_restarts_and_recovers_by_itself(
    client, postgres_server, web_server, quest, quest_master, player
):
    vote = make_vote(quest, quest_master, PROMPTS)
    client.force_login(player)
    requests = _requests(vote, client.cookies[settings.SESSION_COOKIE_NAME].value)

    with Load(web_server, requests) as load:
        assert load.wait_for_success_of_each_kind(since=0, timeout=30), load.seen()[-4:]
        postgres_server.stop()
        down_at = time.monotonic()  # from here until `start`, nothing can reach it
        time.sleep(2)
        starting_at = time.monotonic()
        postgres_server.start()
        up_at = time.monotonic()
        load.wait_for_success_of_each_kind(since=up_at, timeout=15)
        # Keep going past the 5 s within which everything must succeed again.
        time.sleep(max(0, up_at + 7 - time.monotonic()))
    connections.close_all()  # this process's own connection died with the server

    exchanges = load.seen()
    by_kind = {kind: [e for e in exchanges if e.kind == kind] for kind in load.requests}
    # Every answer is a success or a clean 503; nothing else, ever.
    unexpected = [(e.kind, e.status, e.body[:300]) for e in exchanges if not load.ok(e)]
    assert [u for u in unexpected if u[1] != 503] == []
    for e in exchanges:
        if e.status == 503:
            assert e.retry_after == "5"
            assert RETRY_HINT in e.body and "Traceback" not in e.body
            assert ("<html" in e.body) is (e.kind != "tally polling")
            assert ("What you sent was not saved" in e.body) is (e.kind == "posting")
    # The outage was seen by every kind of request ...
    during = [e for e in exchanges if down_at <= e.started and e.ended <= starting_at]
    assert {e.kind for e in during if e.status == 503} == set(load.requests)
    assert not any(load.ok(e) for e in during)
    # ... and each was served again within 5 s of the restart, with no manual step.
    for kind, seen in by_kind.items():
        back = [e for e in seen if e.started >= up_at and load.ok(e)]
        assert back, f"{kind}: no success after the restart"
        assert back[0].ended - up_at < 5, f"{kind}: first success {back[0].ended - up_at:.1f}s in"
        late = [e for e in seen if e.started >= up_at + 5]
        assert late and all(load.ok(e) for e in late), kind
    log = web_server.log_text()
    assert "Traceback" not in log
    assert "Database unavailable, answered 503" in log  # the outage is on record
    assert Post.objects.filter(author=player, body="1-B").exists()


@pytest.mark.exclusive
@pytest.mark.services
def test_it_replaces_a_connection_the_restart_broke_at_the_next_request(
    postgres_server, transactional_db
):
    before = Quest.objects.count()  # this process now holds an open connection
    postgres_server.stop()
    postgres_server.start()

    close_old_connections()  # what Django does as each request starts

    assert Quest.objects.count() == before  # CONN_HEALTH_CHECKS: a new connection, no error


# --- Redis down -----------------------------------------------------------------------------


@pytest.mark.exclusive
@pytest.mark.django_db(transaction=True)
def test_it_takes_a_ballot_and_a_reply_while_redis_is_down(
    client, redis_server, quest, quest_master, player
):
    vote = make_vote(quest, quest_master, PROMPTS)
    client.force_login(player)
    redis_server.stop()

    started = time.monotonic()
    ballot = client.post(chapter_url(vote, "ballot-submit"), {"p1": "B"}, headers=HTMX)
    reply = client.post(
        reverse("post-reply", args=[quest.slug]), {"body": "Waiting for the tally."}
    )
    took = time.monotonic() - started

    assert ballot.status_code == 200
    assert "Your ballot was posted as" in ballot.text
    assert "It will be counted in the tally shortly." in ballot.text
    assert reply.status_code == 302
    assert list(Post.objects.filter(author=player).values_list("body", flat=True)) == [
        "1-B",
        "Waiting for the tally.",
    ]
    assert took < 10  # the failed enqueue gives up quickly


@pytest.mark.exclusive
@pytest.mark.django_db(transaction=True)
def test_it_tells_a_player_without_javascript_too(
    client, redis_server, quest, quest_master, player
):
    vote = make_vote(quest, quest_master, PROMPTS)
    client.force_login(player)
    redis_server.stop()

    response = client.post(chapter_url(vote, "ballot-submit"), {"p1": "A"}, follow=True)

    assert response.status_code == 200
    assert "It will be counted in the tally shortly." in response.text


# --- In a browser -----------------------------------------------------------------------------


@pytest.mark.browser
def test_it_shows_the_outage_in_a_polling_tally_until_a_poll_succeeds(
    transactional_db, live_server, page
):
    gm = make_user("gm")
    vote = make_vote(make_quest(gm), gm, PROMPTS)
    vote_in(vote, make_user("carol"), "1-A")
    tally = chapter_url(vote, "chapter-tally")
    # The server's own 503 for an htmx poll, sent in answer to the first poll.
    outage = database_unavailable(RequestFactory().get(tally, headers=HTMX))
    polls = []

    def poll(route) -> None:
        if route.request.headers.get("hx-request") != "true":
            route.continue_()  # the page itself
            return
        polls.append(time.monotonic())
        if len(polls) == 1:
            route.fulfill(status=503, headers=dict(outage.items()), body=outage.content)
        else:
            route.continue_()

    page.add_init_script(COLLECT_VIOLATIONS)
    # The page and its polls (a reader's ask for `?as=reader`, the shared partial).
    page.route(re.compile(re.escape(live_server.url + tally) + r"(\?.*)?$"), poll)
    page.goto(live_server.url + tally)
    live = page.locator("#tally-live")
    sync_api.expect(live).to_contain_text("1 ballot counted.")

    notice = live.locator("[role=alert]")
    sync_api.expect(notice).to_contain_text("The quests' database is not answering just now.")
    sync_api.expect(live).to_have_attribute("hx-trigger", "every 3s")  # still polling

    sync_api.expect(notice).to_have_count(0, timeout=10_000)
    sync_api.expect(live).to_contain_text("1 ballot counted.")
    assert len(polls) >= 2
    assert page.evaluate("window.__violations") == []
