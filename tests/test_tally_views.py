"""The chapter tally as people see it: the live page and its htmx partial, JSON, BBCode, CSV.

Posts are read by calling the recount service directly (what the worker runs),
so these tests behave the same with in-process tasks and with a Redis broker.
"""

import csv
import io
import re

import pytest
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Vote
from tests.factories import chapter_url, make_user, make_vote, prompt_list, vote_in
from votes import selectors, services
from votes.models import TallyRun

HTMX = {"HTTP_HX_REQUEST": "true"}

PROMPTS = prompt_list("single", "write_in", options=3)


def _open_vote(quest, quest_master, visibility=Vote.Visibility.ALWAYS) -> Vote:
    return make_vote(quest, quest_master, PROMPTS, results_visibility=visibility)


_vote_in = vote_in


def _close(vote: Vote, by) -> None:
    chapter_services.vote_close(vote=vote, by=by)
    services.vote_recount(vote_id=vote.pk)


def _tally_url(vote: Vote, name: str = "chapter-tally") -> str:
    return chapter_url(vote, name)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return _open_vote(quest, quest_master)


# --- The page and the partial ---------------------------------------------------


def test_it_shows_a_post_in_the_tally_page(client, vote, player):
    post = _vote_in(vote, player, "1-B\n2-The Internationale")
    client.force_login(player)

    response = client.get(_tally_url(vote))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Tally: The March</h1>" in html
    assert "1 ballot counted." in html
    permalink = reverse("post-permalink", args=[vote.chapter.quest.slug, post.ref])
    assert f'<a href="{permalink}">player</a>' in html
    assert "The Internationale" in html


def test_it_shows_counts_bars_and_the_leader_in_the_partial(client, vote, player, outsider):
    first = _vote_in(vote, player, "1-B")
    _vote_in(vote, outsider, "1-A")
    _vote_in(vote, make_user("third"), "1-B")
    client.force_login(player)

    response = client.get(_tally_url(vote), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>" not in html  # only the partial
    assert html.lstrip().startswith('<div class="tally" id="tally-live"')
    assert 'hx-trigger="every 3s"' in html
    rows = _rows(html, prompt=1)
    assert rows["A"] == {"leads": False, "votes": "1", "width": "50", "voters": ["outsider"]}
    assert rows["B"] == {"leads": True, "votes": "2", "width": "100", "voters": ["player", "third"]}
    assert rows["C"] == {"leads": False, "votes": "0", "width": "0", "voters": []}
    permalink = reverse("post-permalink", args=[vote.chapter.quest.slug, first.ref])
    assert f'<a href="{permalink}">player</a>' in html


def _rows(html: str, *, prompt: int) -> dict[str, dict]:
    """Per option letter of one prompt section: leader mark, count, bar width, voters."""
    section = html.split(f'id="tp-{prompt}"', 1)[1].split("</section>", 1)[0]
    rows = {}
    for tr in re.findall(r"<tr class=\"(.*?)\">(.*?)</tr>", section, re.S):
        letter = re.search(r'<th scope="row">([A-Z])\) ', tr[1]).group(1)
        rows[letter] = {
            "leads": tr[0] == "leader",
            "votes": re.search(r'<td class="count">(\d+)</td>', tr[1]).group(1),
            "width": re.search(r'<meter class="bar"[^>]* value="(\d+)"', tr[1]).group(1),
            "voters": re.findall(r"<a href=\"[^\"]+\">([^<]+)</a>", tr[1]),
        }
    return rows


def test_it_answers_304_when_the_etag_still_matches(client, vote, player):
    _vote_in(vote, player, "1-A")
    client.force_login(player)
    first = client.get(_tally_url(vote), **HTMX)
    etag = first["ETag"]

    again = client.get(_tally_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert etag
    assert again.status_code == 304
    assert again.content == b""


def test_it_changes_the_etag_when_a_post_changes_the_tally(client, vote, player, outsider):
    _vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = client.get(_tally_url(vote), **HTMX)["ETag"]

    _vote_in(vote, outsider, "1-C")
    response = client.get(_tally_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert _rows(response.content.decode(), prompt=1)["C"]["voters"] == ["outsider"]


def test_it_stops_polling_with_286_once_the_tally_is_final(client, vote, quest_master, player):
    _vote_in(vote, player, "1-A")
    client.force_login(player)
    etag = client.get(_tally_url(vote), **HTMX)["ETag"]

    _close(vote, quest_master)
    response = client.get(_tally_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 286
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["ETag"] != etag
    html = response.content.decode()
    assert "<strong>Final tally</strong>: the vote is closed." in html
    assert "hx-trigger" not in html
    assert _rows(html, prompt=1)["A"]["voters"] == ["player"]


def test_it_shows_the_final_tally_page_with_status_200(client, vote, quest_master, player):
    _vote_in(vote, player, "1-A")
    _close(vote, quest_master)
    client.force_login(player)

    response = client.get(_tally_url(vote))

    assert response.status_code == 200
    assert "Final tally" in response.content.decode()


def test_it_404s_for_a_chapter_that_does_not_exist(client, vote, player):
    client.force_login(player)
    slug = vote.chapter.quest.slug

    for name in ("chapter-tally", "chapter-tally-json", "chapter-tally-bbcode"):
        assert client.get(reverse(name, args=[slug, 99])).status_code == 404
    assert client.get(reverse("chapter-ballots-csv", args=[slug, 99])).status_code == 404
    assert client.get(reverse("chapter-tally", args=["no-such-quest", 1])).status_code == 404


# --- Who sees the results -------------------------------------------------------


@pytest.mark.parametrize("viewer", ["quest_master", "moderator"])
def test_it_shows_after_close_results_to_staff_while_open(client, quest, viewer, request):
    vote = _open_vote(quest, quest.quest_master, Vote.Visibility.AFTER_CLOSE)
    _vote_in(vote, make_user("voter"), "1-B")
    client.force_login(request.getfixturevalue(viewer))

    html = client.get(_tally_url(vote), **HTMX).content.decode()

    assert "Results are shown when the vote closes." not in html
    assert _rows(html, prompt=1)["B"]["voters"] == ["voter"]


def test_it_hides_after_close_results_from_a_player_until_closed(client, quest, player):
    vote = _open_vote(quest, quest.quest_master, Vote.Visibility.AFTER_CLOSE)
    _vote_in(vote, player, "1-B")
    client.force_login(player)

    hidden = client.get(_tally_url(vote), **HTMX).content.decode()
    json_status = client.get(_tally_url(vote, "chapter-tally-json")).status_code
    _close(vote, quest.quest_master)
    shown = client.get(_tally_url(vote), **HTMX).content.decode()

    assert "Results are shown when the vote closes." in hidden
    assert 'id="tp-1"' not in hidden
    assert "player</a>" not in hidden
    assert json_status == 403
    assert _rows(shown, prompt=1)["B"]["voters"] == ["player"]


def test_it_shows_after_voting_results_to_a_player_once_they_have_a_ballot(
    client, quest, player, outsider
):
    vote = _open_vote(quest, quest.quest_master, Vote.Visibility.AFTER_VOTING)
    _vote_in(vote, outsider, "1-A")
    client.force_login(player)

    before = client.get(_tally_url(vote), **HTMX).content.decode()
    _vote_in(vote, player, "1-C")
    after = client.get(_tally_url(vote), **HTMX).content.decode()

    assert "Results are shown once you have voted." in before
    assert 'id="tp-1"' not in before
    assert _rows(after, prompt=1)["A"]["voters"] == ["outsider"]
    assert _rows(after, prompt=1)["C"]["voters"] == ["player"]


def test_it_answers_with_results_not_304_once_the_player_has_voted(client, quest, player, outsider):
    vote = _open_vote(quest, quest.quest_master, Vote.Visibility.AFTER_VOTING)
    _vote_in(vote, outsider, "1-A")
    client.force_login(player)
    etag = client.get(_tally_url(vote), **HTMX)["ETag"]

    _vote_in(vote, player, "2-Something stirring")
    response = client.get(_tally_url(vote), HTTP_IF_NONE_MATCH=etag, **HTMX)

    assert response.status_code == 200
    assert _rows(response.content.decode(), prompt=1)["A"]["voters"] == ["outsider"]


# --- What only moderators see ---------------------------------------------------

HELD_BACK = "held back for a moderator</span>"


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("quest_master", True), ("moderator", True), ("player", False), ("outsider", False)],
)
def test_it_shows_the_held_back_count_to_moderators_only(client, vote, viewer, sees, request):
    _vote_in(vote, make_user("voter"), "1-D")  # there is no option D
    assert selectors.latest_tally(vote).data["flagged"], "the reader should hold 1-D back"
    client.force_login(request.getfixturevalue(viewer))

    html = client.get(_tally_url(vote), **HTMX).content.decode()

    assert (f'<span class="badge warn">1 {HELD_BACK}' in html) is sees
    assert ("Held back for a moderator</h2>" in html) is sees


# --- JSON, BBCode, CSV ----------------------------------------------------------


def test_it_serves_the_latest_tally_run_as_json(client, vote, player, outsider):
    _vote_in(vote, player, "1-B\n2-Katyusha")
    _vote_in(vote, outsider, "1-A")
    client.force_login(player)

    response = client.get(_tally_url(vote, "chapter-tally-json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data == TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first().data
    assert data["format"] == "quest-tally/1"
    assert data["quest"] == vote.chapter.quest.slug
    assert data["chapter"] == vote.chapter.number
    assert data["status"] == "open"
    assert data["ballots"] == 2
    first, second = data["prompts"]
    assert first["options"][0] == {
        "letter": "A",
        "text": "North",
        "votes": 1,
        "voters": ["outsider"],
    }
    assert first["options"][1]["voters"] == ["player"]
    assert first["leaders"] == ["A", "B"]
    assert [(e["text"], e["voters"]) for e in second["entries"]] == [("Katyusha", ["player"])]
    assert data["flagged"] == []


def test_it_serves_forum_bbcode_with_a_hidden_marker_and_post_links(client, vote, player):
    post = _vote_in(vote, player, "1-B")
    client.force_login(player)

    response = client.get(_tally_url(vote, "chapter-tally-bbcode"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    first_line = text.splitlines()[0]
    assert "#####" in first_line
    assert first_line.startswith("[COLOR=transparent]")
    permalink = "http://testserver" + reverse(
        "post-permalink", args=[vote.chapter.quest.slug, post.ref]
    )
    assert f"[url={permalink}]player[/url]" in text
    assert "Where do we march?" in text


def test_it_serves_the_ballots_as_csv(client, vote, player):
    post = _vote_in(vote, player, "1-B\n2-Katyusha")
    _vote_in(vote, make_user("voter"), "1-D")
    client.force_login(player)

    response = client.get(_tally_url(vote, "chapter-ballots-csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    assert response.streaming  # a row at a time, however many voters
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert rows[0] == ["voter", "post", "prompt", "answer", "status"]
    assert ["player", str(post.ref), "1", "B", "counted"] in rows
    assert [r for r in rows[1:] if r[0] == "voter"][0][4] == "held back"


# --- Query counts ---------------------------------------------------------------

# The vote with its quest and the latest run are looked up once (kept on the
# request: the page shows the run its ETag names). The user (the session comes
# from the cache, quest/sessions.py), the moderator check, the ballots (for
# voter links) and the runs' times and the runs kept for "how the vote moved"
# make the rest, with the write-in merges staff see (once for the ETag, once
# for the page); none of it grows with the voters.
QUERIES = 9


@pytest.mark.parametrize("voters", [3, 30])
def test_it_renders_the_partial_in_a_fixed_number_of_queries(
    client, vote, moderator, voters, django_assert_num_queries
):
    for i in range(voters):
        _vote_in(vote, make_user(f"voter{i:02}"), f"1-{'ABC'[i % 3]}\n2-Song number {i}")
    client.force_login(moderator)

    with django_assert_num_queries(QUERIES):
        response = client.get(_tally_url(vote), **HTMX)

    assert response.status_code == 200
    assert response.content.decode().count('href="/q/') >= voters
