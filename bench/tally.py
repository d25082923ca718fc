"""Tally benchmarks on the real stack (run under bin/with-services: `make bench`).

1. Recount time for a vote of 2,000 ballots: the first recount (which reads
   every post), a recount from stored Readings in a running worker (what the
   worker does after each post once the window is read), and the same in a
   worker that has just started (every stored Reading parsed again).
2. Commit-to-tally latency: a real `celery worker` process; a player's post is
   committed and the clock runs until that voter shows in a stored TallyRun.

Prints the figures; docs/benchmarks.md records them with this command.
"""

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from chapters.models import Vote  # noqa: E402
from chapters.prompts import OptionData, PromptData  # noqa: E402
from chapters.services import chapter_create, chapter_publish, vote_prompts_set  # noqa: E402
from quest.services import (  # noqa: E402
    imported_author_get_or_create,
    post_create,
    quest_create,
)
from votes import services  # noqa: E402
from votes.models import TallyRun  # noqa: E402

BALLOTS = 2000
LATENCY_POSTS = int(os.environ.get("BENCH_LATENCY_POSTS", "40"))
PROMPTS = [
    PromptData(1, "single", "Agents?", [OptionData("A", "Leniency"), OptionData("B", "Punish")]),
    PromptData(2, "multi", "Ministries?", [OptionData(x, f"Ministry {x}") for x in "ABCD"]),
    PromptData(3, "ranked", "Priorities?", [OptionData(x, f"Country {x}") for x in "ABC"]),
    PromptData(4, "write_in", "First decree?"),
]


def _vote(title: str):
    qm = get_user_model().objects.create_user(username=f"qm-{title}", password="bench-only-pw")
    quest = quest_create(title=title, by=qm)
    chapter = chapter_create(quest=quest, title="Chapter One", by=qm)
    vote_prompts_set(
        chapter=chapter, prompts=PROMPTS, by=qm, closes_at=timezone.now() + timedelta(days=1)
    )
    chapter_publish(chapter=chapter, by=qm)
    return quest, Vote.objects.get(chapter=chapter)


def _ballot(rng: random.Random) -> str:
    ranked = rng.sample("ABC", 3)
    return (
        f"1-{rng.choice('AB')}\n2-{', '.join(sorted(rng.sample('ABCD', rng.randint(1, 3))))}\n"
        f"3: {' > '.join(ranked)}\n4-Build {rng.choice(['tractors', 'dams', 'schools'])}"
    )


def bench_recount() -> dict:
    rng = random.Random(1953)
    quest, vote = _vote("Recount Bench")
    for i in range(BALLOTS):
        post_create(
            quest=quest,
            author=imported_author_get_or_create(name=f"voter{i:04}"),
            body=_ballot(rng),
            imported=True,
            request_reading=False,
        )
    t0 = time.perf_counter()
    run = services.vote_recount(vote_id=vote.pk)
    first = time.perf_counter() - t0
    assert run.data["ballots"] == BALLOTS, run.data["ballots"]
    times, cold = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        services.vote_recount(vote_id=vote.pk)
        times.append(time.perf_counter() - t0)
    for _ in range(3):
        # As in a worker that has just started: no parsed Readings, no fold kept.
        services._parsed.items.clear()
        services._folds.clear()
        t0 = time.perf_counter()
        services.vote_recount(vote_id=vote.pk)
        cold.append(time.perf_counter() - t0)
    return {
        "first": first,
        "stored_median": statistics.median(times),
        "stored_max": max(times),
        "cold_median": statistics.median(cold),
    }


def bench_latency() -> dict:
    from tests.services import CeleryProcess, database_url_for

    quest, vote = _vote("Latency Bench")
    env = dict(os.environ, DATABASE_URL=database_url_for(connection.settings_dict))
    workdir = Path(os.environ.get("QT_SERVICES_DIR", "/tmp"))
    worker = CeleryProcess("worker", env=env, workdir=workdir).start()
    latencies = []
    try:
        for i in range(LATENCY_POSTS):
            name = f"player{i:03}"
            author = imported_author_get_or_create(name=name)
            post_create(quest=quest, author=author, body=f"1-{'AB'[i % 2]}")
            t0 = time.perf_counter()  # post_create returned: the post is committed
            while True:
                run = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()
                p1 = run.data["prompts"][0] if run else None
                if p1 and any(name in o["voters"] for o in p1["options"]):
                    break
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(f"{name} not in the tally after 30 s")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - t0)
            time.sleep(rng_pause(i))
    finally:
        worker.stop()
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "max": latencies[-1],
    }


def rng_pause(i: int) -> float:
    # Posts arrive spread out, as players post, not all in one instant.
    return 0.05 + (i % 5) * 0.02


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("run under bin/with-services: this benchmark needs PostgreSQL and Redis")
    call_command("migrate", verbosity=0)
    r = bench_recount()
    print(
        f"recount, {BALLOTS} ballots: first (reads every post) {r['first']:.3f} s; "
        f"from stored readings median {r['stored_median']:.3f} s, max {r['stored_max']:.3f} s "
        f"(target < 0.5 s); in a just-started worker {r['cold_median']:.3f} s"
    )
    lat = bench_latency()
    print(
        f"commit to tally, {LATENCY_POSTS} posts, real worker: p50 {lat['p50']:.3f} s, "
        f"p95 {lat['p95']:.3f} s, max {lat['max']:.3f} s (target p95 < 2 s)"
    )


if __name__ == "__main__":
    main()
