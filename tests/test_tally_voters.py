"""The tally names the first voters of each option; the rest are a page (or an htmx partial) away.

A vote of hundreds of voters must not make the tally page hundreds of names
long, nor make it ask the database once per voter: the page and the voters'
list read the stored TallyRun and look up the ballots of the voters they name.
"""

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from chapters.models import Vote
from quest import services as quest_services
from quest.models import Post
from tests.factories import chapter_url, make_post, make_user, make_vote, prompt_list, vote_in
from votes import services
from votes.views.voters import PER_PAGE, VOTERS_SHOWN

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "write_in", options=3)


def _crowd(vote: Vote, count: int, body: str = "1-A\n2-Build dams") -> list[Post]:
    """`count` voters who all answer `body`, counted by one recount (as the worker would)."""
    quest = vote.chapter.quest
    posts = [make_post(quest, make_user(f"voter{i:03}"), body) for i in range(count)]
    services.vote_recount(vote_id=vote.pk)
    return posts


def _voters_url(vote: Vote, **query: object) -> str:
    return chapter_url(vote, "tally-voters") + "?" + urlencode(query)


def _names(html: str) -> list[str]:
    """The voters listed on a voters page or partial, in order."""
    listed = html.split('<ol class="voter-names"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<li>(?:<a href=\"[^\"]+\">)?([^<]+)", listed)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


def test_it_names_the_first_voters_and_links_the_rest(client, vote, player):
    _crowd(vote, 25)
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally")).content.decode()

    row = html.split('id="tp-1"', 1)[1].split("</tr>", 1)[0]  # option A
    named = re.findall(r"<a href=\"/q/[^\"]+/p/\d+/\">(voter\d+)</a>", row)
    assert named == [f"voter{i:03}" for i in range(VOTERS_SHOWN)]
    assert "voter010" not in html
    url = _voters_url(vote, prompt=1, option="A").replace("&", "&amp;")
    assert f'<a class="more-voters" href="{url}" hx-get="{url}"' in row
    assert f"and {25 - VOTERS_SHOWN} more" in row
    assert 'id="voters-1-A" hx-preserve' in row


def test_it_lists_every_voter_of_an_option_page_by_page(client, vote, player):
    posts = _crowd(vote, PER_PAGE + 5)
    client.force_login(player)

    first = client.get(_voters_url(vote, prompt=1, option="A"))
    second = client.get(_voters_url(vote, prompt=1, option="A", page=2))

    assert first.status_code == second.status_code == 200
    names = _names(first.content.decode()) + _names(second.content.decode())
    assert names == [f"voter{i:03}" for i in range(PER_PAGE + 5)]
    html = first.content.decode()
    assert "<h1>1. " in html  # a page of its own, with the prompt
    assert f"{PER_PAGE + 5} voters; 1 to {PER_PAGE} here." in html
    assert 'rel="next"' in html and "Page 1 of 2" in html
    slug = vote.chapter.quest.slug
    permalink = reverse("post-permalink", args=[slug, posts[0].ref])
    assert f'<li><a href="{permalink}">voter000</a></li>' in html


def test_it_answers_htmx_with_the_list_alone(client, vote, player):
    _crowd(vote, PER_PAGE + 1)
    client.force_login(player)

    response = client.get(_voters_url(vote, prompt=1, option="A", page=2), **HTMX)

    html = response.content.decode()
    assert "<h1>" not in html and "<html" not in html
    assert _names(html) == [f"voter{PER_PAGE:03}"]
    assert 'hx-target="#voters-1-A" hx-swap="innerHTML" rel="prev">Previous</a>' in html
    assert response["Vary"].count("HX-Request") == 1


def test_it_lists_the_voters_of_a_write_in_entry(client, vote, player):
    _crowd(vote, 12, body="1-B\n2-Build dams")
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally")).content.decode()
    entry = html.split('id="tp-2"', 1)[1].split("</section>", 1)[0]
    url = _voters_url(vote, prompt=2, entry="Build dams")
    listed = client.get(url)

    assert url.replace("&", "&amp;") in entry
    assert _names(listed.content.decode()) == [f"voter{i:03}" for i in range(12)]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({}, "Say which prompt: ?prompt=N."),
        ({"prompt": 7, "option": "A"}, "This vote has no prompt '7'."),
        ({"prompt": "x", "option": "A"}, "This vote has no prompt 'x'."),
        ({"prompt": 1, "option": "Z"}, "Prompt 1 has no option 'Z'."),
        ({"prompt": 2, "entry": "Nobody wrote this"}, "Prompt 2 has no such write-in entry."),
        ({"prompt": 1}, "Say which option (?option=A) or write-in entry (?entry=…) to list."),
    ],
)
def test_it_says_what_is_wrong_with_the_list_asked_for(client, vote, player, query, said):
    vote_in(vote, player, "1-A\n2-Build dams")
    client.force_login(player)

    response = client.get(_voters_url(vote, **query))

    assert response.status_code == 404
    assert response.content.decode() == said


def test_it_hides_the_voters_as_the_tally_hides_results(client, quest, quest_master, player):
    hidden = make_vote(
        quest, quest_master, PROMPTS, results_visibility=Vote.Visibility.AFTER_VOTING
    )
    vote_in(hidden, make_user("voter"), "1-A")
    client.force_login(player)  # has not voted

    refused = client.get(_voters_url(hidden, prompt=1, option="A"))
    vote_in(hidden, player, "1-B")
    allowed = client.get(_voters_url(hidden, prompt=1, option="A"))

    assert refused.status_code == 403
    assert "voter" not in refused.content.decode().replace("vote or", "")
    assert allowed.status_code == 200
    assert _names(allowed.content.decode()) == ["voter"]


def test_it_keeps_a_private_quests_voters_to_its_members(client, quest, quest_master, player):
    quest_services.quest_visibility_set(quest=quest, is_public=False, by=quest_master)
    vote = make_vote(quest, quest_master, PROMPTS)
    vote_in(vote, make_user("voter"), "1-A")

    anonymous = client.get(_voters_url(vote, prompt=1, option="A"))
    client.force_login(player)  # not invited
    outsider = client.get(_voters_url(vote, prompt=1, option="A"))
    client.force_login(quest_master)
    member = client.get(_voters_url(vote, prompt=1, option="A"))

    assert anonymous.status_code == outsider.status_code == 404
    assert member.status_code == 200
    assert "private" in member["Cache-Control"]


def test_it_says_the_first_count_is_under_way(client, vote, player):
    client.force_login(player)

    response = client.get(_voters_url(vote, prompt=1, option="A"))

    assert response.status_code == 503
    assert response["Retry-After"] == "3"


# --- Work that does not grow with the voters -----------------------------------------


@pytest.mark.parametrize("voters", [20, 300])
def test_the_tally_page_asks_as_many_queries_for_20_voters_as_for_300(
    client, vote, moderator, voters, django_assert_num_queries
):
    _crowd(vote, voters)
    client.force_login(moderator)

    # The vote with its quest and the latest run (for the ETag, for the page), the user,
    # the moderator's role, the write-in merges (twice),
    # the named voters' ballots, the runs for "how the vote moved": none per voter.
    with django_assert_num_queries(TALLY_PAGE_QUERIES):
        response = client.get(chapter_url(vote, "chapter-tally"))

    assert response.status_code == 200
    assert len(re.findall(r">voter\d+</a>", response.content.decode())) == 2 * VOTERS_SHOWN


@pytest.mark.parametrize("voters", [20, 300])
def test_a_voters_page_asks_as_many_queries_for_20_voters_as_for_300(
    client, vote, player, voters, django_assert_num_queries
):
    _crowd(vote, voters)
    client.force_login(player)

    with django_assert_num_queries(VOTERS_PAGE_QUERIES):
        response = client.get(_voters_url(vote, prompt=1, option="A", page=2))

    assert response.status_code == 200


# Neither counts the session (from the cache, quest/sessions.py) nor the quest
# apart from the vote (one query).
TALLY_PAGE_QUERIES = 9
VOTERS_PAGE_QUERIES = 5
