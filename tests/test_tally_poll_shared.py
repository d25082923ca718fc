"""The reader's tally poll served from one shared partial, and the player's panel polled apart.

In a closing-hour rush every poll sees a changed tally. A public quest's
readers all get the same partial, so the view keeps the one it rendered for
the vote's stamp and the middleware sends it to every other reader's poll with
no session, user or query (votes/poll.py 5.); the player's own panel polls its
own URL, answered 304 until their ballot changes (6.). A private quest, a
staff member and a partial that depends on the viewer always go through the
view.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chapters import services as chapter_services
from chapters.models import Vote
from quest import services as quest_services
from quest import visibility
from tests.factories import chapter_url, make_post, make_user, make_vote, prompt_list, vote_in
from votes import poll, selectors
from votes import services as vote_services

HTMX = {"HTTP_HX_REQUEST": "true"}
READER = f"?as={poll.READER}"
PROMPTS = prompt_list("single", "write_in", options=3)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS, results_visibility=Vote.Visibility.ALWAYS)


def _url(vote: Vote) -> str:
    return chapter_url(vote, "chapter-tally") + READER


def _panel_url(vote: Vote) -> str:
    return chapter_url(vote, "chapter-ballot-panel")


def _kept_for_readers(client_factory, vote: Vote) -> None:
    """A visitor polls once after the change: the view renders the partial and keeps it."""
    response = client_factory().get(_url(vote), **HTMX)
    assert response.status_code == 200


@pytest.fixture
def client_factory():
    """Another browser: a client of its own, with no cookie of the test's `client`."""
    return Client


# --- A public quest: one partial for every reader -----------------------------------------


def test_it_sends_a_changed_tally_without_a_query_or_the_session(
    client, client_factory, vote, player, outsider
):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = client.get(_url(vote), **HTMX)["ETag"]
    vote_in(vote, outsider, "1-B")  # the tally changes: the stamp moves
    _kept_for_readers(client_factory, vote)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 200
    assert "2 ballots counted" in response.text
    assert f'hx-get="{_url(vote)}"' in response.text  # polls on the same way
    assert queries.captured_queries == []
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")
    again = client.get(_url(vote), HTTP_IF_NONE_MATCH=response["ETag"], **HTMX)
    assert again.status_code == 304
    assert not hasattr(again.wsgi_request, "session")


def test_it_sends_the_same_partial_and_headers_as_the_view(client, client_factory, vote, player):
    vote_in(vote, player, "1-A")
    viewed = client_factory().get(_url(vote), **HTMX)  # renders and keeps it
    assert hasattr(viewed.wsgi_request, "session")

    kept = client.get(_url(vote), **HTMX)

    assert not hasattr(kept.wsgi_request, "session")
    assert kept.content.strip() == viewed.content.strip()  # the partial around it adds blank lines
    ignored = {"Content-Length"}  # differs by the blank lines around the partial
    assert {k: v for k, v in kept.headers.items() if k not in ignored} == {
        k: v for k, v in viewed.headers.items() if k not in ignored
    }


def test_it_stops_polling_with_the_final_tally_as_the_view_does(
    client, client_factory, vote, quest_master, player
):
    vote_in(vote, player, "1-A")
    chapter_services.vote_close(vote=vote, by=quest_master)
    vote_services.vote_recount(vote_id=vote.pk)
    viewed = client_factory().get(_url(vote), **HTMX)
    kept = client.get(_url(vote), **HTMX)
    assert viewed.status_code == kept.status_code == 286
    assert not hasattr(kept.wsgi_request, "session")
    assert kept.content.strip() == viewed.content.strip()  # the partial around it adds blank lines


def test_it_keeps_the_readers_partial_through_recounts_for_the_settle_time_only(
    client, client_factory, vote, quest_master, player, outsider, settings
):
    settings.TALLY_POLL_SETTLE_SECONDS = 60
    vote_in(vote, player, "1-A")
    _kept_for_readers(client_factory, vote)

    vote_in(vote, outsider, "1-B")  # an open vote's recount: shown up to 60 s late
    held = client.get(_url(vote), **HTMX)
    assert not hasattr(held.wsgi_request, "session")
    assert "1 ballot counted" in held.text

    chapter_services.vote_close(vote=vote, by=quest_master)  # never held back
    closed = client.get(_url(vote), **HTMX)
    assert hasattr(closed.wsgi_request, "session")
    assert "2 ballots counted" in closed.text

    settings.TALLY_POLL_SETTLE_SECONDS = 0
    vote_in(vote, make_user("late"), "1-C")
    assert hasattr(client.get(_url(vote), **HTMX).wsgi_request, "session")


def test_it_keeps_nothing_for_readers_when_results_wait_for_their_ballot(
    client, client_factory, quest, quest_master, player, outsider
):
    vote = make_vote(quest, quest_master, PROMPTS, results_visibility=Vote.Visibility.AFTER_VOTING)
    vote_in(vote, player, "1-A")
    voter = client_factory()
    voter.force_login(player)
    assert "1 ballot counted" in voter.get(_url(vote), **HTMX).text  # shown: they voted

    client.force_login(outsider)
    response = client.get(_url(vote), **HTMX)

    assert hasattr(response.wsgi_request, "session")  # the view decided
    assert "1 ballot counted" not in response.text
    assert "Results are shown once you have voted" in response.text


# --- Private quests: never without the access check -----------------------------------


def test_it_never_keeps_a_private_quests_partial_for_readers(
    client, client_factory, vote, quest, quest_master, player, outsider
):
    quest_services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)
    quest_services.members_invite(quest=quest, names=["player"], by=quest_master)
    vote_in(vote, player, "1-A")
    member = client_factory()
    member.force_login(player)
    assert "1 ballot counted" in member.get(_url(vote), **HTMX).text

    for someone in (None, outsider):
        client.logout()
        if someone is not None:
            client.force_login(someone)
        response = client.get(_url(vote), **HTMX)
        assert response.status_code == 404  # the view's access check
        assert b"ballot counted" not in response.content


def test_it_stops_the_shared_partial_as_soon_as_the_quest_is_made_private(
    client,
    client_factory,
    vote,
    quest,
    quest_master,
    player,
    outsider,
    django_capture_on_commit_callbacks,
):
    vote_in(vote, player, "1-A")
    _kept_for_readers(client_factory, vote)
    assert not hasattr(client.get(_url(vote), **HTMX).wsgi_request, "session")  # kept

    before = visibility.token(quest.slug)
    with django_capture_on_commit_callbacks(execute=True):
        quest_services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)
    assert visibility.token(quest.slug) != before  # nothing else of the vote changed

    for someone in (None, outsider):
        client.logout()
        if someone is not None:
            client.force_login(someone)
        response = client.get(_url(vote), **HTMX)
        assert response.status_code == 404
        assert b"ballot counted" not in response.content


def test_it_moves_the_visibility_token_again_after_the_commit(
    quest, quest_master, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as after_commit:
        quest_services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)
    moved = visibility.token(quest.slug)
    for callback in after_commit:
        callback()
    assert visibility.token(quest.slug) != moved


# --- Staff: their own variant, never the shared one -------------------------------------


def test_it_keeps_staff_on_their_own_poll_with_the_staff_only_parts(
    client, client_factory, vote, moderator, player
):
    vote_in(vote, player, "1-A")
    _kept_for_readers(client_factory, vote)
    client.force_login(moderator)

    page = client.get(chapter_url(vote, "chapter-tally")).text
    assert f'hx-get="{chapter_url(vote, "chapter-tally")}"' in page  # not the readers' poll
    assert READER not in page
    polled = client.get(chapter_url(vote, "chapter-tally"), **HTMX)
    assert hasattr(polled.wsgi_request, "session")
    assert "Audit the readings" in polled.text
    # A page drawn for readers (staff since) is drawn again for staff by the view.
    reader_page = client_factory().get(chapter_url(vote, "chapter-tally")).text
    assert f'hx-get="{_url(vote)}"' in reader_page


# --- The player's panel, polled apart ---------------------------------------------------


def test_it_answers_the_panel_304_through_other_players_recounts(client, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    first = client.get(_panel_url(vote), **HTMX)
    assert first.status_code == 200
    assert "private" in first["Cache-Control"]
    assert "A) " in first.text

    vote_in(vote, make_user("someone"), "1-B")  # the tally changes, not this player's ballot
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)

    assert response.status_code == 304
    assert queries.captured_queries == []
    assert not hasattr(response.wsgi_request, "session")
    assert "private" in response["Cache-Control"]


def test_it_answers_a_held_players_panel_304_until_what_of_theirs_is_held_changes(
    client, vote, player
):
    vote_in(vote, player, "1-D")  # no option D: held for a moderator
    client.force_login(player)
    first = client.get(_panel_url(vote), **HTMX)
    assert "option D does not exist" in first.text

    vote_in(vote, make_user("someone"), "1-B")  # a recount; the player's held post is as it was
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert response.status_code == 304
    assert queries.captured_queries == []  # from the middleware: their stamp did not move

    vote_in(vote, player, "1-E")  # a new held post of theirs: their panel changed
    response = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert response.status_code == 200
    assert "option E does not exist" in response.text


def test_it_shows_the_players_ballot_at_the_panels_next_poll_once_counted(client, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = client.get(_panel_url(vote), **HTMX)["ETag"]

    vote_in(vote, player, "Revised vote:\n1-C")  # their own post, counted by the recount

    response = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200
    assert "C) " in response.text
    assert 'hx-trigger="every 5s, ballot-posted from:body delay:1s"' in response.text


def test_it_never_answers_another_players_panel(client, client_factory, vote, player, outsider):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = client.get(_panel_url(vote), **HTMX)["ETag"]

    other = client_factory()
    other.force_login(outsider)
    response = other.get(_panel_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200
    assert "Nothing is counted for you yet" in response.text
    assert client_factory().get(_panel_url(vote), **HTMX).status_code == 302  # signed out


def test_it_keeps_a_recounting_panel_304_until_the_recount_that_counts_the_players_post(
    client, vote, player
):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    waiting = make_post(vote.chapter.quest, player, "Still thinking about the song.")  # not read
    first = client.get(_panel_url(vote), **HTMX)
    assert "Recounting: your latest post" in first.text

    # Recounts of other players' ballots (what a recount leaves in the cache; one reading
    # the player's post would count it): the note is still true.
    for n in range(3):
        poll.tally_changed(vote=vote, at_once=False, voters=[f"someone{n}"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
        assert response.status_code == 304
        assert queries.captured_queries == []

    # The recount that counts it: the player's ballot is the same (the post holds none),
    # so their stamp stays, but the note is no longer true and the view says so.
    vote_services.vote_recount(vote_id=vote.pk)
    response = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert response.status_code == 200
    assert "Recounting" not in response.text
    assert waiting.ref not in selectors.ballot_panel(vote=vote, user=player).waiting


def test_it_says_recounting_for_the_players_own_posts_only(client, vote, player):
    vote_in(vote, player, "1-A")
    make_post(vote.chapter.quest, make_user("someone"), "1-B")  # not counted yet: not theirs
    client.force_login(player)

    assert "Recounting" not in client.get(_panel_url(vote), **HTMX).text


def test_it_sends_the_kept_panel_to_a_poll_asking_with_an_older_etag(client, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    old = client.get(_panel_url(vote), **HTMX)["ETag"]
    vote_in(vote, player, "Revised vote:\n1-C")
    new = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=old, **HTMX)
    assert new.status_code == 200

    # A second poll sent before the first came back (htmx's ballot-posted beside the
    # timer): the same panel, from the cache, without the session or a query.
    with CaptureQueriesContext(connection) as queries:
        again = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=old, **HTMX)
    assert queries.captured_queries == []
    assert not hasattr(again.wsgi_request, "session")
    assert (again.status_code, again.content, again["ETag"]) == (200, new.content, new["ETag"])
    for header in ("Content-Type", "Cache-Control", "Vary", "X-Frame-Options"):
        assert again[header] == new[header], header


def test_it_never_sends_a_kept_panel_to_another_session(client, client_factory, vote, player):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    assert client.get(_panel_url(vote), **HTMX).status_code == 200

    other = client_factory()
    other.force_login(make_user("someone"))
    response = other.get(_panel_url(vote), **HTMX)
    assert "A) " not in response.text
    assert "Nothing is counted for you yet" in response.text


def test_it_builds_the_panel_in_the_same_queries_for_any_number_of_prompts(quest, quest_master):
    def panel_queries(kinds: tuple[str, ...], title: str) -> list[int]:
        vote = make_vote(quest, quest_master, prompt_list(*kinds, options=3), title=title)
        player = make_user(f"voter-{title}")
        anya = vote_in(vote, make_user(f"anya-{title}"), "1-A")
        body = "\n".join(f"{n}-A" for n in range(1, len(kinds) + 1))
        vote_in(vote, player, f'[QUOTE="anya-{title}, post: {anya.ref}"]1-A[/QUOTE]\n{body}')
        counts = []
        for loaded in (
            access_vote(vote),
            Vote.objects.select_related("chapter__quest").get(pk=vote.pk),
        ):
            with CaptureQueriesContext(connection) as queries:
                panel = selectors.ballot_panel(vote=loaded, user=player)
            assert panel is not None and panel.counts_anything
            counts.append(len(queries.captured_queries))
        return counts

    # Loaded as the panel's view loads the vote, and bare (the prompts then in two queries).
    assert panel_queries(("single",), "one") == panel_queries(("single", "multi") * 4, "eight")
    assert panel_queries(("single",), "again") == [5, 7]


def access_vote(vote: Vote) -> Vote:
    """The vote as the panel's view loads it: the prompts and their options with it."""
    return (
        Vote.objects.select_related("chapter__quest", "post")
        .prefetch_related("prompts__options")
        .get(pk=vote.pk)
    )


def test_it_stops_the_panels_polling_once_closed_from_the_kept_panel_too(
    client, vote, quest_master, player
):
    vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = client.get(_panel_url(vote), **HTMX)["ETag"]
    chapter_services.vote_close(vote=vote, by=quest_master)  # moves the at-once stamp
    vote_services.vote_recount(vote_id=vote.pk)  # the final tally

    viewed = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)
    with CaptureQueriesContext(connection) as queries:
        kept = client.get(_panel_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert viewed.status_code == kept.status_code == 286  # htmx stops polling
    assert queries.captured_queries == []
    assert kept.content == viewed.content
    assert "hx-trigger" not in kept.text
