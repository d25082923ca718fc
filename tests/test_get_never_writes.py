"""GET never writes: no page of the app, for anyone, runs an INSERT, UPDATE or DELETE.

The test walks the URL conf instead of listing pages, so a URL is requested
as soon as it exists; one whose arguments it cannot fill fails the test
rather than being skipped. Every URL is requested as each persona, plain and
as htmx, with every combination of the objects its arguments can name: two
quests (a public one with a closed vote, an open vote whose tally is behind
and a draft; a private one whose first vote has no tally yet), their
chapters, posts and invitation links.

Logging in writes the session and `last_login`: that happens on POST, so the
clients log in with `force_login` before anything is captured.
"""

import json
import re
from datetime import timedelta
from itertools import product
from types import SimpleNamespace

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from chapters import services as chapter_services
from chapters.models import Vote
from quest import services as quest_services
from tests import urlmap
from tests.factories import (
    chapter_url,
    make_post,
    make_quest,
    make_user,
    make_vote,
    prompt_list,
    vote_in,
)
from votes import audit, selectors
from votes import services as vote_services
from votes.entry_merges import entry_merge
from votes.models import ImportJob, RecountState, TallyRun

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "player", "moderator", "quest_master")
HTMX = {"HX-Request": "true"}

# A URL may also be requested with these query strings (by URL name).
QUERIES = {
    "home": ["?page=2"],
    "quest-thread": ["?page=last", "?page=2", "?quote={w.ballot.ref}"],
    "vote-audit": [
        "?show=all",
        "?show=excluded",
        "?show=mentions",
        "?show=decided",
        "?show=all&page=2",
        "?show=all&q=voter",
        "?show=held&q=%23{w.ballot.ref}",
    ],
    "tally-voters": [
        "?prompt=1&option=A",
        "?prompt=1&option=B&page=2",
        "?prompt=2&entry=The+old+song",
        "?prompt=9&option=A",
    ],
}

# The one write a GET may cause: following a password reset link, Django moves
# the link's token from the URL into the session (so it cannot leak through a
# Referer header) and redirects. That is Django's session row, not app data.
SESSION_WRITE_ALLOWED = {"accounts/reset/<uidb64>/<token>/"}

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

PROMPTS = prompt_list("single", "write_in", options=3)


@pytest.fixture
def world(quest, quest_master, moderator, player) -> SimpleNamespace:
    """Two quests as they stand in the middle of play (see the module docstring)."""
    voter = make_user("voter")
    closed = make_vote(quest, quest_master, PROMPTS, title="The Crossing")
    vote_in(closed, player, "1-A\n2-The old song")
    vote_in(closed, voter, "1-B\n2-The old song")
    vote_in(closed, make_user("singer"), "2-The old songs")
    chapter_services.vote_close(vote=closed, by=quest_master)
    vote_services.vote_recount(vote_id=closed.pk)
    # A moderator's merge of write-in entries: shown on the tally to staff, with its split form.
    entry_merge(
        vote=closed,
        prompt=2,
        merged="The old songs",
        kept="The old song",
        reason="One song.",
        by=moderator,
    )
    vote_services.vote_recount(vote_id=closed.pk)
    vote_services.outcome_pick(vote=closed, prompt=1, letters=["A"], by=quest_master)
    vote_services.write_in_adopt(vote=closed, prompt=2, text="The old song", by=quest_master)

    open_vote = make_vote(quest, quest_master, PROMPTS, title="The March")
    ballot = vote_in(open_vote, player, "1-B\n2-The Internationale")
    held = vote_in(open_vote, voter, "I lean towards the east, maybe C?")
    chatter = vote_in(open_vote, moderator, "Great chapter, thank you!")
    quest_services.post_edit(post=ballot, body="1-C\n2-The Internationale", by=player)
    audit.decision_record(
        vote=open_vote,
        post=held,
        prompt=None,
        action="set",
        answer={"prompt": 1, "letters": ["C"]},
        reason="They said C in so many words.",
        by=moderator,
    )
    vote_services.vote_recount(vote_id=open_vote.pk)
    # A post the worker has not read yet: the stored tally is behind.
    make_post(quest, voter, "1-A\n2-A marching song")
    vote_services.vote_recount_request(vote=open_vote)
    draft = chapter_services.chapter_create(
        quest=quest, title="The Pass", body="Snow ahead.", by=quest_master
    )

    # Just published: its first recount has not run, so it has no tally yet.
    private = make_quest(quest_master, title="The Quiet Road")
    quest_services.quest_visibility_set(quest=private, is_public=False, by=quest_master)
    quest_services.members_invite(quest=private, names=[player.username], by=quest_master)
    fresh = make_vote(private, quest_master, PROMPTS, title="The Gate")
    assert not TallyRun.objects.filter(vote=fresh).exists()

    # The player's imports: one that ended on its summary, one still waiting.
    imported = ImportJob.objects.create(by=player, kind="files", status="done", quest=quest)
    waiting = ImportJob.objects.create(by=player, kind="url", url="https://forums.example.net/")

    users = {"player": player, "moderator": moderator, "quest_master": quest_master}
    uid = urlsafe_base64_encode(force_bytes(player.pk))
    return SimpleNamespace(
        users=users,
        ballot=ballot,
        open_vote=open_vote,
        values={
            "slug": [quest.slug, private.slug],
            "number": [closed.chapter.number, open_vote.chapter.number, draft.number, 99],
            "ref": [ballot.ref, held.ref, chatter.ref, open_vote.post.ref, closed.post.ref],
            "uidb64": [uid],
            "pk": [imported.pk, waiting.pk],
        },
        # `token` names two things: a quest's invitation link, a password reset link.
        tokens={
            "join/<str:token>/": [quest.invite_token, private.invite_token, "not-a-token"],
            "reset/<uidb64>/<token>/": [
                default_token_generator.make_token(player),
                "set-password",
                "not-a-token",
            ],
        },
    )


def _writes(queries: list[dict], *, session_allowed: bool) -> list[str]:
    writes = [q["sql"] for q in queries if WRITE.match(q["sql"])]
    if session_allowed:
        writes = [sql for sql in writes if '"django_session"' not in sql]
    return writes


def _client(world: SimpleNamespace, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(world.users[persona])
    return client


def test_it_writes_nothing_on_any_get(world):
    routes = list(urlmap.routes())
    assert "q/<slug:slug>/chapters/<int:number>/tally/" in routes  # the walk finds included URLs
    written = []
    requested = 0
    for persona in PERSONAS:
        client = _client(world, persona)
        for route in routes:
            urls = urlmap.urls(route, world.values, world.tokens)
            queries = [q.format(w=world) for q in QUERIES.get(resolve(urls[0]).url_name, [])]
            for url, query, headers in product(urls, ["", *queries], [{}, HTMX]):
                with CaptureQueriesContext(connection) as captured:
                    client.get(url + query, headers=headers)
                requested += 1
                allowed = route in SESSION_WRITE_ALLOWED
                for sql in _writes(captured.captured_queries, session_allowed=allowed):
                    kind = " (htmx)" if headers else ""
                    written.append(f"{persona} GET {url}{query}{kind}: {sql[:300]}")

    assert requested > 1000
    assert written == [], "\n".join(written)


def test_it_shows_the_stored_tally_while_a_recount_is_on_its_way(
    world, django_capture_on_commit_callbacks
):
    vote = world.open_vote
    run = selectors.latest_tally(vote)
    runs = TallyRun.objects.filter(vote=vote).count()
    client = _client(world, "player")

    with (
        django_capture_on_commit_callbacks() as sent,
        CaptureQueriesContext(connection) as captured,
    ):
        response = client.get(chapter_url(vote, "chapter-tally"))

    assert response.status_code == 200
    html = response.content.decode()
    assert run.data["ballots"] == 2
    assert "2 ballots counted." in html
    assert "The Internationale" in html  # the stored tally's write-in
    assert "A marching song" not in html  # the post not read yet
    assert "recounting…" in html
    assert _writes(captured.captured_queries, session_allowed=False) == []
    assert TallyRun.objects.filter(vote=vote).count() == runs
    assert sent == []  # the recount asked for when the post was read is still queued


def _lose_the_recount_message(vote: Vote) -> None:
    an_hour_ago = timezone.now() - timedelta(hours=1)
    RecountState.objects.filter(pk=vote.pk).update(queued_at=an_hour_ago)


def test_it_asks_again_for_a_recount_whose_message_was_lost(
    world, django_capture_on_commit_callbacks
):
    _lose_the_recount_message(world.open_vote)
    client = _client(world, "player")

    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = client.get(chapter_url(world.open_vote, "chapter-tally"), headers=HTMX)

    assert response.status_code == 200
    assert "recounting…" in response.content.decode()
    # The recount task, run here (as a worker would) once it was sent, and the
    # stamp that recount moves for the pollers once it commits (votes/poll.py).
    assert len(sent) == 2
    assert "A marching song" in json.dumps(selectors.latest_tally(world.open_vote).data)


def test_it_asks_once_however_many_readers_poll(world, django_capture_on_commit_callbacks):
    _lose_the_recount_message(world.open_vote)
    client = _client(world, "player")

    with (
        django_capture_on_commit_callbacks() as sent,
        CaptureQueriesContext(connection) as captured,
    ):
        for _ in range(5):
            client.get(chapter_url(world.open_vote, "chapter-tally"), headers=HTMX)

    assert len(sent) == 1
    assert _writes(captured.captured_queries, session_allowed=False) == []


def test_it_asks_for_nothing_when_the_tally_is_current(world, django_capture_on_commit_callbacks):
    vote_services.vote_recount(vote_id=world.open_vote.pk)
    client = _client(world, "player")

    with django_capture_on_commit_callbacks() as sent:
        response = client.get(chapter_url(world.open_vote, "chapter-tally"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "recounting…" not in html
    assert "A marching song" in html
    assert sent == []
    assert response["ETag"]


def test_it_says_the_first_count_is_under_way_when_there_is_no_tally(
    world, django_capture_on_commit_callbacks
):
    client = _client(world, "player")
    private = world.values["slug"][1]

    response = client.get(reverse("chapter-tally", args=[private, 1]))
    as_json = client.get(reverse("chapter-tally-json", args=[private, 1]))
    as_bbcode = client.get(reverse("chapter-tally-bbcode", args=[private, 1]))

    assert response.status_code == 200
    assert "Counting the first ballots: recounting…" in response.content.decode()
    assert as_json.status_code == as_bbcode.status_code == 503
    assert as_json["Retry-After"] == as_bbcode["Retry-After"] == "3"
