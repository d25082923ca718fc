"""The worker reading one new post, on a short and on a long vote (issue 14).

    bin/with-services .venv/bin/python bench/worker_read.py [--posts 10,10000] [--samples N]

Times `votes.services.post_reading_refresh` (what the `votes.post_reading_refresh`
task runs: load the post, find its vote, read it, store the Reading, ask for a
recount) for one new post at the end of a vote's window of `--posts` posts
(bulk inserted with their first revisions: ballots, chatter, endorsements):

- cold: the first post a worker process reads in that vote (votes/contexts.py
  keeps nothing yet, so the thread is loaded from the previous chapter on);
- warm: each further new post (only the posts saved since are loaded);
- full load: the post read against the whole thread loaded again, as the
  worker did before the kept thread and the previews still do
  (`selectors.reading_context` + `selectors.reading_of`; nothing stored).

Prints, per vote size and way, the median and p95 in ms and the SQL
statements of one read; docs/benchmarks.md records the figures with this command.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")

import django

django.setup()

from _vote_fill import PLAYERS, vote_with_posts  # noqa: E402  (bench/, beside this script)
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from chapters.models import Vote  # noqa: E402
from quest.models import Post  # noqa: E402
from quest.services import post_create  # noqa: E402
from votes import contexts, selectors, services  # noqa: E402


def _new_post(vote: Vote, author, endorsed) -> Post:
    """An endorsement of `endorsed`'s ballot: read against the posts before it."""
    # Not sent to a worker: this process is the worker being timed.
    body = f"Same as {endorsed.username}"
    return post_create(quest=vote.chapter.quest, author=author, body=body, request_reading=False)


def _timed(read: Callable[[], object]) -> tuple[float, int]:
    ran: list[str] = []

    def counting(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        t0 = time.perf_counter()
        read()
        elapsed = time.perf_counter() - t0
    return elapsed, len(ran)


def _full_load(vote: Vote, post: Post) -> None:
    earlier = selectors.reading_context(vote, before_seq=post.seq)
    selectors.reading_of(vote=vote, post=selectors.post_in(post), earlier=earlier)


def _measure(vote: Vote, players: list, way: str, samples: int) -> tuple[list[float], int]:
    times: list[float] = []
    statements = 0
    if way == "warm":  # the worker has read a post of this vote already
        contexts.kept_clear()
        services.post_reading_refresh(post_id=_new_post(vote, players[0], players[1]).pk)
    for i in range(samples):
        post = _new_post(vote, players[(i + 1) % len(players)], players[i % len(players)])
        if way == "cold":
            contexts.kept_clear()
        if way == "full load":
            elapsed, statements = _timed(lambda p=post: _full_load(vote, p))
        else:
            elapsed, statements = _timed(lambda p=post: services.post_reading_refresh(post_id=p.pk))
        times.append(elapsed)
    return times, statements


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", default="10,10000", help="window sizes, comma-separated")
    parser.add_argument("--samples", type=int, default=30, help="warm reads timed per size")
    parser.add_argument("--cold-samples", type=int, default=5, help="cold and full-load reads")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run it under bin/with-services: it measures PostgreSQL")
    call_command("migrate", verbosity=0)
    User = get_user_model()
    players = [
        User.objects.create_user(username=f"bench-player-{i:02}-{time.time_ns()}")
        for i in range(PLAYERS)
    ]
    header = ("posts in the vote", "read", "median ms", "p95 ms", "statements")
    print("{:>18} {:>10} {:>10} {:>8} {:>10}".format(*header))
    for size in (int(s) for s in args.posts.split(",")):
        vote = vote_with_posts(size, players, title="Worker read")
        for way, samples in (
            ("cold", args.cold_samples),
            ("warm", args.samples),
            ("full load", args.cold_samples),
        ):
            times, statements = _measure(vote, players, way, samples)
            median, p95 = statistics.median(times) * 1000, _p95(times) * 1000
            print(f"{size:>18,} {way:>10} {median:>10.1f} {p95:>8.1f} {statements:>10}")


if __name__ == "__main__":
    main()
