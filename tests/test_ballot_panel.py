"""The "Your ballot" panel on the chapter page (issue 13): what is counted for you, from
which post, what is held for a moderator and why, whose ballot yours follows. It polls its
own URL (issue 14, tests/test_tally_poll_shared.py); pages opened before that still poll the
tally with `?with=ballot`, and get it there (hx-swap-oob), as tested here.

Posts are read and counted by calling the recount directly, as the worker would.
"""

import re

import pytest
from django.urls import reverse

from tests.factories import chapter_url, make_user, make_vote, prompt_list, vote_in
from votes import audit, selectors, services

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "multi", "write_in", options=3)
POLL = "?with=ballot"


@pytest.fixture
def vote(quest, quest_master):
    return make_vote(quest, quest_master, PROMPTS)


def _panel(html: str) -> str:
    start = html.index('<div id="ballot-panel"')
    return html[start : html.index("</ul>", start)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _link(vote, ref: int) -> str:
    return reverse("post-permalink", args=[vote.chapter.quest.slug, ref])


# --- What it says ---------------------------------------------------------------------


def test_it_says_what_is_counted_for_you_and_from_which_post(vote, player):
    first = vote_in(vote, player, "1-B\n2-A, C")
    later = vote_in(vote, player, "3-more tractors")

    panel = selectors.ballot_panel(vote=vote, user=player)

    rows = {p.number: p for p in panel.prompts}
    assert rows[1].counted["options"] == [{"letter": "B", "text": "South"}]
    assert rows[1].post == first.ref
    assert [o["letter"] for o in rows[2].counted["options"]] == ["A", "C"]
    assert rows[3].counted["text"] == "more tractors"  # as written: no prefix, no quotes
    assert rows[3].post == later.ref
    assert panel.held == [] and panel.not_counted == []


def test_it_says_what_is_held_for_a_moderator_and_why(vote, player):
    post = vote_in(vote, player, "1-D")

    panel = selectors.ballot_panel(vote=vote, user=player)

    (row,) = [p for p in panel.prompts if p.number == 1]
    assert row.counted is None
    assert row.held == [{"post": post.ref, "reason": "option D does not exist in prompt 1"}]


def test_it_says_whose_ballot_yours_follows(vote, player):
    vote_in(vote, make_user("anya"), "1-C\n2-B")
    proxy = vote_in(vote, player, "[X] anya")

    panel = selectors.ballot_panel(vote=vote, user=player)

    assert panel.following == ["anya"]
    rows = {p.number: p for p in panel.prompts}
    assert (rows[1].post, rows[1].follows) == (proxy.ref, {"voter": "anya"})
    assert rows[1].counted["options"] == [{"letter": "C", "text": "East"}]


def test_it_says_which_post_an_endorsement_copies(vote, player):
    anya = vote_in(vote, make_user("anya"), "1-C")
    vote_in(vote, player, f'[QUOTE="anya, post: {anya.ref}"]1-C[/QUOTE]\nI second this.')

    panel = selectors.ballot_panel(vote=vote, user=player)

    assert panel.prompts[0].follows == {"post": anya.ref}
    assert panel.following == []  # a copy of a post, not a proxy: it does not move with anya


def test_it_follows_a_moderators_proxy_ruling(vote, moderator, player):
    vote_in(vote, make_user("anya"), "1-A")
    post = vote_in(vote, player, "I'm with anya on this one")
    audit.decision_record(
        vote=vote,
        post=post,
        prompt=None,
        action="proxy",
        answer=None,
        proxy_of="anya",
        reason="Asked to follow anya",
        by=moderator,
    )
    services.vote_recount(vote_id=vote.pk)

    panel = selectors.ballot_panel(vote=vote, user=player)

    assert panel.following == ["anya"]


def test_it_says_why_a_post_is_not_counted(vote, player):
    first = vote_in(vote, player, "1-A")
    vote_in(vote, player, "Revised vote:\n1-B")

    panel = selectors.ballot_panel(vote=vote, user=player)

    assert [e["post"] for e in panel.not_counted] == [first.ref]


def test_it_has_no_panel_for_the_quest_master_or_a_visitor(client, vote, quest_master):
    from django.contrib.auth.models import AnonymousUser

    assert selectors.ballot_panel(vote=vote, user=quest_master) is None
    assert selectors.ballot_panel(vote=vote, user=AnonymousUser()) is None


# --- On the chapter page, and in the tally's poll ------------------------------------------


def test_it_shows_the_panel_on_the_chapter_page_without_javascript(client, vote, player):
    post = vote_in(vote, player, "1-B\n3-Kalinka [b]loud[/b]")
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-detail")).content.decode()

    panel = _panel(html)
    assert "hx-swap-oob" not in panel
    text = _text(panel)
    assert f"1. Where do we march? B) South from post #{post.ref}" in text
    assert "3. What do we sing on the way? Kalinka loud" in text
    assert f'href="{_link(vote, post.ref)}"' in panel
    # The panel polls on its own; the tally's loader no longer asks for it.
    assert f'hx-get="{chapter_url(vote, "chapter-ballot-panel")}"' in panel
    assert f'hx-get="{chapter_url(vote, "chapter-tally")}"' in html
    assert POLL not in html


def test_it_sends_the_panel_with_the_tally_poll_from_the_chapter_page(client, vote, player):
    vote_in(vote, player, "1-B")
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally") + POLL, **HTMX).content.decode()

    assert html.lstrip().startswith('<div class="tally" id="tally-live"')
    assert f'hx-get="{chapter_url(vote, "chapter-tally")}{POLL}"' in html  # polls on with it
    assert '<div id="ballot-panel" class="ballot-panel" hx-swap-oob="true">' in html


def test_it_sends_no_panel_to_the_tally_page_or_a_non_voter(client, vote, quest_master, player):
    vote_in(vote, player, "1-B")
    client.force_login(player)
    assert "ballot-panel" not in client.get(chapter_url(vote, "chapter-tally"), **HTMX).text
    assert "ballot-panel" not in client.get(chapter_url(vote, "chapter-tally") + POLL).text
    client.force_login(quest_master)
    assert "ballot-panel" not in client.get(chapter_url(vote, "chapter-tally") + POLL, **HTMX).text


def test_it_revalidates_the_poll_with_the_players_ballot(client, vote, player):
    vote_in(vote, player, "1-B")
    client.force_login(player)
    url = chapter_url(vote, "chapter-tally") + POLL

    etag = client.get(url, **HTMX)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 304

    vote_in(vote, player, "Revised vote:\n1-B\n2-A")  # the tally changes, and the panel with it
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert changed.status_code == 200
    assert "2. Who comes with us? A) The scouts" in _text(_panel(changed.content.decode()))


def test_it_changes_the_polls_etag_when_only_the_players_ballot_changes(client, vote, player):
    # The same post re-read as a different post of the player: the tally is the same.
    vote_in(vote, player, "1-B")
    client.force_login(player)
    url = chapter_url(vote, "chapter-tally") + POLL
    etag = client.get(url, **HTMX)["ETag"]

    vote_in(vote, player, "Revised vote:\n1-B")  # counted from another post, same counts

    response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200
    assert response["ETag"] != etag
