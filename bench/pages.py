"""Page benchmarks on a 10,000-post vote (run under bin/with-services: `make bench`).

1. Build a vote of 10,000 posts by about 1,100 voters quickly: users, posts and
   their revisions inserted in bulk, then the real recount run once (it reads
   every post and stores the Readings, the Ballots and a TallyRun), and the
   runs a live vote would have stored on its way (a tally of each growing
   prefix of the thread, folded and stored as the recount stores them) so the
   "How the vote moved" chart has its usual hundred-odd points.
2. Time each page with the Django test client, 20 requests after one warm-up:
   median, p95, bytes and SQL queries. The setup is not what is measured.

Targets (issue 14): tally page under 200 ms and 200 KB, audit page under 300 ms.
`--profile` prints the top functions of one request of each page (cProfile).

Prints the figures; docs/benchmarks.md records them with this command.
"""

import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")
# Production settings (DEBUG off), but static files served by name: nothing is collected here.
os.environ.setdefault("STATIC_MANIFEST", "0")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from chapters.models import Vote  # noqa: E402
from chapters.prompts import OptionData, PromptData  # noqa: E402
from chapters.services import chapter_create, chapter_publish, vote_prompts_set  # noqa: E402
from quest.models import Post, PostRevision  # noqa: E402
from quest.services import quest_create  # noqa: E402
from votes import selectors, services  # noqa: E402
from votes.models import Reading, TallyRun  # noqa: E402
from votes.reading.fold import fold  # noqa: E402
from votes.reading.types import RULES_VERSION  # noqa: E402
from votes.reading.types import Reading as ReadingOut  # noqa: E402
from votes.tally import tally_json, tally_sha256  # noqa: E402

POSTS = 10_000
VOTERS = 1_100
CHATTERERS = 150  # post without ever voting
RUNS = 120  # tally runs stored on the way, as a live vote stores them
REQUESTS = 20
PROMPTS = [
    PromptData(1, "single", "Agents?", [OptionData(x, f"Option {x}") for x in "ABC"]),
    PromptData(2, "multi", "Ministries?", [OptionData(x, f"Ministry {x}") for x in "ABCD"]),
    PromptData(3, "ranked", "Priorities?", [OptionData(x, f"Country {x}") for x in "ABC"]),
    PromptData(4, "write_in", "First decree?"),
]
CHATTER = [
    "Great chapter, thank you!",
    "I think the Ministry is overreaching here, but the agents had it coming.",
    "Option A seems best to me, though I have not voted yet.",
    "Does anyone know what happened to the tractors from chapter one?",
    "Leniency now buys us loyalty later.",
]


def _ballot(rng: random.Random) -> str:
    if rng.random() < 0.01:
        return "1-Z\n2-A"  # option Z is no option: held back for a moderator
    ranked = rng.sample("ABC", 3)
    return (
        f"1-{rng.choice('ABC')}\n2-{', '.join(sorted(rng.sample('ABCD', rng.randint(1, 3))))}\n"
        f"3: {' > '.join(ranked)}\n4-Build {rng.choice(['tractors', 'dams', 'schools'])}"
    )


def build() -> tuple[Vote, dict[str, float]]:
    """The vote, and how long each step of building it took."""
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    users = get_user_model()
    qm = users.objects.create_user(username="qm-pages", password="bench-only-pw")
    quest = quest_create(title="Pages Bench", by=qm)
    chapter = chapter_create(quest=quest, title="Chapter One", by=qm)
    vote_prompts_set(
        chapter=chapter, prompts=PROMPTS, by=qm, closes_at=timezone.now() + timedelta(days=1)
    )
    chapter_publish(chapter=chapter, by=qm)
    vote = Vote.objects.select_related("post", "chapter__quest").get(chapter=chapter)
    # The vote opened a day ago, so that the thread's posts fall inside its window.
    opened = timezone.now() - timedelta(days=1)
    Post.objects.filter(pk=vote.post_id).update(posted_at=opened)
    Vote.objects.filter(pk=vote.pk).update(opens_at=opened)
    names = [f"voter{i:04}" for i in range(VOTERS)] + [f"lurker{i:03}" for i in range(CHATTERERS)]
    people = users.objects.bulk_create([users(username=n, password="!") for n in names])
    rng = random.Random(1953)
    posts = []
    for i in range(POSTS):
        # Every voter posts a ballot first; then ballots (changed minds) and chatter mix.
        if i < VOTERS:
            author, body = people[i], _ballot(rng)
        elif rng.random() < 0.25:
            author, body = people[rng.randrange(VOTERS)], _ballot(rng)
        else:
            author, body = rng.choice(people), rng.choice(CHATTER)
        posts.append(
            Post(
                quest=quest,
                seq=vote.post.seq + 1 + i,
                ref=vote.post.ref + 1 + i,
                author=author,
                body=body,
                posted_at=opened + timedelta(seconds=5 * (i + 1)),
                imported=True,
            )
        )
    posts = Post.objects.bulk_create(posts, batch_size=2000)
    PostRevision.objects.bulk_create(
        [PostRevision(post=p, version=1, body=p.body, created_at=p.posted_at) for p in posts],
        batch_size=2000,
    )
    took["insert"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    services.vote_recount(vote_id=vote.pk)
    took["recount"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _runs_on_the_way(vote, opened)
    took["runs"] = time.perf_counter() - t0
    return Vote.objects.get(pk=vote.pk), took


def _runs_on_the_way(vote: Vote, opened) -> None:
    """The tallies of growing prefixes of the thread, stored before the latest one."""
    spec = selectors.vote_spec(vote)
    rows = Reading.objects.filter(vote=vote).order_by("post__seq").values_list("data", flat=True)
    readings = [ReadingOut.from_json(d) for d in rows]
    runs = []
    for k in range(1, RUNS + 1):
        tally = tally_json(
            vote=spec,
            folded=fold(spec, readings[: len(readings) * k // (RUNS + 1)], []),
            quest=vote.chapter.quest.slug,
            chapter=vote.chapter.number,
            status=vote.status,
            method=vote.ranked_method,
            pass_rules=selectors.pass_rules(vote),
        )
        at = opened + timedelta(seconds=5 * POSTS * k / (RUNS + 1))
        runs.append(
            TallyRun(
                vote=vote,
                data=tally,
                sha256=tally_sha256(tally),
                rules_version=RULES_VERSION,
                created_at=at,
            )
        )
    TallyRun.objects.bulk_create(runs)


def _time(client: Client, url: str, **headers: str) -> dict[str, float]:
    def get():
        response = client.get(url, headers=headers, secure=True)
        assert response.status_code in (200, 304), (url, response.status_code)
        return response.getvalue()

    get()  # warm-up: templates compiled, connection open
    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        size = len(get())
    times, cpu = [], []
    for _ in range(REQUESTS):
        t0, c0 = time.perf_counter(), time.process_time()
        get()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[round(0.95 * (len(times) - 1))],
        # This process's CPU only (not PostgreSQL's): steadier than wall time on a busy machine.
        "cpu": statistics.median(cpu),
        "bytes": size,
        "queries": len(queries),
    }


def _profile(client: Client, url: str, **headers: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url, headers=headers, secure=True).getvalue()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def pages(vote: Vote) -> dict[str, tuple[str, dict[str, str]]]:
    """Label -> (URL, headers) of each page measured."""
    args = [vote.chapter.quest.slug, vote.chapter.number]
    tally = reverse("chapter-tally", args=args)
    audit = reverse("vote-audit", args=args)
    htmx = {"HX-Request": "true"}
    voters = reverse("tally-voters", args=args) + "?prompt=1&option=A"
    out = {
        "tally page": (tally, {}),
        "tally partial (htmx poll, no ETag)": (tally, htmx),
        "voters of option 1-A, page 1": (voters, {}),
        "voters of option 1-A, page 2 (htmx)": (voters + "&page=2", htmx),
        "ballots CSV": (reverse("chapter-ballots-csv", args=args), {}),
    }
    for tab in ("held", "all", "excluded", "mentions", "decided"):
        out[f"audit page, {tab} tab"] = (f"{audit}?show={tab}", {})
    out["audit partial, all tab, page 20 (htmx)"] = (f"{audit}?show=all&page=20", htmx)
    out["audit, all tab, voter filter"] = (f"{audit}?show=all&q=voter0042", {})
    return out


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("run under bin/with-services: this benchmark needs PostgreSQL and Redis")
    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client's host is allowed
    vote, took = build()
    run = selectors.latest_tally(vote)
    assert run is not None
    posts = Post.objects.filter(quest_id=vote.chapter.quest_id).count() - 1
    print(
        f"vote: {posts} posts, {run.data['ballots']} ballots, "
        f"{TallyRun.objects.filter(vote=vote).count()} tally runs; built in "
        f"{took['insert']:.1f} s (inserts) + {took['recount']:.1f} s (recount) "
        f"+ {took['runs']:.1f} s (runs on the way)"
    )
    client = Client()
    client.force_login(get_user_model().objects.get(username="qm-pages"))
    measured = pages(vote)
    for label, (url, headers) in measured.items():
        r = _time(client, url, **headers)
        print(
            f"{label}: median {1000 * r['median']:.1f} ms, p95 {1000 * r['p95']:.1f} ms, "
            f"CPU {1000 * r['cpu']:.1f} ms, {r['bytes'] / 1000:.1f} kB, {r['queries']} queries"
        )
    tally = measured["tally page"][0]
    etag = client.get(tally, headers={"HX-Request": "true"}, secure=True)["ETag"]
    r = _time(client, tally, **{"HX-Request": "true", "If-None-Match": etag})
    print(
        f"tally partial (htmx poll, unchanged: 304): median {1000 * r['median']:.1f} ms, "
        f"p95 {1000 * r['p95']:.1f} ms, CPU {1000 * r['cpu']:.1f} ms, {r['queries']} queries"
    )
    if "--profile" in sys.argv:
        for label, (url, headers) in measured.items():
            print(f"\n=== {label}")
            _profile(client, url, **headers)


if __name__ == "__main__":
    main()
