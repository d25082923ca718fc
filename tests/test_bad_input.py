"""Bad input to any page gets a clear message or a 4xx page, never a 500."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from quest.models import Membership, Post
from tests.factories import *  # noqa: F403  (fixtures)
from tests.factories import make_post

pytestmark = pytest.mark.django_db

HUGE = "9" * 30  # a number no database column holds


@pytest.fixture
def signed_in(client, player):
    client.force_login(player)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/q/no-such-quest/",
        "/q/no-such-quest/p/1/",
        "/q/the-red-alert/p/999/",
        f"/q/the-red-alert/p/{HUGE}/",
        f"/q/the-red-alert/p/{HUGE}/edit/",
        f"/q/the-red-alert/p/{HUGE}/revisions/",
        "/q/no-such-quest/moderators/",
        "/nowhere/",
    ],
)
def test_it_answers_unknown_things_with_a_404_page(signed_in, quest, path):
    response = signed_in.get(path)

    assert response.status_code == 404
    assert "Not found" in response.text
    assert reverse("home") in response.text  # a way back


def test_it_refuses_an_empty_reply_with_a_message(signed_in, quest):
    for body in ["", "   \n\t  "]:
        response = signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": body})

        assert response.status_code == 400
        assert "the message is empty" in response.text
    assert not Post.objects.exists()


def test_it_refuses_an_oversize_reply_and_keeps_the_text(signed_in, quest):
    body = "x" * (settings.POST_MAX_CHARS + 1)

    response = signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": body})

    assert response.status_code == 400
    assert f"at most {settings.POST_MAX_CHARS:,} characters" in response.text
    assert body in response.text  # nothing typed is lost
    assert not Post.objects.exists()


def test_it_accepts_a_reply_of_exactly_the_limit(signed_in, quest):
    body = "x" * settings.POST_MAX_CHARS

    response = signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": body})

    assert response.status_code == 302
    assert Post.objects.get().body == body


def test_it_stores_browser_line_breaks_as_newlines(signed_in, quest):
    signed_in.post(reverse("post-reply", args=[quest.slug]), {"body": "1-A\r\n2-B\r3-C"})

    assert Post.objects.get().body == "1-A\n2-B\n3-C"


def test_it_refuses_nul_characters_with_a_message(signed_in, quest):
    response = signed_in.post(
        reverse("post-reply", args=[quest.slug]), {"body": "1-A\x00 and more"}
    )

    assert response.status_code == 400
    assert "NUL character" in response.text
    assert not Post.objects.exists()


def test_it_keeps_the_text_of_a_failed_reply(signed_in, quest):
    response = signed_in.post(
        reverse("post-reply", args=[quest.slug]), {"body": "<b>my long vote</b>\x00"}
    )

    assert "&lt;b&gt;my long vote&lt;/b&gt;" in response.text
    assert "Your text is still in the box" in response.text


@pytest.mark.parametrize("name", ["post-reply", "bbcode-preview"])
def test_it_survives_invalid_utf8(signed_in, quest, name):
    url = reverse(name, args=[quest.slug]) if name == "post-reply" else reverse("bbcode-preview")

    response = signed_in.generic(
        "POST", url, data=b"body=%ff%fe", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code in (200, 400)
    assert "not valid UTF-8" in response.text
    assert not Post.objects.exists()


def test_it_survives_invalid_utf8_in_the_edit_form(signed_in, quest, player):
    post = make_post(quest, player, "1-A")

    response = signed_in.generic(
        "POST",
        reverse("post-edit", args=[quest.slug, post.ref]),
        data=b"body=1-B%c3%28",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert "not valid UTF-8" in response.text
    post.refresh_from_db()
    assert post.body == "1-A"


def test_it_refuses_an_empty_edit_and_keeps_the_post(signed_in, quest, player):
    post = make_post(quest, player, "1-A")

    response = signed_in.post(reverse("post-edit", args=[quest.slug, post.ref]), {"body": ""})

    assert response.status_code == 400
    assert "the message is empty" in response.text
    post.refresh_from_db()
    assert post.body == "1-A"


@pytest.mark.parametrize("page", ["abc", "-1", "0", "1.5", "%00", HUGE, ""])
def test_it_shows_a_page_for_any_page_number(client, quest, player, page):
    for n in range(30):
        make_post(quest, player, f"post {n}")

    response = client.get(reverse("quest-thread", args=[quest.slug]) + f"?page={page}")

    assert response.status_code == 200
    assert 'id="post-' in response.text


def test_it_shows_the_first_page_for_a_non_integer_page(client, quest, player):
    for n in range(30):
        make_post(quest, player, f"post {n}")

    response = client.get(reverse("quest-thread", args=[quest.slug]) + "?page=abc")

    assert "Page 1 of 2" in response.text


@pytest.mark.parametrize("quote", ["abc", HUGE, "999", "-1", ""])
def test_it_ignores_a_quote_of_nothing(signed_in, quest, quote):
    response = signed_in.get(reverse("quest-thread", args=[quest.slug]) + f"?quote={quote}")

    assert response.status_code == 200
    assert re.search(r"<textarea[^>]*>\s*</textarea>", response.text)


def test_it_explains_an_unknown_username(client, quest, quest_master):
    client.force_login(quest_master)

    response = client.post(
        reverse("quest-moderators", args=[quest.slug]),
        {"action": "appoint", "username": "nobody-here"},
    )

    assert response.status_code == 400
    assert "There is no user called “nobody-here”." in response.text
    assert 'value="nobody-here"' in response.text


@pytest.mark.parametrize("user", ["", "abc", HUGE, "123456"])
def test_it_handles_removing_a_non_moderator(client, quest, quest_master, user):
    client.force_login(quest_master)

    response = client.post(
        reverse("quest-moderators", args=[quest.slug]), {"action": "remove", "user": user}
    )

    assert response.status_code == 302
    assert Membership.objects.filter(quest=quest).count() == 1


def test_it_refuses_a_get_to_a_post_only_url(signed_in, quest):
    assert signed_in.get(reverse("post-reply", args=[quest.slug])).status_code == 405


def test_it_has_a_standalone_500_page():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")

    assert "Something went wrong" in html and "{%" not in html


def test_it_renders_the_400_and_403_pages(rf):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import bad_request, permission_denied

    request = rf.get("/")
    assert bad_request(request, ValueError()).status_code == 400
    forbidden = permission_denied(request, PermissionDenied("Only the quest master can do this."))
    assert forbidden.status_code == 403
    assert b"Only the quest master can do this." in forbidden.content
