"""Signing up, logging in and out, and the home page's list of quests."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from chapters.models import Chapter, Vote
from tests.factories import PASSWORD, make_post, make_quest, make_user

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_it_signs_up_and_logs_the_user_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert User.objects.filter(username="newcomer").exists()
    home = client.get(reverse("home"))
    assert "newcomer" in home.text and "Log out" in home.text


def test_it_explains_a_bad_signup(client):
    make_user("taken")

    response = client.post(
        reverse("signup"), {"username": "taken", "password1": "x", "password2": "y"}
    )

    assert response.status_code == 200
    assert "already exists" in response.text
    assert "didn’t match" in response.text or "didn't match" in response.text


def test_it_logs_in_and_out(client):
    make_user("alice", password=PASSWORD)

    page = client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    logged_in = client.get(reverse("home"))
    logout = client.post(reverse("logout"))
    logged_out = client.get(reverse("home"))

    assert page.status_code == 200 and "Log in" in page.text
    assert response.status_code == 302
    assert "alice" in logged_in.text and "Start a quest" in logged_in.text
    assert logout.status_code == 302
    assert "Start a quest" not in logged_out.text and "Sign up" in logged_out.text


def test_a_logged_out_session_cannot_be_used_again_from_the_cache(client, settings):
    """Sessions are read from Redis (quest/sessions.py): logging out removes the cached
    copy too, so the old cookie sent again is nobody's."""
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.core.cache import cache

    if settings.SESSION_ENGINE != "quest.sessions":
        pytest.skip("the embedded default keeps sessions in the database alone")
    make_user("alice", password=PASSWORD)
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    cookie = client.cookies["sessionid"].value
    cached = cache.get(KEY_PREFIX + cookie)

    client.post(reverse("logout"))
    client.cookies["sessionid"] = cookie  # the old cookie, sent again
    again = client.get(reverse("home"))

    assert cached is not None and "_auth_user_id" in cached
    assert cache.get(KEY_PREFIX + cookie) is None
    assert "Start a quest" not in again.text and "Sign up" in again.text


def test_it_refuses_a_wrong_password(client):
    make_user("alice", password=PASSWORD)

    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.text


def test_it_lists_quests_by_latest_activity(client, quest_master, player):
    quiet = make_quest(quest_master, title="Quiet Quest")
    busy = make_quest(player, title="Busy Quest")
    make_post(busy, player, "news")

    text = client.get(reverse("home")).text

    assert text.index("Busy Quest") < text.index("Quiet Quest")
    assert "quest_master" in text and quiet.title in text


def test_it_shows_latest_chapter_and_open_vote(client, quest, quest_master):
    for number in (1, 2):
        post = make_post(quest, quest_master, f"chapter {number}")
        chapter = Chapter.objects.create(
            quest=quest, number=number, title=f"Part {number}", post=post, status="published"
        )
    Chapter.objects.create(quest=quest, number=3, title="Draft", status="draft")
    Vote.objects.create(chapter=chapter, status=Vote.Status.OPEN, post=post)

    text = client.get(reverse("home")).text

    # "Part 2" names its chapter: it is shown once, not as "Chapter 2: Part 2".
    assert "Latest: <a" in text and ">Part 2</a>" in text and "Chapter 2: Part 2" not in text
    assert "Draft" not in text
    assert "Vote open" in text


def test_it_lists_quests_in_a_fixed_number_of_queries(client, django_assert_num_queries, player):
    for n in range(6):
        quest = make_quest(make_user(f"qm{n}"), title=f"Quest {n}")
        post = make_post(quest, player, "chapter")
        chapter = Chapter.objects.create(
            quest=quest, number=1, title="One", post=post, status="published"
        )
        if n % 2:
            Vote.objects.create(chapter=chapter, status=Vote.Status.OPEN, post=post)
    client.force_login(player)

    # user, count, quests (with their chapter and vote annotations), the demo quest; the
    # session comes from the cache (quest/sessions.py)
    with django_assert_num_queries(4):
        response = client.get(reverse("home"))
    assert response.text.count("Vote open") == 3


def test_it_offers_start_a_quest_only_when_signed_in(client, player):
    assert "Start a quest" not in client.get(reverse("home")).text
    assert client.get(reverse("quest-create")).status_code == 302  # to the login page

    client.force_login(player)
    assert "Start a quest" in client.get(reverse("home")).text


def test_it_creates_a_quest_run_by_its_creator(client, player):
    client.force_login(player)

    response = client.post(reverse("quest-create"), {"title": "My Quest", "description": "A tale."})

    quest = player.quests_run.get()
    assert quest.title == "My Quest" and quest.description == "A tale."
    assert response["Location"] == reverse("quest-thread", args=[quest.slug])


def test_it_asks_for_a_quest_title(client, player):
    client.force_login(player)

    response = client.post(reverse("quest-create"), {"title": "  ", "description": "kept"})

    assert response.status_code == 200
    assert "Give the quest a title." in response.text
    assert "kept" in response.text
