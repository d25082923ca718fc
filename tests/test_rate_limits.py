"""Rate limits: each trips at its threshold with a 429 and Retry-After; a normal pace never does.

Every test starts with nothing counted (conftest gives each test its own cache
key prefix). Under bin/with-services the counters are in the real Redis.
"""

import json
import logging
import math
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright import sync_api

from chapters.models import Chapter, Vote
from quest.env import EnvError, envrate
from quest.models import Post
from quest.ratelimit import KINDS
from tests.factories import (
    PASSWORD,
    chapter_url,
    make_post,
    make_quest,
    make_user,
    make_vote,
    prompt_list,
)

pytestmark = pytest.mark.django_db
User = get_user_model()

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single")


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


def limit(settings, kind: str, count: int, seconds: int = 600) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, kind: (count, seconds)}


def assert_limited(response, kind: str, seconds: int = 600) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 2 * seconds
    assert f"Too many {KINDS[kind]} in a short time. Try again in" in response.text


# --- Each limit trips at its threshold ------------------------------------------------
#
# One request of each kind: (client, vote, n) -> response, n counting from 0.


def _reply(client, vote, n):
    client.force_login(User.objects.get(username="player"))
    return client.post(reverse("post-reply", args=[vote.chapter.quest.slug]), {"body": f"Hi {n}"})


def _edit(client, vote, n):
    player = User.objects.get(username="player")
    client.force_login(player)
    post = Post.objects.filter(author=player).first() or make_post(vote.chapter.quest, player)
    url = reverse("post-edit", args=[vote.chapter.quest.slug, post.ref])
    return client.post(url, {"body": f"Edited {n} times"})


def _ballot(client, vote, n):
    client.force_login(User.objects.get(username="player"))
    return client.post(chapter_url(vote, "ballot-submit"), {"p1": "AB"[n % 2]})


def _bbcode_preview(client, vote, n):
    return client.post(reverse("bbcode-preview"), {"body": f"[B]Draft {n}[/B]"})


def _reading_preview(client, vote, n):
    client.force_login(User.objects.get(username="player"))
    return client.post(chapter_url(vote, "reading-preview"), {"body": f"1-{'AB'[n % 2]}"})


def _new_quest(client, vote, n):
    client.force_login(User.objects.get(username="player"))
    return client.post(reverse("quest-create"), {"title": f"Quest {n}", "description": ""})


def _new_chapter(client, vote, n):
    quest = vote.chapter.quest
    client.force_login(quest.quest_master)
    return client.post(reverse("chapter-create", args=[quest.slug]), {"title": f"Part {n}"})


def _violation_report(client, vote, n):
    # Anonymous, as browsers send them: counted per address.
    report = {"csp-report": {"violated-directive": "style-src-attr", "line-number": n}}
    return client.post(
        reverse("csp-report"), json.dumps(report), content_type="application/csp-report"
    )


def _signup(client, vote, n):
    client.logout()
    data = {"username": f"new{n}", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("signup"), data)


def _password_reset(client, vote, n):
    return client.post(reverse("password_reset"), {"email": f"player{n}@example.org"})


def _wrong_password_for_one_account(client, vote, n):
    # From a new address each time, and in any letter case: still one account.
    name = ["alice", "Alice", "ALICE", "aLiCe"][n % 4]
    data = {"username": name, "password": f"guess {n}"}
    return client.post(reverse("login"), data, REMOTE_ADDR=f"10.0.0.{n + 1}")


def _wrong_password_from_one_address(client, vote, n):
    data = {"username": f"someone{n}", "password": "password1"}
    return client.post(reverse("login"), data)


LIMITS = [
    ("post", _reply, 302),
    ("post", _edit, 302),
    ("ballot", _ballot, 302),
    ("preview", _bbcode_preview, 200),
    ("preview", _reading_preview, 200),
    ("create", _new_quest, 302),
    ("create", _new_chapter, 302),
    ("csp_report", _violation_report, 204),
    ("signup", _signup, 302),
    ("password_reset", _password_reset, 302),
    ("login_account", _wrong_password_for_one_account, 200),
    ("login_address", _wrong_password_from_one_address, 200),
]


@pytest.mark.parametrize(
    ("kind", "send", "allowed"), LIMITS, ids=lambda v: getattr(v, "__name__", v)
)
def test_it_trips_each_limit_at_its_threshold(client, settings, vote, player, kind, send, allowed):
    make_user("alice", password=PASSWORD)
    limit(settings, kind, 3)

    statuses = [send(client, vote, n).status_code for n in range(3)]
    refused = send(client, vote, 3)

    assert statuses == [allowed] * 3
    assert_limited(refused, kind)
    assert "<html" in refused.text  # the page, with the site around it


def test_it_saves_nothing_from_a_refused_post(client, settings, vote, player):
    limit(settings, "post", 1)
    client.force_login(player)
    url = reverse("post-reply", args=[vote.chapter.quest.slug])

    client.post(url, {"body": "First."})
    refused = client.post(url, {"body": "Second."})

    assert refused.status_code == 429
    assert list(Post.objects.filter(author=player).values_list("body", flat=True)) == ["First."]


def test_it_keeps_a_flood_of_violation_reports_out_of_the_log(client, settings, caplog):
    caplog.set_level(logging.INFO)
    limit(settings, "csp_report", 3)

    statuses = [_violation_report(client, None, n).status_code for n in range(50)]

    assert statuses == [204] * 3 + [429] * 47
    assert len([r for r in caplog.records if r.name == "quest.csp"]) == 3
    # The limit being reached is logged once, not once per refused report.
    [reached] = [r for r in caplog.records if r.name == "quest.ratelimit"]
    assert reached.getMessage() == "Rate limit csp_report reached by addr:127.0.0.1"


def test_it_sends_no_email_for_a_refused_password_reset(client, settings):
    make_user("alice", password=PASSWORD, email="alice@example.org")
    limit(settings, "password_reset", 1)

    client.post(reverse("password_reset"), {"email": "alice@example.org"})
    refused = client.post(reverse("password_reset"), {"email": "alice@example.org"})

    assert refused.status_code == 429
    assert len(mail.outbox) == 1


# --- Log-in ------------------------------------------------------------------------------


def _log_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_it_refuses_even_the_right_password_once_an_account_is_limited(client, settings):
    make_user("alice", password=PASSWORD)
    limit(settings, "login_account", 2)
    _log_in(client, "alice", "guess 1", REMOTE_ADDR="10.0.0.1")
    _log_in(client, "alice", "guess 2", REMOTE_ADDR="10.0.0.2")

    response = _log_in(client, "alice", PASSWORD, REMOTE_ADDR="10.0.0.3")

    assert_limited(response, "login_account")
    assert "_auth_user_id" not in client.session


def test_it_counts_only_failed_log_ins(client, settings):
    make_user("alice", password=PASSWORD)
    limit(settings, "login_account", 2)
    limit(settings, "login_address", 2)

    for _ in range(5):
        assert _log_in(client, "alice", PASSWORD).status_code == 302
        client.post(reverse("logout"))
    mistyped = _log_in(client, "alice", "pasword")

    assert mistyped.status_code == 200
    assert "enter a correct username and password" in mistyped.text


def test_it_lets_another_account_log_in_from_elsewhere(client, settings):
    make_user("alice", password=PASSWORD)
    make_user("bob", password=PASSWORD)
    limit(settings, "login_account", 2)
    for n in range(3):
        _log_in(client, "alice", f"guess {n}", REMOTE_ADDR="10.0.0.1")

    response = _log_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.0.2")

    assert response.status_code == 302


# --- Who is counted ----------------------------------------------------------------------


def test_it_counts_each_signed_in_user_apart(client, settings, vote, player, outsider):
    limit(settings, "preview", 2)
    url = chapter_url(vote, "reading-preview")
    client.force_login(player)
    for _ in range(2):
        client.post(url, {"body": "1-A"})
    assert client.post(url, {"body": "1-A"}).status_code == 429

    client.force_login(outsider)  # the same address
    assert client.post(url, {"body": "1-A"}).status_code == 200


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("192.0.2.1", "192.0.2.2", False),
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one /64: one client
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
    ],
)
def test_it_counts_each_visitor_address_apart(client, settings, first, second, shared):
    limit(settings, "preview", 2)
    url = reverse("bbcode-preview")
    for _ in range(2):
        client.post(url, {"body": "x"}, REMOTE_ADDR=first)

    response = client.post(url, {"body": "x"}, REMOTE_ADDR=second)

    assert response.status_code == (429 if shared else 200)


def test_it_reads_the_address_from_the_proxys_header(client, settings):
    settings.CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"
    limit(settings, "preview", 2)
    url = reverse("bbcode-preview")
    for _ in range(2):
        client.post(url, {"body": "x"}, HTTP_X_REAL_IP="198.51.100.7")

    other_client = client.post(url, {"body": "x"}, HTTP_X_REAL_IP="198.51.100.8")
    same_client = client.post(url, {"body": "x"}, HTTP_X_REAL_IP="198.51.100.7")

    assert other_client.status_code == 200
    assert same_client.status_code == 429


# --- What a refused request gets ------------------------------------------------------------


def test_it_answers_htmx_with_a_fragment(client, settings, vote, player):
    limit(settings, "preview", 1)
    client.force_login(player)
    url = chapter_url(vote, "reading-preview")
    client.post(url, {"body": "1-A"}, **HTMX)

    response = client.post(url, {"body": "1-B"}, **HTMX)

    assert_limited(response, "preview")
    assert "<html" not in response.text and 'role="alert"' in response.text
    assert response["HX-Reswap"] == "innerHTML"  # inside the preview box, which stays
    assert "HX-Request" in response["Vary"]


def test_it_lets_a_client_in_again_after_retry_after(client, settings):
    limit(settings, "preview", 1, seconds=1)
    url = reverse("bbcode-preview")
    client.post(url, {"body": "x"})
    refused = client.post(url, {"body": "x"})
    assert refused.status_code == 429

    time.sleep(int(refused["Retry-After"]))

    assert client.post(url, {"body": "x"}).status_code == 200


def test_it_says_minutes_for_a_long_wait(client, settings):
    make_user("alice", password=PASSWORD)
    limit(settings, "login_account", 1, seconds=900)
    _log_in(client, "alice", "guess")

    response = _log_in(client, "alice", "guess again")

    # The one failure fades over the next window: up to two windows for a limit of 1.
    retry_after = int(response["Retry-After"])
    assert response.status_code == 429
    assert 900 <= retry_after <= 1800
    assert f"Try again in {math.ceil(retry_after / 60)} minutes." in response.text


# --- The counter is shared, and its outage locks no one out ------------------------------------

_COUNT_IN_ANOTHER_PROCESS = """
import json, sys
import django
django.setup()
from django.test.utils import override_settings
from quest import ratelimit
caches, limits, who, times = json.loads(sys.argv[1])
with override_settings(CACHES=caches, RATE_LIMITS={k: tuple(v) for k, v in limits.items()}):
    print(json.dumps([ratelimit.hit("post", who) for _ in range(times)]))
"""


def test_it_shares_the_count_between_processes(client, settings, redis_server, quest, player):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    limit(settings, "post", 3)
    arguments = [settings.CACHES, settings.RATE_LIMITS, f"user:{player.pk}", 3]
    other = subprocess.run(
        [sys.executable, "-c", _COUNT_IN_ANOTHER_PROCESS, json.dumps(arguments)],
        cwd=django_settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "quest.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(other.stdout) == [None, None, None]  # three posts there, all allowed
    client.force_login(player)

    response = client.post(reverse("post-reply", args=[quest.slug]), {"body": "A fourth."})

    assert_limited(response, "post")


@pytest.mark.exclusive
def test_it_lets_everyone_through_while_redis_is_down(
    client, settings, redis_server, quest, player, caplog
):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    limit(settings, "post", 1)
    client.force_login(player)
    url = reverse("post-reply", args=[quest.slug])

    redis_server.stop()
    started = time.monotonic()
    statuses = [client.post(url, {"body": f"Post {n}"}).status_code for n in range(3)]
    took = time.monotonic() - started
    redis_server.start()

    assert statuses == [302, 302, 302]
    assert Post.objects.filter(author=player).count() == 3
    assert "Rate limit post not checked" in caplog.text
    assert took < 10  # no waiting on the missing server


# --- A normal pace is never limited ---------------------------------------------------------


def _in_a_week() -> str:
    return (timezone.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")


def test_it_never_limits_a_normal_session(quest, quest_master, player):
    """A quest master and a player at the default limits, at a faster pace than any real one."""
    assert django_settings.RATE_LIMITS["post"][0] >= 5  # the defaults are in force
    quest_master.set_password(PASSWORD)
    quest_master.save()
    player.set_password(PASSWORD)
    player.save()
    qm, pl = Client(), Client()
    slug = quest.slug
    responses = []

    def send(c, method, url, data=None, **extra):
        response = getattr(c, method)(url, data, **extra)
        responses.append((method, url, response.status_code))
        return response

    # The quest master logs in, starts another quest, writes the chapter with its
    # vote in this one, and publishes it.
    send(qm, "post", reverse("login"), {"username": quest_master.username, "password": PASSWORD})
    send(qm, "post", reverse("quest-create"), {"title": "The Second Front", "description": ""})
    story = "The column turns north at dawn. Go."
    for n in range(1, 21):  # the live preview, at every pause in typing
        draft = {"title": "The March", "body": story[: 2 * n]}
        send(qm, "post", reverse("chapter-preview", args=[slug]), draft, **HTMX)
    send(qm, "post", reverse("chapter-create", args=[slug]), {"title": "The March", "body": "Go."})
    chapter = Chapter.objects.get(quest=quest)
    block = "1. Where do we march?\nA) North\nB) South"
    vote_data = {"text": block, "closes_at": _in_a_week(), "results_visibility": "always"}
    paste = reverse("vote-paste", args=[slug, chapter.number])
    send(qm, "post", paste, {**vote_data, "op": "detect"})
    send(qm, "post", paste, {**vote_data, "op": "save"})
    send(qm, "post", reverse("chapter-publish", args=[slug, chapter.number]))

    # The player mistypes their password once, then reads and writes a reply,
    # previewing at every pause in typing, and posts a few replies and an edit.
    send(pl, "post", reverse("login"), {"username": player.username, "password": "pasword"})
    send(pl, "post", reverse("login"), {"username": player.username, "password": PASSWORD})
    send(pl, "get", reverse("quest-thread", args=[slug]))
    reading = reverse("reading-preview", args=[slug, chapter.number])
    typed = "I think we should go north, the roads are better there. 1-A"
    for n in range(1, 31):
        send(pl, "post", reading, {"body": typed[: 2 * n]}, **HTMX)
    for n in range(3):
        send(pl, "post", reverse("bbcode-preview"), {"body": f"[B]Reply {n}[/B]"}, **HTMX)
        send(pl, "post", reverse("post-reply", args=[slug]), {"body": f"[B]Reply {n}[/B]"})
    first = Post.objects.filter(author=player).earliest("seq")
    send(pl, "post", reverse("post-edit", args=[slug, first.ref]), {"body": "Reply 0, fixed"})

    # The player votes with the ballot form, changes their mind once, and checks the tally.
    ballot = reverse("ballot-submit", args=[slug, chapter.number])
    send(pl, "get", ballot, **HTMX)
    send(pl, "post", ballot, {"p1": "A"}, **HTMX)
    send(pl, "post", ballot, {"p1": "B"})
    send(pl, "get", reverse("chapter-tally", args=[slug, chapter.number]))

    # The quest master closes the vote.
    close = reverse("vote-close", args=[slug, chapter.number])
    send(qm, "post", close, {"reason": "Time's up."})

    assert [r for r in responses if r[2] >= 400] == []  # no 429, nor anything else refused
    assert Vote.objects.get(chapter=chapter).status == Vote.Status.CLOSED
    assert Post.objects.filter(author=player).count() == 3 + 2  # replies and ballots


# --- Settings ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["10", "ten/60", "0/60", "10/0", "10/60/2", "-1/60", "10 60"])
def test_it_refuses_a_malformed_rate(monkeypatch, raw):
    monkeypatch.setenv("RATE_LIMIT_POST", raw)

    with pytest.raises(EnvError, match="RATE_LIMIT_POST must be N/S"):
        envrate("RATE_LIMIT_POST", "10/60")


def test_it_reads_a_rate(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_POST", " 12 / 30 ")
    assert envrate("RATE_LIMIT_POST", "10/60") == (12, 30)
    monkeypatch.delenv("RATE_LIMIT_POST")
    assert envrate("RATE_LIMIT_POST", "10/60") == (10, 60)


def test_it_has_a_limit_for_every_kind():
    assert set(django_settings.RATE_LIMITS) == set(KINDS)


# --- In a browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_it_shows_when_to_retry_in_the_preview_box(transactional_db, settings, live_server, page):
    alice = make_user("alice", password=PASSWORD)
    gm = make_user("gm")
    vote = make_vote(make_quest(gm), gm, PROMPTS)
    limit(settings, "preview", 2)
    thread = f"{live_server.url}/q/{vote.chapter.quest.slug}/"

    page.goto(f"{live_server.url}/accounts/login/?next=/q/{vote.chapter.quest.slug}/")
    page.fill("input[name=username]", alice.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(thread)

    box = page.locator("#reading-preview")
    page.fill("textarea[name=body]", "1-A")
    sync_api.expect(box).to_contain_text("North")
    page.click("text=Preview")
    sync_api.expect(page.locator("#reply-preview")).to_contain_text("1-A")
    page.fill("textarea[name=body]", "1-B")

    sync_api.expect(box).to_contain_text("Too many previews in a short time. Try again in")
