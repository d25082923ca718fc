"""Hostile posts on the real stack: a worker, gunicorn, PostgreSQL and Redis.

A player who posts text built to be slow to read must not keep a vote's final
tally from appearing, the audit and verify pages from answering, or the site
from serving others while previews of that text run.
"""

import http.client
import threading
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from quest import services as quest_services
from tests.factories import make_post, make_quest, make_user, make_vote, prompt_list
from tests.services import WebServer, production_env, wait_until
from votes.models import TallyRun

pytestmark = pytest.mark.services

PROMPTS = prompt_list(
    "single",
    "multi",
    texts={1: "Fate of the agents?", 2: "Fund what?"},
    option_texts={1: ["Mercy", "No"], 2: ["Tanks", "Ships"]},
)
# The shapes that stalled a worker before reading was bounded (a minute each,
# or more), at the post size limit, one per player.
HOSTILE = [
    "1" + " " * 99_000 + "A",
    "1" + "\t" * 99_000 + "A",
    "1" + " \t" * 49_000 + "B",
    "1-A " * 24_000,
    "I vote " + "A) " * 30_000,
    "For 1, " * 14_000,
    "1" + "\u00a0" * 99_000 + "A",
    "1" + "-" * 99_000 + "A",
    "[QUOTE]" * 6_000 + "1-A" + "[/QUOTE]" * 6_000,
    "1-A\n" * 24_000,
]
assert all(90_000 <= len(body) <= 100_000 for body in HOSTILE)  # at the post size limit


@pytest.mark.timeout(180)
def test_it_closes_a_vote_holding_ten_hostile_posts_and_shows_its_final_tally(
    celery_worker, client
):
    qm = make_user("quest_master")
    moderator = make_user("moderator")
    quest = make_quest(qm)
    quest_services.moderator_appoint(quest=quest, user=moderator, by=qm)
    vote = make_vote(quest, qm, PROMPTS)
    for i, body in enumerate(HOSTILE):
        make_post(quest, make_user(f"hostile{i}"), body)
    make_post(quest, make_user("honest"), "1-B\n2-AB")

    chapter_services.vote_close(vote=vote, by=qm)

    def final():
        return TallyRun.objects.filter(vote=vote, is_final=True).first()

    run = wait_until(final, timeout=120, interval=0.5)
    tally = run.data
    first = next(p for p in tally["prompts"] if p["number"] == 1)
    assert "honest" in next(o["voters"] for o in first["options"] if o["letter"] == "B")
    assert Vote.objects.get(pk=vote.pk).status == Vote.Status.CLOSED

    client.force_login(moderator)
    args = [quest.slug, vote.chapter.number]
    started = time.monotonic()
    audit = client.get(reverse("vote-audit", args=args) + "?tab=all")
    assert audit.status_code == 200
    verify = client.post(reverse("vote-verify", args=args), {"show": "all"})
    assert verify.status_code == 200
    # A bound for hostile input, not a speed target: these took over 30 s before.
    assert time.monotonic() - started < 20


@pytest.fixture
def web_server(transactional_db, tmp_path: Path) -> Iterator[WebServer]:
    """gunicorn with three sync workers, as the site ran when previews stalled it."""
    env = production_env(connection.settings_dict, settings.SECRET_KEY)
    server = WebServer(env=env, workdir=tmp_path, workers=3, threads=1)
    try:
        yield server.start()
    finally:
        server.stop()


def _request(server: WebServer, method: str, path: str, *, body: str = "", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Set-Cookie") or "", response.read()
    finally:
        conn.close()


@pytest.mark.timeout(120)
def test_it_keeps_answering_while_three_previews_of_hostile_text_run(web_server, client):
    qm = make_user("quest_master")
    client.force_login(make_user("player"))  # the session row is the server's too
    quest = make_quest(qm)
    vote = make_vote(quest, qm, PROMPTS)
    thread = reverse("quest-thread", args=[quest.slug])
    status, cookie_header, _ = _request(web_server, "GET", thread)
    assert status == 200
    token = SimpleCookie(cookie_header)["csrftoken"].value
    preview = reverse("reading-preview", args=[quest.slug, vote.chapter.number])
    headers = {
        "Cookie": f"csrftoken={token}; sessionid={client.cookies['sessionid'].value}",
        "X-CSRFToken": token,
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    answers: list[int] = []

    def send(body: str) -> None:
        status, _, _ = _request(
            web_server, "POST", preview, body=urlencode({"body": body}), headers=headers
        )
        answers.append(status)

    senders = [threading.Thread(target=send, args=(body,)) for body in HOSTILE[:3]]
    for sender in senders:
        sender.start()
    home: list[int] = []
    while any(s.is_alive() for s in senders) or not home:
        home.append(_request(web_server, "GET", "/")[0])
    for sender in senders:
        sender.join()
    assert answers == [200, 200, 200]
    assert home and set(home) == {200}
    assert wait_until(lambda: _request(web_server, "GET", thread)[0] == 200, timeout=5)
