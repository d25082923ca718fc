"""A vote's window: opening and closing on time (the beat task), closing, extending, reopening.

The beat task is called directly here; a test through a real worker and beat
lives with the worker tests.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chapters import services
from chapters.models import Chapter, Vote, VoteEvent
from chapters.tasks import close_due_votes_task
from quest.celery import app
from tests.factories import make_vote, prompt_list

PROMPTS = prompt_list("single")


def _vote(quest, by, **window) -> Vote:
    """A vote on PROMPTS: open, closing in two days, unless `window` says otherwise."""
    return make_vote(quest, by, PROMPTS, title="The Thaw", body="", **window)


def url(name, vote):
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


# --- The beat task ------------------------------------------------------------------


def test_the_beat_task_is_registered_under_its_name():
    assert "chapters.close_due_votes" in app.tasks
    assert app.tasks["chapters.close_due_votes"].name == close_due_votes_task.name


def test_the_beat_task_closes_a_due_vote_with_no_one_on_the_page(quest, quest_master):
    vote = _vote(quest, quest_master)
    due = timezone.now() - timedelta(minutes=1)
    Vote.objects.filter(pk=vote.pk).update(closes_at=due)

    assert close_due_votes_task() == {"opened": 0, "closed": 1}

    vote.refresh_from_db()
    assert vote.status == Vote.Status.CLOSED
    assert vote.closed_at == due  # closed as of its closing time, not as of the sweep
    event = vote.events.get(kind=VoteEvent.Kind.CLOSED)
    assert event.by is None
    assert event.reason == "closing time reached"


def test_the_beat_task_closes_a_vote_only_once(quest, quest_master):
    vote = _vote(quest, quest_master)
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    close_due_votes_task()
    assert close_due_votes_task() == {"opened": 0, "closed": 0}
    assert vote.events.filter(kind=VoteEvent.Kind.CLOSED).count() == 1


def test_a_vote_closing_later_stays_open(quest, quest_master):
    vote = _vote(quest, quest_master, closes_at=timezone.now() + timedelta(minutes=5))
    assert close_due_votes_task() == {"opened": 0, "closed": 0}
    vote.refresh_from_db()
    assert vote.status == Vote.Status.OPEN


def test_a_vote_closed_by_hand_only_stays_open(quest, quest_master):
    vote = _vote(quest, quest_master, closes_at=None)
    close_due_votes_task()
    vote.refresh_from_db()
    assert vote.status == Vote.Status.OPEN


def test_a_scheduled_vote_opens_at_its_time(quest, quest_master):
    opens_at = timezone.now() + timedelta(hours=1)
    vote = _vote(quest, quest_master, opens_at=opens_at, closes_at=opens_at + timedelta(days=2))
    assert vote.status == Vote.Status.SCHEDULED
    assert close_due_votes_task() == {"opened": 0, "closed": 0}

    Vote.objects.filter(pk=vote.pk).update(opens_at=timezone.now() - timedelta(seconds=1))
    assert close_due_votes_task() == {"opened": 1, "closed": 0}
    vote.refresh_from_db()
    assert vote.status == Vote.Status.OPEN
    assert vote.events.get(kind=VoteEvent.Kind.OPENED).by is None


def test_a_scheduled_vote_of_a_draft_chapter_waits_for_publishing(quest, quest_master):
    vote = _vote(quest, quest_master, publish=False, opens_at=timezone.now() + timedelta(hours=1))
    Vote.objects.filter(pk=vote.pk).update(opens_at=timezone.now() - timedelta(hours=1))
    assert close_due_votes_task() == {"opened": 0, "closed": 0}
    vote.refresh_from_db()
    assert vote.status == Vote.Status.SCHEDULED
    assert vote.chapter.status == Chapter.Status.DRAFT


def test_the_chapter_page_shows_the_scheduled_opening(client, quest, quest_master):
    opens_at = timezone.now() + timedelta(hours=1)
    vote = _vote(quest, quest_master, opens_at=opens_at, closes_at=opens_at + timedelta(1))
    text = client.get(url("chapter-detail", vote)).text
    assert "Vote opens" in text
    assert f'datetime="{timezone.localtime(vote.opens_at).isoformat()}"' in text


# --- Closing by hand ------------------------------------------------------------------


def test_the_quest_master_closes_the_vote_with_a_reason(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    response = qm_client.post(url("vote-close", vote), {"reason": "Everyone has voted."})
    assert response.status_code == 302
    vote.refresh_from_db()
    assert vote.status == Vote.Status.CLOSED
    event = vote.events.get(kind=VoteEvent.Kind.CLOSED)
    assert (event.by, event.reason) == (quest_master, "Everyone has voted.")


def test_closing_with_htmx_swaps_in_the_vote_state(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    response = qm_client.post(url("vote-close", vote), {"reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="vote"')
    assert "Vote closed" in response.text
    assert "The vote is closed." in response.text
    assert url("vote-reopen", vote) in response.text


def test_closing_a_closed_vote_changes_nothing(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    services.vote_close(vote=vote, by=quest_master)
    response = qm_client.post(url("vote-close", vote), {}, follow=True)
    assert "The vote was not open." in response.text
    assert vote.events.filter(kind=VoteEvent.Kind.CLOSED).count() == 1


# --- Extending ------------------------------------------------------------------------


def test_the_quest_master_extends_the_vote_on_record(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    old = vote.closes_at
    new = (timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    response = qm_client.post(
        url("vote-extend", vote),
        {"extend-closes_at": local(new), "extend-reason": "Too few votes so far."},
    )
    assert response.status_code == 302
    vote.refresh_from_db()
    assert vote.closes_at == new
    event = vote.events.get(kind=VoteEvent.Kind.EXTENDED)
    assert event.by == quest_master
    assert event.reason == "Too few votes so far."
    assert event.data == {"old_closes_at": old.isoformat(), "new_closes_at": new.isoformat()}
    assert timezone.now() - event.at < timedelta(minutes=1)


def test_the_quest_master_extends_the_vote_until_closed_by_hand(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    qm_client.post(
        url("vote-extend", vote), {"extend-until_closed": "on", "extend-reason": "Holidays."}
    )
    vote.refresh_from_db()
    assert vote.closes_at is None
    assert vote.status == Vote.Status.OPEN
    assert vote.events.get(kind=VoteEvent.Kind.EXTENDED).data["new_closes_at"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"extend-closes_at": "+5d"},
            "Say why: the reason is shown to players and kept on record.",
        ),
        ({"extend-reason": "Because."}, "Give a new closing time, or keep it open by hand."),
        (
            {"extend-closes_at": "2001-01-01T00:00", "extend-reason": "Oops."},
            "The new closing time is in the past.",
        ),
    ],
)
def test_it_refuses_a_bad_extension(qm_client, quest, quest_master, data, message):
    vote = _vote(quest, quest_master)
    if data.get("extend-closes_at") == "+5d":
        data = {**data, "extend-closes_at": local(timezone.now() + timedelta(days=5))}
    response = qm_client.post(url("vote-extend", vote), data)
    assert response.status_code == 200
    assert message in response.text
    before = vote.closes_at
    vote.refresh_from_db()
    assert vote.closes_at == before
    assert not vote.events.filter(kind=VoteEvent.Kind.EXTENDED).exists()


def test_it_refuses_to_extend_a_closed_vote(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    services.vote_close(vote=vote, by=quest_master)
    response = qm_client.post(
        url("vote-extend", vote),
        {"extend-closes_at": local(timezone.now() + timedelta(days=1)), "extend-reason": "x"},
    )
    assert "Only an open vote can be extended; reopen a closed one." in response.text


# --- Reopening ------------------------------------------------------------------------


def test_the_quest_master_reopens_a_closed_vote_on_record(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    services.vote_close(vote=vote, by=quest_master)
    new = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = qm_client.post(
        url("vote-reopen", vote),
        {"reopen-closes_at": local(new), "reopen-reason": "Closed by mistake."},
    )
    assert response.status_code == 302
    vote.refresh_from_db()
    assert (vote.status, vote.closes_at, vote.closed_at) == (Vote.Status.OPEN, new, None)
    event = vote.events.get(kind=VoteEvent.Kind.REOPENED)
    assert (event.by, event.reason) == (quest_master, "Closed by mistake.")
    assert event.data == {"closes_at": new.isoformat()}


def test_reopening_needs_a_reason(qm_client, quest, quest_master):
    vote = _vote(quest, quest_master)
    services.vote_close(vote=vote, by=quest_master)
    response = qm_client.post(
        url("vote-reopen", vote),
        {"reopen-closes_at": local(timezone.now() + timedelta(days=1))},
        HTTP_HX_REQUEST="true",
    )
    assert "Say why: the reason is shown to players and kept on record." in response.text
    vote.refresh_from_db()
    assert vote.status == Vote.Status.CLOSED


# --- The record ----------------------------------------------------------------------


def test_the_record_shows_who_when_and_why(client, quest, quest_master, moderator):
    vote = _vote(quest, quest_master)
    services.vote_extend(
        vote=vote,
        closes_at=timezone.now() + timedelta(days=4),
        by=quest_master,
        reason="Waiting for the weekend.",
    )
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    close_due_votes_task()

    client.force_login(moderator)
    text = client.get(url("vote-events", vote)).text
    assert text.index("Opened") < text.index("Extended") < text.index("Closed")
    assert "Waiting for the weekend." in text
    assert "quest_master" in text
    assert "the clock" in text
    assert "closing time reached" in text
    # The chapter page shows the same record to staff.
    assert "Waiting for the weekend." in client.get(url("chapter-detail", vote)).text
