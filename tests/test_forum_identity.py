"""Forum names are per forum (issue 12): "Anya" of two forums are two voters, and no
local account can sign up as one or take one over (quest/identities.py).

Threads come in as quest-thread/1 documents naming their forum, through the one
importer every format goes through (votes.importers.thread_json).
"""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from chapters.models import Vote
from quest.identities import forum_identity_get_or_create
from quest.models import ForumIdentity, Post
from quest.services import post_create
from tests.factories import PASSWORD, make_user
from votes import selectors, services
from votes.importers.export import thread_export
from votes.importers.thread_json import thread_import

User = get_user_model()

pytestmark = pytest.mark.django_db


def _thread(slug: str, forum: str | None, posts: list[tuple[int, str, str, int | None]]) -> dict:
    """A one-chapter thread whose quest master posts the vote (post 1); then `posts`:
    (id, author, body, forum user id)."""
    quest = {"slug": slug, "title": slug, "quest_master": "Teller", "moderators": []}
    if forum is not None:
        quest |= {"forum": forum, "source_url": f"https://{forum}/threads/{slug}.1/"}
    vote_post = {
        "id": 1,
        "author": "Teller",
        "posted_at": "2024-05-01T10:00:00Z",
        "body": "Chapter 1\n\n1. Where now?\nA) North\nB) South",
    }
    return {
        "format": "quest-thread/1",
        "quest": quest,
        "chapters": [{"number": 1, "title": "Chapter 1", "post": 1, "vote": {"post": 1}}],
        "posts": [vote_post]
        + [
            {
                "id": ref,
                "author": author,
                "posted_at": f"2024-05-01T11:{ref:02}:00Z",
                "body": body,
                **({"forum_user_id": user_id} if user_id else {}),
            }
            for ref, author, body, user_id in posts
        ],
    }


def _voters(slug: str) -> dict[str, list[str]]:
    vote = Vote.objects.get(chapter__quest__slug=slug)
    services.vote_recount(vote_id=vote.pk)
    tally = selectors.latest_tally(vote)
    assert tally is not None
    return {o["letter"]: o["voters"] for o in tally.data["prompts"][0]["options"]}


def test_one_name_on_two_forums_is_two_voters_with_two_accounts():
    thread_import(_thread("north", "forum-a.example", [(2, "Anya", "1-A", 41)]))
    thread_import(_thread("south", "forum-b.example", [(2, "Anya", "1-B", 41)]))

    a = ForumIdentity.objects.get(forum="forum-a.example", name="Anya")
    b = ForumIdentity.objects.get(forum="forum-b.example", name="Anya")
    assert a.user_id != b.user_id
    # The first keeps the plain name; the second shows its forum, so the two never look alike.
    assert (a.user.username, b.user.username) == ("Anya", "Anya@forum-b.example")
    assert _voters("north") == {"A": ["Anya"], "B": []}
    assert _voters("south") == {"A": [], "B": ["Anya@forum-b.example"]}
    for identity in (a, b):
        assert not identity.user.has_usable_password() and not identity.user.is_active


def test_a_forum_user_is_one_identity_across_quests_and_renames():
    thread_import(_thread("first", "forum-a.example", [(2, "Anya", "1-A", 41)]))
    # Another thread of the same forum, where user 41 is called Anya_K now.
    thread_import(_thread("second", "forum-a.example", [(2, "Anya_K", "1-B", 41)]))

    identity = ForumIdentity.objects.get(forum="forum-a.example", forum_user_id=41)
    assert identity.name == "Anya_K"
    authors = set(Post.objects.filter(ref=2).values_list("author_id", flat=True))
    assert authors == {identity.user_id}
    assert ForumIdentity.objects.filter(forum="forum-a.example").count() == 2  # and Teller


def test_a_name_without_an_id_is_one_identity_per_forum_and_takes_the_id_when_seen():
    anon = forum_identity_get_or_create(forum="forum-a.example", name="Guest_Ray")
    again = forum_identity_get_or_create(forum="FORUM-A.example", name="Guest_Ray")
    with_id = forum_identity_get_or_create(
        forum="forum-a.example", name="Guest_Ray", forum_user_id=9
    )

    assert anon.pk == again.pk == with_id.pk
    assert ForumIdentity.objects.get(pk=anon.pk).forum_user_id == 9


def test_a_local_account_of_the_same_name_is_never_taken_over(client):
    local = make_user("Anya", password=PASSWORD)

    thread_import(_thread("north", "forum-a.example", [(2, "Anya", "1-A", 41)]))

    post = Post.objects.get(quest__slug="north", ref=2)
    assert post.author_id != local.pk
    assert post.author.username == "Anya@forum-a.example"
    assert post.forum_identity is not None and post.forum_identity.name == "Anya"
    # The local Anya voting in the app is a voter of her own.
    post_create(quest=post.quest, author=local, body="1-B", request_reading=False)
    assert _voters("north") == {"A": ["Anya@forum-a.example"], "B": ["Anya"]}
    # And the forum's Anya cannot sign in, by password or otherwise.
    assert not client.login(username="Anya@forum-a.example", password="")
    assert not post.author.is_active


def test_a_thread_from_no_forum_names_local_accounts_as_before():
    thread_import(_thread("plain", None, [(2, "Anya", "1-A", None)]))

    post = Post.objects.get(quest__slug="plain", ref=2)
    assert post.author.username == "Anya" and post.forum_identity is None
    assert not ForumIdentity.objects.exists()


@pytest.mark.parametrize("name", ["Anya", "anya", "ANYA"])
def test_signing_up_as_an_imported_forum_name_is_refused(client, name):
    thread_import(_thread("north", "forum-a.example", [(2, "Anya", "1-A", 41)]))
    users = User.objects.count()

    response = client.post(
        reverse("signup"), {"username": name, "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 200
    assert "“Anya” is a name on forum-a.example" in response.text
    assert "claim it" in response.text
    assert User.objects.count() == users


def test_signing_up_with_an_at_sign_is_refused(client):
    response = client.post(
        reverse("signup"),
        {"username": "Anya@forum-b.example", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert "A username cannot contain “@”" in response.text
    assert not User.objects.filter(username__icontains="@").exists()


def test_export_names_authors_as_the_forum_does_and_imports_back_the_same(django_user_model):
    make_user("Anya", password=PASSWORD)
    thread_import(
        _thread("north", "forum-a.example", [(2, "Anya", "1-A", 41), (3, "Boris", "1-B", None)])
    )
    quest = Post.objects.get(quest__slug="north", ref=2).quest

    exported = thread_export(quest)

    authors = {p["id"]: (p["author"], p.get("forum_user_id")) for p in exported["posts"]}
    assert authors == {1: ("Teller", None), 2: ("Anya", 41), 3: ("Boris", None)}
    assert exported["quest"]["quest_master"] == "Teller"
    # Imported again, as another quest of the same forum: the same voters, no new account.
    users = django_user_model.objects.count()
    exported["quest"]["slug"] = "north-again"
    thread_import(exported)
    assert django_user_model.objects.count() == users
    assert _voters("north-again") == _voters("north")


def test_an_account_an_older_import_made_stays_the_voter_of_its_forum_name():
    # Before identities, an import made a plain account for each forum name.
    legacy = make_user("Anya")
    thread_import(_thread("north", "forum-a.example", []))
    quest = Post.objects.get(quest__slug="north", ref=1).quest
    post_create(quest=quest, author=legacy, body="1-A", ref=2, imported=True)

    thread_import(_thread("north", "forum-a.example", [(3, "Anya", "1-B", 41)]))

    assert Post.objects.get(quest=quest, ref=3).author_id == legacy.pk
    assert ForumIdentity.objects.get(forum_user_id=41).user_id == legacy.pk
    assert _voters("north") == {"A": [], "B": ["Anya"]}
