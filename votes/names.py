"""Voters' names: what the reader, the ballots and the tallies call a quest's voter.

The reader matches `[X] Anya`, `Same as Anya` and `I'm with Anya` against the
names of the posts' authors, and the tally keys a ballot by its author's name.
In a quest from a forum, players on the forum write the forum's names; a
player who claimed their forum name (quest/identities.py) authors their forum
posts from their own account, yet the forum still calls them by that name. So
in a quest of that forum the player is the voter of the name they claimed, in
their forum posts and in the ballots and replies they write in the app alike;
elsewhere, and for everyone else, a voter is their username.

Everything that keys a voter by name goes through here: `voter_name` for one
account, `voter_names` loaded once for a page or a thread of posts.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from quest.identities import forum_of
from quest.models import ForumIdentity, Quest

__all__ = ["voter_name", "voter_names"]


def voter_names(quest: Quest, *, users: Iterable[int] | None = None) -> dict[int, str]:
    """Account pk -> voter name in `quest`, for the accounts that go by a claimed forum name.

    The accounts absent go by their username. No query for a quest from no
    forum; else one (of every claimed name of the forum, or of `users` only).
    """
    forum = forum_of(forum=quest.forum, source_url=quest.source_url)
    if not forum:
        return {}
    claimed = ForumIdentity.objects.filter(forum=forum, linked_user__isnull=False)
    if users is not None:
        claimed = claimed.filter(linked_user__in=list(users))
    rows = claimed.order_by("pk").values_list(
        "linked_user_id", "name", "user__username", "linked_user__username"
    )
    names: dict[int, str] = {}
    for pk, name, own, player in rows:
        # A player who claimed two names on the forum goes by the first.
        names.setdefault(pk, _claimed_name(name=name, own=own, player=player))
    return names


def voter_name(quest: Quest, user: Any) -> str:
    """The name `user` votes under in `quest` (see the module docstring)."""
    return voter_names(quest, users=[user.pk]).get(user.pk, user.get_username())


def name_of(names: Mapping[int, str], user: Any) -> str:
    """`user`'s voter name from a mapping `voter_names` loaded for the quest."""
    return names.get(user.pk, user.get_username())


def _claimed_name(*, name: str, own: str, player: str) -> str:
    """The voter name of a claimed identity: the one it was a voter under before the claim.

    That is its own account's username: the forum name, unless an account
    already had that name when the name was first seen (then `name@forum`, so
    that two people are never one voter). When that account was the player's
    own, the forum name is theirs alone: the forum's spelling stands.
    """
    return name if name.casefold() == player.casefold() else own
