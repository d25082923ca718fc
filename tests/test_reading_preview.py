"""'How this will be read': the reply box's preview, and the thread's "Read as" lines.

A table of texts and what the preview says about each: counted answers with
their option text, answers held back for a moderator with the reason, text in
quotes that does not count, text that is not a ballot at all.
"""

import pytest
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from tests.factories import make_post, make_vote, prompt_list
from votes import services

HTMX = {"HTTP_HX_REQUEST": "true"}

PROMPTS = prompt_list("single", "ranked", "write_in", options=3, option_texts={2: ["Red", "Gold"]})


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


def _preview(client, vote: Vote, body: str) -> str:
    url = reverse("reading-preview", args=[vote.chapter.quest.slug, vote.chapter.number])
    response = client.post(url, {"body": body}, **HTMX)
    assert response.status_code == 200
    return response.text


def _thread(client, vote: Vote) -> str:
    return client.get(reverse("quest-thread", args=[vote.chapter.quest.slug])).text


# Each row: the text typed, and phrases the preview must show.
CASES = [
    ("1-B", ["<strong>Counts:</strong>", "<b>B</b> South", "numbered answer &#x27;1-B&#x27;"]),
    ("[B]1 - c[/B]", ["<b>C</b> East"]),
    ("2: B > A", ["<b>B</b> Gold &gt; <b>A</b> Red"]),
    ("3-Marching song", ["write-in “Marching song”"]),
    ("1 - north", ["<b>A</b> North", "option text"]),
    ("1-D", ["Held back for a moderator", "Prompt 1: option D does not exist in prompt 1"]),
    ("1-A 1-B", ["Held back for a moderator", "two different answers to prompt 1"]),
    ("#1: C", ["The whole post: ballot-like text in a shape the reader does not know"]),
    (
        '[QUOTE="someone, post: 1"]1-B[/QUOTE]',
        ["This would not be read as a ballot: text inside [QUOTE]", "write your answers outside"],
    ),
    ("[SPOILER]1-B[/SPOILER]", ["This would not be read as a ballot: text inside"]),
    ("Lovely weather today.", ["This would not be read as a ballot: no answers found"]),
    ("I can't support B at all", ["This would not be read as a ballot: no answers found"]),
]


@pytest.mark.parametrize(("body", "phrases"), CASES)
def test_it_says_how_a_text_would_be_read(client, vote, player, body, phrases):
    client.force_login(player)
    text = _preview(client, vote, body)
    for phrase in phrases:
        assert phrase in text
    assert "Counts:" not in text or not any("would not be read" in p for p in phrases)


def test_it_does_not_count_quoted_answers(client, vote, player):
    client.force_login(player)
    text = _preview(client, vote, "[QUOTE]1-B[/QUOTE]\n1-A")
    assert "<b>A</b> North" in text
    assert "<b>B</b>" not in text


def test_it_marks_the_answers_in_the_escaped_text(client, vote, player):
    client.force_login(player)
    text = _preview(client, vote, '<script>alert("x")</script>\n1-B\n2-Z <b>')

    assert "<script>" not in text and "<b>" + "\n" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "&lt;b&gt;" in text
    assert '<mark class="mark-counted">1-B</mark>' in text
    assert '<mark class="mark-held">2-Z</mark> &lt;b&gt;' in text
    assert '<div class="reading-preview" hx-disable>' in text


def test_it_reads_a_change_as_the_player_would_post_it(client, vote, player):
    make_post(vote.chapter.quest, player, "1-A")
    client.force_login(player)
    text = _preview(client, vote, "Changing my vote: 1-C")
    assert "<b>C</b> East" in text


def test_it_tells_the_quest_master_their_posts_are_not_ballots(client, vote, quest_master):
    client.force_login(quest_master)
    text = _preview(client, vote, "1-B")
    assert "This would not be read as a ballot" in text
    assert "quest master" in text


def test_it_asks_for_text_when_the_box_is_empty(client, vote, player):
    client.force_login(player)
    assert "Type your ballot to see how it will be read." in _preview(client, vote, "")


def test_it_refuses_anonymous_readers(client, vote):
    url = reverse("reading-preview", args=[vote.chapter.quest.slug, vote.chapter.number])
    response = client.post(url, {"body": "1-B"}, **HTMX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_refuses_get(client, vote, player):
    client.force_login(player)
    url = reverse("reading-preview", args=[vote.chapter.quest.slug, vote.chapter.number])
    assert client.get(url).status_code == 405


# --- Wired to the thread's reply box ---------------------------------------------


def test_it_wires_the_reply_box_to_the_open_vote(client, vote, player):
    client.force_login(player)
    text = _thread(client, vote)
    url = reverse("reading-preview", args=[vote.chapter.quest.slug, vote.chapter.number])
    assert "How this will be read" in text
    assert f'hx-post="{url}"' in text
    assert 'hx-trigger="input changed delay:500ms from:#id_body"' in text


def test_it_shows_no_reading_box_without_an_open_vote(client, vote, player, quest_master):
    chapter_services.vote_close(vote=vote, by=quest_master)
    client.force_login(player)
    assert "How this will be read" not in _thread(client, vote)


def test_it_shows_no_reading_box_when_a_later_chapter_has_no_vote(
    client, vote, player, quest_master
):
    later = chapter_services.chapter_create(
        quest=vote.chapter.quest, title="After", by=quest_master
    )
    chapter_services.chapter_publish(chapter=later, by=quest_master)
    client.force_login(player)
    assert "How this will be read" not in _thread(client, vote)


# --- "Read as" lines in the thread ---------------------------------------------------


def test_it_shows_how_each_post_was_read(client, vote, player, outsider, moderator):
    quest = vote.chapter.quest
    make_post(quest, player, "1-B\n2-B>A\n3-A song")
    make_post(quest, outsider, "1-D")
    make_post(quest, moderator, "Nice chapter!")
    services.vote_recount(vote_id=vote.pk)
    chapter_services.vote_close(vote=vote, by=quest.quest_master)
    make_post(quest, player, "1-A")
    services.vote_recount(vote_id=vote.pk)

    text = _thread(client, vote)
    assert "Read as: 1-B · 2-BA · 3 write-in" in text
    assert "Held back: option D does not exist in prompt 1" in text
    assert "Not counted: " in text
    assert text.count('class="read-as') == 3


def test_it_reads_the_lines_from_stored_readings_in_one_query(
    client, django_assert_num_queries, vote, player, outsider
):
    quest = vote.chapter.quest
    for n in range(10):
        make_post(quest, player if n % 2 else outsider, f"1-{'ABC'[n % 3]}")
    services.vote_recount(vote_id=vote.pk)
    client.force_login(player)

    # user, quest, role, count, posts, the posts' readings, open vote, the vote closed
    # last, ballot vote; the session comes from the cache (quest/sessions.py)
    with django_assert_num_queries(9):
        text = _thread(client, vote)
    assert text.count('class="read-as') == 10
