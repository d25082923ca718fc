"""Who may do what in a quest's pages: the whole matrix of role × action.

Roles: anonymous, player (any signed-in user), moderator of another quest,
moderator of this quest, quest master. `other_post` is a post by someone
else; `own_post` a post by the user acting (or, for anonymous, by a player).
"""

import pytest
from django.urls import reverse

from quest import services
from quest.models import Membership, Post
from tests.factories import make_post, make_quest, make_user

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "player", "other_moderator", "moderator", "quest_master"]

OK, FORBIDDEN, LOGIN = 200, 403, "login"

# action → expected outcome per role, in ROLES order.
MATRIX = {
    "read_thread": [OK, OK, OK, OK, OK],
    "follow_permalink": [302, 302, 302, 302, 302],
    "reply": [LOGIN, 302, 302, 302, 302],
    "edit_own_post": [LOGIN, OK, OK, OK, OK],
    "edit_other_post": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "see_revisions": [LOGIN, FORBIDDEN, FORBIDDEN, OK, OK],
    "see_moderators": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    "appoint_moderator": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, 302],
    "remove_moderator": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, 302],
}

CASES = [
    (action, role, expected)
    for action, outcomes in MATRIX.items()
    for role, expected in zip(ROLES, outcomes, strict=True)
]


@pytest.fixture
def acting_user(request, quest):
    """The persona the test is parametrized with (tests/conftest.py); None for "anonymous"."""
    role = request.param
    return None if role == "anonymous" else request.getfixturevalue(role)


def _request(client, action, quest, user, player):
    other_author = make_user("someone_else")
    other_post = make_post(quest, other_author, "not yours")
    services.post_edit(post=other_post, body="not yours, edited", by=other_author)
    own_post = make_post(quest, user or player, "mine")
    slug = quest.slug
    bystander = make_user("bystander")
    match action:
        case "read_thread":
            return client.get(reverse("quest-thread", args=[slug]))
        case "follow_permalink":
            return client.get(reverse("post-permalink", args=[slug, other_post.ref]))
        case "reply":
            return client.post(reverse("post-reply", args=[slug]), {"body": "1-A"})
        case "edit_own_post":
            return client.get(reverse("post-edit", args=[slug, own_post.ref]))
        case "edit_other_post":
            return client.post(
                reverse("post-edit", args=[slug, other_post.ref]), {"body": "hijacked"}
            )
        case "see_revisions":
            return client.get(reverse("post-revisions", args=[slug, other_post.ref]))
        case "see_moderators":
            return client.get(reverse("quest-moderators", args=[slug]))
        case "appoint_moderator":
            return client.post(
                reverse("quest-moderators", args=[slug]),
                {"action": "appoint", "username": "bystander"},
            )
        case "remove_moderator":
            services.moderator_appoint(quest=quest, user=bystander, by=quest.quest_master)
            return client.post(
                reverse("quest-moderators", args=[slug]),
                {"action": "remove", "user": bystander.pk},
            )
    raise AssertionError(action)


@pytest.mark.parametrize(
    ("action", "acting_user", "expected"),
    CASES,
    indirect=["acting_user"],
    ids=[f"{role}-{action}" for action, role, _ in CASES],
)
def test_it_allows_only_what_the_role_may_do(client, quest, player, action, acting_user, expected):
    if acting_user is not None:
        client.force_login(acting_user)

    response = _request(client, action, quest, acting_user, player)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


def test_it_changes_nothing_when_refused(client, quest, player, moderator):
    other = make_post(quest, moderator, "original")
    client.force_login(player)

    client.post(reverse("post-edit", args=[quest.slug, other.ref]), {"body": "hijacked"})
    client.post(
        reverse("quest-moderators", args=[quest.slug]), {"action": "appoint", "username": "player"}
    )
    client.post(
        reverse("quest-moderators", args=[quest.slug]),
        {"action": "remove", "user": moderator.pk},
    )

    other.refresh_from_db()
    assert other.body == "original" and other.version == 1
    assert list(
        Membership.objects.filter(quest=quest).values_list("user__username", flat=True)
    ) == ["moderator"]


def test_it_keeps_anonymous_replies_out(client, quest):
    client.post(reverse("post-reply", args=[quest.slug]), {"body": "1-A"})

    assert not Post.objects.filter(quest=quest).exists()


def test_it_gives_a_moderator_no_power_in_another_quest(client, quest, moderator, player):
    elsewhere = make_quest(make_user("elsewhere_qm"), title="Another Quest")
    post = make_post(elsewhere, player, "first")
    services.post_edit(post=post, body="second", by=player)
    client.force_login(moderator)

    assert client.get(reverse("post-revisions", args=[elsewhere.slug, post.ref])).status_code == 403
    assert client.get(reverse("quest-moderators", args=[elsewhere.slug])).status_code == 403
    assert "Revisions" not in client.get(reverse("quest-thread", args=[elsewhere.slug])).text


def test_it_lets_the_quest_master_appoint_and_remove(client, quest, quest_master, player):
    client.force_login(quest_master)
    url = reverse("quest-moderators", args=[quest.slug])

    client.post(url, {"action": "appoint", "username": "player"})
    assert Membership.objects.filter(quest=quest, user=player).exists()
    assert "player" in client.get(url).text

    client.post(url, {"action": "remove", "user": player.pk})
    assert not Membership.objects.filter(quest=quest, user=player).exists()


def test_it_hides_a_private_quest_from_everyone_but_its_members(client, quest_master, player):
    hidden = make_quest(quest_master, title="Hidden")
    hidden.is_public = False
    hidden.save(update_fields=["is_public"])

    assert client.get(reverse("quest-thread", args=[hidden.slug])).status_code == 404
    client.force_login(player)
    assert client.get(reverse("quest-thread", args=[hidden.slug])).status_code == 404
    services.members_invite(quest=hidden, names=["player"], by=quest_master)
    assert client.get(reverse("quest-thread", args=[hidden.slug])).status_code == 200
