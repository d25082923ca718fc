"""CPU per tally poll, in process (run under bin/with-services: `make bench BENCH=poll`).

A live vote of `--voters` (1,000) voters, read and counted by the real
recount; one signed-in player polls its tally as the chapter page does (htmx,
`?with=ballot`, with the ETag of the last answer) through the Django test
client: the whole middleware stack and view, no gunicorn, no network. Each kind
of poll is timed in CPU time (time.process_time, so a busy machine slows it
less than wall time), `--requests` times after a warm-up:

- unchanged, answered 304 by votes.poll.TallyPollMiddleware (no query);
- unchanged, answered 304 by the view (the remembered entry removed first:
  what every poll cost before the middleware, and what a poll costs after the
  vote's stamp moved with nothing new for this player);
- changed, 200: the tally partial already rendered for this stamp by another
  poller (kept in the cache), only the player's panel built;
- changed, 200: the stamp moved just before (the first poller after a
  recount renders the partial for everyone);
- since issue 14 the chapter page polls the readers' partial (`?as=reader`)
  and the player's panel apart: a changed reader's poll answered 200 by the
  middleware from the partial kept for the stamp (`shared`), the panel's poll
  answered 304 by it (`panel`), and by the view after the player's own
  ballot changed (`panel-view`); since session 6 a second panel poll asking
  with an older ETag or none (htmx's `ballot-posted` beside the timer) gets
  the panel the view kept, from the middleware (`panel-kept`);
- a plain page (the quest's thread page), for scale.

`--profile KIND` prints where one kind spends its CPU (cProfile, by cumulative
time); `--sql KIND` lists the SQL statements of one request of that kind. Each
kind's SQL queries are counted too.
docs/benchmarks.md ("Closing-hour rush") records the figures with this command.
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quest.settings")
# Production settings (DEBUG off), but static files served by name: nothing is collected here.
os.environ.setdefault("STATIC_MANIFEST", "0")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from chapters.models import Vote  # noqa: E402
from chapters.prompts import OptionData, PromptData  # noqa: E402
from chapters.services import chapter_create, chapter_publish, vote_prompts_set  # noqa: E402
from quest.models import Quest  # noqa: E402
from quest.services import post_create, quest_create  # noqa: E402
from votes import poll, services  # noqa: E402

PROMPTS = [
    PromptData(1, "single", "Agents?", [OptionData("A", "Leniency"), OptionData("B", "Punish")]),
    PromptData(2, "multi", "Ministries?", [OptionData(x, f"Ministry {x}") for x in "ABCD"]),
]
HTMX = {"HTTP_HX_REQUEST": "true"}


def live_vote(voters: int) -> tuple[Quest, list[User]]:
    """An open vote with one ballot from each of `voters` players, counted."""
    qm = User.objects.create_user(f"qm{time.time_ns()}")
    quest = quest_create(title=f"Poll bench {time.time_ns()}", by=qm)
    chapter = chapter_create(quest=quest, title="Chapter One", by=qm)
    closes = timezone.now() + timedelta(days=1)
    vote_prompts_set(chapter=chapter, prompts=PROMPTS, by=qm, closes_at=closes)
    chapter_publish(chapter=chapter, by=qm)
    prefix = f"p{time.time_ns()}-"
    User.objects.bulk_create([User(username=f"{prefix}{i:05}") for i in range(voters)])
    players = list(User.objects.filter(username__startswith=prefix).order_by("username"))
    for i, player in enumerate(players):
        post_create(quest=quest, author=player, body=f"1-{'AB'[i % 2]}\n2-{'ABCD'[i % 4]}")
    services.vote_recount(vote_id=Vote.objects.get(chapter=chapter).pk)
    return quest, players


def kinds(quest: Quest, player: User) -> dict[str, Callable[[], None]]:
    client = Client()
    client.force_login(player)
    url = f"/q/{quest.slug}/chapters/1/tally/?with=ballot"
    # Production settings redirect plain http: every request is made as https.
    first = client.get(url, secure=True, **HTMX)
    assert first.status_code == 200, first.status_code
    etag = first["ETag"]
    entry = poll._entry_key(first.wsgi_request, quest.slug, 1)

    def get(expected: int, *, etag: str = "") -> None:
        headers = {**HTMX, "HTTP_IF_NONE_MATCH": etag} if etag else HTMX
        response = client.get(url, secure=True, **headers)
        assert response.status_code == expected, response.status_code

    def view() -> None:
        cache.delete(entry)
        get(304, etag=etag)

    def rendered() -> None:
        poll._move(quest.slug, 1, at_once=True)
        get(200)

    reader = f"/q/{quest.slug}/chapters/1/tally/?as=reader"
    # A visitor's poll renders the readers' partial for this stamp and keeps it.
    assert Client().get(reader, secure=True, **HTMX).status_code == 200

    def shared() -> None:
        # No ETag of this stamp: what every poll after a recount gets.
        assert client.get(reader, secure=True, **HTMX).status_code == 200

    panel_url = f"/q/{quest.slug}/chapters/1/ballot-panel/"
    panel_etag = client.get(panel_url, secure=True, **HTMX)["ETag"]
    voter = poll._voter_stamp_key(quest.slug, 1, player.username)

    def panel(expected: int = 304) -> None:
        headers = {**HTMX, "HTTP_IF_NONE_MATCH": panel_etag}
        assert client.get(panel_url, secure=True, **headers).status_code == expected

    def panel_view() -> None:
        cache.delete(voter)  # as the recount moves it when the player's ballot changed
        assert client.get(panel_url, secure=True, **HTMX).status_code == 200

    def panel_kept() -> None:
        # No ETag: as a poll sent before the view's answer to the last one came back.
        assert client.get(panel_url, secure=True, **HTMX).status_code == 200

    def page() -> None:
        assert client.get(f"/q/{quest.slug}/", secure=True).status_code == 200

    return {
        "fast": lambda: get(304, etag=etag),
        "view": view,
        "kept": lambda: get(200),
        "rendered": rendered,
        "shared": shared,
        "panel": panel,
        "panel-view": panel_view,
        "panel-kept": panel_kept,
        "page": page,
    }


LABELS = {
    "fast": "304, unchanged (TallyPollMiddleware)",
    "view": "304, unchanged (the view's ETag check)",
    "kept": "200, changed (shared partial kept)",
    "rendered": "200, changed (partial rendered)",
    "shared": "200, changed, reader (kept, middleware)",
    "panel": "panel 304 (middleware)",
    "panel-view": "panel 200 (view, own ballot changed)",
    "panel-kept": "panel 200 (middleware, the panel kept)",
    "page": "thread page",
}


def queries(fn: Callable[[], None]) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def cpu_ms(fn: Callable[[], None], n: int) -> float:
    fn()
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return 1000 * (time.process_time() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", choices=sorted(LABELS), help="cProfile one kind")
    parser.add_argument("--sql", choices=sorted(LABELS), help="list one kind's SQL statements")
    args = parser.parse_args()
    setup_test_environment()
    call_command("migrate", verbosity=0)
    quest, players = live_vote(args.voters)
    polls = kinds(quest, players[0])
    print(f"tally poll, {args.voters} voters, CPU ms per request ({args.requests} each), queries:")
    for kind, fn in polls.items():
        print(f"  {LABELS[kind]:42} {cpu_ms(fn, args.requests):7.2f} {queries(fn):4}")
    print(f"  load average {os.getloadavg()}")
    if args.sql:
        with CaptureQueriesContext(connection) as captured:
            polls[args.sql]()
        for query in captured.captured_queries:
            print(f"  {query['sql'][:300]}")
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        profile.runcall(lambda: [polls[args.profile]() for _ in range(50)])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
