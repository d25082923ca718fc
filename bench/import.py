"""Import and tally a generated vote thread, next to a floor measured in the same run.

Run: `make bench BENCH=import` (under bin/with-services: PostgreSQL and Redis),
or `.venv/bin/python bench/import.py [--posts N] [--memory 10000,100000]
[--chapters-every N] [--profile] [--skip-postgres]` for the embedded default alone.

The thread: `--posts` posts (10,000) of bench/reading.py's corpus (the public
example thread, then generated ballots, discussion, quotes, endorsements and
proxies, in cycles of 200) as one `quest-thread/1` file with the example's
chapter and vote, open, every post a second after the one before: one vote
whose window is the whole thread, a stress case. With `--chapters-every N` (a
multiple of 200) it is a whole thread's shape instead: a chapter with its vote
every N posts (the copies of the example's chapter and vote posts in the cycle
that starts each stretch; chapters numbered 1, 2, 3...), each vote open from its
post until the next chapter's post, the last one open. Every step below then
waits until every vote's tally counts every post of its window.

1. Embedded default: a fresh SQLite file, eager Celery, in a child process;
   `import_thread`'s way in (`sources_import`), which stores the posts and, on
   commit, reads and tallies them in-process. The floor, in the same process:
   load the JSON, one regex scan over every body, one bulk insert of the posts.
2. PostgreSQL with a real Celery worker (prefork, as docker-compose runs it):
   the import, then the clock runs until every vote's tally counts every post.
   The floor: load the JSON, one regex scan and a `COPY` of the posts.
3. Memory: RSS of a child about to import `--memory` posts on SQLite, then
   the peak (the kernel's high-water mark, reset between steps) while it
   stores them, streamed from the file as `import_thread` streams it, and
   while it reads and tallies them.

Each child prints one JSON line; this prints the table docs/benchmarks.md keeps.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR = re.compile(r"\d+\s*[-.):]?\s*[A-Za-z]")
SLUG = "import-bench"


# --- The thread ---------------------------------------------------------------------


def thread_file(posts: int, path: Path, *, chapters_every: int | None = None) -> None:
    """Write a `posts`-post quest-thread/1 file to `path` (the reading bench's corpus).

    One chapter (the example's, its vote open) unless `chapters_every`: then a
    chapter with its vote every `chapters_every` posts (`chapters`).
    """
    from bench.reading import corpus
    from tests.reading.example import load_thread

    data, _, _ = load_thread()
    _, generated = corpus(posts)
    chapter = data["chapters"][0]
    start = generated[0].posted_at.timestamp()
    # Every post a second after the one before.
    stamp = {p.id: start + i for i, p in enumerate(generated)}
    if chapters_every is None:
        # The vote opens with its post, wherever the corpus put it.
        vote = dict(chapter["vote"], opens_at=_iso(stamp[chapter["vote"]["post"]]), closes_at=None)
        heads = [dict(chapter, vote=vote)]
    else:
        heads = chapters(chapter, stamp, posts=posts, every=chapters_every)
    with path.open("w", encoding="utf-8") as f:
        header = {
            "format": "quest-thread/1",
            "quest": dict(data["quest"], slug=SLUG, title="Import bench"),
            "chapters": heads,
        }
        f.write(json.dumps(header)[:-1] + ', "posts": [\n')
        for i, p in enumerate(generated):
            post = {
                "id": p.id,
                "author": p.author,
                "posted_at": _iso(stamp[p.id]),
                "edited_at": None,
                "body": p.body,
            }
            f.write(("," if i else "") + json.dumps(post) + "\n")
        f.write("]}\n")


def chapters(example: dict, stamp: dict[int, float], *, posts: int, every: int) -> list[dict]:
    """A chapter with its vote every `every` posts of a `posts`-post corpus, numbered 1, 2, ...

    Each stretch of `every` posts starts a corpus cycle (CYCLE posts, the ids of
    cycle c offset by c * 1,000,000), whose copy of the example's chapter post
    and vote post (the quest master's) are the chapter's. Each vote opens with
    its post and closes with the next chapter's post; the last is open.
    """
    from bench.reading import CYCLE

    if every <= 0 or every % CYCLE:
        raise SystemExit(f"--chapters-every must be a multiple of {CYCLE} (a corpus cycle)")
    out: list[dict] = []
    for number, first in enumerate(range(0, posts, every), 1):
        offset = first // CYCLE * 1_000_000
        post, vote_post = example["post"] + offset, example["vote"]["post"] + offset
        if post not in stamp or vote_post not in stamp:
            break  # the corpus ends before this cycle's chapter post
        vote = dict(example["vote"], post=vote_post, opens_at=_iso(stamp[vote_post]))
        out.append(dict(example, number=number, title=f"Chapter {number}", post=post, vote=vote))
    for chapter, following in zip(out, out[1:], strict=False):
        chapter["vote"]["closes_at"] = _iso(stamp[following["post"]])
    out[-1]["vote"]["closes_at"] = None
    return out


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- In a child process: one database, one import -----------------------------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def child(kind: str, file: Path, *, floor: bool, profile: bool, stages: bool) -> dict:
    _setup()
    from django.db import connection

    from quest.models import Post
    from votes.importers.sources import source_file, sources_import

    out: dict = {"kind": kind, "vendor": connection.vendor}
    worker = _worker() if kind == "postgres" else None
    profiler = cProfile.Profile() if profile else None
    try:
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        if stages:
            quest = _staged(file, out)
        else:
            source = source_file(str(file), format="json")  # streamed, as import_thread does
            quest = sources_import([source], format="json", slug=f"{SLUG}-{os.getpid()}")
        out["import_s"] = time.perf_counter() - started
        out["import_cpu_s"] = time.process_time() - cpu
        runs = _counted(quest, started)
        out["total_s"] = time.perf_counter() - started
        # This process's CPU: on the embedded default all of it (SQLite is in-process).
        out["total_cpu_s"] = time.process_time() - cpu
        if profiler:
            profiler.disable()
        out["posts"] = Post.objects.filter(quest=quest).count()
        out["votes"] = len(runs)
        out["ballots"] = sum(ballots for ballots, _ in runs)
        out["per_vote"] = runs  # each vote's ballots and posts counted, in chapter order
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        if worker is not None:
            worker.stop()
    if profiler:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(15)
        stats.sort_stats("tottime").print_stats(10)
        out["profile"] = text.getvalue()
    if floor:
        out.update(_floor(file, copy=kind == "postgres"))
    return out


def _counted(quest, started: float) -> list[tuple[int, int]]:
    """(ballots, posts counted) of each vote's first tally run that counts every post
    of its window (waited for), in chapter order: with workers the votes are read
    and tallied apart, in any order."""
    from chapters.models import Vote
    from quest.models import Post
    from votes import selectors
    from votes.models import Reading, TallyRun

    votes = list(
        Vote.objects.filter(chapter__quest=quest)
        .select_related("chapter", "post")
        .order_by("chapter__number")
    )
    windows = {}
    for vote in votes:
        # The window: the posts after the vote's post, before the next chapter's
        # (selectors.window_bounds).
        after, before = selectors.window_bounds(vote)
        posts = Post.objects.filter(quest=quest, seq__gt=after)
        windows[vote.pk] = (posts if before is None else posts.filter(seq__lt=before)).count()
    runs: dict[int, tuple[int, int]] = {}
    while True:
        for vote in votes:
            if vote.pk in runs:
                continue
            run = TallyRun.objects.filter(vote=vote).order_by("-pk").first()
            window = windows[vote.pk]
            if (
                run is not None
                and len(run.inputs["posts"]) == window
                and Reading.objects.filter(vote=vote).count() == window
            ):
                runs[vote.pk] = (run.data["ballots"], window)
        if len(runs) == len(votes):
            return [runs[vote.pk] for vote in votes]
        if time.perf_counter() - started > 1800:
            raise SystemExit("the tally did not count every post within 30 minutes")
        time.sleep(0.05)


def _staged(file: Path, out: dict):
    """The import in steps, each step's peak RSS apart (the kernel's high-water mark, reset)."""
    from django.db import transaction

    from votes.importers.sources import source_file, sources_import

    out["document_mb"] = _rss("VmRSS")  # nothing of the file read yet: it is streamed
    _rss_reset()
    with transaction.atomic():
        source = source_file(str(file), format="json")
        quest = sources_import([source], format="json", slug=f"{SLUG}-{os.getpid()}")
        # Before the commit: the posts are stored, reading them is sent at commit.
        out["store_peak_mb"] = _rss("VmHWM")
        _rss_reset()
    out["read_peak_mb"] = _rss("VmHWM")
    return quest


def _rss(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no {field} in /proc/self/status")


def _rss_reset() -> None:
    # Writing 5 resets the process's peak RSS (VmHWM) to its current RSS (Linux 4.0+).
    Path("/proc/self/clear_refs").write_text("5")


def _worker():
    from django.db import connection

    from bench._stack import ProductionWorker
    from tests.services import database_url_for

    env = dict(os.environ, DATABASE_URL=database_url_for(connection.settings_dict))
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return ProductionWorker("worker", env=env, workdir=Path(tempfile.mkdtemp())).start()


def _floor(file: Path, *, copy: bool) -> dict:
    """Load the JSON, scan every body once, insert the posts in one go (COPY on PostgreSQL)."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils.dateparse import parse_datetime

    from quest.models import Post, Quest

    started, cpu = time.perf_counter(), time.process_time()
    data = json.loads(file.read_text(encoding="utf-8"))
    loaded = time.perf_counter()
    for p in data["posts"]:
        for _ in FLOOR.finditer(p["body"]):
            pass
    scanned = time.perf_counter()
    user = User.objects.create(username=f"floor-author-{os.getpid()}")
    quest = Quest.objects.create(
        slug=f"floor-{os.getpid()}",
        title="floor",
        quest_master=user,
        last_activity_at=data["posts"][0]["posted_at"],
    )
    rows = [
        (quest.pk, seq, p["id"], user.pk, p["body"], parse_datetime(p["posted_at"]))
        for seq, p in enumerate(data["posts"], 1)
    ]
    if copy:
        columns = (
            "quest_id, seq, ref, author_id, body, posted_at, version, imported, source_url, deleted"
        )
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {Post._meta.db_table} ({columns}) FROM STDIN") as out,
        ):
            for row in rows:
                out.write_row((*row, 1, True, "", False))
    else:
        Post.objects.bulk_create(
            Post(quest_id=q, seq=s, ref=r, author_id=a, body=b, posted_at=t, imported=True)
            for q, s, r, a, b, t in rows
        )
    inserted = time.perf_counter()
    return {
        "floor_s": inserted - started,
        "floor_cpu_s": time.process_time() - cpu,
        "floor_load_s": loaded - started,
        "floor_scan_s": scanned - loaded,
        "floor_insert_s": inserted - scanned,
    }


# --- The parent: children, figures --------------------------------------------------------


def _run_child(kind: str, file: Path, tmp: Path, *extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), IMPORT_MAX_BYTES=str(10**9))
    if kind == "sqlite":
        for name in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"):
            env.pop(name, None)
        db = tmp / f"bench-{time.monotonic_ns()}.sqlite3"
        env["SQLITE_PATH"] = str(db)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(file), *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _votes(r: dict) -> str:
    """How many votes were tallied, their ballots, and the fewest any vote counted."""
    fewest = min(r["per_vote"])
    return (
        f"{r['votes']} vote(s), {r['ballots']} ballots (fewest: {fewest[0]} ballots "
        f"in a window of {fewest[1]} posts)"
    )


def _report(r: dict) -> None:
    ratio = r["total_s"] / r["floor_s"]
    # In-process, this process's CPU is all of the work; with a worker it is not.
    cpu = (
        f"(this process's CPU: {r['total_cpu_s']:.2f} s against {r['floor_cpu_s']:.3f} s, "
        f"{r['total_cpu_s'] / r['floor_cpu_s']:.1f}x) "
        if r["kind"] == "sqlite"
        else "(wall clock: the worker's CPU is in another process) "
    )
    print(
        f"{r['vendor']}: {r['posts']} posts, {_votes(r)}; import {r['import_s']:.2f} s, "
        f"import + tally {r['total_s']:.2f} s; floor {r['floor_s']:.3f} s "
        f"(load {r['floor_load_s']:.3f}, scan {r['floor_scan_s']:.3f}, "
        f"insert {r['floor_insert_s']:.3f}); ratio {ratio:.1f}x {cpu}"
        f"(target 20x: {'met' if ratio <= 20 else 'not met'}; stretch 5x: "
        f"{'met' if ratio <= 5 else 'not met'}); peak RSS {r['rss_mb']:.0f} MB"
    )
    if "profile" in r:
        print(r["profile"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--memory", default="10000,100000", help="post counts ('' for none)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"))
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--stages", action="store_true")
    parser.add_argument(
        "--chapters-every",
        type=int,
        metavar="N",
        help="a chapter with its vote every N posts (a multiple of 200; default: one vote)",
    )
    args = parser.parse_args()
    if args.child:
        kind, file = args.child
        result = child(
            kind, Path(file), floor=not args.no_floor, profile=args.profile, stages=args.stages
        )
        print(json.dumps(result))
        return
    extra = ["--profile"] if args.profile else []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        file = tmp / "thread.json"
        thread_file(args.posts, file, chapters_every=args.chapters_every)
        print(f"thread: {args.posts} posts, {file.stat().st_size / 1e6:.1f} MB of JSON")
        _report(_run_child("sqlite", file, tmp, *extra))
        if args.skip_postgres or not os.environ.get("DATABASE_URL", "").startswith("postgres"):
            print("postgres: skipped (run under bin/with-services)")
        else:
            _report(_run_child("postgres", file, tmp, *extra))
        for n in [int(x) for x in args.memory.split(",") if x.strip()]:
            big = tmp / f"thread-{n}.json"
            thread_file(n, big, chapters_every=args.chapters_every)
            r = _run_child("sqlite", big, tmp, "--no-floor", "--stages")
            print(
                f"memory, {n} posts ({big.stat().st_size / 1e6:.0f} MB of JSON): RSS before the "
                f"import {r['document_mb']:.0f} MB; peak storing the posts (streamed) "
                f"{r['store_peak_mb']:.0f} MB, reading and tallying them "
                f"{r['read_peak_mb']:.0f} MB; import + tally {r['total_s']:.1f} s; "
                f"{_votes(r)}"
            )
            big.unlink()


if __name__ == "__main__":
    main()
