"""Recount bookkeeping: one RecountState per vote, owned by the votes app.

The first request for a recount makes the row and queues one task; requests
while it waits only say a recount is still wanted; the recount records when it
ran; the sweeper re-sends one whose message was lost. Pages only read the row.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_quest, make_user, make_vote, prompt_list
from votes import selectors, services
from votes.models import RecountState

pytestmark = pytest.mark.django_db

PROMPTS = prompt_list("single")


@pytest.fixture
def vote(db):
    quest_master = make_user("quest_master")
    vote = make_vote(make_quest(quest_master), quest_master, PROMPTS)
    # Opening the vote asked for a recount; start from a vote never asked.
    RecountState.objects.filter(vote=vote).delete()
    return vote


def _state(vote) -> RecountState:
    return RecountState.objects.get(vote=vote)


def test_it_makes_the_state_and_queues_one_recount_for_a_burst_of_requests(
    vote, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as sent:
        for _ in range(3):
            services.vote_recount_request(vote=vote)

    assert len(sent) == 1
    state = _state(vote)
    assert state.queued_at is not None
    assert state.wanted_at >= state.queued_at
    assert state.done_at is None
    assert state.is_behind


def test_it_records_when_the_recount_ran(vote):
    services.vote_recount_request(vote=vote)
    run = services.vote_recount(vote_id=vote.pk)

    state = _state(vote)
    assert state.queued_at is None
    assert state.done_at is not None
    assert not state.is_behind
    assert not selectors.tally_is_behind(vote, run)

    services.vote_recount_request(vote=vote)
    vote.refresh_from_db()
    assert selectors.tally_is_behind(vote, run)


def test_a_vote_never_asked_is_behind_only_until_it_has_a_tally(vote):
    assert not RecountState.objects.filter(vote=vote).exists()
    assert selectors.tally_is_behind(vote, None)

    run = services.vote_recount(vote_id=vote.pk)  # sent by a page, which writes no row itself

    assert _state(vote).done_at is not None
    assert not selectors.tally_is_behind(vote, run)


def test_the_sweeper_sends_again_a_recount_whose_message_was_lost(
    vote, django_capture_on_commit_callbacks
):
    services.vote_recount_request(vote=vote)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    RecountState.objects.filter(vote=vote).update(queued_at=an_hour_ago, wanted_at=an_hour_ago)

    with django_capture_on_commit_callbacks() as sent:
        found = services.recounts_sweep()

    assert found["recounts"] >= 1
    assert len(sent) == 1
    assert _state(vote).queued_at > an_hour_ago


def test_it_goes_with_its_vote(vote):
    services.vote_recount_request(vote=vote)
    vote.chapter.delete()
    assert not RecountState.objects.exists()
