"""Posting at once on PostgreSQL (issue 14): real threads, each with its own connection.

Ballots no longer wait for each other on the vote's row (FOR KEY SHARE) nor
for the thread to be read, so what orders them is the poster's lock and the
quest's counters (quest.services.poster_lock, _post_numbers). These tests say
what must come out when requests meet: one post for a form sent twice, every
edit kept with the last one counted, distinct numbers for everyone. They
assert outcomes, not times.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from quest.models import Post, PostRevision, Quest, new_submission_token
from tests.factories import make_post, make_user, make_vote, prompt_list
from votes import services
from votes.models import Ballot, Reading

pytestmark = pytest.mark.services

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "write_in", options=3)


def _at_once(*sends: Callable[[], object]) -> list[object]:
    """Run each `send` in its own thread (and connection), all released together."""
    barrier = threading.Barrier(len(sends))
    results: list[object] = [None] * len(sends)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = sends[i]()
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sends))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def vote(transactional_db, quest, quest_master):
    return make_vote(quest, quest_master, PROMPTS)


def _ballot_url(vote) -> str:
    return reverse("ballot-submit", args=[vote.chapter.quest.slug, vote.chapter.number])


def test_it_posts_one_ballot_when_the_same_form_arrives_four_times_at_once(vote, player):
    clients = [_signed_in(player) for _ in range(4)]
    data = {"p1": "B", "p2": "Sing", "submission": new_submission_token()}

    responses = _at_once(*(lambda c=c: c.post(_ballot_url(vote), data, **HTMX) for c in clients))

    assert [r.status_code for r in responses] == [200] * 4
    posts = Post.objects.filter(author=player)
    assert [p.body for p in posts] == ["1-B\n2-Sing"]
    assert all(f"post #{posts[0].ref}" in r.text for r in responses)


def test_it_keeps_both_edits_of_one_post_made_at_once_and_counts_the_last(vote, player):
    post = make_post(vote.chapter.quest, player, "1-A")
    url = reverse("post-edit", args=[vote.chapter.quest.slug, post.ref])
    edits = ["1-B\n2-North, always", "1-C\n2-South, never"]
    clients = [_signed_in(player) for _ in edits]

    def edit(client: Client, body: str) -> object:
        return client.post(url, {"body": body, "submission": new_submission_token()})

    responses = _at_once(
        *(lambda c=c, b=b: edit(c, b) for c, b in zip(clients, edits, strict=True))
    )

    assert [r.status_code for r in responses] == [302, 302]
    post.refresh_from_db()
    revisions = list(PostRevision.objects.filter(post=post).order_by("version"))
    assert [r.version for r in revisions] == [1, 2, 3]
    assert revisions[0].body == "1-A"
    assert {r.body for r in revisions[1:]} == set(edits)  # neither edit lost
    assert post.version == 3 and post.body == revisions[-1].body  # the last one wins
    services.vote_recount(vote_id=vote.pk)  # whatever the workers' order, settled
    reading = Reading.objects.get(vote=vote, post=post)
    assert reading.post_version == 3
    counted = Ballot.objects.get(vote=vote, voter=player.username, is_current=True).answers
    assert counted["1"]["letters"] == [post.body[2]]
    assert counted["2"]["text"] == post.body.split("2-")[1]


def test_it_numbers_ballots_of_many_players_sent_at_once_in_order(vote):
    players = [make_user(f"rush{i:02}") for i in range(12)]
    clients = [_signed_in(p) for p in players]
    data = [{"p1": "ABC"[i % 3], "submission": new_submission_token()} for i in range(12)]

    responses = _at_once(
        *(
            lambda c=c, d=d: c.post(_ballot_url(vote), d, **HTMX)
            for c, d in zip(clients, data, strict=True)
        )
    )

    assert [r.status_code for r in responses] == [200] * 12
    quest = Quest.objects.get(pk=vote.chapter.quest_id)
    posts = list(Post.objects.filter(quest=quest, author__in=players).order_by("seq"))
    assert len(posts) == 12
    first = posts[0].seq
    assert [p.seq for p in posts] == list(range(first, first + 12))  # no gap, no double
    assert [p.ref for p in posts] == sorted({p.ref for p in posts})
    assert quest.last_seq == posts[-1].seq
    services.vote_recount(vote_id=vote.pk)
    assert Ballot.objects.filter(vote=vote, is_current=True).count() == 12


def _holding(lock: Callable[[], object], release: threading.Event, held: list[bool]):
    """A thread that takes `lock` in a transaction and keeps it until `release` (10 s at most)."""
    taken = threading.Event()

    def run() -> None:
        try:
            with transaction.atomic():
                lock()
                held.append(True)
                taken.set()
                release.wait(timeout=10)
                held.append(False)
        finally:
            taken.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    taken.wait(timeout=10)
    return thread


def test_it_posts_a_ballot_while_a_recount_holds_the_vote(vote, player):
    from quest.celery import app

    # The post's reading goes to the broker, as with a worker: run here, its recount
    # would wait for this one (the embedded default reads in the request). The
    # tasks_in_process fixture puts it back.
    app.conf.task_always_eager = False
    release, held = threading.Event(), []
    # What vote_recount takes while it folds and stores the tally.
    recount = _holding(
        lambda: Vote.objects.select_for_update(no_key=True).get(pk=vote.pk), release, held
    )
    try:
        data = {"p1": "B", "submission": new_submission_token()}
        response = _signed_in(player).post(_ballot_url(vote), data, **HTMX)
        still_held = held == [True]
    finally:
        release.set()
        recount.join()

    assert response.status_code == 200
    assert Post.objects.get(author=player).body == "1-B"
    assert still_held  # posted while the recount still held the vote: no waiting on it


def test_it_refuses_a_ballot_that_waited_for_the_vote_to_close(vote, player, quest_master):
    release, held = threading.Event(), []
    closing = _holding(
        lambda: chapter_services.vote_close(vote=vote, by=quest_master), release, held
    )
    data = {"p1": "B", "submission": new_submission_token()}
    client = _signed_in(player)
    answer: list[object] = []

    def send() -> None:
        try:
            answer.append(client.post(_ballot_url(vote), data, **HTMX))
        finally:
            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    sender.join(timeout=1)
    waited = sender.is_alive()  # the ballot waits for the closing transaction
    release.set()
    closing.join()
    sender.join()

    assert waited
    assert "The vote has closed" in answer[0].text
    assert not Post.objects.filter(author=player).exists()
