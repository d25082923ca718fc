"""A post or ballot request does the same work in a thread of any length (issue 14).

The request stores the post and asks for it to be read after commit; it never
loads the vote's window. Measured here as the number of queries and the rows
they return, which must be the same for a vote of 10 posts and of 2,000. The
"Revised vote:" heading is decided from the voter's own posts in the window
and their stored Readings (selectors.may_have_ballot), and what the player sees
after posting is the worker's Reading or the post read alone.
"""

from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chapters.models import Vote
from quest.identities import forum_identity_get_or_create, forum_identity_link
from quest.models import Post, Quest, new_submission_token
from tests.factories import make_post, make_quest, make_user, make_vote, posts_append, prompt_list
from votes import previews, selectors, services
from votes.models import Ballot, Reading
from votes.posting import ballot_post
from votes.reading.types import Answer
from votes.reading.types import Reading as ReadingOut

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "multi", "write_in", options=3)
SMALL, LARGE = 10, 2_000


def _vote_of(size: int, quest_master, voter):
    """An open vote whose window holds `size` posts, `voter`'s earlier ballot among them."""
    quest = make_quest(quest_master, title=f"Thread of {size}")
    vote = make_vote(quest, quest_master, PROMPTS)
    chatter = [make_user(f"chatter_{size}_{i}") for i in range(5)]
    posts_append(quest, chatter, ["1-B", "2-AC", "I like the band.", "1-C\n3-Sing"], size - 1)
    earlier = make_post(quest, voter, "1-A\n2-B")
    services.post_reading_refresh(post_id=earlier.pk)  # read, as the worker would have
    return vote


class _Work:
    """The queries a request ran and the rows they returned (SELECT) or touched."""

    def __init__(self) -> None:
        self.rows = 0
        self.queries: list[str] = []

    def _count(self, execute: Callable, sql: str, params, many: bool, context: dict):
        result = execute(sql, params, many, context)
        self.rows += max(context["cursor"].rowcount, 0)
        return result

    def __repr__(self) -> str:
        return f"{len(self.queries)} queries, {self.rows} rows:\n" + "\n".join(self.queries)


def _measured(send: Callable[[], object]) -> tuple[object, _Work]:
    work = _Work()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(work._count):
        response = send()
    work.queries = [q["sql"] for q in captured.captured_queries]
    return response, work


def _ballot(client, vote, data: dict) -> tuple[object, _Work]:
    url = reverse("ballot-submit", args=[vote.chapter.quest.slug, vote.chapter.number])
    client.get(url, **HTMX)  # the form shown first: the session and caches are warm
    data = {**data, "submission": new_submission_token()}
    return _measured(lambda: client.post(url, data, **HTMX))


@pytest.fixture
def votes(quest_master, player):
    return {size: _vote_of(size, quest_master, player) for size in (SMALL, LARGE)}


def _same_work(works: dict[int, _Work]) -> None:
    small, large = works[SMALL], works[LARGE]
    assert (len(large.queries), large.rows) == (len(small.queries), small.rows), (
        f"{SMALL} posts: {small!r}\n\n{LARGE} posts: {large!r}"
    )


def test_a_changed_ballot_costs_the_same_in_a_vote_of_10_and_of_2000_posts(client, votes, player):
    client.force_login(player)
    works = {}
    for size, vote in votes.items():
        response, works[size] = _ballot(client, vote, {"p1": "C", "p2": ["A"]})
        assert response.status_code == 200
        assert "Your ballot was posted as" in response.text
        latest = Post.objects.filter(author=player, quest=vote.chapter.quest).latest("seq")
        assert latest.body == "Revised vote:\n1-C\n2-A"
    _same_work(works)


def test_a_first_ballot_costs_the_same_in_a_vote_of_10_and_of_2000_posts(client, votes):
    newcomer = make_user("newcomer")
    client.force_login(newcomer)
    works = {}
    for size, vote in votes.items():
        response, works[size] = _ballot(client, vote, {"p1": "B", "p3": "Loud songs"})
        assert response.status_code == 200
        assert Post.objects.get(author=newcomer, quest=vote.chapter.quest).body == (
            "1-B\n3-Loud songs"
        )
    _same_work(works)


def test_a_reply_costs_the_same_in_a_thread_of_10_and_of_2000_posts(client, votes, player):
    client.force_login(player)
    works = {}
    for size, vote in votes.items():
        quest = vote.chapter.quest
        url = reverse("post-reply", args=[quest.slug])
        data = {"body": "Onwards, comrades!", "submission": new_submission_token()}
        response, works[size] = _measured(lambda: client.post(url, data))  # noqa: B023
        assert response.status_code == 302
        assert Post.objects.filter(quest=quest).latest("seq").body == "Onwards, comrades!"
    _same_work(works)


# --- The heading, decided from the voter's own posts ---------------------------------------


@pytest.fixture
def vote(quest, quest_master):
    return make_vote(quest, quest_master, PROMPTS)


def _post_ballot(client, vote, data: dict) -> Post:
    response = _ballot(client, vote, data)[0]
    assert response.status_code == 200, response.text
    return Post.objects.filter(quest=vote.chapter.quest).latest("seq")


def test_it_heads_a_ballot_after_an_earlier_one_not_read_yet(client, vote, player):
    # The worker has not read the earlier ballot (no Reading): it may be one, so the
    # new ballot says it replaces it, and reads as the same answers either way.
    make_post(vote.chapter.quest, player, "1-A")
    client.force_login(player)

    assert _post_ballot(client, vote, {"p1": "B"}).body == "Revised vote:\n1-B"
    services.vote_recount(vote_id=vote.pk)
    assert _counted(vote, player) == {"1": ["B"]}


def test_it_does_not_head_a_ballot_after_chatter_read_as_chatter(client, vote, player):
    chatter = make_post(vote.chapter.quest, player, "Good luck, everyone.")
    services.post_reading_refresh(post_id=chatter.pk)
    client.force_login(player)

    assert _post_ballot(client, vote, {"p1": "B"}).body == "1-B"


def test_it_heads_a_ballot_after_chatter_edited_into_a_ballot(client, vote, player):
    post = make_post(vote.chapter.quest, player, "Good luck, everyone.")
    services.post_reading_refresh(post_id=post.pk)
    from quest.services import post_edit

    post_edit(post=post, body="1-A", by=player)  # its Reading is stale until read again
    client.force_login(player)

    assert _post_ballot(client, vote, {"p1": "B"}).body == "Revised vote:\n1-B"


def test_it_does_not_count_a_post_before_the_vote_as_an_earlier_ballot(
    client, quest, quest_master, player
):
    make_post(quest, player, "1-A")  # before the chapter: another window
    vote = make_vote(quest, quest_master, PROMPTS)
    client.force_login(player)

    assert _post_ballot(client, vote, {"p1": "B"}).body == "1-B"


def _counted(vote, player) -> dict:
    from votes.models import Ballot

    row = Ballot.objects.get(vote=vote, voter=player.username, is_current=True)
    return {prompt: answer["letters"] for prompt, answer in row.answers.items()}


# --- What the player sees after posting ----------------------------------------------------


def test_it_shows_the_ballot_read_alone_as_being_counted(client, vote, player):
    client.force_login(player)
    response = _ballot(client, vote, {"p1": "B", "p2": ["A", "C"]})[0]

    assert "How it will be read" in response.text
    assert "(being counted…)" in response.text
    assert "<b>B</b> South" in response.text
    assert not Reading.objects.filter(vote=vote).exists()  # nothing read in the request


def test_it_shows_the_workers_reading_once_it_is_stored(vote, player):
    make_post(vote.chapter.quest, player, "I like the band.")
    post = ballot_post(vote=vote, user=player, answers=[Answer(prompt=1, letters=("B",))])
    assert previews.posted_reading(vote=vote, post=post).pending

    stored = services.post_reading_refresh(post_id=post.pk)
    shown = previews.posted_reading(vote=vote, post=post)

    assert not shown.pending
    assert shown == previews.describe(
        ReadingOut.from_json(stored.data), selectors.vote_spec(vote), post.body
    )


# --- Sequence numbers --------------------------------------------------------------------


def test_it_numbers_posts_from_the_quests_counters(quest, player):
    first = make_post(quest, player, "One")
    imported = make_post(quest, player, "From the forum", ref=90_000)
    after = make_post(quest, player, "Three")
    quest.refresh_from_db()

    assert [first.seq + 1, first.seq + 2] == [imported.seq, after.seq]
    assert (imported.ref, after.ref) == (90_000, 90_001)
    assert (quest.last_seq, quest.last_ref) == (after.seq, 90_001)
    assert quest.last_activity_at == after.posted_at


def test_it_keeps_the_latest_activity_when_an_older_post_is_imported(quest, player):
    recent = make_post(quest, player, "Now")
    make_post(quest, player, "Long ago", posted_at=recent.posted_at.replace(year=2001))
    quest.refresh_from_db()

    assert quest.last_activity_at == recent.posted_at


def test_a_ballot_under_a_claimed_forum_name_costs_the_same_in_a_vote_of_10_and_of_2000_posts(
    client, votes, player
):
    """A quest from a forum loads its claimed names once (votes/names.py), not per post."""
    for size, vote in votes.items():
        quest = vote.chapter.quest
        forum = f"forum{size}.example.net"  # a player goes by one name on a forum
        Quest.objects.filter(pk=quest.pk).update(forum=forum)
        anya = forum_identity_get_or_create(forum=forum, name=f"Anya_{size}")
        forum_identity_link(identity=anya, user=player)
        # The player's earlier ballot read again under the name they claimed, as a claim does.
        Vote.objects.filter(pk=vote.pk).update(spec_version=F("spec_version") + 1)
        vote.refresh_from_db()
        services.vote_recount(vote_id=vote.pk)
        assert Ballot.objects.filter(vote=vote, voter=f"Anya_{size}", is_current=True).exists()
    client.force_login(player)
    works = {}
    for size, vote in votes.items():
        response, works[size] = _ballot(client, vote, {"p1": "C", "p2": ["A"]})
        assert response.status_code == 200
        latest = Post.objects.filter(author=player, quest=vote.chapter.quest).latest("seq")
        assert latest.body == "Revised vote:\n1-C\n2-A"
    _same_work(works)
