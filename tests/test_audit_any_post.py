"""Moderators decide any post of the window, whatever it was read as (issue 9).

A post read as chatter can be counted (answers set prompt by prompt, or for the
whole post), made to follow another voter, or ruled out, always with a reason;
the Mentions tab lists chatter that still mentions the vote; the tally's
`excluded` list names every post that gave answers and is not counted.
Recounts run by hand, as in tests/test_audit.py.
"""

from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from tests.factories import make_post, make_user, make_vote, prompt_list, vote_in
from votes import audit, selectors, services
from votes.models import Decision, Reading
from votes.reading.types import PostKind
from votes.reading.types import Reading as ReadingOut

HTMX = {"HTTP_HX_REQUEST": "true"}
CHATTER = "Great chapter, thanks for writing it!"

PROMPTS = prompt_list(
    "single",
    "write_in",
    "multi",
    options=3,
    texts={1: "Decide the fate of the agents", 2: "What do we sing on the way home?"},
    option_texts={1: ["Show leniency", "Punish them"]},
)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS, title="The Agents")


def _url(vote: Vote, name: str = "vote-audit") -> str:
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def _chatter(vote: Vote, author, body: str = CHATTER):
    post = vote_in(vote, author, body)
    assert _reading(vote, post).kind == PostKind.NOT_BALLOT  # what this file is about
    return post


def _reading(vote: Vote, post) -> ReadingOut:
    return ReadingOut.from_json(Reading.objects.get(vote=vote, post=post).data)


def _with_mentions(vote: Vote, post, *mentions: str) -> None:
    """Store the post's Reading as the reader does for chatter that touches the vote."""
    row = Reading.objects.get(vote=vote, post=post)
    reading = replace(ReadingOut.from_json(row.data), mentions=mentions)
    Reading.objects.filter(pk=row.pk).update(**Reading.columns(reading))


def _decide(vote, post, by, **kwargs) -> Decision:
    fields = {"prompt": 1, "action": "set", "answer": None, "reason": "Checked by hand"}
    return audit.decision_record(vote=vote, post=post, by=by, **{**fields, **kwargs})


def _tally(vote: Vote) -> dict:
    services.vote_recount(vote_id=vote.pk)
    return selectors.latest_tally(vote).data


def _voters(tally: dict, prompt: int, letter: str) -> list[str]:
    p = next(p for p in tally["prompts"] if p["number"] == prompt)
    return next(o for o in p["options"] if o["letter"] == letter)["voters"]


def _block(page: str, post) -> str:
    start = page.index(f'id="post-{post.ref}"')
    return page[start : page.find("</article>", start)]


# --- Counting a post read as chatter ----------------------------------------------


def test_it_offers_a_decision_on_a_post_read_as_chatter(client, vote, moderator, player):
    post = _chatter(vote, player)
    client.force_login(moderator)

    block = _block(client.get(_url(vote) + "?show=all").content.decode(), post)

    assert "Decide this post" in block
    assert 'name="action" value="set"' in block and "Count this answer" in block
    assert 'value="proxy">Follow this voter' in block
    assert 'value="reject">Count nothing from this post' in block


def test_it_counts_the_answers_a_moderator_sets_on_chatter(client, vote, moderator, player):
    post = _chatter(vote, player)
    assert _tally(vote)["ballots"] == 0
    client.force_login(moderator)

    for prompt, letters in ((1, "b"), (3, "C, A")):
        client.post(
            _url(vote, "vote-decide"),
            {
                "post": post.ref,
                "prompt": prompt,
                "action": "set",
                "letters": letters,
                "reason": "They voted in the chat and asked us to count it",
            },
            **HTMX,
        )
    tally = _tally(vote)

    assert tally["ballots"] == 1
    assert _voters(tally, 1, "B") == ["player"]
    assert _voters(tally, 3, "A") == _voters(tally, 3, "C") == ["player"]
    assert [d.prompt for d in Decision.objects.order_by("pk")] == [1, 3]


def test_it_counts_a_whole_post_answer_set_on_chatter(vote, moderator, player):
    post = _chatter(vote, player)

    _decide(vote, post, moderator, prompt=None, answer={"prompt": 2, "text": "Tipperary"})
    tally = _tally(vote)

    entries = tally["prompts"][1]["entries"]
    assert [(e["text"], e["voters"]) for e in entries] == [("Tipperary", ["player"])]


def test_it_counts_decided_chatter_like_a_ballot_at_its_place(vote, moderator, player):
    chatter = _chatter(vote, player)
    later = vote_in(vote, player, "1-A")

    _decide(vote, chatter, moderator, answer={"letters": ["B"]})
    tally = _tally(vote)

    assert (_voters(tally, 1, "A"), _voters(tally, 1, "B")) == (["player"], [])
    assert {
        "post": chatter.ref,
        "author": "player",
        "reason": f"superseded by post {later.ref}",
    } in (tally["excluded"])


def test_it_makes_the_author_of_chatter_follow_another_voter(client, vote, moderator, player):
    friend = make_user("friend")
    vote_in(vote, friend, "1-B")
    post = _chatter(vote, player, "Whatever friend says, I trust them.")
    client.force_login(moderator)

    response = client.post(
        _url(vote, "vote-decide"),
        {
            "post": post.ref,
            "prompt": "",
            "action": "proxy",
            "proxy": "@FRIEND",
            "reason": "Follows friend, as the post says",
        },
        **HTMX,
    )
    assert _voters(_tally(vote), 1, "B") == ["friend", "player"]
    vote_in(vote, friend, "1-A")  # the follower follows the change
    tally = _tally(vote)

    decision = Decision.objects.get()
    assert (decision.action, decision.prompt, decision.proxy_of) == ("proxy", None, "friend")
    assert "Follow another voter: <strong>friend</strong>" in response.content.decode()
    assert _voters(tally, 1, "A") == ["friend", "player"]


@pytest.mark.parametrize(
    ("name", "prompt", "message"),
    [
        ("", None, "Name the voter"),
        ("nobody", None, "No one named nobody has posted in this quest"),
        ("player", None, "cannot follow themself"),
        ("quest_master", None, "The quest master does not vote"),
        ("friend", 1, "decided on the whole post"),
    ],
)
def test_it_refuses_a_proxy_it_cannot_follow(vote, moderator, player, name, prompt, message):
    vote_in(vote, make_user("friend"), "1-B")
    post = _chatter(vote, player)

    with pytest.raises(ValidationError, match=message):
        _decide(vote, post, moderator, prompt=prompt, action="proxy", proxy_of=name)

    assert not Decision.objects.exists()


def test_it_refuses_to_decide_the_quest_masters_posts(client, vote, moderator, quest_master):
    post = vote_in(vote, quest_master, "Thanks for voting, everyone.")

    with pytest.raises(ValidationError, match="quest master's posts are never counted"):
        _decide(vote, post, moderator, answer={"letters": ["A"]})
    client.force_login(moderator)
    block = _block(client.get(_url(vote) + "?show=all").content.decode(), post)

    assert not Decision.objects.exists()
    assert "Decide this post" not in block


def test_it_counts_nothing_from_a_post_rejected_whole(vote, moderator, player):
    post = vote_in(vote, player, "1-B")

    _decide(vote, post, moderator, prompt=None, action="reject", reason="Sock puppet")
    tally = _tally(vote)

    assert _voters(tally, 1, "B") == []
    assert tally["excluded"] == [
        {
            "post": post.ref,
            "author": "player",
            "reason": "a moderator decided to count nothing from it",
        }
    ]


def test_it_counts_the_latest_word_on_a_post(vote, moderator, player):
    post = vote_in(vote, player, "1-B\n3-A")

    _decide(vote, post, moderator, prompt=None, action="reject", reason="Not theirs")
    _decide(vote, post, moderator, prompt=3, answer={"letters": ["C"]}, reason="Asked them")
    tally = _tally(vote)

    assert (_voters(tally, 1, "B"), _voters(tally, 3, "C")) == ([], ["player"])


def test_it_counts_a_late_vote_a_moderator_lets_in(client, vote, quest_master, moderator, player):
    chapter_services.vote_close(vote=vote, by=quest_master)
    late = vote_in(vote, player, "1-A")
    assert _reading(vote, late).excluded is not None

    _decide(vote, late, moderator, answer={"letters": ["A"]}, reason="Posted a minute late")
    tally = _tally(vote)

    assert _voters(tally, 1, "A") == ["player"]
    assert tally["excluded"] == []
    client.force_login(moderator)
    page = client.get(_url(vote) + "?show=excluded").content.decode()
    assert f'id="post-{late.ref}"' not in page  # let in: no longer listed as not counted


# --- The Mentions tab -----------------------------------------------------------


def test_it_lists_chatter_that_mentions_the_vote(client, vote, moderator, player):
    ballot = vote_in(vote, player, "1-B")
    mentioning = _chatter(vote, make_user("chatty"), "Punishing the agents seems harsh to me")
    quiet = _chatter(vote, make_user("quiet"))
    _with_mentions(vote, mentioning, "names option words of prompt 1: 'punish', 'agents'")
    _with_mentions(vote, ballot, "not chatter: never listed")
    client.force_login(moderator)

    page = client.get(_url(vote) + "?show=mentions", **HTMX).content.decode()

    assert f'id="post-{mentioning.ref}"' in page
    assert f'id="post-{quiet.ref}"' not in page and f'id="post-{ballot.ref}"' not in page
    block = _block(page, mentioning)
    assert "names option words of prompt 1: &#x27;punish&#x27;, &#x27;agents&#x27;" in block
    assert '<details class="audit-decide" open>' in block
    assert 'aria-current="page">Mentions <span class="tab-count">(1)</span></a>' in page


def test_it_says_when_no_chatter_mentions_the_vote(client, vote, moderator, player):
    _chatter(vote, player)
    client.force_login(moderator)

    page = client.get(_url(vote) + "?show=mentions").content.decode()

    assert "No post read as chatter mentions the vote." in page


@pytest.mark.parametrize("posts", [3, 20])
def test_it_lists_mentions_in_a_fixed_number_of_queries(
    client, django_assert_num_queries, vote, moderator, posts
):
    for n in range(posts):
        post = make_post(vote.chapter.quest, make_user(f"chatty{n}"), CHATTER)
        services.vote_recount(vote_id=vote.pk)
        _with_mentions(vote, post, "names the vote")
    client.force_login(moderator)

    # Four of them list the tab's page (votes/audit_pages.py; a fifth when a post
    # is held back or ruled on, none here). (The session comes from the cache; the
    # quest with the vote: one query.)
    with django_assert_num_queries(13):
        response = client.get(_url(vote) + "?show=mentions")

    assert response.content.decode().count('<article class="audit-post') == posts


# --- Every post not counted is listed, with why -----------------------------------


def test_it_lists_every_post_not_counted_with_its_reason(
    client, vote, quest_master, moderator, player
):
    first = vote_in(vote, player, "1-A")
    amended = vote_in(vote, player, "1-B")
    ruled_out = vote_in(vote, make_user("sock"), "1-A")
    _decide(vote, ruled_out, moderator, prompt=None, action="reject", reason="A sock puppet")
    chapter_services.vote_close(vote=vote, by=quest_master)
    late = vote_in(vote, make_user("late"), "1-A")
    tally = _tally(vote)

    reasons = {e["post"]: e["reason"] for e in tally["excluded"]}
    assert reasons == {
        first.ref: f"superseded by post {amended.ref}",
        ruled_out.ref: "a moderator decided to count nothing from it",
        late.ref: _reading(vote, late).excluded,
    }
    for row in Reading.objects.filter(vote=vote):  # every excluded Reading, with its reason
        reading = ReadingOut.from_json(row.data)
        if reading.excluded:
            assert reasons[reading.post_id] == reading.excluded
    client.force_login(moderator)
    page = client.get(_url(vote) + "?show=excluded").content.decode()
    assert f"Not counted: <span hx-disable>superseded by post {amended.ref}</span>" in page
