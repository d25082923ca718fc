"""The tally poll answered from the vote's stamp (votes/poll.py): cheap when unchanged, never stale.

An unchanged poll is answered 304 by a middleware before the session, the user
or the ORM is touched; every change a poller could see moves the stamp, so the
next poll goes through the view (access check and all). Under bin/with-services
the stamp lives in Redis; elsewhere in the process's memory, as on a laptop.
"""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chapters import services as chapter_services
from chapters.models import Vote
from quest import services as quest_services
from tests.factories import chapter_url, make_post, make_user, make_vote, prompt_list, vote_in
from tests.services import wait_until
from votes import audit, poll, services
from votes.models import TallyRun

HTMX = {"HTTP_HX_REQUEST": "true"}
POLL = "?with=ballot"  # as the chapter page polls: the player's panel rides along

PROMPTS = prompt_list("single", "write_in", options=3)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS, results_visibility=Vote.Visibility.ALWAYS)


def _url(vote: Vote) -> str:
    return chapter_url(vote, "chapter-tally") + POLL


def _stamp(vote: Vote) -> str | None:
    return poll.stamp(vote.chapter.quest.slug, vote.chapter.number)


def _polled(client, vote: Vote) -> str:
    """Poll once (a 200) and return the ETag the next poll revalidates with."""
    response = client.get(_url(vote), **HTMX)
    assert response.status_code == 200
    return response["ETag"]


# --- Unchanged: a 304 from the cache alone ---------------------------------------------


def test_it_answers_an_unchanged_poll_without_a_query_or_the_session(client, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert queries.captured_queries == []
    # Answered above SessionMiddleware and AuthenticationMiddleware: neither ran.
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")


def test_it_sends_the_same_headers_as_the_views_own_304(client, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)
    fast = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
    # Signed out and in again: a new session, nothing remembered for it, so the view answers.
    client.logout()
    client.force_login(player)
    viewed = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert hasattr(viewed.wsgi_request, "session")  # this one went through the view
    assert viewed.status_code == fast.status_code == 304
    for header in ("ETag", "Vary", "Cache-Control"):
        assert fast.get(header) == viewed.get(header), header


def test_it_answers_a_visitors_poll_of_a_public_quest_too(client, vote, player):
    vote_in(vote, player, "1-A")
    url = chapter_url(vote, "chapter-tally")
    etag = client.get(url, **HTMX)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 304
    assert queries.captured_queries == []


def test_it_leaves_the_page_itself_to_the_view(client, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    url = chapter_url(vote, "chapter-tally")
    etag = client.get(url)["ETag"]

    response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert hasattr(response.wsgi_request, "session")  # not a poll: the view decided


def test_it_keeps_one_players_etag_from_answering_for_another(client, vote, player, outsider):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)
    client.force_login(outsider)  # has not voted: sees the tally, and no panel of its own

    response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 200
    assert response["ETag"] != etag


# --- Every change moves the stamp ------------------------------------------------------


def test_it_moves_the_stamp_when_a_new_tally_is_stored(client, vote, player, outsider):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)
    before = _stamp(vote)

    vote_in(vote, outsider, "1-C")

    assert _stamp(vote) != before
    response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200
    assert "2 ballots counted." in response.content.decode()


def test_it_moves_the_stamp_when_the_vote_closes(client, vote, quest_master, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)
    before = _stamp(vote)

    chapter_services.vote_close(vote=vote, by=quest_master)
    closed = _stamp(vote)
    assert closed != before  # "Vote closed." shows before the final count is stored
    services.vote_recount(vote_id=vote.pk)

    assert _stamp(vote) != closed
    response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 286  # final: htmx stops polling
    assert "<strong>Final tally</strong>" in response.content.decode()


def test_it_moves_the_stamp_on_a_moderators_ruling(client, vote, moderator, player):
    post = vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)
    before = _stamp(vote)

    audit.decision_record(
        vote=vote, post=post, prompt=1, action="reject", answer=None, reason="Test", by=moderator
    )

    assert _stamp(vote) != before
    response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200
    assert "recounting…" in response.content.decode()  # the ruling's recount is asked for


def test_it_moves_the_stamp_on_the_quest_masters_call(vote, quest_master, player, outsider):
    vote_in(vote, player, "1-A")
    vote_in(vote, outsider, "1-B")
    chapter_services.vote_close(vote=vote, by=quest_master)
    services.vote_recount(vote_id=vote.pk)
    before = _stamp(vote)

    services.outcome_pick(vote=vote, prompt=1, letters=["B"], by=quest_master)

    assert _stamp(vote) != before


def test_it_moves_the_stamp_again_after_the_commit(
    vote, player, django_capture_on_commit_callbacks
):
    vote_in(vote, player, "1-A")

    with django_capture_on_commit_callbacks() as after_commit:
        services.vote_recount(vote_id=vote.pk)
    moved = _stamp(vote)
    for callback in after_commit:
        callback()

    # A poll that read the stamp before the commit saw the rows before it.
    assert _stamp(vote) != moved


def test_it_keeps_the_stamp_while_nothing_changes(client, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    before = _stamp(vote)

    for _ in range(3):
        client.get(_url(vote), **HTMX)

    assert _stamp(vote) == before


# --- While ballots stream in: TALLY_POLL_SETTLE_SECONDS ---------------------------------


def test_it_holds_a_recount_back_from_a_poller_shown_the_tally_lately(
    client, vote, player, outsider, settings
):
    settings.TALLY_POLL_SETTLE_SECONDS = 60
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)

    vote_in(vote, outsider, "1-C")  # recounted: the new counts may reach this page later
    response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 304
    assert not hasattr(response.wsgi_request, "session")


def test_it_shows_a_recount_once_the_settle_time_has_passed(
    client, vote, player, outsider, settings
):
    settings.TALLY_POLL_SETTLE_SECONDS = 1
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = _polled(client, vote)
    vote_in(vote, outsider, "1-C")
    assert client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 304

    time.sleep(1.1)
    response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 200
    assert "2 ballots counted." in response.content.decode()


@pytest.mark.parametrize("change", ["close", "ruling", "final recount"])
def test_it_never_holds_back_a_close_a_ruling_or_a_final_tally(
    client, vote, quest_master, moderator, player, outsider, settings, change
):
    settings.TALLY_POLL_SETTLE_SECONDS = 60
    post = vote_in(vote, player, "1-A")
    if change == "final recount":
        chapter_services.vote_close(vote=vote, by=quest_master)
    client.force_login(player)
    etag = _polled(client, vote)

    if change == "close":
        chapter_services.vote_close(vote=vote, by=quest_master)
    elif change == "ruling":
        audit.decision_record(
            vote=vote,
            post=post,
            prompt=1,
            action="reject",
            answer=None,
            reason="Test",
            by=moderator,
        )
    else:
        services.vote_recount(vote_id=vote.pk)
    response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code in (200, 286)
    assert response["ETag"] != etag


# --- Private quests --------------------------------------------------------------------


@pytest.fixture
def private_vote(vote, quest, quest_master, player):
    quest_services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)
    quest_services.members_invite(quest=quest, names=["player"], by=quest_master)
    vote_in(vote, player, "1-A")
    return vote


def test_it_never_sends_a_private_quests_tally_to_someone_without_access(
    client, private_vote, player, outsider
):
    client.force_login(player)
    etag = _polled(client, private_vote)

    for someone in (outsider, None):
        client.logout()
        if someone is not None:
            client.force_login(someone)
        response = client.get(_url(private_vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
        assert response.status_code == 404  # the view's access check, not a 304 or the tally
        assert b"1 ballot counted" not in response.content


def test_it_marks_a_private_quests_304_private(client, private_vote, player):
    client.force_login(player)
    etag = _polled(client, private_vote)

    response = client.get(_url(private_vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 304
    assert not hasattr(response.wsgi_request, "session")
    assert "private" in response["Cache-Control"]


def test_it_checks_access_again_once_the_tally_changes(
    client, private_vote, quest, quest_master, player, outsider
):
    client.force_login(player)
    etag = _polled(client, private_vote)
    quest_services.member_remove(quest=quest, user=player, by=quest_master)

    vote_in(private_vote, outsider, "1-B")  # outsiders' posts are not counted; the stamp moves
    response = client.get(_url(private_vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 404


# --- A change renders the shared partial once ------------------------------------------


def test_it_renders_the_readers_partial_once_per_change(client, vote, player):
    voters = [make_user(f"voter{i}") for i in range(20)]
    for i, voter in enumerate(voters):
        vote_in(vote, voter, f"1-{'ABC'[i % 3]}\n2-Song number {i}")
    client.force_login(voters[0])
    with CaptureQueriesContext(connection) as rendering:
        first = client.get(_url(vote), **HTMX)
    client.force_login(voters[1])

    with CaptureQueriesContext(connection) as kept:
        second = client.get(_url(vote), **HTMX)

    shared = first.content.decode().split('<div id="ballot-panel"')[0]
    assert 'id="tally-live"' in shared and "20 ballots counted." in shared
    assert second.content.decode().split('<div id="ballot-panel"')[0] == shared
    assert 'href="/q/' in shared  # the first voters linked to their posts
    # The voters' links and the runs of "how the vote moved" are loaded by the
    # first poller only; the second builds only its own panel.
    for made_by_the_first in ('"votes_ballot"."voter" IN', '"votes_tallyrun"."id" IN'):
        assert any(made_by_the_first in q["sql"] for q in rendering.captured_queries)
        assert not any(made_by_the_first in q["sql"] for q in kept.captured_queries)
    panels = [r.content.decode().split('<div id="ballot-panel"')[1] for r in (first, second)]
    assert panels[0] != panels[1]  # each poller's own: from their own post


# --- With a real worker ----------------------------------------------------------------


def test_it_shows_a_ballot_counted_by_the_worker_at_the_next_poll(
    client, celery_worker, quest, quest_master, player, outsider
):
    vote = make_vote(quest, quest_master, PROMPTS, results_visibility=Vote.Visibility.ALWAYS)
    make_post(quest, player, "1-A")
    wait_until(lambda: TallyRun.objects.filter(vote=vote, data__ballots=1).exists(), timeout=60)
    client.force_login(player)
    etag = _polled(client, vote)
    assert client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 304

    make_post(quest, outsider, "1-B")  # read and counted by the worker process

    def shown():
        response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
        return response.status_code == 200 and "2 ballots counted." in response.content.decode()

    assert wait_until(shown, timeout=60)
