"""The home page says what the app is for in one screen, and links where to go next.

A visitor learns that quest masters post chapters with numbered votes, that
players vote by form or by a free-form post, that the app reads and tallies
live and that moderators audit every reading; then signs up, looks around the
demo quest or reads how to vote. Each quest's entry names its latest chapter
once and announces a closed vote with its results.
"""

import io
import re
from html import unescape

import pytest
from django.core.management import call_command
from django.urls import reverse

from quest import services as quest_services

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _links(response) -> dict[str, str]:
    found = re.findall(r'<a\b[^>]*href="([^"]*)"[^>]*>(.*?)</a>', response.content.decode(), re.S)
    return {" ".join(unescape(re.sub(r"<[^>]+>", "", text)).split()): href for href, text in found}


def test_it_explains_the_app_to_a_visitor(client):
    response = client.get(reverse("home"))

    text = _text(response)
    assert "Quest masters post chapters that end in numbered votes" in text
    assert "Players vote with a form, or just post in the thread" in text
    assert "The app reads every post into a ballot and keeps the tally live" in text
    assert "Moderators audit every reading" in text
    links = _links(response)
    assert links["Sign up"] == reverse("signup")
    assert links["How to vote"] == reverse("help-voting")
    assert "Look around the demo quest" not in links  # no demo loaded here


def test_it_links_the_demo_quest_once_it_is_loaded(client):
    call_command("load_demo", stdout=io.StringIO())

    links = _links(client.get(reverse("home")))

    assert links["Look around the demo quest"] == reverse("quest-thread", args=["red-alert-1953"])


def test_it_links_no_demo_that_is_private(client, settings, quest, quest_master):
    settings.DEMO_QUEST_SLUG = quest.slug
    assert "Look around the demo quest" in _links(client.get(reverse("home")))

    quest_services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)

    assert "Look around the demo quest" not in _links(client.get(reverse("home")))


def test_it_offers_a_signed_in_user_to_start_a_quest(client, player):
    client.force_login(player)

    links = _links(client.get(reverse("home")))

    assert links["Start a quest"] == reverse("quest-create")
    assert "Sign up" not in links
