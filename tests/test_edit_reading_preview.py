"""'How this will be read' under the edit box, and under the reply box: what the worker will store.

Editing is how a player fixes a misread ballot, so the edit page reads the text
in the box as the edited post (same author, same place in the thread, the posts
before it, the edit's time and the text it replaces) and says what will count,
what will be held for a moderator and why, what will be left out and why, or
that the post reads as chatter. Each table row previews a text, saves it, lets
the worker read the saved post, and compares.
"""

import pytest
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from quest import services as quest_services
from quest.models import Post
from tests.factories import make_post, make_user, make_vote, prompt_list
from votes import previews, selectors
from votes import services as vote_services
from votes.models import Reading as ReadingRow
from votes.reading.types import PostKind, Reading

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

PROMPTS = prompt_list(
    "single",
    "single",
    options=3,
    texts={2: "Who leads the column?"},
    option_texts={2: ["The general", "The commissar"]},
)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


def _url(post: Post) -> str:
    return reverse("post-edit-reading", args=[post.quest.slug, post.ref])


def _preview(client, post: Post, body: str, **headers):
    return client.post(_url(post), {"body": body}, **{**HTMX, **headers})


def _stored(vote: Vote, post: Post) -> Reading:
    return Reading.from_json(ReadingRow.objects.get(vote=vote, post=post).data)


def _saved_and_read(vote: Vote, post: Post, body: str) -> Reading:
    """Save the edit as the edit page does, and read the post as the worker does."""
    quest_services.post_edit(post=post, body=body, by=post.author)
    vote_services.post_reading_refresh(post_id=post.pk)
    return _stored(vote, post)


# --- The edit box: the preview is what the worker stores --------------------------------


def _other_ballot_after(vote, player, post):
    make_post(vote.chapter.quest, player, "2-B")  # a later post: an amendment of the first


def _closed_after(vote, player, post):
    chapter_services.vote_close(vote=vote, by=vote.chapter.quest.quest_master)


# Each row: the post's text, the edit, what happens between posting and editing.
EDITS = [
    ("prose misread", "1 B is better", "1-B", None),
    ("a letter the prompt lacks", "1-B", "1-D", None),
    ("the first of two ballots", "1-A", "1-C", _other_ballot_after),
    ("edited after the vote closed", "1-A", "1-B", _closed_after),
    ("answers moved out of a quote", "[QUOTE]1-B[/QUOTE]", "[QUOTE]1-B[/QUOTE]\n1-B", None),
    ("a new ballot on both prompts", "Nice chapter!", "1-C\n2-A", None),
]


@pytest.mark.parametrize(("what", "before", "after", "meanwhile"), EDITS, ids=[e[0] for e in EDITS])
def test_it_previews_an_edit_as_the_worker_stores_it(vote, player, what, before, after, meanwhile):
    post = make_post(vote.chapter.quest, player, before)
    if meanwhile:
        meanwhile(vote, player, post)
    post.refresh_from_db()
    vote.refresh_from_db()

    shown = previews.edit_preview(vote=vote, post=post, body=after)
    stored = _saved_and_read(vote, post, after)

    assert stored.answers or stored.flags  # every row reads as something
    assert shown == previews.describe(stored, selectors.vote_spec(vote), after)


def test_it_reads_the_first_of_two_ballots_as_the_ballot(vote, player):
    first = make_post(vote.chapter.quest, player, "1-A")
    make_post(vote.chapter.quest, player, "2-B")
    # Read with the posts after it too, the first post would be the player's second.
    assert previews.edit_preview(vote=vote, post=first, body="1-C").kind == PostKind.BALLOT


def test_it_holds_an_edit_after_the_close_for_a_moderator(client, vote, player, quest_master):
    post = make_post(vote.chapter.quest, player, "1-A")
    chapter_services.vote_close(vote=vote, by=quest_master)
    client.force_login(player)

    text = _preview(client, post, "1-B").text

    assert "Held back for a moderator:" in text
    assert "changed after the vote closed" in text


def test_it_previews_an_unchanged_post_as_stored(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B\n2-Z")
    vote_services.post_reading_refresh(post_id=post.pk)
    shown = previews.edit_preview(vote=vote, post=post, body=post.body)
    assert shown == previews.describe(_stored(vote, post), selectors.vote_spec(vote), post.body)


# --- The edit box: what it says ----------------------------------------------------------


def test_it_says_why_a_post_will_be_held_for_a_moderator(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)

    text = _preview(client, post, "1-D\n2-A").text

    assert "<strong>Counts:</strong>" in text and "<b>A</b> The general" in text
    assert (
        "<strong>Held back for a moderator:</strong> part of this post will be held for a "
        "moderator, and not counted until one decides, because:"
    ) in text
    assert "Prompt 1: option D does not exist in prompt 1" in text
    assert '<mark class="mark-held">1-D</mark>' in text


def test_it_says_why_a_post_will_be_left_out(client, vote, player, quest_master):
    chapter_services.vote_close(vote=vote, by=quest_master)
    post = make_post(vote.chapter.quest, player, "Too late?")
    client.force_login(player)

    text = _preview(client, post, "1-B").text

    assert (
        "<strong>Not counted:</strong> this post will be left out of the tally "
        "(posted after the vote closed)."
    ) in text
    assert "Counts:" not in text and "Held back" not in text


def test_it_says_when_a_post_reads_as_chatter(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)

    text = _preview(client, post, "Lovely weather for a march.").text

    assert "This would not be read as a ballot: no answers found, so it reads as chatter" in text


def test_it_says_the_quest_masters_posts_are_never_ballots(client, vote, quest_master):
    post = make_post(vote.chapter.quest, quest_master, "Keep voting!")
    client.force_login(quest_master)
    text = _preview(client, post, "1-B").text
    assert "This would not be read as a ballot: the quest master&#x27;s posts are never" in text


def test_it_says_when_a_post_is_in_no_votes_window(client, quest, player):
    post = make_post(quest, player, "Before any chapter.")
    client.force_login(player)

    text = _preview(client, post, "1-B").text

    assert "This post is in no vote's window: it is not read as a ballot." in text


def test_it_asks_for_text_when_the_box_is_empty(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)
    assert "Type your ballot to see how it will be read." in _preview(client, post, " ").text


def test_it_answers_with_the_fragment_only(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)

    response = _preview(client, post, "1-A")

    assert response.status_code == 200
    assert "<html" not in response.text and "<body" not in response.text
    assert response.text.strip().startswith('<div class="reading-preview" hx-disable>')
    assert "<b>A</b> North" in response.text


def test_it_changes_nothing_in_the_thread(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    vote_services.post_reading_refresh(post_id=post.pk)
    client.force_login(player)

    _preview(client, post, "1-A")

    post.refresh_from_db()
    assert (post.body, post.version, post.edited_at) == ("1-B", 1, None)
    assert [a.letters for a in _stored(vote, post).answers] == [("B",)]


# --- Who may use it: the post's author, as for the edit page ----------------------------


@pytest.mark.parametrize("who", ["other player", "moderator", "quest_master"])
def test_it_refuses_everyone_but_the_author(client, vote, player, moderator, quest_master, who):
    post = make_post(vote.chapter.quest, player, "1-B")
    user = {"moderator": moderator, "quest_master": quest_master}.get(who) or make_user("other")
    client.force_login(user)

    assert _preview(client, post, "1-A").status_code == 403
    assert client.get(reverse("post-edit", args=[post.quest.slug, post.ref])).status_code == 403


def test_it_sends_visitors_to_log_in(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    response = _preview(client, post, "1-A")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hides_a_private_quest(client, vote, player, outsider, quest_master):
    quest = vote.chapter.quest
    post = make_post(quest, outsider, "1-B")
    quest_services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)
    client.force_login(outsider)  # wrote the post, but is not a member

    assert _preview(client, post, "1-A").status_code == 404


def test_it_refuses_get(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)
    assert client.get(_url(post)).status_code == 405


def test_it_is_rate_limited_as_a_preview(client, settings, vote, player):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "preview": (2, 600)}
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)

    statuses = [_preview(client, post, f"1-{letter}").status_code for letter in "ABC"]
    bbcode = client.post(reverse("bbcode-preview"), {"body": "[B]x[/B]"}, **HTMX)

    assert statuses == [200, 200, 429]
    assert bbcode.status_code == 429  # one budget for every kind of preview
    assert "Too many previews in a short time" in _preview(client, post, "1-A").text


# --- Wired to the edit page --------------------------------------------------------------


def test_it_wires_the_edit_box_to_the_posts_vote(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)

    text = client.get(reverse("post-edit", args=[post.quest.slug, post.ref])).text

    assert "How this will be read" in text
    assert f'hx-post="{_url(post)}"' in text
    assert 'hx-trigger="input changed delay:500ms from:#id_body, load"' in text
    assert 'hx-include="closest form"' in text


def test_it_keeps_the_box_when_a_save_is_refused(client, vote, player):
    post = make_post(vote.chapter.quest, player, "1-B")
    client.force_login(player)

    response = client.post(reverse("post-edit", args=[post.quest.slug, post.ref]), {"body": ""})

    assert response.status_code == 400
    assert f'hx-post="{_url(post)}"' in response.text
    assert "load" not in response.text.split(f'hx-post="{_url(post)}"')[1].split(">")[0]


def test_it_shows_no_reading_box_outside_a_votes_window(client, quest, player):
    post = make_post(quest, player, "Before any chapter.")
    client.force_login(player)
    text = client.get(reverse("post-edit", args=[quest.slug, post.ref])).text
    assert "How this will be read" not in text


# --- The reply box: the preview is what the worker stores once posted ---------------------

REPLIES = [
    ("a ballot", "1-B\n2-A"),
    ("a change of mind", "Changing my vote: 1-C"),
    ("a held answer", "1-D"),
    ("an endorsement", '[QUOTE="ally, post: {ally}"]\n1-A\n2-B\n[/QUOTE]\nI second this'),
]


@pytest.mark.parametrize(("what", "body"), REPLIES, ids=[r[0] for r in REPLIES])
def test_it_previews_a_reply_as_the_worker_stores_it(vote, player, what, body):
    quest = vote.chapter.quest
    ally = make_post(quest, make_user("ally"), "1-A\n2-B")
    make_post(quest, player, "1-A")
    body = body.format(ally=ally.ref)

    shown = previews.reading_preview(vote=vote, user=player, body=body)
    post = make_post(quest, player, body)
    vote_services.post_reading_refresh(post_id=post.pk)

    assert shown == previews.describe(_stored(vote, post), selectors.vote_spec(vote), body)
