"""One ballot POST on a short and on a long vote (issue 14); run under bin/with-services.

    bin/with-services .venv/bin/python bench/post_path.py [--posts 10,10000] [--samples N]

Through the real ballot form endpoint with Django's test client (no HTTP
server: what is timed is the view, its services and PostgreSQL), as players
who voted before in the vote, so each POST posts a changed ballot headed
"Revised vote:". Each vote's window is filled with `--posts` posts (bulk
inserted with their first revisions: ballots, chatter, a changed vote), and
the players' earlier ballots are among them. After each response the post's
reading task has been sent to Redis (no worker runs here: the request's own
work is what is measured). The rate limit on ballots is lifted for this
process: it is not what is measured.

Prints, per vote size, the median and p95 of a POST and the SQL statements it
sent (savepoints included);
docs/benchmarks.md records the figures with this command.
"""

import argparse
import os
import statistics
import sys
import time
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


def _time_posts(vote: Vote, players: list, samples: int) -> tuple[list[float], int]:
    url = reverse("ballot-submit", args=[vote.chapter.quest.slug, vote.chapter.number])
    clients = []
    for player in players:
        client = Client()
        client.force_login(player)
        clients.append(client)
    times: list[float] = []
    queries = 0
    for i in range(samples):
        client = clients[i % len(clients)]
        token = new_submission_token()
        # Each player's ballot differs from their last one: the same answers again
        # would be taken for the same form sent twice (quest/services.submission_repeat)
        # and post nothing.
        turn = i // len(clients)
        data = {"p1": "AB"[turn % 2], "p2": ["C", "D"][: 1 + turn // 2 % 2], "submission": token}
        ran: list[str] = []
        with connection.execute_wrapper(_counting(ran)):
            t0 = time.perf_counter()
            response = client.post(url, data, headers={"HX-Request": "true"})
            times.append(time.perf_counter() - t0)
        if response.status_code != 200 or "Your ballot was posted" not in response.text:
            raise SystemExit(f"ballot not posted: {response.status_code} {response.text[:500]}")
        if not any(sql.startswith('INSERT INTO "quest_post"') for sql in ran):
            raise SystemExit("the POST was taken for a repeat: nothing was measured")
        queries = len(ran)
    return times, queries


def _counting(ran: list[str]):
    """A connection wrapper that notes every statement sent (savepoints included)."""

    def wrapper(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", default="10,10000", help="window sizes, comma-separated")
    parser.add_argument("--samples", type=int, default=60, help="POSTs timed per size")
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
    print(f"{'posts in the vote':>18} {'median ms':>10} {'p95 ms':>8} {'statements':>10}  samples")
    for size in (int(s) for s in args.posts.split(",")):
        vote = vote_with_posts(size, players, title="Post path")
        _time_posts(vote, players[:2], 2)  # warm: templates, connections, caches
        times, queries = _time_posts(vote, players, args.samples)
        median, p95 = statistics.median(times) * 1000, _p95(times) * 1000
        print(f"{size:>18,} {median:>10.1f} {p95:>8.1f} {queries:>10}  {len(times)}")


if __name__ == "__main__":
    main()
