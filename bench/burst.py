"""The closing-hour rush on the production stack (issue 14); run under bin/with-services.

    make bench                                  # every bench/*.py, this one included
    bin/with-services .venv/bin/python bench/burst.py [--players N] [--seconds S] [--quick]
                                                [--profile] [--posts N] [--json PATH]
                                                [--parts capacity,rush,big]
                                                [--workers N] [--split-polls
                                                [--poll-workers N] [--poll-nice N]]

The stack is what docker-compose.yml runs, on loopback (bench/_stack.py):
gunicorn `quest.wsgi` with 3 sync workers, a Celery worker and beat, with
production settings (DEBUG off, ALLOWED_HOSTS 127.0.0.1, plain http;
`--workers` changes the 3). With `--split-polls` (an experiment, off by default)
a second gunicorn, `--poll-workers` (2) workers at `--poll-nice` (10) on a port
of its own, answers the polls: the tally partial (`.../tally/?as=reader`)
and the player's panel (`.../ballot-panel/`) go there, everything else
(ballot forms and POSTs, pages, log-ins) to the main pool, as a reverse proxy
routing those two paths to a pool of their own would. Its CPU is reported
apart as `web-polls`. The load
generator is this process: asyncio (a lean HTTP/1.0 client: httpx's own cost
with a thousand connections open outweighed the server's on this 2-core
machine; httpx for the real log-ins), every player a distinct signed-in user
with its own session and CSRF cookies. The rate limits of issue 8 count
a signed-in user's ballots per user, so nothing is overridden.

Players are bulk-created with one shared password hash and signed in by storing
their sessions as `django.contrib.auth.login` does (a real log-in costs ~0.3 s
of PBKDF2 each: 1,000 would take minutes of this 2-core machine); the first
few players log in through the real log-in form, to show the path works.

1. Ballot capacity (closed loop): every player, 100 at a time, GETs the ballot
   form (htmx, as the chapter page loads it) for its CSRF and submission tokens
   and POSTs it. Ballots/s and latencies, beside the requests/s of a plain
   page (the quest's thread page) measured the same way on the same server
   just before and just after. Target: ballots/s at least 60% of the plain
   page's requests/s.
2. The rush (open loop): a second vote; the players submit at a steady rate over
   `--seconds` while each polls the tally partial every 3 s (htmx, with its
   ETag, until the server stops the polling). p99 of the ballot requests
   (target < 300 ms); from the last ballot response, the time until the stored
   tally counts every ballot (and, the quest master closing the vote then,
   until it is final; target 2 s); posts, ballots and tally counts compared
   with what was sent (0 lost, 0 doubled).
3. Post to tally on a vote of `--posts` (10,000) posts: the posts are stored
   in one transaction, the worker reads them all in one recount (timed: a
   worker's reading rate), then single ballots are posted through the form by
   new voters, each timed from its response until a stored TallyRun counts it
   (target p95 < 1 s).

Prints a table per part, the CPU each part of the stack used (cores busy), and
writes everything as JSON to bench/results/burst-<time>.json.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import re
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")
# The servers and this process share the key: sessions are signed here.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

import httpx  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from bench._stack import Stack, cpu_used, load  # noqa: E402
from chapters.models import Vote  # noqa: E402
from chapters.prompts import OptionData, PromptData  # noqa: E402
from chapters.services import (  # noqa: E402
    chapter_create,
    chapter_publish,
    vote_close,
    vote_prompts_set,
)
from quest.models import Post  # noqa: E402
from quest.services import post_create, quest_create  # noqa: E402
from votes import selectors, services  # noqa: E402
from votes.models import Ballot, TallyRun  # noqa: E402

PROMPTS = [
    PromptData(1, "single", "Agents?", [OptionData("A", "Leniency"), OptionData("B", "Punish")]),
    PromptData(2, "multi", "Ministries?", [OptionData(x, f"Ministry {x}") for x in "ABCD"]),
]
PASSWORD = "bench-player-pw"
REAL_LOGINS = 5
POLL_SECONDS = 3
PANEL_POLL_SECONDS = 5  # votes/views/ballot.py PANEL_POLL_SECONDS
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMISSION_FIELD = re.compile(r'name="submission" value="([^"]+)"')
POSTED = "Your ballot was posted as"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --- Data -----------------------------------------------------------------------------


def players_create(count: int, prefix: str) -> list[User]:
    """`count` player accounts in one insert, all with the same password hash."""
    password = make_password(PASSWORD)
    User.objects.bulk_create(
        [User(username=f"{prefix}{i:05}", password=password) for i in range(count)],
        batch_size=1000,
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("username"))


def sessions_create(users: list[User]) -> dict[str, str]:
    """A signed-in session per user, stored as django.contrib.auth.login stores it."""
    keys = {}
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys[user.username] = session.session_key
    return keys


def vote_create(title: str, qm: User) -> Vote:
    quest = quest_create(title=title, by=qm)
    chapter = chapter_create(quest=quest, title="Chapter One", by=qm)
    vote_prompts_set(
        chapter=chapter, prompts=PROMPTS, by=qm, closes_at=timezone.now() + timedelta(days=1)
    )
    chapter_publish(chapter=chapter, by=qm)
    return Vote.objects.select_related("chapter__quest").get(chapter=chapter)


def choice_for(rng: random.Random) -> tuple[str, list[str]]:
    return rng.choice("AB"), sorted(rng.sample("ABCD", rng.randint(1, 2)))


class Player:
    """One signed-in player: its cookies and what it chose."""

    def __init__(self, name: str, session_key: str, choice: tuple[str, list[str]]) -> None:
        self.name = name
        # Any 32 letters and digits are a valid CSRF secret: as if an earlier page set it.
        self.cookie = f"sessionid={session_key}; csrftoken={get_random_string(32)}"
        self.choice = choice
        self.etag = ""
        self.panel_etag = ""  # their "Your ballot" panel polls apart from the tally


# --- Requests -------------------------------------------------------------------------


class HttpError(Exception):
    """No answer: refused, reset, cut short or too slow (the player sees an error)."""


class Answer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.content = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            self.status_code = int(lines[0].split()[1])
        except (IndexError, ValueError):
            raise HttpError(f"no status line in {raw[:80]!r}") from None
        self.headers: dict[str, str] = {}  # by lower-case name
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    @property
    def text(self) -> str:
        return self.content.decode()


class Http:
    """A lean HTTP client for many players at once: one connection per request.

    gunicorn's sync workers close every connection after its answer, so a pool
    buys nothing; httpx's per-request bookkeeping with a thousand connections
    open cost this process more CPU than the requests cost the server (on a
    2-core machine shared with the server). Requests are HTTP/1.0, answers read
    to the end; each player's cookies travel in its own Cookie header.
    """

    def __init__(self, base: str, timeout: float = 120.0) -> None:
        self.host, _, port = base.removeprefix("http://").partition(":")
        self.port = int(port)
        self.timeout = timeout

    async def __aenter__(self) -> "Http":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def get(self, path: str, headers: dict[str, str]) -> Answer:
        return await self.send("GET", path, headers, b"")

    async def post(self, path: str, data: dict, headers: dict[str, str]) -> Answer:
        body = urlencode(data, doseq=True).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        return await self.send("POST", path, headers | form, body)

    async def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        try:
            return await asyncio.wait_for(self._send(method, path, headers, body), self.timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
            raise HttpError(type(e).__name__) from e

    async def _send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            head = [f"{method} {path} HTTP/1.0", f"Host: {self.host}:{self.port}"]
            head += [f"{name}: {value}" for name, value in headers.items()]
            head.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            return Answer(await reader.read())
        finally:
            writer.close()


def login_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(120.0))


async def real_login(http: httpx.AsyncClient, base: str, name: str) -> str:
    """Log in through the log-in form; the session key the server set."""
    csrf = get_random_string(32)
    form = await http.get(f"{base}/accounts/login/", headers={"Cookie": f"csrftoken={csrf}"})
    token = CSRF_FIELD.search(form.text).group(1)
    response = await http.post(
        f"{base}/accounts/login/",
        data={"username": name, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Cookie": f"csrftoken={csrf}", "Referer": f"{base}/accounts/login/"},
    )
    if response.status_code != 302 or "sessionid" not in response.cookies:
        raise SystemExit(f"log-in of {name} failed: {response.status_code}")
    return response.cookies["sessionid"]


async def ballot(http: Http, url: str, player: Player) -> dict:
    """GET the ballot form as htmx loads it, POST it; timings and the outcome."""
    t0 = time.perf_counter()
    try:
        result = await _ballot(http, url, player, t0)
    except HttpError as e:  # a timeout, a refused connection: the player saw an error
        result = {"ok": False, "why": type(e).__name__, "start": t0, "end": time.perf_counter()}
    return result | {"name": player.name}


async def _ballot(http: Http, url: str, player: Player, t0: float) -> dict:
    headers = {"Cookie": player.cookie, "HX-Request": "true"}
    form = await http.get(url, headers=headers)
    t1 = time.perf_counter()
    if form.status_code != 200 or not (csrf := CSRF_FIELD.search(form.text)):
        return {"ok": False, "why": f"form {form.status_code}", "start": t0, "end": t1}
    single, multi = player.choice
    data = {
        "csrfmiddlewaretoken": csrf.group(1),
        "submission": SUBMISSION_FIELD.search(form.text).group(1),
        "p1": single,
        "p2": multi,
    }
    response = await http.post(url, data, headers | {"X-CSRFToken": csrf.group(1)})
    t2 = time.perf_counter()
    ok = response.status_code == 200 and POSTED in response.text
    why = "" if ok else f"post {response.status_code}"
    return {"ok": ok, "why": why, "get": t1 - t0, "post": t2 - t1, "start": t0, "end": t2}


async def closed_loop(concurrency: int, jobs: list, run) -> tuple[list, float]:
    """Run `run(job)` for every job, `concurrency` at a time; results and seconds taken."""
    queue = list(reversed(jobs))
    results: list = []

    async def lane() -> None:
        while queue:
            results.append(await run(queue.pop()))

    t0 = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return results, time.perf_counter() - t0


async def plain_pages(http: Http, url: str, players: list[Player], n: int, c: int):
    async def get(player: Player) -> dict:
        t0 = time.perf_counter()
        response = await http.get(url, headers={"Cookie": player.cookie})
        return {"ok": response.status_code == 200, "t": time.perf_counter() - t0}

    jobs = [players[i % len(players)] for i in range(n)]
    return await closed_loop(c, jobs, get)


async def tally_polls(http: Http, url: str, players: list[Player], n: int, c: int):
    """The chapter page's poll of a tally at rest: htmx, with the ETag of the last answer.

    `c` players poll `n` times in all: each one's first answer is the partial (200),
    the rest are 304s, as for a player whose page stays open on an unchanged tally.
    """

    async def get(player: Player) -> dict:
        headers = {"Cookie": player.cookie, "HX-Request": "true"}
        if player.etag:
            headers["If-None-Match"] = player.etag
        t0 = time.perf_counter()
        response = await http.get(url, headers=headers)
        player.etag = response.headers.get("etag", player.etag)
        ok = response.status_code in (200, 304)
        return {"ok": ok, "t": time.perf_counter() - t0, "status": response.status_code}

    for player in players[:c]:
        player.etag = ""
    jobs = [players[i % c] for i in range(n)]
    return await closed_loop(c, jobs, get)


# --- Measures -------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def phase(stack: Stack):
    """A context recording wall time, load and cores busy per part of the stack."""

    class Phase:
        def __enter__(self):
            self.cpu0, self.t0 = stack.cpu_seconds(), time.perf_counter()
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.t0
            self.cores = cpu_used(self.cpu0, stack.cpu_seconds(), self.seconds)
            self.load = load()

    return Phase()


def cpu_ms_each(p, count: int) -> dict[str, float]:
    """CPU milliseconds each part of the stack spent per completed request (or ballot)."""
    return {
        name: round(cores * p.seconds * 1000 / count, 1)
        for name, cores in p.cores.items()
        if count and name != "beat"
    }


def tally_state(vote_id: int) -> tuple[TallyRun | None, bool, bool]:
    """The latest stored tally, whether it is behind, whether the vote is closed."""
    vote = Vote.objects.select_related("recount_state").get(pk=vote_id)
    run = selectors.latest_tally(vote)
    return run, selectors.tally_is_behind(vote, run), vote.is_closed


def counted(run: TallyRun | None) -> Counter:
    """(prompt, letter) -> votes in a stored tally."""
    votes: Counter = Counter()
    for prompt in run.data["prompts"] if run else []:
        for option in prompt["options"]:
            votes[(prompt["number"], option["letter"])] = option["votes"]
    return votes


def sent(players: list[Player]) -> Counter:
    votes: Counter = Counter()
    for player in players:
        single, multi = player.choice
        votes[(1, single)] += 1
        for letter in multi:
            votes[(2, letter)] += 1
    return votes


def check_counts(vote: Vote, players: list[Player], accepted: set[str]) -> dict:
    """Posts, ballots and the tally against what was sent and confirmed: lost and doubled.

    Lost: a player whose ballot the server confirmed, with no post. Doubled: a
    player with two posts (each sent one form once). The tally must count
    exactly the choices of the players with a post.
    """
    run, behind, _ = tally_state(vote.pk)
    names = {p.name for p in players}
    posts = Counter(
        Post.objects.filter(quest=vote.chapter.quest, author__username__in=names).values_list(
            "author__username", flat=True
        )
    )
    ballots = Ballot.objects.filter(vote=vote, is_current=True, voter__in=names).count()
    posted = [p for p in players if p.name in posts]
    return {
        "sent": len(players),
        "confirmed": len(accepted),
        "posts": sum(posts.values()),
        "lost": len(accepted - set(posts)),
        "doubled": sum(1 for n in posts.values() if n > 1),
        "ballots": ballots,
        "tally_ballots": run.data["ballots"] if run else 0,
        "tally_matches_posts": counted(run) == sent(posted),
        "tally_behind": behind,
        "tally_sha256": run.sha256 if run else "",
    }


def wait_complete(vote_id: int, n: int, *, final: bool, timeout: float) -> float | None:
    """Seconds until the stored tally counts `n` ballots, not behind (and final if asked)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        run, behind, _ = tally_state(vote_id)
        if run and not behind and run.data["ballots"] >= n and (run.is_final or not final):
            return time.perf_counter() - t0
        time.sleep(0.02)
    return None


async def capacity(stack: Stack, vote: Vote, players: list[Player], plain_n: int, c: int) -> dict:
    base = stack.web.base_url
    ballot_url = f"/q/{vote.chapter.quest.slug}/chapters/1/ballot/"
    # The polls go where a proxy routing by path would send them (the poll pool, if any).
    poll_http = Http(stack.polls_base_url)
    plain_url = f"/q/{vote.chapter.quest.slug}/"
    tally_url = f"/q/{vote.chapter.quest.slug}/chapters/1/tally/?as=reader"  # as the page polls
    out: dict = {"concurrency": c}
    async with Http(base) as http:
        await plain_pages(http, plain_url, players, 2 * c, c)  # warm every worker
        for label in ("plain_before", "ballots", "plain_after", "polls"):
            with phase(stack) as p:
                if label == "ballots":
                    results, seconds = await closed_loop(
                        c, players, lambda pl: ballot(http, ballot_url, pl)
                    )
                elif label == "polls":
                    results, seconds = await tally_polls(poll_http, tally_url, players, plain_n, c)
                else:
                    results, seconds = await plain_pages(http, plain_url, players, plain_n, c)
            ok = [r for r in results if r["ok"]]
            row = {
                "requests": len(results),
                "failed": len(results) - len(ok),
                "seconds": round(seconds, 2),
                "per_second": round(len(ok) / seconds, 1),
                "load": p.load,
                "cores": p.cores,
                "cpu_ms_each": cpu_ms_each(p, len(ok)),
            }
            if label == "ballots":
                ballot_results = results
                posts = [r["post"] for r in ok]
                gets = [r["get"] for r in ok]
                row |= {
                    "post_p50": pct(posts, 50),
                    "post_p99": pct(posts, 99),
                    "get_p50": pct(gets, 50),
                    "get_p99": pct(gets, 99),
                    "cycle_p50": pct([r["get"] + r["post"] for r in ok], 50),
                    "failures": Counter(r["why"] for r in results if not r["ok"]),
                }
            else:
                row |= {"p50": pct([r["t"] for r in ok], 50), "p99": pct([r["t"] for r in ok], 99)}
            if label == "polls":
                row["statuses"] = Counter(str(r["status"]) for r in results)
            out[label] = row
    plain = (out["plain_before"]["per_second"] + out["plain_after"]["per_second"]) / 2
    out["plain_per_second"] = round(plain, 1)
    out["ratio"] = round(out["ballots"]["per_second"] / plain, 3)
    # The same ratio from CPU time per request, which the machine's other work does not
    # change: what the ratio would be with the cores to the stack alone.
    out["cpu_ratio"] = {
        part: round(plain_cpu / ballot_cpu, 3)
        for part, plain_cpu, ballot_cpu in (
            ("web", *_cpu_of(out, ("web",))),
            ("stack", *_cpu_of(out, ("web", "worker", "postgres", "redis"))),
        )
        if ballot_cpu
    }
    accepted = {r["name"] for r in ballot_results if r["ok"]}
    # Checked after the phases that follow the ballots: the rush below times the tally.
    await asyncio.to_thread(wait_complete, vote.pk, len(accepted), final=False, timeout=120)
    out["counts"] = await asyncio.to_thread(check_counts, vote, players, accepted)
    return out


async def poll_tally(
    http: Http,
    url: str,
    player: Player,
    start: float,
    stop: asyncio.Event,
    polls: list,
    *,
    every: float = POLL_SECONDS,
    slot: str = "etag",
) -> None:
    """Poll the tally partial as htmx does (`every 3s`, one request in flight, ETag) until 286.

    With `slot="panel_etag"` and the panel's URL, the player's panel instead.
    """
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    while not stop.is_set():
        t0 = time.perf_counter()
        if await poll_once(http, url, player, polls, slot=slot) == 286:
            return  # htmx: stop polling, the tally is final
        await asyncio.sleep(max(0.0, t0 + every - time.perf_counter()))


async def poll_once(http: Http, url: str, player: Player, polls: list, *, slot: str) -> int | None:
    """One poll with the ETag kept in `player`'s `slot`; its status (None: no answer)."""
    headers = {"Cookie": player.cookie, "HX-Request": "true"}
    if getattr(player, slot):
        headers["If-None-Match"] = getattr(player, slot)
    t0 = time.perf_counter()
    try:
        response = await http.get(url, headers=headers)
    except HttpError as e:
        polls.append({"status": type(e).__name__, "t": time.perf_counter() - t0})
        return None
    polls.append({"status": response.status_code, "t": time.perf_counter() - t0})
    setattr(player, slot, response.headers.get("etag", getattr(player, slot)))
    return response.status_code


def _answered(submits: list[asyncio.Task], players: list[Player], grace: float) -> list[dict]:
    """Each submission's result; one still waiting is cancelled and counted as failed."""
    results = []
    for task, player in zip(submits, players, strict=True):
        if task.done():
            results.append(task.result())
        else:
            task.cancel()
            why = f"no answer {grace:.0f} s after the rush"
            results.append({"ok": False, "why": why, "name": player.name})
    return results


def _cpu_of(out: dict, parts: tuple[str, ...]) -> tuple[float, float]:
    """CPU ms of a plain request (the mean of both runs) and of a ballot, over `parts`."""
    plain = sum(
        out[run]["cpu_ms_each"].get(part, 0)
        for run in ("plain_before", "plain_after")
        for part in parts
    )
    ballot = sum(out["ballots"]["cpu_ms_each"].get(part, 0) for part in parts)
    return plain / 2, ballot


async def rush(
    stack: Stack, vote: Vote, qm: User, players: list[Player], seconds: float, grace: float
) -> dict:
    base = stack.web.base_url
    slug = vote.chapter.quest.slug
    ballot_url = f"/q/{slug}/chapters/1/ballot/"
    # As the chapter page polls since issue 14: the readers' tally partial (one for
    # every reader, kept per stamp) and the player's own panel apart.
    tally_url = f"/q/{slug}/chapters/1/tally/?as=reader"
    panel_url = f"/q/{slug}/chapters/1/ballot-panel/"
    rng = random.Random(14)
    polls: list[dict] = []
    panel_polls: list[dict] = []
    stop_polling = asyncio.Event()
    followups: list[asyncio.Task] = []
    n = len(players)
    # What a reverse proxy routing by path does: the tally and panel polls to the poll
    # pool when there is one (--split-polls), the ballot form and POST to the main pool.
    poll_http = Http(stack.polls_base_url)

    async with Http(base) as http:

        async def submit(player: Player, at: float) -> dict:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            result = await ballot(http, ballot_url, player)
            # The ballot's answer says `ballot-posted` (HX-Trigger): the panel asks at once,
            # beside the ballot: a slow poll must not make the ballot look unanswered.
            followups.append(
                asyncio.create_task(
                    poll_once(poll_http, panel_url, player, panel_polls, slot="panel_etag")
                )
            )
            return result | {"late": result.get("start", at) - at}

        with phase(stack) as p:
            t0 = time.perf_counter() + 0.5
            pollers = [
                asyncio.create_task(
                    poll_tally(
                        poll_http,
                        tally_url,
                        pl,
                        t0 + rng.uniform(0, POLL_SECONDS),
                        stop_polling,
                        polls,
                    )
                )
                for pl in players
            ] + [
                asyncio.create_task(
                    poll_tally(
                        poll_http,
                        panel_url,
                        pl,
                        t0 + rng.uniform(0, PANEL_POLL_SECONDS),
                        stop_polling,
                        panel_polls,
                        every=PANEL_POLL_SECONDS,
                        slot="panel_etag",
                    )
                )
                for pl in players
            ]
            submits = [
                asyncio.create_task(submit(pl, t0 + i * seconds / n))
                for i, pl in enumerate(players)
            ]
            # A ballot still unanswered `grace` seconds after the rush is a failure, not a wait.
            await asyncio.wait(submits, timeout=0.5 + seconds + grace)
            results = _answered(submits, players, grace)
        last_response = max((r["end"] for r in results if "end" in r), default=time.perf_counter())
        accepted = sum(1 for r in results if r["ok"])
        complete = await asyncio.to_thread(
            wait_complete, vote.pk, accepted, final=False, timeout=120
        )
        complete_at = time.perf_counter()
        # The quest master closes the vote by hand: the next recount makes it final.
        closed_at = time.perf_counter()
        await asyncio.to_thread(vote_close, vote=vote, by=qm, reason="bench: closing hour over")
        final = await asyncio.to_thread(wait_complete, vote.pk, accepted, final=True, timeout=120)
        # Every poller stops when the server says the tally is final (286).
        try:
            await asyncio.wait_for(asyncio.gather(*pollers), timeout=3 * POLL_SECONDS + 5)
            pollers_stopped = round(time.perf_counter() - closed_at, 2)
        except TimeoutError:
            pollers_stopped = None
        stop_polling.set()
        for task in followups:
            task.cancel()
        await asyncio.gather(*pollers, *followups, return_exceptions=True)

    ok = [r for r in results if r["ok"]]
    posts = [r["post"] for r in ok]
    gets = [r["get"] for r in ok]
    poll_times = [q["t"] for q in polls]
    return {
        "players": n,
        "seconds": seconds,
        "load": p.load,
        "cores": p.cores,
        "cpu_ms_per_ballot": cpu_ms_each(p, len(ok)),
        "ballots_ok": len(ok),
        "failures": Counter(r["why"] for r in results if not r["ok"]),
        "post_p50": pct(posts, 50),
        "post_p99": pct(posts, 99),
        "post_max": max(posts, default=float("nan")),
        "get_p50": pct(gets, 50),
        "get_p99": pct(gets, 99),
        "late_p99": pct([r["late"] for r in results if "late" in r], 99),
        "polls": len(polls),
        "poll_statuses": Counter(str(q["status"]) for q in polls),
        "poll_p50": pct(poll_times, 50),
        "poll_p99": pct(poll_times, 99),
        "panel_polls": len(panel_polls),
        "panel_statuses": Counter(str(q["status"]) for q in panel_polls),
        "panel_p99": pct([q["t"] for q in panel_polls], 99),
        "complete_after_last_response_s": None
        if complete is None
        else round(complete_at - last_response, 3),
        "final_after_close_s": final,
        "pollers_stopped_after_close_s": pollers_stopped,
        "counts": await asyncio.to_thread(
            check_counts,
            vote,
            players,
            {r["name"] for r in results if r["ok"]},
        ),
    }


def prefill(vote: Vote, authors: list[User], posts: int) -> float:
    """`posts` posts in the vote's window in one transaction, unread; seconds taken."""
    rng = random.Random(10_000)
    quest = vote.chapter.quest
    t0 = time.perf_counter()
    with transaction.atomic():
        for i in range(posts):
            author = authors[i % len(authors)]
            if rng.random() < 0.6:
                single, multi = choice_for(rng)
                body = f"1-{single}\n2-{', '.join(multi)}"
            else:
                body = f"I think the ministries matter more than the agents ({i})."
            post_create(quest=quest, author=author, body=body, request_reading=False)
    return time.perf_counter() - t0


async def post_to_tally(stack: Stack, vote: Vote, players: list[Player]) -> dict:
    """Seconds from each ballot's response until a stored TallyRun counts its voter."""
    url = f"/q/{vote.chapter.quest.slug}/chapters/1/ballot/"
    latencies, failures = [], 0
    async with Http(stack.web.base_url) as http:
        for i, player in enumerate(players):
            result = await ballot(http, url, player)
            if not result["ok"]:
                failures += 1
                continue
            waited = await asyncio.to_thread(_wait_voter, vote.pk, player.name, 30)
            if waited is None:
                failures += 1
            else:
                latencies.append(waited)
            await asyncio.sleep(0.05 + (i % 5) * 0.02)  # posts spread out, as players post
    return {
        "posts": len(players),
        "failed": failures,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "max": max(latencies, default=float("nan")),
    }


def _wait_voter(vote_id: int, name: str, timeout: float) -> float | None:
    t0, seen = time.perf_counter(), None
    while time.perf_counter() - t0 < timeout:
        pk = TallyRun.objects.filter(vote_id=vote_id).order_by("-pk").values_list("pk", flat=True)
        latest = pk.first()
        if latest != seen:
            seen = latest
            run = TallyRun.objects.get(pk=latest)
            if any(name in o["voters"] for o in run.data["prompts"][0]["options"]):
                return time.perf_counter() - t0
        time.sleep(0.01)
    return None


async def big_vote(stack: Stack, vote: Vote, authors: list[User], posts: int, late: list[Player]):
    fill_s = await asyncio.to_thread(prefill, vote, authors, posts)
    with phase(stack) as p:
        await asyncio.to_thread(services.vote_recount_request, vote=vote)
        read_s = await asyncio.to_thread(wait_complete, vote.pk, 1, final=False, timeout=600)
    run, _, _ = await asyncio.to_thread(tally_state, vote.pk)
    timed = await post_to_tally(stack, vote, late)
    return {
        "posts": posts,
        "voters": run.data["ballots"] if run else 0,
        "prefill_s": round(fill_s, 1),
        "first_recount_s": read_s,
        "posts_read_per_s": round(posts / read_s, 0) if read_s else None,
        "recount_load": p.load,
        "recount_cores": p.cores,
        "timed": timed,
    }


# --- Report ---------------------------------------------------------------------------


def report(results: dict) -> None:
    a, b, c = results.get("capacity"), results.get("rush"), results.get("big_vote")
    print(f"\nburst bench, {results['started']}, commit {results['commit']}")
    print(f"  web: {results['web']}")
    if a:
        ballots = a["ballots"]
        print(
            f"\n1. Ballot capacity, closed loop, {ballots['requests']} players, "
            f"{a['concurrency']} at a time"
        )
        for label in ("plain_before", "ballots", "plain_after", "polls"):
            row = a[label]
            what = "ballots/s" if label == "ballots" else "requests/s"
            extra = (
                f"POST p50 {ms(row['post_p50'])} p99 {ms(row['post_p99'])}, "
                f"GET form p50 {ms(row['get_p50'])} p99 {ms(row['get_p99'])}, "
                f"failed {row['failed']} {dict(row['failures'])}"
                if label == "ballots"
                else f"p50 {ms(row['p50'])} p99 {ms(row['p99'])}, failed {row['failed']} "
                f"{dict(row.get('statuses', {}))}"
            )
            print(f"  {label:13} {row['per_second']:7.1f} {what:10} {extra}")
            print(f"  {'':13} load {row['load']}; cores busy {row['cores']}")
            print(f"  {'':13} CPU ms each {row['cpu_ms_each']}")
        print(f"  ratio ballots/s : plain requests/s = {a['ratio']:.1%} (target >= 60%)")
        print(
            "  the same from CPU ms per request (plain / ballot), web alone "
            f"{a['cpu_ratio'].get('web', 0):.1%}, whole stack {a['cpu_ratio'].get('stack', 0):.1%}"
        )
        print(f"  counts {a['counts']}")
    if b:
        print(
            f"\n2. The rush, open loop, {b['players']} players over {b['seconds']} s, "
            "polling every 3 s"
        )
        print(
            f"  ballot POST p50 {ms(b['post_p50'])} p99 {ms(b['post_p99'])} "
            f"max {ms(b['post_max'])} "
            f"(target p99 < 300 ms); GET form p50 {ms(b['get_p50'])} p99 {ms(b['get_p99'])}; "
            f"ok {b['ballots_ok']} {dict(b['failures'])}; sent late by p99 {ms(b['late_p99'])}"
        )
        print(
            f"  polls {b['polls']} {dict(b['poll_statuses'])}, p50 {ms(b['poll_p50'])} "
            f"p99 {ms(b['poll_p99'])}; panel polls {b['panel_polls']} "
            f"{dict(b['panel_statuses'])}, p99 {ms(b['panel_p99'])}"
        )
        print(
            f"  tally complete {b['complete_after_last_response_s']} s after the last response "
            f"(target <= 2 s); final {b['final_after_close_s']} s after the close; pollers "
            f"stopped {b['pollers_stopped_after_close_s']} s after it"
        )
        print(f"  counts {b['counts']}")
        print(f"  load {b['load']}; cores busy {b['cores']}")
        print(f"  CPU ms per ballot (its polls included) {b['cpu_ms_per_ballot']}")
    if c:
        t = c["timed"]
        print(f"\n3. Post to tally, vote of {c['posts']} posts ({c['voters']} voters), real worker")
        print(
            f"  prefill {c['prefill_s']} s; first recount (reads every post) "
            f"{c['first_recount_s']:.2f} s = {c['posts_read_per_s']} posts/s; "
            f"load {c['recount_load']}; cores {c['recount_cores']}"
        )
        print(
            f"  {t['posts']} ballots through the form: p50 {ms(t['p50'])} p95 {ms(t['p95'])} "
            f"max {ms(t['max'])} (target p95 < 1 s); failed {t['failed']}"
        )


def worker_tasks(log: str) -> dict:
    """Per task name: how many succeeded in the Celery worker's log, and their times."""
    times: dict[str, list[float]] = {}
    for name, seconds in re.findall(r"Task (\S+)\[[^\]]+\] succeeded in ([0-9.]+)s", log):
        times.setdefault(name, []).append(float(seconds))
    return {
        name: {
            "n": len(v),
            "median_ms": round(statistics.median(v) * 1000, 1),
            "p95_ms": round(pct(v, 95) * 1000, 1),
            "total_s": round(sum(v), 2),
        }
        for name, v in sorted(times.items())
    }


def web_profile(directory: Path, top: int = 45) -> str:
    import io
    import pstats

    files = sorted(str(f) for f in directory.glob("web-*.prof"))
    if not files:
        return "(no profile written)"
    out = io.StringIO()
    stats = pstats.Stats(*files, stream=out)
    stats.sort_stats("cumulative").print_stats(r"quest|chapters|votes|django/(db|template)", top)
    return out.getvalue()


def prepare(args: argparse.Namespace) -> tuple[str, User, list[User], list[Player]]:
    """Migrate; the quest master and the players, signed in (outside the event loop: ORM)."""
    if connection.vendor != "postgresql":
        raise SystemExit("run under bin/with-services: this benchmark needs PostgreSQL and Redis")
    call_command("migrate", verbosity=0)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    qm = User.objects.create_user(username=f"qm-{run_id}", password=PASSWORD)
    users = players_create(args.players + args.timed, f"b{run_id[-6:]}p")
    keys = sessions_create(users)
    rng = random.Random(1953)
    everyone = [Player(u.username, keys[u.username], choice_for(rng)) for u in users]
    return run_id, qm, users, everyone


async def main_async(args: argparse.Namespace, prepared: tuple) -> dict:
    run_id, qm, users, everyone = prepared
    players, late = everyone[: args.players], everyone[args.players :]
    profile_dir = ""
    if args.profile:
        profile_dir = str(Path(os.environ.get("QT_SERVICES_DIR", "/tmp")) / "profiles")
        Path(profile_dir).mkdir(exist_ok=True)
    results: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": run_id,
        "commit": _commit(),
        "args": vars(args),
        "load_at_start": load(),
    }
    stack = Stack(
        settings_dict=connection.settings_dict,
        secret_key=os.environ["SECRET_KEY"],
        profile_dir=profile_dir,
        workers=args.workers,
        split_polls=args.split_polls,
        poll_workers=args.poll_workers,
        poll_nice=args.poll_nice,
    )
    results["web"] = (
        f"{args.workers} workers; polls to a pool of {args.poll_workers} at nice {args.poll_nice}"
        if args.split_polls
        else f"{args.workers} workers, polls included"
    )
    with stack:
        async with login_client() as http:
            for player in players[:REAL_LOGINS]:
                key = await real_login(http, stack.web.base_url, player.name)
                player.cookie = f"sessionid={key}; csrftoken={get_random_string(32)}"
        if "capacity" in args.parts:
            vote = await asyncio.to_thread(vote_create, f"Capacity {run_id}", qm)
            results["capacity"] = await capacity(
                stack, vote, players, args.plain_requests, args.concurrency
            )
            report(results)
        if "rush" in args.parts:
            for player in players:
                player.etag = ""
            vote = await asyncio.to_thread(vote_create, f"Rush {run_id}", qm)
            results["rush"] = await rush(stack, vote, qm, players, args.seconds, args.grace)
            report({**results, "capacity": None})
        if "big" in args.parts:
            vote = await asyncio.to_thread(vote_create, f"Big vote {run_id}", qm)
            results["big_vote"] = await big_vote(
                stack, vote, users[: args.players], args.posts, late
            )
            report({**results, "capacity": None, "rush": None})
    keep_logs(stack, run_id)
    results["worker_tasks"] = worker_tasks(stack.worker.log_text())
    print("\nCelery worker, tasks over the whole run:")
    for name, row in results["worker_tasks"].items():
        print(f"  {name:32} {row}")
    if args.profile:
        text = web_profile(Path(profile_dir))
        results["web_profile"] = text
        print("\nweb workers, cProfile of CPU time, by cumulative (app, ORM and template frames):")
        print(text)
    return results


def keep_logs(stack: Stack, run_id: str) -> None:
    """Each server's log beside the results."""
    RESULTS_DIR.mkdir(exist_ok=True)
    for process in (stack.web, stack.polls, stack.worker, stack.beat):
        if process is not None:
            kept = RESULTS_DIR / f"burst-{run_id}-{process.log_path.name}"
            kept.write_text(process.log_path.read_text(errors="replace"))


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    sys.stdout.reconfigure(line_buffering=True)  # each part's table as soon as it is done
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the rush")
    parser.add_argument(
        "--grace", type=float, default=120.0, help="a rush ballot unanswered this long after fails"
    )
    parser.add_argument("--posts", type=int, default=10_000, help="posts of the big vote")
    parser.add_argument("--timed", type=int, default=40, help="ballots timed on the big vote")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--plain-requests", type=int, default=1000)
    parser.add_argument(
        "--parts", default="capacity,rush,big", help="comma-separated: capacity, rush, big"
    )
    parser.add_argument("--quick", action="store_true", help="200 players, 15 s, 2,000 posts")
    parser.add_argument("--profile", action="store_true", help="cProfile the web workers")
    parser.add_argument("--json", default="", help="where to write the results")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (main pool)")
    parser.add_argument(
        "--split-polls",
        action="store_true",
        help="experiment: the tally and panel polls to a second gunicorn at --poll-nice "
        "(its session's weight too), as a proxy routing them by path would; the rest to the "
        "main pool",
    )
    parser.add_argument(
        "--poll-workers", type=int, default=2, help="workers of the poll pool (--split-polls)"
    )
    parser.add_argument(
        "--poll-nice", type=int, default=10, help="the poll pool's nice (--split-polls; 0: none)"
    )
    args = parser.parse_args()
    if args.quick:
        args.players, args.seconds, args.posts, args.timed = 200, 15.0, 2000, 10
        args.plain_requests = 300
    args.parts = set(args.parts.split(","))
    results = asyncio.run(main_async(args, prepare(args)))
    RESULTS_DIR.mkdir(exist_ok=True)
    path = Path(args.json) if args.json else RESULTS_DIR / f"burst-{results['run_id']}.json"
    path.write_text(json.dumps(results, indent=2, default=_jsonable))
    print(f"\nwritten {path}")


def _commit() -> str:
    """The commit measured: HEAD, or what an exported tree says it was exported from."""
    exported = Path(__file__).resolve().parent.parent / ".commit"
    if exported.exists():
        return exported.read_text().strip()
    return os.popen("git rev-parse --short HEAD").read().strip()


def _jsonable(value):
    if isinstance(value, set):
        return sorted(value)
    return str(value)


if __name__ == "__main__":
    main()
