"""The tally pipeline on the real stack: PostgreSQL, Redis and a `celery worker` process.

Each test drives posts through the services as the web app does, and waits
for the worker to read them and recount. Lost messages and crashed workers
are produced for real: Redis is stopped, the worker is SIGKILLed.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chapters.models import Vote
from quest.services import post_create, quest_create
from tests.factories import make_vote, prompt_list
from tests.services import wait_until
from votes import services
from votes.models import Reading, RecountState, TallyRun

pytestmark = pytest.mark.services

PROMPTS = prompt_list(
    "single", "single", "write_in", texts={2: "End the war?"}, option_texts={2: ["Yes", "No"]}
)


def _user(name: str):
    return get_user_model().objects.create_user(username=name, password="pw-for-tests-only")


def _open_vote():
    qm = _user("quest_master")
    quest = quest_create(title="Pipeline Quest", by=qm)
    return quest, make_vote(quest, qm, PROMPTS, title="Chapter One")


def _latest(vote):
    run = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()
    return run.data if run else None


def _voters(tally, prompt: int, letter: str) -> list[str]:
    if tally is None:
        return []
    p = next(p for p in tally["prompts"] if p["number"] == prompt)
    return next(o["voters"] for o in p["options"] if o["letter"] == letter)


def _recounts_run(worker) -> int:
    return worker.log_text().count("Task votes.recount[")  # "received" lines, one per task


def test_it_shows_a_post_in_the_live_tally(celery_worker):
    quest, vote = _open_vote()
    post_create(quest=quest, author=_user("player"), body="1-B\n2-A\n3-Build more tractors")

    tally = wait_until(lambda: _voters(_latest(vote), 1, "B") == ["player"] and _latest(vote))
    assert _voters(tally, 2, "A") == ["player"]
    entries = next(p for p in tally["prompts"] if p["number"] == 3)["entries"]
    assert [e["voters"] for e in entries] == [["player"]]
    assert Reading.objects.get(vote=vote, post__author__username="player").kind == "ballot"


def test_it_gives_one_correct_tally_for_a_burst_of_posts(celery_worker):
    quest, vote = _open_vote()
    players = [_user(f"p{i:03}") for i in range(300)]
    for i, player in enumerate(players):
        post_create(quest=quest, author=player, body=f"{1 + i % 2}-{'AB'[i % 3 == 0]}")

    def counted():
        tally = _latest(vote)
        return tally and tally["ballots"] == 300 and tally

    tally = wait_until(counted, timeout=180, interval=0.5)
    p1 = next(p for p in tally["prompts"] if p["number"] == 1)
    assert sum(o["votes"] for o in p1["options"]) == 150
    # Coalesced: far fewer recounts than posts.
    wait_until(lambda: RecountState.objects.get(pk=vote.pk).queued_at is None, timeout=60)
    assert _recounts_run(celery_worker) < 60, _recounts_run(celery_worker)


def test_it_ends_right_after_the_worker_is_killed_mid_recount(celery_worker):
    quest, vote = _open_vote()
    players = [_user(f"k{i:03}") for i in range(120)]
    for player in players:
        post_create(quest=quest, author=player, body="1-A")
    wait_until(lambda: "Task votes.recount[" in celery_worker.log_text(), timeout=60, interval=0.02)
    celery_worker.kill()

    celery_worker.start()
    # The killed task's message may come back only after the broker's
    # visibility timeout; the sweeper does not wait for that.
    services.recounts_sweep(now=timezone.now() + timedelta(minutes=10))
    tally = wait_until(lambda: (t := _latest(vote)) and t["ballots"] == 120 and t, timeout=120)
    assert len(_voters(tally, 1, "A")) == 120


@pytest.mark.exclusive
def test_it_loses_no_post_while_redis_is_down(celery_worker, redis_server):
    quest, vote = _open_vote()
    post_create(quest=quest, author=_user("early"), body="1-A")
    wait_until(lambda: _voters(_latest(vote), 1, "A") == ["early"])

    redis_server.stop()
    late = [_user(f"late{i}") for i in range(5)]
    for player in late:
        post_create(quest=quest, author=player, body="1-B\n2-B")  # commits; the enqueue fails
    redis_server.start()

    services.recounts_sweep(now=timezone.now() + timedelta(minutes=10))
    tally = wait_until(
        lambda: len(_voters(_latest(vote), 1, "B")) == 5 and _latest(vote), timeout=60
    )
    assert _voters(tally, 1, "A") == ["early"]
    assert sorted(_voters(tally, 2, "B")) == sorted(p.username for p in late)


def test_it_closes_a_due_vote_through_a_real_worker(celery_worker):
    from quest.celery import app

    _, vote = _open_vote()
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    app.send_task("chapters.close_due_votes")

    wait_until(lambda: Vote.objects.get(pk=vote.pk).status == Vote.Status.CLOSED, timeout=30)
    closed = Vote.objects.get(pk=vote.pk)
    event = closed.events.get(kind="closed")
    assert event.by is None and event.reason == "closing time reached"
    wait_until(lambda: TallyRun.objects.filter(vote=vote, is_final=True).exists(), timeout=30)
