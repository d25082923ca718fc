"""Merging write-in entries from the tally page: htmx and plain POST, what staff and players see.

The recount a merge asks for is run by calling the service (what the worker
runs): until then the page shows the merge as waiting for it.
"""

import importlib.util
import json
from pathlib import Path

import pytest
from django.contrib.messages import get_messages

from chapters import services as chapter_services
from chapters.models import Vote, VoteEvent
from tests.factories import chapter_url, make_user, make_vote, prompt_list, vote_in
from votes import selectors, services
from votes.entry_merges import entry_merge
from votes.models import EntryMerge

HTMX = {"HTTP_HX_REQUEST": "true"}
PROMPTS = prompt_list("single", "write_in", options=2)
REASON = "Both ask for dams on the river."
CHECKER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "check_tally.py"


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    """Prompt 2's entries: "Build dams" (2), then "Built dams" and "Plant trees" (1 each)."""
    vote = make_vote(quest, quest_master, PROMPTS)
    vote_in(vote, make_user("ann"), "1-A\n2-Build dams")
    vote_in(vote, make_user("bob"), "1-B\n2-Built dams")
    vote_in(vote, make_user("cat"), "1-A\n2-build dams!")
    vote_in(vote, make_user("dan"), "1-A\n2-Plant trees")
    return vote


def _merge_post(client, vote, *, keep="a", reason=REASON, a="Build dams", b="Built dams", **h):
    data = {"prompt": 2, "a": a, "b": b, "keep": keep, "reason": reason}
    return client.post(chapter_url(vote, "entry-merge"), data, **h)


def _section(html: str, prompt: int = 2) -> str:
    return html.split(f'id="tp-{prompt}"', 1)[1].split("</section>", 1)[0]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_see_the_suggestion_as_one_click_merge_forms(client, vote, moderator):
    client.force_login(moderator)

    section = _section(client.get(chapter_url(vote, "chapter-tally")).text)

    assert "“Build dams” and “Built dams”" in section
    assert 'name="keep" value="a">Merge as “Build dams”</button>' in section
    assert 'name="keep" value="b">Merge as “Built dams”</button>' in section
    assert "<summary>Merge two entries</summary>" in section


def test_players_see_no_merge_forms(client, vote, player):
    client.force_login(player)

    html = client.get(chapter_url(vote, "chapter-tally")).text

    assert "Merge as" not in html and "Merge two entries" not in html


def test_a_merge_with_htmx_answers_with_the_partial_then_counts_as_one(client, vote, moderator):
    client.force_login(moderator)

    response = _merge_post(client, vote, **HTMX)

    assert response.status_code == 200
    html = response.text
    assert "<h1>" not in html  # the partial only
    assert "“Built dams” is merged into “Build dams”: counted as one entry." in html
    assert "counted once the recount ends" in html
    merge = EntryMerge.objects.get()
    assert (merge.merged, merge.kept, merge.by, merge.reason) == (
        "Built dams",
        "Build dams",
        moderator,
        REASON,
    )

    services.vote_recount(vote_id=vote.pk)
    section = _section(client.get(chapter_url(vote, "chapter-tally"), **HTMX).text)

    assert "merged from “Built dams”</span>" in section
    assert '<td class="count">3</td>' in section
    assert "counted once the recount ends" not in section
    assert "may be the same idea" not in section  # the suggestion acted on is gone
    assert f'name="merge" value="{merge.pk}"' in section  # its split button


def test_a_merge_without_javascript_redirects_to_the_prompt_with_a_message(
    client, vote, quest_master
):
    client.force_login(quest_master)

    response = _merge_post(client, vote, keep="b")

    assert response.status_code == 302
    assert response["Location"] == chapter_url(vote, "chapter-tally") + "#tp-2"
    assert _messages(response) == [
        "“Build dams” is merged into “Built dams”: counted as one entry."
    ]
    services.vote_recount(vote_id=vote.pk)
    page = client.get(chapter_url(vote, "chapter-tally")).text
    assert "Built dams" in page and "merged from “Build dams”</span>" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reason": "  "}, "Give a reason: it is kept with the merge."),
        ({"b": "Sing loudly"}, "“Sing loudly” is not an entry of prompt 2 now."),
        ({"b": "Build dams"}, "An entry cannot be merged into itself"),
        ({"prompt": 1, "a": "Option A", "b": "Option B"}, "Prompt 1 is not a write-in prompt"),
        ({"keep": "c"}, "Choose the two entries to merge."),
        ({"a": "x" * 20_001}, "at most 20000 characters"),
    ],
)
def test_bad_input_is_said_by_the_form_and_changes_nothing(
    client, vote, moderator, changes, message
):
    client.force_login(moderator)
    events = VoteEvent.objects.count()
    data = {"prompt": 2, "a": "Build dams", "b": "Built dams", "keep": "a", "reason": REASON}

    htmx = client.post(chapter_url(vote, "entry-merge"), {**data, **changes}, **HTMX)
    plain = client.post(chapter_url(vote, "entry-merge"), {**data, **changes})

    assert htmx.status_code == 200 and message in htmx.text
    assert 'class="notice call-notice error"' in htmx.text
    assert plain.status_code == 302 and any(message in m for m in _messages(plain))
    assert EntryMerge.objects.count() == 0 and VoteEvent.objects.count() == events


def test_split_undoes_the_merge_with_its_reason(client, vote, moderator):
    merge = entry_merge(
        vote=vote, prompt=2, merged="Built dams", kept="Build dams", reason=REASON, by=moderator
    )
    services.vote_recount(vote_id=vote.pk)
    client.force_login(moderator)
    url = chapter_url(vote, "entry-split")

    refused = client.post(url, {"merge": merge.pk, "reason": ""}, **HTMX)
    response = client.post(url, {"merge": merge.pk, "reason": "Now is not the same."}, **HTMX)

    assert "Give a reason" in refused.text
    assert "“Built dams” is split from “Build dams”: counted on its own." in response.text
    merge.refresh_from_db()
    assert merge.undone_by == moderator and merge.undo_reason == "Now is not the same."
    services.vote_recount(vote_id=vote.pk)
    section = _section(client.get(chapter_url(vote, "chapter-tally"), **HTMX).text)
    assert "merged from" not in section and "may be the same idea" in section


def test_split_of_an_unknown_merge_says_so(client, vote, moderator):
    client.force_login(moderator)

    response = client.post(chapter_url(vote, "entry-split"), {"merge": 999, "reason": "x"})

    assert response.status_code == 302
    assert _messages(response) == ["There is no such merge."]


def test_only_staff_may_post_merges(client, vote, player):
    anonymous = _merge_post(client, vote)
    client.force_login(player)
    forbidden = _merge_post(client, vote)
    split = client.post(chapter_url(vote, "entry-split"), {"merge": 1, "reason": "x"})

    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert forbidden.status_code == 403 and split.status_code == 403
    assert EntryMerge.objects.count() == 0


def test_a_merge_not_applying_any_more_is_shown_as_such(client, vote, moderator):
    entry_merge(
        vote=vote, prompt=2, merged="Plant trees", kept="Build dams", reason=REASON, by=moderator
    )
    services.vote_recount(vote_id=vote.pk)
    dan = vote.chapter.quest.posts.get(body__contains="Plant trees").author
    vote_in(vote, dan, "2-Dig canals")  # no one writes "Plant trees" now
    client.force_login(moderator)

    section = _section(client.get(chapter_url(vote, "chapter-tally")).text)

    assert "not applying: no one writes one of these entries now" in section
    assert "merged from" not in section


def test_exports_carry_the_merged_entry(client, vote, moderator, tmp_path, capsys):
    entry_merge(
        vote=vote, prompt=2, merged="Built dams", kept="Build dams", reason=REASON, by=moderator
    )
    services.vote_recount(vote_id=vote.pk)
    client.force_login(moderator)

    document = client.get(chapter_url(vote, "chapter-tally-json")).json()
    bbcode = client.get(chapter_url(vote, "chapter-tally-bbcode")).text

    [dams, trees] = document["prompts"][1]["entries"]
    assert (dams["text"], dams["votes"], dams["merged_from"]) == (
        "Build dams",
        3,
        ["Built dams"],
    )
    assert "[B]Build dams[/B] No. of Votes: 3" in bbcode and "Built dams" not in bbcode
    # The shared checker still reads it as quest-tally/1: bob counted in ann's entry.
    spec = importlib.util.spec_from_file_location("check_tally", CHECKER)
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    expect = {
        "format": "quest-expect/1",
        "chapter": document["chapter"],
        "voters": {
            name: {"1": letter, "2": {"write_in": text, "same_entry_as": "ann"}}
            for name, letter, text in [
                ("ann", "A", "Build dams"),
                ("bob", "B", "Build dams"),
                ("cat", "A", "Build dams"),
            ]
        }
        | {"dan": {"1": "A", "2": {"write_in": "Plant trees"}}},
    }
    (tmp_path / "tally.json").write_text(json.dumps(document))
    (tmp_path / "expect.json").write_text(json.dumps(expect))
    status = checker.main(["check", str(tmp_path / "tally.json"), str(tmp_path / "expect.json")])
    assert "0 wrong" in capsys.readouterr().out
    assert status == 0


def test_the_audit_page_points_to_where_entries_are_merged(client, vote, moderator):
    client.force_login(moderator)

    html = client.get(chapter_url(vote, "vote-audit")).text

    assert html.count('class="muted audit-merges-link"') == 1
    assert f'href="{chapter_url(vote, "chapter-tally")}#tp-2">on the tally page</a>' in html


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_staff_are_not_sent_a_stale_page_when_a_merge_changes_no_count(
    client, vote, moderator, quest_master, closed
):
    # A merge that applies to nothing leaves the tally's hash as it was: the
    # page's ETag must change anyway, or staff would be shown it still standing.
    merge = entry_merge(
        vote=vote, prompt=2, merged="Plant trees", kept="Build dams", reason=REASON, by=moderator
    )
    services.vote_recount(vote_id=vote.pk)
    dan = vote.chapter.quest.posts.get(body__contains="Plant trees").author
    vote_in(vote, dan, "2-Dig canals")
    if closed:  # the final tally's ETag carries the quest master's calls too
        chapter_services.vote_close(vote=vote, by=quest_master)
        services.vote_recount(vote_id=vote.pk)
    client.force_login(moderator)
    url = chapter_url(vote, "chapter-tally")
    before = client.get(url)
    assert "not applying" in before.text
    sha = selectors.latest_tally(vote).sha256

    client.post(chapter_url(vote, "entry-split"), {"merge": merge.pk, "reason": "Moot."}, **HTMX)
    services.vote_recount(vote_id=vote.pk)
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])

    assert selectors.latest_tally(vote).sha256 == sha
    assert after.status_code == 200
    assert "not applying" not in after.text
