"""Private quests: members only, everyone else finds nothing.

A private quest (`is_public=False`) is read and played by its members: the
quest master, its moderators and the players the quest master invited (by
name or through the invitation link). To an outsider (signed in, not a member)
and to an anonymous visitor every one of its pages answers as a quest that
does not exist would: 404, or for pages that need an account, the log-in
redirect every such URL gives before anything is looked up.

Personas: `quest_master` runs the quest, `moderator` is appointed in it,
`player` is invited, `outsider` is signed in and not invited, `anonymous` is
not signed in.
"""

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.urls import reverse

from chapters.models import Vote
from quest import services
from quest.models import Membership, Post, Quest, QuestEvent
from tests.factories import make_quest, make_user, make_vote, prompt_list, vote_in

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ("quest_master", "moderator", "player", "outsider", "anonymous")
OK, FORBIDDEN, MISSING, LOGIN = 200, 403, 404, "login"
MOVED = 302

PROMPTS = prompt_list("single")


@pytest.fixture
def private(quest, quest_master, moderator, player):
    """The quest made private, `player` invited, an open vote with the player's ballot in it."""
    services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)
    services.members_invite(quest=quest, names=["player"], by=quest_master)
    vote = make_vote(quest, quest_master, PROMPTS, results_visibility=Vote.Visibility.ALWAYS)
    ballot = vote_in(vote, player, "1-A")
    services.post_edit(post=ballot, body="1-A, for the north.", by=player)
    quest.refresh_from_db()
    return SimpleNamespace(quest=quest, vote=vote, post=ballot)


def _as(client, request, role: str):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


# --- Every page, for every role ------------------------------------------------------

# (url name, method, what the URL names, data, htmx, expected for each of ROLES)
PAGES = [
    ("quest-thread", "GET", "quest", None, False, (OK, OK, OK, MISSING, MISSING)),
    ("quest-thread", "GET", "quest", None, True, (OK, OK, OK, MISSING, MISSING)),
    ("post-permalink", "GET", "post", None, False, (MOVED, MOVED, MOVED, MISSING, MISSING)),
    ("post-revisions", "GET", "post", None, False, (OK, OK, FORBIDDEN, MISSING, LOGIN)),
    (
        "post-reply",
        "POST",
        "quest",
        {"body": "From inside."},
        False,
        (MOVED, MOVED, MOVED, MISSING, LOGIN),
    ),
    ("chapter-index", "GET", "quest", None, False, (OK, OK, OK, MISSING, MISSING)),
    ("chapter-detail", "GET", "chapter", None, False, (OK, OK, OK, MISSING, MISSING)),
    ("chapter-detail", "GET", "chapter", None, True, (OK, OK, OK, MISSING, MISSING)),
    ("chapter-tally", "GET", "chapter", None, False, (OK, OK, OK, MISSING, MISSING)),
    ("chapter-tally", "GET", "chapter", None, True, (OK, OK, OK, MISSING, MISSING)),
    ("chapter-tally-json", "GET", "chapter", None, False, (OK, OK, OK, MISSING, MISSING)),
    ("chapter-tally-bbcode", "GET", "chapter", None, False, (OK, OK, OK, MISSING, MISSING)),
    ("chapter-ballots-csv", "GET", "chapter", None, False, (OK, OK, OK, MISSING, MISSING)),
    ("vote-audit", "GET", "chapter", None, False, (OK, OK, FORBIDDEN, MISSING, LOGIN)),
    ("vote-verify", "POST", "chapter", {}, True, (OK, OK, FORBIDDEN, MISSING, LOGIN)),
    ("vote-events", "GET", "chapter", None, False, (OK, OK, FORBIDDEN, MISSING, LOGIN)),
    ("ballot-submit", "GET", "chapter", None, True, (OK, OK, OK, MISSING, LOGIN)),
    (
        "ballot-submit",
        "POST",
        "chapter",
        {"p1": "B"},
        False,
        (FORBIDDEN, MOVED, MOVED, MISSING, LOGIN),
    ),
    ("reading-preview", "POST", "chapter", {"body": "1-B"}, True, (OK, OK, OK, MISSING, LOGIN)),
    ("chapter-edit", "GET", "chapter", None, False, (OK, FORBIDDEN, FORBIDDEN, MISSING, LOGIN)),
    (
        "chapter-preview",
        "POST",
        "quest",
        {"body": "[B]Draft[/B]"},
        True,
        (OK, FORBIDDEN, FORBIDDEN, MISSING, LOGIN),
    ),
    ("quest-members", "GET", "quest", None, False, (OK, FORBIDDEN, FORBIDDEN, MISSING, LOGIN)),
    ("quest-moderators", "GET", "quest", None, False, (OK, FORBIDDEN, FORBIDDEN, MISSING, LOGIN)),
]


def _url(name: str, target: str, world, *, slug: str | None = None) -> str:
    slug = slug or world.quest.slug
    match target:
        case "quest":
            return reverse(name, args=[slug])
        case "post":
            return reverse(name, args=[slug, world.post.ref])
        case "chapter":
            return reverse(name, args=[slug, world.vote.chapter.number])
    raise AssertionError(target)


def _fetch(client, name, method, target, data, htmx, world, *, slug=None):
    url = _url(name, target, world, slug=slug)
    headers = HTMX if htmx else {}
    if method == "POST":
        return client.post(url, data or {}, **headers)
    return client.get(url, **headers)


@pytest.mark.parametrize(
    ("name", "method", "target", "data", "htmx", "role", "expected"),
    [
        pytest.param(
            name,
            method,
            target,
            data,
            htmx,
            role,
            expected[i],
            id=f"{name}-{method}{'-htmx' if htmx else ''}-{role}",
        )
        for name, method, target, data, htmx, expected in PAGES
        for i, role in enumerate(ROLES)
    ],
)
def test_it_lets_only_members_in(
    client, request, private, name, method, target, data, htmx, role, expected
):
    response = _fetch(_as(client, request, role), name, method, target, data, htmx, private)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected
    if expected == MISSING:
        assert private.quest.title not in response.content.decode()


@pytest.mark.parametrize("role", ["outsider", "anonymous"])
@pytest.mark.parametrize(
    ("name", "method", "target", "data", "htmx"),
    [
        pytest.param(*page[:5], id=f"{page[0]}-{page[1]}{'-htmx' if page[4] else ''}")
        for page in PAGES
    ],
)
def test_it_answers_non_members_as_if_the_quest_did_not_exist(
    client, request, private, name, method, target, data, htmx, role
):
    client = _as(client, request, role)

    real = _fetch(client, name, method, target, data, htmx, private)
    missing = _fetch(client, name, method, target, data, htmx, private, slug="no-such-quest")

    assert real.status_code == missing.status_code
    where = real.get("Location", "").replace(private.quest.slug, "no-such-quest")
    assert where == missing.get("Location", "")


# --- Kept out of shared caches ------------------------------------------------------


def _cache_control(response) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


@pytest.mark.parametrize("role", ["quest_master", "player"])
@pytest.mark.parametrize(
    ("name", "method", "target", "data", "htmx"),
    [
        pytest.param(*page[:5], id=f"{page[0]}-{page[1]}{'-htmx' if page[4] else ''}")
        for page in PAGES
    ],
)
def test_it_sends_every_page_of_a_private_quest_as_private(
    client, request, private, name, method, target, data, htmx, role
):
    # Thread, chapter, tally page and partial, JSON, BBCode, CSV, audit, forms...
    response = _fetch(_as(client, request, role), name, method, target, data, htmx, private)

    assert response.status_code in (OK, MOVED, FORBIDDEN)
    assert "private" in _cache_control(response)
    assert "public" not in _cache_control(response)


def test_it_sends_a_revalidated_tally_as_private_too(client, private, player):
    client.force_login(player)
    url = _url("chapter-tally", "chapter", private)
    first = client.get(url, **HTMX)

    unchanged = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)

    assert unchanged.status_code == 304
    assert "private" in _cache_control(unchanged)


def test_it_sends_the_invitation_page_and_a_members_home_page_as_private(client, private, outsider):
    client.force_login(outsider)
    assert "private" not in _cache_control(client.get(reverse("home")))  # nothing private on it

    assert "private" in _cache_control(client.get(_join_url(private.quest)))
    client.post(_join_url(private.quest))
    assert "private" in _cache_control(client.get(reverse("home")))


def test_it_leaves_the_cache_headers_of_a_public_quest_alone(client, quest, player):
    vote = make_vote(quest, quest.quest_master, PROMPTS)
    vote_in(vote, player, "1-A")

    for url in (
        reverse("quest-thread", args=[quest.slug]),
        reverse("chapter-detail", args=[quest.slug, vote.chapter.number]),
        reverse("chapter-tally-json", args=[quest.slug, vote.chapter.number]),
    ):
        assert "private" not in _cache_control(client.get(url)), url


def test_it_serves_members_the_tally_in_every_format(client, private, player):
    client.force_login(player)

    tally = json.loads(client.get(_url("chapter-tally-json", "chapter", private)).content)
    bbcode = client.get(_url("chapter-tally-bbcode", "chapter", private)).text
    csv = client.get(_url("chapter-ballots-csv", "chapter", private)).getvalue().decode()

    assert tally["prompts"][0]["options"][0]["voters"] == ["player"]
    assert "player" in bbcode and "North" in bbcode
    assert "player" in csv


def test_it_keeps_outsiders_from_writing_anything(client, private, outsider):
    posts_before = Post.objects.count()
    client.force_login(outsider)

    client.post(_url("post-reply", "quest", private), {"body": "Let me in."})
    client.post(_url("ballot-submit", "chapter", private), {"p1": "B"})
    client.post(
        reverse("quest-members", args=[private.quest.slug]),
        {"action": "invite", "names": "outsider"},
    )
    client.post(reverse("quest-members", args=[private.quest.slug]), {"action": "make_public"})

    assert Post.objects.count() == posts_before
    assert not Membership.objects.filter(user=outsider).exists()
    private.quest.refresh_from_db()
    assert private.quest.is_public is False


def test_it_lists_a_private_quest_on_the_home_page_only_for_its_members(
    client, private, quest_master, moderator, player, outsider
):
    make_quest(make_user("public_qm"), title="An Open Road")
    assert "The Red Alert" not in client.get(reverse("home")).text

    client.force_login(outsider)
    text = client.get(reverse("home")).text
    assert "The Red Alert" not in text and "An Open Road" in text
    for user in (quest_master, moderator, player):
        client.force_login(user)
        text = client.get(reverse("home")).text
        assert "The Red Alert" in text and "An Open Road" in text
        assert '<span class="badge">Private</span>' in text
        assert text.count("The Red Alert</a>") == 1


def test_it_keeps_a_public_quest_open_to_every_signed_in_user(client, quest, outsider):
    client.force_login(outsider)

    assert client.get(reverse("quest-thread", args=[quest.slug])).status_code == 200
    response = client.post(reverse("post-reply", args=[quest.slug]), {"body": "Hello."})

    assert response.status_code == 302
    assert Post.objects.filter(quest=quest, author=outsider).exists()


# --- The invitation link ----------------------------------------------------------


def _join_url(quest: Quest, token: str | None = None) -> str:
    return reverse("quest-join", args=[quest.slug, token or quest.invite_token])


def test_it_lets_a_signed_in_user_join_with_the_link(client, private, outsider):
    client.force_login(outsider)
    thread = reverse("quest-thread", args=[private.quest.slug])
    assert client.get(thread).status_code == 404

    page = client.get(_join_url(private.quest))
    assert page.status_code == 200
    assert "Join the quest" in page.text and "quest_master invited you" in page.text
    assert f'href="{thread}"' not in page.text  # not a link it could not open yet
    assert not Membership.objects.filter(user=outsider).exists()  # opening the link is not joining

    joined = client.post(_join_url(private.quest))

    assert joined.status_code == 302 and joined["Location"] == thread
    assert client.get(thread).status_code == 200
    membership = Membership.objects.get(quest=private.quest, user=outsider)
    assert membership.role == Membership.Role.PLAYER
    event = QuestEvent.objects.filter(quest=private.quest).latest("pk")
    assert event.kind == QuestEvent.Kind.MEMBER_JOINED and event.data == {"user": "outsider"}
    reply = client.post(reverse("post-reply", args=[private.quest.slug]), {"body": "Hi all."})
    assert reply.status_code == 302
    assert Post.objects.filter(quest=private.quest, author=outsider).exists()


def test_it_sends_an_anonymous_visitor_with_the_link_to_log_in_first(client, private):
    url = _join_url(private.quest)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_refuses_a_wrong_link(client, private, outsider):
    client.force_login(outsider)
    elsewhere = make_quest(make_user("elsewhere_qm"), title="Elsewhere")

    for url in (
        _join_url(private.quest, "not-the-token"),
        _join_url(private.quest, private.quest.invite_token[:-1]),
        # Another quest's token does not open this one.
        _join_url(private.quest, elsewhere.invite_token),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert not Membership.objects.filter(user=outsider).exists()


def test_it_leaves_a_member_who_follows_the_link_as_they_are(client, private, moderator, player):
    for user in (moderator, player):
        client.force_login(user)
        response = client.post(_join_url(private.quest))
        assert response.status_code == 302
    roles = dict(
        Membership.objects.filter(quest=private.quest).values_list("user__username", "role")
    )
    assert roles == {"moderator": "moderator", "player": "player"}
    assert not QuestEvent.objects.filter(kind=QuestEvent.Kind.MEMBER_JOINED).exists()


def test_it_voids_the_old_link_when_the_quest_master_makes_a_new_one(
    client, private, quest_master, outsider
):
    old = _join_url(private.quest)
    client.force_login(quest_master)

    response = client.post(
        reverse("quest-members", args=[private.quest.slug]), {"action": "reset_link"}
    )

    assert response.status_code == 302
    private.quest.refresh_from_db()
    new = _join_url(private.quest)
    assert new != old
    assert new in client.get(reverse("quest-members", args=[private.quest.slug])).text
    client.force_login(outsider)
    assert client.get(old).status_code == 404
    assert client.post(old).status_code == 404
    assert not Membership.objects.filter(user=outsider).exists()
    assert client.post(new).status_code == 302
    assert Membership.objects.filter(quest=private.quest, user=outsider).exists()


def test_it_keeps_members_who_joined_with_an_old_link(client, private, quest_master, outsider):
    client.force_login(outsider)
    client.post(_join_url(private.quest))

    services.invite_link_reset(quest=private.quest, by=quest_master)

    assert client.get(reverse("quest-thread", args=[private.quest.slug])).status_code == 200


# --- Inviting by name and removing ------------------------------------------------


def _members_url(world) -> str:
    return reverse("quest-members", args=[world.quest.slug])


def test_it_invites_players_by_name(client, private, quest_master, outsider):
    other = make_user("Red Banner")  # imported forum names may hold spaces
    client.force_login(quest_master)

    response = client.post(
        _members_url(private), {"action": "invite", "names": "OUTSIDER,\r\n red banner \r\n"}
    )

    assert response.status_code == 302
    invited = Membership.objects.filter(quest=private.quest, role=Membership.Role.PLAYER)
    assert set(invited.values_list("user__username", flat=True)) == {
        "player",
        "outsider",
        "Red Banner",
    }
    assert Membership.objects.get(quest=private.quest, user=other).appointed_by == quest_master
    page = client.get(_members_url(private)).text
    assert "Invited outsider, Red Banner." in page
    client.force_login(outsider)
    assert client.get(reverse("quest-thread", args=[private.quest.slug])).status_code == 200


def test_it_invites_nobody_when_a_name_is_unknown(client, private, quest_master, outsider):
    events_before = QuestEvent.objects.count()
    client.force_login(quest_master)

    response = client.post(
        _members_url(private), {"action": "invite", "names": "outsider, nobody_here, ghost"}
    )

    assert response.status_code == 400
    assert "There is no user called “nobody_here”, “ghost”." in response.text
    assert "Nobody was invited" in response.text
    assert "outsider, nobody_here, ghost" in response.text  # the names stay in the box
    assert not Membership.objects.filter(user=outsider).exists()
    assert QuestEvent.objects.count() == events_before


def test_it_asks_for_a_name_when_the_box_is_empty(client, private, quest_master):
    members_before = Membership.objects.count()
    client.force_login(quest_master)

    response = client.post(_members_url(private), {"action": "invite", "names": " ,\n, "})

    assert response.status_code == 400
    assert "Enter the username of at least one player to invite." in response.text
    assert Membership.objects.count() == members_before


def test_it_passes_over_the_quest_master_and_existing_members(private, quest_master):
    added = services.members_invite(
        quest=private.quest, names=["quest_master", "moderator", "player"], by=quest_master
    )

    assert added == []
    roles = dict(
        Membership.objects.filter(quest=private.quest).values_list("user__username", "role")
    )
    assert roles == {"moderator": "moderator", "player": "player"}


def test_it_revokes_access_when_a_player_is_removed(client, private, quest_master, player):
    own_post = private.post
    client.force_login(quest_master)

    response = client.post(_members_url(private), {"action": "remove", "user": player.pk})

    assert response.status_code == 302
    assert not Membership.objects.filter(quest=private.quest, user=player).exists()
    event = QuestEvent.objects.filter(quest=private.quest).latest("pk")
    assert event.kind == QuestEvent.Kind.MEMBER_REMOVED and event.by == quest_master
    client.force_login(player)
    slug = private.quest.slug
    for url in (
        reverse("quest-thread", args=[slug]),
        reverse("post-edit", args=[slug, own_post.ref]),
        _url("chapter-tally", "chapter", private),
        _url("chapter-tally-json", "chapter", private),
        _url("ballot-submit", "chapter", private),
    ):
        assert client.get(url).status_code == 404, url
    posts_before = Post.objects.count()
    assert client.post(reverse("post-reply", args=[slug]), {"body": "Still here?"}).status_code == (
        404
    )
    assert client.post(_url("ballot-submit", "chapter", private), {"p1": "B"}).status_code == 404
    assert Post.objects.count() == posts_before


def test_it_removes_only_invited_players_from_the_members_page(
    client, private, quest_master, moderator
):
    client.force_login(quest_master)

    client.post(_members_url(private), {"action": "remove", "user": moderator.pk})
    client.post(_members_url(private), {"action": "remove", "user": "99999999999999999999999"})

    assert Membership.objects.get(quest=private.quest, user=moderator).role == "moderator"
    page = client.get(_members_url(private)).text
    assert "That person is not an invited player of this quest." in page


def test_it_gives_a_removed_moderator_no_access_to_a_private_quest(
    client, private, quest_master, moderator
):
    client.force_login(quest_master)
    client.post(
        reverse("quest-moderators", args=[private.quest.slug]),
        {"action": "remove", "user": moderator.pk},
    )

    client.force_login(moderator)
    assert client.get(reverse("quest-thread", args=[private.quest.slug])).status_code == 404


def test_it_promotes_an_invited_player_appointed_moderator(client, private, quest_master, player):
    client.force_login(quest_master)

    client.post(
        reverse("quest-moderators", args=[private.quest.slug]),
        {"action": "appoint", "username": "player"},
    )

    membership = Membership.objects.get(quest=private.quest, user=player)
    assert membership.role == Membership.Role.MODERATOR
    client.force_login(player)
    assert client.get(_url("vote-audit", "chapter", private)).status_code == 200


def test_it_lets_only_the_quest_master_manage_members(client, private, moderator, player, outsider):
    client.force_login(moderator)

    refused = [
        client.post(_members_url(private), {"action": "invite", "names": "outsider"}),
        client.post(_members_url(private), {"action": "remove", "user": player.pk}),
        client.post(_members_url(private), {"action": "reset_link"}),
        client.post(_members_url(private), {"action": "make_public"}),
    ]

    assert [r.status_code for r in refused] == [403] * 4
    token = private.quest.invite_token
    private.quest.refresh_from_db()
    assert private.quest.invite_token == token and private.quest.is_public is False
    assert set(
        Membership.objects.filter(quest=private.quest).values_list("user__username", flat=True)
    ) == {"moderator", "player"}


# --- Public and private -------------------------------------------------------------


def test_it_makes_a_quest_private_and_public_again(client, quest, quest_master, outsider):
    client.force_login(quest_master)
    thread = reverse("quest-thread", args=[quest.slug])
    members = reverse("quest-members", args=[quest.slug])
    assert 'href="' + members + '"' in client.get(thread).text

    client.post(members, {"action": "make_private"})
    client.force_login(outsider)
    assert client.get(thread).status_code == 404

    client.force_login(quest_master)
    client.post(members, {"action": "make_public"})
    client.force_login(outsider)
    assert client.get(thread).status_code == 200
    kinds = list(QuestEvent.objects.filter(quest=quest).values_list("kind", flat=True))
    assert kinds == [QuestEvent.Kind.MADE_PRIVATE, QuestEvent.Kind.MADE_PUBLIC]


def test_it_shows_the_quest_master_who_is_in_and_what_changed(
    client, private, quest_master, outsider
):
    client.force_login(outsider)
    client.post(_join_url(private.quest))
    client.force_login(quest_master)

    page = client.get(_members_url(private)).text

    assert "invited by quest_master" in page  # player
    assert "joined with the invitation link" in page  # outsider
    assert "Moderators are members too: <strong>moderator</strong>" in page
    assert private.quest.invite_token in page
    assert "Member joined by link · outsider" in page
    assert "Member invited · player" in page


def test_it_gives_every_existing_quest_its_own_invitation_token(quest_master):
    first = make_quest(quest_master, title="First")
    second = make_quest(quest_master, title="Second")
    # What AddField left behind: one token computed once for every row.
    Quest.objects.update(invite_token="shared")
    migration = importlib.import_module("quest.migrations.0002_private_membership")

    migration._one_token_per_quest(apps, None)

    tokens = set(
        Quest.objects.filter(pk__in=[first.pk, second.pk]).values_list("invite_token", flat=True)
    )
    assert len(tokens) == 2 and "shared" not in tokens
