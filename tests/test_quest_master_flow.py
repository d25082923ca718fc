"""A quest master's way from a new quest to a closed vote, each step one link from the last.

A new quest asks its quest master for the first chapter (with the link); a
chapter's edit page attaches a vote through the prompt builder; chapters are
named once ("Chapter Three: …", not "Chapter 3: Chapter Three: …"); and a closed
vote is announced on the thread and on the home page with a link to its results.
"""

import re
from html import unescape

import pytest
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from tests.factories import chapter_url, make_post, make_quest, make_user, make_vote, prompt_list

pytestmark = pytest.mark.django_db

PROMPTS = prompt_list("single", "write_in")


def _text(response) -> str:
    """The page's visible text on one line: tags out, entities decoded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _links(response) -> dict[str, str]:
    """Link text -> href, for every <a> of the page."""
    found = re.findall(r'<a\b[^>]*href="([^"]*)"[^>]*>(.*?)</a>', response.content.decode(), re.S)
    return {" ".join(unescape(re.sub(r"<[^>]+>", "", text)).split()): href for href, text in found}


def test_it_asks_the_quest_master_of_a_new_quest_for_the_first_chapter(client, quest_master):
    client.force_login(quest_master)

    response = client.post(
        reverse("quest-create"), {"title": "The Long Winter", "description": ""}, follow=True
    )

    slug = response.resolver_match.kwargs["slug"]
    assert "Your quest is open" in _text(response)
    assert _links(response)["Write the first chapter"] == reverse("chapter-create", args=[slug])


def test_it_asks_only_the_quest_master_and_only_until_there_is_a_chapter(
    client, quest, quest_master, moderator, player
):
    thread = reverse("quest-thread", args=[quest.slug])
    for user in (None, player, moderator):
        client.logout()
        if user:
            client.force_login(user)
        assert "Write the first chapter" not in _text(client.get(thread))

    client.force_login(quest_master)
    assert "Write the first chapter" in _text(client.get(thread))
    chapter_services.chapter_create(quest=quest, title="Draft", by=quest_master)
    assert "Write the first chapter" not in _text(client.get(thread))


def test_it_attaches_a_vote_from_the_chapter_edit_page(qm_client, quest, quest_master):
    chapter = chapter_services.chapter_create(quest=quest, title="The Pass", by=quest_master)
    edit = reverse("chapter-edit", args=[quest.slug, chapter.number])
    builder = reverse("vote-prompts", args=[quest.slug, chapter.number])

    before = qm_client.get(edit)
    assert _links(before)["Attach a vote"] == builder
    assert "No vote yet" in _text(before)
    form = qm_client.get(builder)
    assert 'name="p-0-text"' in form.content.decode()  # one empty prompt to start from

    saved = qm_client.post(
        builder,
        {
            "op": "save",
            "p-0-number": "1",
            "p-0-kind": "single",
            "p-0-text": "Which way?",
            "p-0-o-0-letter": "A",
            "p-0-o-0-text": "Over the pass",
            "p-0-o-1-letter": "B",
            "p-0-o-1-text": "Round the lake",
            "results_visibility": "always",
        },
    )

    assert saved.status_code == 302, _text(saved)
    assert Vote.objects.get(chapter=chapter).prompts.count() == 1
    after = qm_client.get(edit)
    assert "This chapter has a vote of 1 prompt." in _text(after)
    assert _links(after)["Edit the vote's prompts"] == builder


@pytest.mark.parametrize(
    ("title", "shown", "never"),
    [
        (
            "Chapter Three: The Hundred Days",
            "Chapter Three: The Hundred Days",
            "Chapter 1: Chapter",
        ),
        ("The March", "Chapter 1: The March", None),
    ],
)
def test_it_shows_a_chapter_heading_once_on_every_page(
    client, quest, quest_master, title, shown, never
):
    vote = make_vote(quest, quest_master, PROMPTS, title=title)
    chapter_services.vote_close(vote=vote, by=quest_master)
    pages = [
        reverse("home"),
        reverse("quest-thread", args=[quest.slug]),
        reverse("chapter-index", args=[quest.slug]),
        chapter_url(vote, "chapter-detail"),
    ]
    client.force_login(quest_master)

    for url in pages:
        text = _text(client.get(url))
        assert shown in text, url
        if never:
            assert never not in text, url


def test_it_announces_a_closed_vote_on_the_thread_and_the_home_page(client, quest, quest_master):
    vote = make_vote(quest, quest_master, PROMPTS, title="The March")
    make_post(quest, make_user("voter"), "1-A\n2-Onwards")
    thread = reverse("quest-thread", args=[quest.slug])
    results = chapter_url(vote, "chapter-tally")
    assert "Vote closed" not in _text(client.get(thread))
    assert "Vote closed" not in _text(client.get(reverse("home")))

    chapter_services.vote_close(vote=vote, by=quest_master)

    for url in (thread, reverse("home")):
        response = client.get(url)
        assert "Vote closed: Chapter 1: The March — results" in _text(response), url
        assert _links(response)["results"] == results
        assert _links(response)["Chapter 1: The March"] == chapter_url(vote, "chapter-detail")
    assert client.get(results).status_code == 200  # the results are for everyone once closed


def test_it_announces_the_vote_that_closed_last(client, quest, quest_master):
    first = make_vote(quest, quest_master, PROMPTS, title="The March")
    second = make_vote(quest, quest_master, PROMPTS, title="The Crossing")  # closes the first
    chapter_services.vote_close(vote=second, by=quest_master)
    first.refresh_from_db()
    assert first.is_closed

    text = _text(client.get(reverse("quest-thread", args=[quest.slug])))

    assert "Vote closed: Chapter 2: The Crossing — results" in text
    assert "Vote closed: Chapter 1" not in text


def test_it_announces_no_vote_of_another_quest(client, quest, quest_master):
    other = make_quest(make_user("other_qm"), title="Another")
    vote = make_vote(other, other.quest_master, PROMPTS, title="Elsewhere")
    chapter_services.vote_close(vote=vote, by=other.quest_master)

    assert "Vote closed" not in _text(client.get(reverse("quest-thread", args=[quest.slug])))
