"""What a closed vote decided: the final tally, ties, adopted write-ins, the next chapter.

Posts are counted by calling the recount service directly (what the worker
runs), so these tests behave the same with in-process tasks and with Redis.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from chapters import services as chapter_services
from chapters.models import Chapter, Vote, VoteEvent
from quest.models import Post
from tests.factories import make_user, make_vote, prompt_list, vote_in
from votes import selectors, services
from votes.models import Outcome, TallyRun

PROMPTS = prompt_list(
    "single",
    "single",
    "write_in",
    options=3,
    texts={2: "Do we sing?"},
    option_texts={2: ["Yes", "No"]},
)

SONG = "The Internationale"


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


@pytest.fixture
def tied_vote(vote, player, outsider) -> Vote:
    """Closed with prompt 1 tied between A and B; prompt 2 won by A; one write-in."""
    _vote_in(vote, player, f"1-A\n2-A\n3-{SONG}")
    _vote_in(vote, outsider, "1-B\n2-A")
    _close(vote)
    return vote


_vote_in = vote_in


def _close(vote: Vote) -> None:
    chapter_services.vote_close(vote=vote, by=vote.chapter.quest.quest_master)
    services.vote_recount(vote_id=vote.pk)
    vote.refresh_from_db()


def _finals(vote: Vote) -> list[TallyRun]:
    return list(TallyRun.objects.filter(vote=vote, is_final=True))


def _url(vote: Vote, name: str) -> str:
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _result(vote: Vote, number: int) -> dict:
    return next(r for r in selectors.results(vote) if r["number"] == number)


# --- Freezing the final tally ----------------------------------------------------


def test_it_freezes_one_final_tally_when_the_vote_closes(vote, player):
    _vote_in(vote, player, "1-C")
    assert _finals(vote) == []

    _close(vote)

    [final] = _finals(vote)
    assert final == selectors.latest_tally(vote)
    assert final.data["status"] == "closed"
    assert final.data["prompts"][0]["leaders"] == ["C"]


def test_it_keeps_one_final_tally_through_later_recounts(vote, player, outsider):
    _vote_in(vote, player, "1-C")
    _close(vote)
    _vote_in(vote, outsider, "1-A")  # too late: excluded, which changes the tally

    services.vote_recount(vote_id=vote.pk)

    [final] = _finals(vote)
    assert final == selectors.latest_tally(vote)
    assert [e["author"] for e in final.data["excluded"]] == ["outsider"]
    assert final.data["prompts"][0]["options"][0]["votes"] == 0
    assert TallyRun.objects.filter(vote=vote).count() >= 2


def test_it_unfreezes_the_tally_when_the_vote_is_reopened(vote, quest_master, player):
    _vote_in(vote, player, "1-C")
    _close(vote)

    chapter_services.vote_reopen(
        vote=vote,
        closes_at=timezone.now() + timedelta(days=1),
        by=quest_master,
        reason="A player was locked out.",
    )
    services.vote_recount(vote_id=vote.pk)

    assert _finals(vote) == []
    assert selectors.latest_tally(vote).data["status"] == "open"
    assert selectors.results(vote) == []


def test_it_freezes_again_when_a_reopened_vote_closes(vote, quest_master, player):
    _vote_in(vote, player, "1-C")
    _close(vote)
    chapter_services.vote_reopen(
        vote=vote, closes_at=None, by=quest_master, reason="A player was locked out."
    )
    _vote_in(vote, make_user("latecomer"), "1-B")

    _close(vote)

    [final] = _finals(vote)
    assert final.data["prompts"][0]["leaders"] == ["B", "C"]


# --- Ties: the quest master decides ---------------------------------------------


def test_it_reports_a_tie_as_undecided(tied_vote):
    first, second = _result(tied_vote, 1), _result(tied_vote, 2)

    assert first["decided"] == []
    assert first["tied"] == ["A", "B"]
    assert first["how"] == "tie: the quest master decides"
    assert second["decided"] == [{"letter": "A", "text": "Yes", "votes": 2}]
    assert second["tied"] == []
    assert second["how"] == "most votes"
    block = selectors.results_block(tied_vote)
    assert block.count("Tie between") == 1
    assert "Tie between A and B: the quest master decides." in block


@pytest.mark.parametrize("persona", ["player", "moderator", "outsider"])
def test_it_lets_only_the_quest_master_settle_a_tie(client, tied_vote, persona, request):
    client.force_login(request.getfixturevalue(persona))

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 1, "letters": ["A"]})

    assert response.status_code == 403
    assert not Outcome.objects.exists()
    assert _result(tied_vote, 1)["decided"] == []


def test_it_settles_a_tie_with_the_quest_masters_pick(client, tied_vote, quest_master):
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 1, "letters": ["B"]})

    assert response.status_code == 302
    assert response["Location"] == _url(tied_vote, "chapter-tally") + "#result-1"
    assert _messages(response) == ["Prompt 1: decided B."]
    first = _result(tied_vote, 1)
    assert first["decided"] == [{"letter": "B", "text": "South", "votes": 1}]
    assert first["how"] == "tie between A and B, settled by quest_master"
    assert (first["tie"], first["tied"]) == (["A", "B"], [])
    event = VoteEvent.objects.get(vote=tied_vote, kind=VoteEvent.Kind.OUTCOME_PICKED)
    assert (event.by, event.data["picked"]) == (quest_master, ["B) South"])
    assert "Decided: B) South, 1 vote (tie between A and B, settled by quest_master)" in (
        selectors.results_block(tied_vote)
    )


@pytest.mark.parametrize(
    ("prompt", "letters", "message"),
    [
        (1, ["C"], "Pick among the tied options: A, B."),
        (1, [], "Pick among the tied options: A, B."),
        (2, ["B"], "Prompt 2 has no tie to settle."),
        (9, ["A"], "The vote has no prompt 9."),
    ],
)
def test_it_refuses_a_pick_outside_the_tie(
    client, tied_vote, quest_master, prompt, letters, message
):
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": prompt, "letters": letters})

    assert response.status_code == 302
    assert response["Location"].endswith(f"/tally/#result-{prompt}")
    assert _messages(response) == [message]
    assert not Outcome.objects.exists()
    assert _result(tied_vote, 1)["tied"] == ["A", "B"]


def test_it_refuses_a_pick_before_the_vote_closes(vote, quest_master, player, outsider):
    _vote_in(vote, player, "1-A")
    _vote_in(vote, outsider, "1-B")

    with pytest.raises(ValidationError, match="close it first"):
        services.outcome_pick(vote=vote, prompt=1, letters=["A"], by=quest_master)


# --- Changing a pick: said, with a reason, on record -------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_it_refuses_to_change_a_pick_without_a_reason(client, tied_vote, quest_master):
    services.outcome_pick(vote=tied_vote, prompt=1, letters=["A"], by=quest_master)
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 1, "letters": ["B"]})

    assert _messages(response) == [services.CHANGE_REASON_REQUIRED]
    assert Outcome.objects.get(vote=tied_vote, prompt=1).letters == ["A"]
    assert not VoteEvent.objects.filter(kind=VoteEvent.Kind.OUTCOME_CHANGED).exists()


def test_it_says_a_pick_changed_and_records_from_what_and_why(client, tied_vote, quest_master):
    services.outcome_pick(vote=tied_vote, prompt=1, letters=["A"], by=quest_master)
    client.force_login(quest_master)

    response = client.post(
        _url(tied_vote, "vote-outcome"),
        {"prompt": 1, "letters": ["B"], "reason": "The south road is open again"},
    )

    assert _messages(response) == ["Prompt 1: changed from A to B."]
    assert _result(tied_vote, 1)["decided"] == [{"letter": "B", "text": "South", "votes": 1}]
    assert _result(tied_vote, 1)["reason"] == "The south road is open again"
    event = VoteEvent.objects.get(vote=tied_vote, kind=VoteEvent.Kind.OUTCOME_CHANGED)
    assert (event.by, event.reason) == (quest_master, "The south road is open again")
    assert (event.data["was"], event.data["picked"]) == (["A) North"], ["B) South"])
    assert ": The south road is open again)" in selectors.results_block(tied_vote)


def test_it_records_nothing_when_the_pick_is_already_the_decision(client, tied_vote, quest_master):
    services.outcome_pick(vote=tied_vote, prompt=1, letters=["A"], by=quest_master)
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 1, "letters": ["A"]})

    assert _messages(response) == ["Prompt 1: A was already the decision; nothing changed."]
    assert VoteEvent.objects.filter(vote=tied_vote, kind__startswith="outcome_").count() == 1


def test_it_names_the_pick_who_and_why_in_the_votes_record(client, tied_vote, quest_master):
    services.outcome_pick(vote=tied_vote, prompt=1, letters=["A"], by=quest_master, reason="Coin")
    services.outcome_pick(
        vote=tied_vote, prompt=1, letters=["B"], by=quest_master, reason="The road is open"
    )
    services.write_in_adopt(vote=tied_vote, prompt=3, text=SONG, by=quest_master)
    client.force_login(quest_master)

    page = client.get(_url(tied_vote, "vote-events")).content.decode()

    rows = re.findall(r'<tr class="vote-event vote-event-(\w+)">(.*?)</tr>', page, re.S)
    text = {kind: re.sub(r"<[^>]+>|\s+", " ", row) for kind, row in rows}
    assert "Tie settled: prompt 1: A) North quest_master Coin" in " ".join(
        text["outcome_picked"].split()
    )
    assert (
        "Tie decision changed: prompt 1: from A) North to B) South quest_master The road is open"
        in (" ".join(text["outcome_changed"].split()))
    )
    assert f"Write-in adopted: prompt 3: “{SONG}” quest_master" in " ".join(
        text["write_in_adopted"].split()
    )


# --- Shown at once: the htmx answer, and no stale 304 -----------------------------


def test_it_answers_htmx_with_the_tally_showing_the_decision(client, tied_vote, quest_master):
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 1, "letters": ["B"]}, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div class="tally" id="tally-live"')
    assert 'role="status" tabindex="-1" autofocus>Prompt 1: decided B.</p>' in page
    assert re.search(r"Decided:</strong>\s*B\) South \(1 vote\)", page)
    assert 'aria-pressed="true" disabled>B) South: decided</button>' in page
    assert ">Change to A) North</button>" in page
    assert "Tie between A, B: the quest master decides." not in page
    assert _messages(response) == []  # nothing left over for another page


def test_it_answers_htmx_with_why_a_call_was_refused(client, tied_vote, quest_master):
    services.outcome_pick(vote=tied_vote, prompt=1, letters=["A"], by=quest_master)
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 1, "letters": ["B"]}, **HTMX)

    notice = 'class="notice call-notice error" role="status" tabindex="-1" autofocus>'
    assert notice + services.CHANGE_REASON_REQUIRED in response.content.decode()


def test_it_answers_htmx_above_the_tally_when_no_result_can_hold_the_answer(
    client, tied_vote, quest_master
):
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"letters": ["B"]}, **HTMX)

    page = response.content.decode()
    notice = 'class="notice call-notice error" role="status" tabindex="-1" autofocus>'
    assert page.index(notice + "Choose an option or an entry.") < page.index('id="result-1"')


def test_it_gives_the_page_a_new_etag_once_a_tie_is_settled(client, tied_vote, quest_master):
    client.force_login(quest_master)
    etag = client.get(_url(tied_vote, "chapter-tally"))["ETag"]

    client.post(_url(tied_vote, "vote-outcome"), {"prompt": 1, "letters": ["B"]})
    response = client.get(_url(tied_vote, "chapter-tally"), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Prompt 1: decided B.") == 1  # the message, shown once, here
    assert "B) South: decided" in page
    assert "ETag" not in response  # a page showing a message is not one to answer 304 for
    fresh = client.get(_url(tied_vote, "chapter-tally"))
    again = client.get(_url(tied_vote, "chapter-tally"), HTTP_IF_NONE_MATCH=fresh["ETag"])
    assert "Prompt 1: decided B." not in fresh.content.decode()
    assert again.status_code == 304


def test_it_gives_the_quest_master_and_a_moderator_different_etags(
    client, tied_vote, quest_master, moderator
):
    client.force_login(quest_master)
    master = client.get(_url(tied_vote, "chapter-tally"))["ETag"]
    client.force_login(moderator)

    response = client.get(_url(tied_vote, "chapter-tally"), HTTP_IF_NONE_MATCH=master)

    assert response.status_code == 200
    assert "Settle the tie" not in response.content.decode()


def test_it_serves_json_with_the_quest_masters_calls(client, tied_vote, quest_master):
    services.outcome_pick(vote=tied_vote, prompt=1, letters=["B"], by=quest_master, reason="Coin")
    services.write_in_adopt(vote=tied_vote, prompt=3, text=SONG, by=quest_master)
    client.force_login(quest_master)

    data = client.get(_url(tied_vote, "chapter-tally-json")).json()

    first, third = data["prompts"][0], data["prompts"][2]
    assert first["outcome"] == {
        "letters": ["B"],
        "write_ins": [],
        "by": "quest_master",
        "reason": "Coin",
    }
    assert third["outcome"]["write_ins"] == [SONG]
    assert "outcome" not in data["prompts"][1]
    assert (
        TallyRun.objects.get(vote=tied_vote, is_final=True).data["prompts"][0].get("outcome")
        is None
    )


def test_it_withdraws_an_adopted_write_in_with_a_reason(client, tied_vote, quest_master):
    services.write_in_adopt(vote=tied_vote, prompt=3, text=SONG, by=quest_master)
    client.force_login(quest_master)

    refused = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 3, "withdraw": SONG})
    response = client.post(
        _url(tied_vote, "vote-outcome"),
        {"prompt": 3, "withdraw": SONG, "reason": "We sing it next chapter"},
    )

    assert _messages(refused) == ["Say why you withdraw it: the reason is kept on record."]
    assert _messages(response)[-1] == f"Prompt 3: “{SONG}” is no longer adopted."
    assert _result(tied_vote, 3)["adopted"] == []
    event = VoteEvent.objects.get(kind=VoteEvent.Kind.WRITE_IN_WITHDRAWN)
    assert (event.data["text"], event.reason) == (SONG, "We sing it next chapter")


def test_it_exports_the_decisions_and_the_last_counted_post_as_bbcode(
    client, tied_vote, quest_master, player
):
    last = Post.objects.filter(quest=tied_vote.chapter.quest).order_by("-seq").first()
    _vote_in(tied_vote, make_user("latecomer"), "1-A")  # after the close: excluded
    services.vote_recount(vote_id=tied_vote.pk)
    services.outcome_pick(
        vote=tied_vote, prompt=1, letters=["B"], by=quest_master, reason="The road is open"
    )
    services.write_in_adopt(vote=tied_vote, prompt=3, text=SONG, by=quest_master)
    client.force_login(player)

    text = client.get(_url(tied_vote, "chapter-tally-bbcode")).content.decode()

    assert f"Tally as of post #{last.ref}\n[B]The vote is closed.[/B]\n" in text
    assert (
        "[B]Decided:[/B] B) South (tie between A and B, settled by quest_master: The road is open)"
    ) in text
    assert "[B]Decided:[/B] A) Yes (most votes)" in text
    assert f"[B]Adopted:[/B] {SONG}" in text


# --- Write-ins ------------------------------------------------------------------


def test_it_adopts_a_write_in_entry(client, tied_vote, quest_master):
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 3, "write_in": SONG})

    assert _messages(response) == [f"Prompt 3: adopted “{SONG}”."]
    assert _result(tied_vote, 3)["adopted"] == [SONG]
    assert f"Adopted: {SONG}" in selectors.results_block(tied_vote)
    assert VoteEvent.objects.filter(vote=tied_vote, kind=VoteEvent.Kind.WRITE_IN_ADOPTED).exists()


def test_it_adopts_a_write_in_only_once(tied_vote, quest_master):
    services.write_in_adopt(vote=tied_vote, prompt=3, text=SONG, by=quest_master)

    services.write_in_adopt(vote=tied_vote, prompt=3, text=SONG, by=quest_master)

    assert Outcome.objects.get(vote=tied_vote, prompt=3).write_ins == [SONG]
    assert VoteEvent.objects.filter(kind=VoteEvent.Kind.WRITE_IN_ADOPTED).count() == 1


def test_it_refuses_to_adopt_text_that_is_not_an_entry(client, tied_vote, quest_master):
    client.force_login(quest_master)

    response = client.post(_url(tied_vote, "vote-outcome"), {"prompt": 3, "write_in": "Kalinka"})

    assert _messages(response) == ["Adopt one of the entries of the final tally."]
    assert not Outcome.objects.exists()


def test_it_adopts_a_write_in_of_several_lines_as_a_browser_sends_it(
    client, vote, quest_master, player
):
    # Browsers send form values with CRLF line ends, whatever the page held.
    _vote_in(vote, player, "3-Sing the anthem\nthen march north")
    _close(vote)
    [entry] = _result(vote, 3)["entries"]
    assert "\n" in entry["text"]
    client.force_login(quest_master)

    response = client.post(
        _url(vote, "vote-outcome"), {"prompt": 3, "write_in": entry["text"].replace("\n", "\r\n")}
    )

    assert _messages(response) == [f"Prompt 3: adopted “{entry['text']}”."]
    assert _result(vote, 3)["adopted"] == [entry["text"]]


# --- Writing the next chapter ----------------------------------------------------


def test_it_drafts_the_next_chapter_with_the_results_on_top(client, tied_vote, quest_master):
    client.force_login(quest_master)
    services.outcome_pick(vote=tied_vote, prompt=1, letters=["A"], by=quest_master)

    response = client.post(_url(tied_vote, "chapter-next"))

    draft = Chapter.objects.get(follows_vote=tied_vote)
    assert response.status_code == 302
    assert response["Location"] == reverse("chapter-edit", args=[draft.quest.slug, draft.number])
    assert draft.status == Chapter.Status.DRAFT
    assert draft.number == tied_vote.chapter.number + 1
    assert draft.body.startswith(selectors.results_block(tied_vote))
    assert draft.body.startswith("[B]Results of the vote on The March[/B]")
    assert "Decided: A) North, 1 vote (tie between A and B, settled by quest_master)" in draft.body


def test_it_returns_the_same_draft_when_asked_twice(client, tied_vote, quest_master):
    client.force_login(quest_master)
    first = client.post(_url(tied_vote, "chapter-next"))

    second = client.post(_url(tied_vote, "chapter-next"))

    assert second["Location"] == first["Location"]
    assert Chapter.objects.filter(follows_vote=tied_vote).count() == 1
    assert Chapter.objects.filter(quest=tied_vote.chapter.quest).count() == 2


@pytest.mark.parametrize("persona", ["player", "moderator"])
def test_it_lets_only_the_quest_master_draft_the_next_chapter(client, tied_vote, persona, request):
    client.force_login(request.getfixturevalue(persona))

    response = client.post(_url(tied_vote, "chapter-next"))

    assert response.status_code == 403
    assert not Chapter.objects.filter(follows_vote=tied_vote).exists()


def test_it_drafts_no_next_chapter_while_the_vote_is_open(client, vote, quest_master, player):
    _vote_in(vote, player, "1-A")
    client.force_login(quest_master)

    response = client.post(_url(vote, "chapter-next"))

    assert response.status_code == 302
    assert response["Location"] == _url(vote, "chapter-tally")
    assert _messages(response) == ["Close the vote before writing the next chapter."]
    assert Chapter.objects.filter(quest=vote.chapter.quest).count() == 1


def test_it_keeps_the_link_to_the_vote_when_the_draft_is_published(tied_vote, quest_master):
    draft = services.next_chapter_start(vote=tied_vote, by=quest_master)

    chapter_services.chapter_publish(chapter=draft, by=quest_master)

    draft.refresh_from_db()
    assert draft.status == Chapter.Status.PUBLISHED
    assert draft.follows_vote == tied_vote
    assert draft.post.body.startswith(f"[B]{draft.title}[/B]\n\n[B]Results of the vote on")
