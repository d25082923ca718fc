"""One ballot through the form, the htmx GET and the POST, in process (issue 14).

    bin/with-services .venv/bin/python bench/form_path.py [--posts 1000] [--samples N]

What a player's ballot costs the web process and PostgreSQL, apart from the
load: the real endpoint through Django's test client with production settings
(no HTTP server), by 20 signed-in players who voted before, on a vote whose
window holds `--posts` bulk-inserted posts (bench/_vote_fill.py). Each sample
is the form's GET (htmx, as the chapter page loads it) then its POST (a
changed ballot). The rate limit on ballots is lifted for this process.

Prints, for the GET and the POST apart, the median CPU ms of this process
(time.process_time: the view, its templates and the ORM, not PostgreSQL's),
the median wall ms, and the SQL statements sent (savepoints included), with
the statements grouped by their first words. docs/benchmarks.md records the
figures with this command.
"""

import argparse
import collections
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")
os.environ["RATE_LIMIT_BALLOT"] = "1000000/60"

import django

django.setup()

from _vote_fill import PLAYERS, vote_with_posts  # noqa: E402  (bench/, beside this script)
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from chapters.models import Vote  # noqa: E402
from quest.models import new_submission_token  # noqa: E402


class _Step:
    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []
        self.statements: list[str] = []


def _run(vote: Vote, players: list, samples: int) -> tuple[_Step, _Step]:
    url = reverse("ballot-submit", args=[vote.chapter.quest.slug, vote.chapter.number])
    clients = []
    for player in players:
        client = Client()
        client.force_login(player)
        clients.append(client)
    get, post = _Step(), _Step()
    htmx = {"HX-Request": "true"}
    for i in range(samples):
        client = clients[i % len(clients)]
        response = _timed(get, partial(client.get, url, headers=htmx))
        if response.status_code != 200 or 'name="submission"' not in response.text:
            raise SystemExit(f"no form: {response.status_code} {response.text[:500]}")
        # Each player's ballot differs from their last one: the same answers again
        # would be taken for the same form sent twice (quest/services.submission_repeat).
        turn = i // len(clients)
        data = {"p1": "AB"[turn % 2], "p2": ["C", "D"][: 1 + turn // 2 % 2]}
        data["submission"] = new_submission_token()
        response = _timed(post, partial(client.post, url, data, headers=htmx))
        if response.status_code != 200 or "Your ballot was posted" not in response.text:
            raise SystemExit(f"ballot not posted: {response.status_code} {response.text[:500]}")
        if not any(s.startswith('INSERT INTO "quest_post"') for s in post.statements):
            raise SystemExit("the POST was taken for a repeat: nothing was measured")
    return get, post


def _timed(step: _Step, call):
    ran: list[str] = []
    with connection.execute_wrapper(_counting(ran)):
        c0, t0 = time.process_time(), time.perf_counter()
        response = call()
        step.cpu.append(time.process_time() - c0)
        step.wall.append(time.perf_counter() - t0)
    step.statements = ran
    return response


def _counting(ran: list[str]):
    """A connection wrapper that notes every statement sent (savepoints included)."""

    def wrapper(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def _kinds(statements: list[str]) -> str:
    def kind(sql: str) -> str:
        words = sql.split()
        head = words[0].upper()
        after = {"SELECT": "FROM", "UPDATE": "UPDATE", "INSERT": "INTO", "DELETE": "FROM"}
        if head in after and after[head] in words:
            return f"{head} {words[words.index(after[head]) + 1].strip(chr(34))}"
        return head

    counts = collections.Counter(kind(s) for s in statements)
    return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000, help="posts in the vote's window")
    parser.add_argument("--samples", type=int, default=200, help="ballots (GET + POST) timed")
    parser.add_argument("--sql", action="store_true", help="print each statement of the last")
    parser.add_argument("--profile", help="write a CPU-time cProfile of the ballots to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run it under bin/with-services: it measures PostgreSQL")
    call_command("migrate", verbosity=0)
    # Production settings otherwise; the test client speaks plain http to "testserver".
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    User = get_user_model()
    players = [
        User.objects.create_user(username=f"bench-player-{i:02}-{time.time_ns()}")
        for i in range(PLAYERS)
    ]
    vote = vote_with_posts(args.posts, players, title="Form path")
    _run(vote, players, 2 * PLAYERS)  # warm: templates, connections, caches, sessions
    if args.profile:
        import cProfile

        # This process's CPU, not the wall clock: waiting on PostgreSQL is not counted.
        with cProfile.Profile(time.process_time) as profile:
            get, post = _run(vote, players, args.samples)
        profile.dump_stats(args.profile)
    else:
        get, post = _run(vote, players, args.samples)
    engine = settings.SESSION_ENGINE
    print(f"session engine: {engine}; {args.posts:,} posts; {args.samples} ballots")
    print(f"{'request':>8} {'CPU ms':>7} {'wall ms':>8} {'statements':>10}")
    for name, step in (("GET", get), ("POST", post)):
        cpu, wall = statistics.median(step.cpu) * 1000, statistics.median(step.wall) * 1000
        print(f"{name:>8} {cpu:>7.2f} {wall:>8.2f} {len(step.statements):>10}")
    both = statistics.median(g + p for g, p in zip(get.cpu, post.cpu, strict=True)) * 1000
    print(f"{'ballot':>8} {both:>7.2f} {'':>8} {len(get.statements) + len(post.statements):>10}")
    for name, step in (("GET", get), ("POST", post)):
        print(f"{name}: {_kinds(step.statements)}")
        if args.sql:
            for sql in step.statements:
                print("   ", sql[:300])


if __name__ == "__main__":
    main()
