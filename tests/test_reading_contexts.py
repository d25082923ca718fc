"""The worker reads a new post through the vote's thread kept in memory (votes/contexts.py).

What it stores must be what a fresh read of the whole thread gives (the preview's
`selectors.reading_of` with every post before it), whatever happened to the
thread between two reads: a new post, an edit of a post a later one quotes, a
changed vote, a post deleted on the forum, a forum name claimed. Each test also
reads the new post against the thread as it was before the change, and checks
that this differs: a worker that kept the old thread would have stored that.
Reading one new post after the thread is kept costs the same queries and rows
in a vote of 200 posts and of 2,000 (issue 14).
"""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chapters import services as chapter_services
from chapters.models import Vote
from quest import identities
from quest.models import Post, Quest
from quest.services import post_edit, post_forum_sync
from tests.factories import make_post, make_quest, make_user, make_vote, posts_append, prompt_list
from votes import contexts, selectors, services
from votes.models import Reading as ReadingRow
from votes.reading import read_post
from votes.reading.types import PostIn, PostKind, Reading, VoteSpec

pytestmark = pytest.mark.django_db

PROMPTS = prompt_list("single", "write_in", options=2)
FORUM = "forums.example.net"


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


def _stored(post: Post) -> Reading:
    """What the worker stores for the post (through the kept thread)."""
    row = services.post_reading_refresh(post_id=post.pk)
    assert row is not None
    return Reading.from_json(row.data)


def _fresh(vote: Vote, post: Post) -> Reading:
    """The post read against every post before it, loaded from the database now."""
    post.refresh_from_db()
    vote = Vote.objects.get(pk=vote.pk)
    earlier = selectors.reading_context(vote, before_seq=post.seq)
    return selectors.reading_of(
        vote=vote, post=selectors.post_in(post), earlier=earlier, deleted=post.deleted
    )


def _kept(vote: Vote) -> tuple[VoteSpec, list[PostIn]]:
    """The vote and its thread as a worker keeps them now."""
    return selectors.vote_spec(vote), selectors.reading_context(vote)


def _as_before(post: Post, kept: tuple[VoteSpec, list[PostIn]]) -> Reading:
    """The post read against the vote and thread as they were kept before the change."""
    spec, thread = kept
    return read_post(selectors.post_in(post), spec, thread)


def _changes(quest) -> int:
    return Quest.objects.values_list("post_changes", flat=True).get(pk=quest.pk)


def test_it_stores_a_new_post_as_a_fresh_read_of_the_thread(vote, quest):
    anya, boris = make_user("Anya"), make_user("Boris")
    _stored(make_post(quest, anya, "1-B\n2-Sing loud"))
    _stored(make_post(quest, boris, "Just chatting."))

    new = make_post(quest, boris, "Same as Anya")
    stored = _stored(new)

    assert stored == _fresh(vote, new)
    assert stored.kind == PostKind.ENDORSEMENT and stored.answers


def test_an_edit_of_a_quoted_post_makes_the_next_read_follow_the_new_text(vote, quest):
    anya, boris, chen = make_user("Anya"), make_user("Boris"), make_user("Chen")
    first = make_post(quest, anya, "1-B")
    _stored(first)
    _stored(make_post(quest, boris, "Same as Anya"))
    before = _kept(vote)
    changes = _changes(quest)

    post_edit(post=first, body="1-A", by=anya)
    new = make_post(quest, chen, "Same as Anya")
    stored = _stored(new)

    assert _changes(quest) == changes + 1
    assert stored == _fresh(vote, new)
    assert [a.letters for a in stored.answers] == [("A",)]
    assert stored != _as_before(new, before)


def test_the_recount_stores_the_window_as_fresh_reads_after_an_edit(vote, quest):
    anya, boris = make_user("Anya"), make_user("Boris")
    first = make_post(quest, anya, "1-B")
    second = make_post(quest, boris, "Same as Anya")
    services.vote_recount(vote_id=vote.pk)

    post_edit(post=first, body="1-A\n2-March on", by=anya)
    ReadingRow.objects.filter(post=second).delete()  # read again by the recount, as an import
    services.vote_recount(vote_id=vote.pk)

    stored = {
        row.post_id: Reading.from_json(row.data) for row in ReadingRow.objects.filter(vote=vote)
    }
    assert stored[first.pk] == _fresh(vote, first)
    assert stored[second.pk] == _fresh(vote, second)
    assert [a.prompt for a in stored[first.pk].answers] == [1, 2]


def test_an_option_added_to_the_vote_is_read_in_the_next_post(vote, quest, quest_master):
    anya = make_user("Anya")
    _stored(make_post(quest, anya, "Hello all."))
    before = _kept(vote)

    chapter_services.vote_prompts_set(
        chapter=vote.chapter,
        prompts=prompt_list("single", "write_in", options=3),
        by=quest_master,
        closes_at=vote.closes_at,
    )
    new = make_post(quest, anya, "1-C")
    stored = _stored(new)

    assert stored == _fresh(vote, new)
    assert [a.letters for a in stored.answers] == [("C",)]
    assert stored != _as_before(new, before)


def test_a_post_deleted_on_the_forum_is_read_as_deleted_and_still_quoted(vote, quest):
    anya, boris = make_user("Anya"), make_user("Boris")
    first = make_post(quest, anya, "1-B", imported=True)
    _stored(first)
    changes = _changes(quest)

    post_forum_sync(post=first, source_url="", forum_user_id=None, deleted=True)
    new = make_post(quest, boris, "Same as Anya")

    services.vote_recount(vote_id=vote.pk)  # the recount reads the stale posts: `first`, `new`

    assert _changes(quest) == changes + 1
    row = ReadingRow.objects.get(post=first)
    assert Reading.from_json(row.data) == _fresh(vote, first)
    assert row.data["excluded"] == selectors.DELETED_ON_FORUM
    assert _stored(new) == _fresh(vote, new)


def test_a_claimed_forum_name_makes_the_players_posts_one_voter(vote, quest):
    identity = identities.forum_identity_get_or_create(forum=FORUM, name="Mirelle")
    mirelle = make_user("mirelle_player")
    forum_post = make_post(quest, identities.forum_author(identity), "1-B")
    _stored(forum_post)
    _stored(make_post(quest, mirelle, "Nice chapter."))
    before = _kept(vote)

    identities.forum_identity_link(identity=identity, user=mirelle)
    new = make_post(quest, mirelle, "1-A")
    stored = _stored(new)

    assert stored == _fresh(vote, new)
    assert stored.author == "mirelle_player"
    assert stored != _as_before(new, before)


def test_a_post_read_again_unchanged_reads_as_before(vote, quest):
    anya = make_user("Anya")
    first = make_post(quest, anya, "1-B")
    stored = _stored(first)
    ReadingRow.objects.filter(post=first).delete()

    assert _stored(first) == stored == _fresh(vote, first)


def test_a_post_changed_since_it_was_kept_is_read_as_it_is_now(vote, quest):
    anya = make_user("Anya")
    first = make_post(quest, anya, "1-B")
    _stored(first)
    # As an edit committed after the worker read the key: the kept text is older.
    Post.objects.filter(pk=first.pk).update(body="1-A", version=2)

    stored = _stored(first)

    assert stored == _fresh(vote, first)
    assert [a.letters for a in stored.answers] == [("A",)]


# --- Reading one new post costs the same at any length -------------------------------------


SMALL, LARGE = 200, 2_000


class _Work:
    """The queries run and the rows they returned (SELECT) or touched."""

    def __init__(self) -> None:
        self.rows = 0
        self.queries: list[str] = []

    def count(self, execute: Callable, sql: str, params, many: bool, context: dict):
        result = execute(sql, params, many, context)
        self.rows += max(context["cursor"].rowcount, 0)
        return result

    def __repr__(self) -> str:
        return f"{len(self.queries)} queries, {self.rows} rows:\n" + "\n".join(self.queries)


def _new_post_read(size: int, quest_master) -> tuple[_Work, Post, Vote]:
    """The work of reading one new post in a vote of `size` posts, its thread kept."""
    quest = make_quest(quest_master, title=f"Thread of {size}")
    vote = make_vote(quest, quest_master, PROMPTS)
    chatter = [make_user(f"chatter_{size}_{i}") for i in range(5)]
    posts_append(
        quest, chatter, ["1-B", "2-Sing", "I like the band.", "Same as chatter_0"], size - 2
    )
    _stored(make_post(quest, chatter[0], "1-A"))  # the worker's first read keeps the thread
    new = make_post(quest, chatter[1], "Same as chatter_0")
    work = _Work()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(work.count):
        services.post_reading_refresh(post_id=new.pk)
    work.queries = [q["sql"] for q in captured.captured_queries]
    return work, new, vote


def test_reading_a_new_post_costs_the_same_in_a_vote_of_200_and_of_2000_posts(quest_master):
    works = {}
    for size in (SMALL, LARGE):
        works[size], new, vote = _new_post_read(size, quest_master)
        row = ReadingRow.objects.get(post=new)
        assert Reading.from_json(row.data) == _fresh(vote, new)
    small, large = works[SMALL], works[LARGE]

    assert (len(large.queries), large.rows) == (len(small.queries), small.rows), (
        f"{SMALL} posts: {small!r}\n\n{LARGE} posts: {large!r}"
    )
    assert small.rows < SMALL / 4  # not the window: the new post and the key


def test_it_keeps_the_threads_of_the_last_few_votes_read(quest_master):
    contexts.kept_clear()
    votes = []
    for n in range(contexts.KEPT_VOTES + 1):
        quest = make_quest(quest_master, title=f"Quest {n}")
        votes.append(make_vote(quest, quest_master, PROMPTS))
        _stored(make_post(quest, make_user(f"voter_{n}"), "1-A"))

    assert sorted(contexts._kept) == sorted(v.pk for v in votes[1:])


def test_it_keeps_no_more_posts_than_it_may(quest_master, monkeypatch):
    contexts.kept_clear()
    monkeypatch.setattr(contexts, "KEPT_POSTS", 5)
    votes = []
    for n in range(2):
        quest = make_quest(quest_master, title=f"Quest {n}")
        votes.append(make_vote(quest, quest_master, PROMPTS))
        voter = make_user(f"voter_{n}")
        for body in ("1-A", "1-B", "2-Sing"):
            _stored(make_post(quest, voter, body))

    assert list(contexts._kept) == [votes[1].pk]  # 4 posts each: the first vote is dropped


def test_a_window_loaded_in_batches_with_its_bodies_packed_reads_as_fresh(vote, quest, monkeypatch):
    # A 100,000-post import is loaded LOAD_BATCH posts at a time and kept with
    # older bodies compressed: here 3 at a time, every body packed (issue 14).
    monkeypatch.setattr(contexts, "LOAD_BATCH", 3)
    monkeypatch.setattr(contexts, "KEPT_BODIES", 0)
    contexts.kept_clear()
    anya, boris, chen = make_user("Anya"), make_user("Boris"), make_user("Chen")
    posts = [
        make_post(quest, anya, "1-B\n2-Sing loud"),
        make_post(quest, boris, "Just chatting."),
        make_post(quest, chen, "[QUOTE=Anya]1-B\n2-Sing loud[/QUOTE]\nI second this"),
        make_post(quest, boris, "Same as Anya"),
        make_post(quest, chen, "Nice chapter."),
        make_post(quest, anya, "Revised vote:\n1-A"),
        make_post(quest, boris, "[X] Chen"),
    ]
    services.vote_recount(vote_id=vote.pk)

    stored = {
        row.post_id: Reading.from_json(row.data) for row in ReadingRow.objects.filter(vote=vote)
    }
    assert stored == {p.pk: _fresh(vote, p) for p in posts}
    assert stored[posts[2].pk].endorses == posts[0].ref  # found by its quoted text
    assert len(contexts._kept[vote.pk].context) == len(posts) + 1  # and the vote's post
