"""The worker's work coalesced per vote: a post asks for its vote's recount, paced in a burst.

A saved post sends no task of its own: it asks for the recount of the vote
whose window holds it (one conditional UPDATE claims the one queued recount),
and that recount reads every unread post of the window in one pass. While a
vote's recount started less than RECOUNT_PACE times its last duration ago (at
most RECOUNT_MIN_INTERVAL_SECONDS), the next one is put off for the rest of
that time; a close is recounted at once.
"""

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from chapters import services as chapter_services
from quest.services import post_create, quest_create
from tests.factories import make_post, make_quest, make_user, make_vote, prompt_list
from tests.services import wait_until
from votes import selectors, services
from votes.models import Reading, RecountState

PROMPTS = prompt_list("single")


def _wanted_at(vote):
    return RecountState.objects.filter(vote=vote).values_list("wanted_at", flat=True).first()


@pytest.mark.django_db
def test_a_post_asks_for_the_recount_of_the_vote_whose_window_holds_it_and_no_other(
    django_capture_on_commit_callbacks,
):
    quest_master, player = make_user("quest_master"), make_user("player")
    quest = make_quest(quest_master)
    before_any = make_post(quest, player, "1-A")
    first = make_vote(quest, quest_master, PROMPTS, title="One")
    in_first = make_post(quest, player, "1-A")
    second = make_vote(quest, quest_master, PROMPTS, title="Two")
    in_second = make_post(quest, player, "1-B")
    # A chapter with no vote ends the second vote's window: what follows is read by none.
    interlude = chapter_services.chapter_create(quest=quest, title="Interlude", by=quest_master)
    chapter_services.chapter_publish(chapter=interlude, by=quest_master)
    after_all = make_post(quest, player, "1-A")

    for post in [before_any, in_first, in_second, after_all]:
        wanted = {vote.pk: _wanted_at(vote) for vote in [first, second]}
        with django_capture_on_commit_callbacks(execute=True):
            services.reading_request(post=post)
        asked = {vote.pk for vote in [first, second] if _wanted_at(vote) != wanted[vote.pk]}
        holder = selectors.vote_for_post(post)
        assert asked == ({holder.pk} if holder else set()), post.body


def _open_vote():
    quest_master = _user("quest_master")
    quest = quest_create(title="Pacing Quest", by=quest_master)
    return quest, quest_master, make_vote(quest, quest_master, PROMPTS, title="Chapter One")


def _user(name: str):
    return get_user_model().objects.create_user(username=name, password="pw-for-tests-only")


def _ballots(vote) -> int:
    run = selectors.latest_tally(vote)
    return run.data["ballots"] if run else 0


def _paced(celery_worker, settings, seconds: float) -> None:
    # Both sides: the posting process works out the pause, the worker notes its start.
    settings.RECOUNT_MIN_INTERVAL_SECONDS = seconds
    celery_worker.stop()
    celery_worker.env["RECOUNT_MIN_INTERVAL_SECONDS"] = str(seconds)
    celery_worker.start()


def _a_recount_starts_now(vote, *, last_took: float) -> None:
    # What `vote_recount` notes as it starts, and as the one before it ended: the
    # next recount waits RECOUNT_PACE times `last_took`, at most the longest pause.
    cache.set(f"votes:recount-started:{vote.pk}", time.time(), timeout=120)
    cache.set(f"votes:recount-took:{vote.pk}", last_took, timeout=120)


@pytest.mark.services
def test_a_burst_ends_in_one_correct_tally_with_far_fewer_recounts_than_posts(celery_worker):
    quest, _, vote = _open_vote()
    players = [_user(f"b{i:03}") for i in range(150)]
    for i, player in enumerate(players):
        post_create(quest=quest, author=player, body=f"1-{'AB'[i % 3 == 0]}")

    wait_until(lambda: _ballots(vote) == 150, timeout=180, interval=0.5)
    tally = selectors.latest_tally(vote).data
    options = {o["letter"]: o["votes"] for o in tally["prompts"][0]["options"]}
    assert options == {"A": 100, "B": 50}
    assert Reading.objects.filter(vote=vote, post__author__in=players).count() == 150

    wait_until(lambda: RecountState.objects.get(pk=vote.pk).queued_at is None, timeout=60)
    log = celery_worker.log_text()
    assert "Task votes.post_reading_refresh[" not in log  # no task per post
    recounts = log.count("Task votes.recount[")  # "received" lines, one per task
    assert recounts <= 150 // 5, recounts


@pytest.mark.services
def test_a_recount_asked_for_right_after_one_started_waits_out_the_interval(
    celery_worker, settings
):
    _paced(celery_worker, settings, 4)
    quest, _, vote = _open_vote()
    services.vote_recount(vote_id=vote.pk)  # counted once: no recount queued

    _a_recount_starts_now(vote, last_took=10)
    post_create(quest=quest, author=_user("player"), body="1-A")
    posted = time.monotonic()
    assert RecountState.objects.get(pk=vote.pk).queued_at is not None

    time.sleep(1.5)
    assert _ballots(vote) == 0  # put off, not dropped
    wait_until(lambda: _ballots(vote) == 1, timeout=30, interval=0.1)
    assert time.monotonic() - posted >= 3  # it did wait out (most of) the 4 s


@pytest.mark.services
def test_a_vote_that_counts_quickly_waits_its_own_pace_not_the_longest_pause(
    celery_worker, settings
):
    _paced(celery_worker, settings, 90)
    quest, _, vote = _open_vote()
    services.vote_recount(vote_id=vote.pk)  # counted once: no recount queued

    # Its recounts take 0.4 s: the next starts 1.2 s after this one, not 90 s.
    _a_recount_starts_now(vote, last_took=0.4)
    post_create(quest=quest, author=_user("player"), body="1-A")
    posted = time.monotonic()
    assert RecountState.objects.get(pk=vote.pk).queued_at is not None  # put off, a little

    wait_until(lambda: _ballots(vote) == 1, timeout=30, interval=0.1)
    assert 0.8 <= time.monotonic() - posted < 30


@pytest.mark.django_db
@pytest.mark.services
def test_a_recount_notes_how_long_it_took_for_the_next_ones_pause():
    _, _, vote = _open_vote()
    services.vote_recount(vote_id=vote.pk)
    took = cache.get(f"votes:recount-took:{vote.pk}")
    assert isinstance(took, float) and 0 < took < 30


@pytest.mark.services
def test_closing_recounts_at_once_while_a_paced_recount_waits(celery_worker, settings):
    _paced(celery_worker, settings, 90)
    quest, quest_master, vote = _open_vote()
    services.vote_recount(vote_id=vote.pk)  # counted once: no recount queued

    _a_recount_starts_now(vote, last_took=60)
    post_create(quest=quest, author=_user("player"), body="1-B")
    assert RecountState.objects.get(pk=vote.pk).queued_at is not None  # put off for 90 s
    chapter_services.vote_close(vote=vote, by=quest_master)

    final = wait_until(lambda: selectors.final_tally(vote), timeout=45)
    assert final.data["ballots"] == 1
