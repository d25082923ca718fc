"""The name a voter goes by in a quest (votes/names.py, issue 12).

A player who claimed a forum name is, in that forum's quests, the voter the
name's identity was: the forum name, or `name@forum` when someone else's
account had the name. Elsewhere, and for everyone else, a voter is their
username.
"""

import pytest

from quest.identities import forum_identity_get_or_create, forum_identity_link
from quest.models import Quest
from tests.factories import make_quest, make_user
from votes.names import voter_name, voter_names

pytestmark = pytest.mark.django_db

FORUM = "forums.example.org"


def _forum_quest(quest_master, *, source_url_only: bool = False) -> Quest:
    quest = make_quest(quest_master, title="Salt and Iron")
    if source_url_only:  # a thread imported from a file that gave only its address
        fields = {"source_url": f"https://{FORUM}/threads/salt-and-iron.7/"}
    else:
        fields = {"forum": FORUM}
    Quest.objects.filter(pk=quest.pk).update(**fields)
    quest.refresh_from_db()
    return quest


def _claim(name: str, player) -> None:
    forum_identity_link(identity=forum_identity_get_or_create(forum=FORUM, name=name), user=player)


def test_it_names_a_player_by_the_forum_name_they_claimed_in_that_forums_quests():
    quest = _forum_quest(make_user("teller"))
    player = make_user("anya_real")
    _claim("Anya", player)

    assert voter_name(quest, player) == "Anya"
    assert voter_names(quest) == {player.pk: "Anya"}


def test_it_finds_the_forum_of_a_quest_known_by_its_address_alone():
    quest = _forum_quest(make_user("teller"), source_url_only=True)
    player = make_user("anya_real")
    _claim("Anya", player)

    assert voter_name(quest, player) == "Anya"


def test_a_player_whose_username_is_the_forum_name_goes_by_the_forums_spelling():
    quest = _forum_quest(make_user("teller"))
    player = make_user("anya")  # so the forum's Anya was a voter as Anya@forums.example.org
    identity = forum_identity_get_or_create(forum=FORUM, name="Anya")
    assert identity.user.username == f"Anya@{FORUM}"

    forum_identity_link(identity=identity, user=player)

    assert voter_name(quest, player) == "Anya"


def test_a_name_another_account_has_stays_the_voter_it_was():
    quest = _forum_quest(make_user("teller"))
    make_user("Anya")  # someone else, who may vote here too
    player = make_user("anya_real")
    _claim("Anya", player)

    # Never two voters of one name: the forum's Anya was and stays Anya@forum.
    assert voter_name(quest, player) == f"Anya@{FORUM}"


def test_a_player_goes_by_their_username_in_a_quest_from_no_forum_or_another(
    django_assert_num_queries,
):
    teller = make_user("teller")
    player = make_user("anya_real")
    _claim("Anya", player)
    home = make_quest(teller, title="Home grown")
    other = make_quest(teller, title="Elsewhere")
    Quest.objects.filter(pk=other.pk).update(forum="other.example.net")
    other.refresh_from_db()

    with django_assert_num_queries(0):  # nothing to look up without a forum
        assert voter_name(home, player) == "anya_real"
    assert voter_name(other, player) == "anya_real"
    assert voter_name(_forum_quest(teller), make_user("nim")) == "nim"
