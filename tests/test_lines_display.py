"""[X] ballots shown wherever an answer is: previews, the "Read as" line, the ballot panel,
the audit (its rows, suggestions, one-click accept and a moderator's own lines) and the CSV.

A `lines` answer holds its entries in `Answer.lines` and no letters or text: each
place must list the entries, so a player sees what their post supports and a
moderator what they accept or set.
"""

import csv
import io

import pytest
from django.urls import reverse

from chapters.prompts import PromptData
from tests.factories import chapter_url, make_post, make_user, make_vote, vote_in
from votes import services
from votes.line_words import line_label, lines_as_text, lines_cell, lines_from_text
from votes.models import Decision, Reading
from votes.reading.types import XLine

HTMX = {"HTTP_HX_REQUEST": "true"}
BALLOT = (
    "[X] Chart the northern pass\n"
    "-[X] With two scouts\n"
    "--[X] On foot\n"
    "[X][Ship] Repair the hull\n"
    "[X] Rest a day"
)


@pytest.fixture
def vote(quest, quest_master):
    prompts = [PromptData(number=1, kind="lines", text="What does the expedition do?")]
    return make_vote(quest, quest_master, prompts, body="[ ] Scout\n[ ] Rest a day")


def _preview(client, vote, body: str) -> str:
    response = client.post(chapter_url(vote, "reading-preview"), {"body": body}, **HTMX)
    assert response.status_code == 200
    return response.text


def _entries(vote) -> list[tuple[str, list[str]]]:
    run = services.vote_recount(vote_id=vote.pk)
    return [(e["text"], e["voters"]) for e in run.data["prompts"][0]["entries"]]


def _csv_rows(client, vote) -> list[list[str]]:
    response = client.get(chapter_url(vote, "chapter-ballots-csv"))
    return list(csv.reader(io.StringIO(response.getvalue().decode(), newline="")))


def _decide(client, vote, post, **fields):
    data = {"post": post.ref, "show": "all", "reason": "Checked by hand", **fields}
    return client.post(chapter_url(vote, "vote-decide"), data, **HTMX)


# --- The moderator's box of lines, and an entry on one line (pure) ----------------

BOXES = [
    ("Scout", (XLine("Scout"),)),
    ("  Scout  \n\n[X] Rest a day\n", (XLine("Scout"), XLine("Rest a day"))),
    ("Repair\n- With spare parts\n--Quickly", (XLine("Repair\n-With spare parts\n--Quickly"),)),
    ("[Ship] Repair\n-[x] twice", (XLine("Repair\n-[x] twice", task="Ship"),)),
    ("[#1] Scout\n[2] Rest", (XLine("Scout", rank=1), XLine("Rest", rank=2))),
    (
        "[75%] Scout\n[-] Rest\n[+] Sing",
        (XLine("Scout", score=75), XLine("Rest", against=True), XLine("Sing")),
    ),
    ("[Note]", (XLine("[Note]"),)),  # a bracketed word alone is the text, not a task
]


@pytest.mark.parametrize(("text", "lines"), BOXES)
def test_it_reads_a_moderators_box_one_entry_a_line(text, lines):
    assert lines_from_text(text) == lines


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Write at least one entry"),
        (" \n\n ", "Write at least one entry"),
        ("-With spare parts\nRepair", "has no entry above it"),
        ("[120%] Scout", "A score is 0% to 100%"),
        ("[X]", "needs words"),
    ],
)
def test_it_refuses_a_box_it_cannot_read(text, says):
    with pytest.raises(ValueError, match=says):
        lines_from_text(text)


def test_it_writes_the_box_so_that_reading_it_back_gives_the_same_lines():
    lines = (
        XLine("Repair\n-With spare parts", task="Ship"),
        XLine("Scout", rank=1),
        XLine("Rest", score=40),
        XLine("Sing", against=True),
    )
    assert lines_from_text(lines_as_text(lines)) == lines
    assert lines_as_text((XLine("Scout"), XLine("anya", refers="anya"))) == ""


def test_it_labels_an_entry_on_one_line_as_the_tally_does():
    assert line_label(XLine("Repair", task="Ship")) == "[Ship] Repair"
    assert line_label(XLine("Scout", rank=2)) == "[#2] Scout"
    assert line_label(XLine("anya", refers="anya", pinned=True)) == "follows anya (as it stood)"
    assert lines_cell([XLine("Scout"), XLine("Rest", against=True)]) == "Scout | [-] Rest"


# --- Previews and the thread's "Read as" line --------------------------------------


def test_the_reply_preview_lists_the_entries_the_post_supports(client, vote, player):
    client.force_login(player)

    text = _preview(client, vote, BALLOT)

    assert "<strong>Counts:</strong>" in text
    assert "3 [X] entries" in text
    assert '<span class="xline-marker">[X]</span> Chart the northern pass' in text
    assert '<ul class="xline-subs"><li>-With two scouts</li><li>--On foot</li></ul>' in text
    assert '<span class="xline-task">[Ship]</span> Repair the hull' in text
    assert "1-" not in text.split('<pre class="reading-text">')[0]


def test_the_preview_shows_ranks_scores_disapproval_plans_and_proxies(client, vote, player):
    anya = make_user("anya")
    make_post(vote.chapter.quest, anya, "[X] Plan Quiet Hours\n-[X] Sleep\n-[X] Eat")
    client.force_login(player)

    ranked = _preview(client, vote, "[#1] Scout\n[#2] Rest a day")
    scored = _preview(client, vote, "[75%] Scout\n[-] Rest a day")
    named = _preview(client, vote, "[X] Plan Quiet Hours\n[X] anya")

    assert "[#1]</span> Scout" in ranked and "[#2]</span> Rest a day" in ranked
    assert "[75%]</span> Scout" in scored and "[-]</span> Rest a day" in scored
    assert "Plan Quiet Hours" in named and "(a plan)" in named
    assert "[X] follows anya" in named


def test_the_preview_lists_a_held_back_suggestion_as_entries(client, vote, player):
    client.force_login(player)

    text = _preview(client, vote, "[X] Rest a day\n(X) Scout")

    assert "Held back for a moderator" in text
    assert "marker in an unknown shape" in text
    held = text.split('<ul class="reading-held">')[1]
    assert "suggested reading:" in held
    assert '<span class="xline-marker">[X]</span> Rest a day' in held


def test_the_edit_preview_lists_the_entries_as_edited(client, vote, player):
    post = vote_in(vote, player, "[X] Scout")
    client.force_login(player)

    response = client.post(
        reverse("post-edit-reading", args=[post.quest.slug, post.ref]),
        {"body": "[X] Scout\n[X][Ship] Repair the hull"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "2 [X] entries" in response.text
    assert '<span class="xline-task">[Ship]</span> Repair the hull' in response.text


def test_the_thread_reads_a_lines_ballot_as_its_number_of_entries(client, vote, player):
    vote_in(vote, player, BALLOT)
    client.force_login(player)

    text = client.get(reverse("quest-thread", args=[vote.chapter.quest.slug])).text

    assert "1: 3 [X] entries" in text


# --- The player's ballot panel ------------------------------------------------------


def test_the_ballot_panel_lists_the_entries_counted_for_the_player(client, vote, player):
    post = vote_in(vote, player, BALLOT)
    client.force_login(player)

    text = client.get(chapter_url(vote, "chapter-detail")).text

    panel = text.split('id="ballot-panel"')[1].split("</ul>\n    </li>")[0]
    assert "Chart the northern pass" in panel and "<li>-With two scouts</li>" in panel
    assert '<span class="xline-task">[Ship]</span> Repair the hull' in panel
    assert f"post #{post.ref}" in panel


# --- The audit ----------------------------------------------------------------------


def test_the_audit_lists_a_counted_lines_answer_and_starts_its_correction_box(
    client, vote, player, moderator
):
    vote_in(vote, player, BALLOT)
    client.force_login(moderator)

    text = client.get(chapter_url(vote, "vote-audit") + "?show=all").text

    answers = text.split('<ul class="audit-answers">')[1].split("</ul>\n  ")[0]
    assert "3 [X] entries" in answers
    assert '<span class="xline-marker">[X]</span> Chart the northern pass' in answers
    assert (
        '<textarea name="text" rows="4" cols="40">Chart the northern pass\n-With two scouts\n'
        "--On foot\n[Ship] Repair the hull\nRest a day</textarea>"
    ) in text
    assert 'name="letters"' not in answers


def test_a_moderator_accepts_a_lines_suggestion_in_one_click(client, vote, player, moderator):
    post = vote_in(vote, player, "[X] Rest a day\n(X) Scout")
    assert _entries(vote) == []
    client.force_login(moderator)
    page = client.get(chapter_url(vote, "vote-audit")).text
    flags = page.split('<ul class="audit-flags">')[1]
    assert "Suggested reading:" in flags and "[X]</span> Rest a day" in flags

    response = _decide(client, vote, post, prompt=1, action="accept", reason="Fine")

    assert response.status_code == 200 and "Decision recorded" in response.text
    assert Decision.objects.get(post=post).answer["lines"] == [{"text": "Rest a day"}]
    assert "Accept the suggested reading: <strong>Rest a day</strong>" in response.text
    assert _entries(vote) == [("Rest a day", ["player"])]


def test_a_moderator_sets_lines_for_a_lines_prompt_and_they_are_counted(
    client, vote, player, moderator
):
    post = vote_in(vote, player, "[X] Scuot\n[X] Rest a day")
    client.force_login(moderator)

    response = _decide(
        client, vote, post, prompt=1, action="set", text="[X] Scout\n- With a lantern\n[Ship] Rest"
    )

    assert response.status_code == 200 and "Decision recorded" in response.text
    assert _entries(vote) == [
        ("Scout\n-With a lantern", ["player"]),
        ("Rest", ["player"]),
    ]
    # The player's panel and the CSV are made from the stored ballot: both show the ruling.
    client.force_login(player)
    panel = client.get(chapter_url(vote, "chapter-detail")).text.split('id="ballot-panel"')[1]
    assert "Scout" in panel and "<li>-With a lantern</li>" in panel and "Scuot" not in panel
    assert _csv_rows(client, vote)[1][3] == "Scout\n-With a lantern | [Ship] Rest"


def test_a_moderator_sets_lines_on_a_whole_post_read_as_chatter(client, vote, player, moderator):
    post = vote_in(vote, player, "I'd go with scouting the pass, honestly.")
    client.force_login(moderator)
    page = client.get(chapter_url(vote, "vote-audit") + "?show=all").text
    assert "or write-in text / [X] lines" in page

    _decide(client, vote, post, prompt="", answer_prompt=1, action="set", text="Scout the pass")

    assert _entries(vote) == [("Scout the pass", ["player"])]


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_an_empty_box_of_lines_is_refused_with_a_reason(client, vote, player, moderator, text):
    post = vote_in(vote, player, "[X] Scout")
    client.force_login(moderator)

    response = _decide(client, vote, post, prompt=1, action="set", text=text)

    assert "Prompt 1 takes [X] lines: Write at least one entry" in response.text
    assert not Decision.objects.filter(post=post).exists()


def test_the_audit_names_the_lines_a_decision_counted(client, vote, player, moderator):
    post = vote_in(vote, player, "[X] Scout")
    client.force_login(moderator)
    _decide(client, vote, post, prompt=1, action="set", text="[#1] Scout\n[#2] Rest")

    text = client.get(chapter_url(vote, "vote-audit") + "?show=decided").text

    assert "Count another answer: <strong>[#1] Scout | [#2] Rest</strong>" in text


# --- The ballots CSV ------------------------------------------------------------------


def test_the_csv_writes_a_lines_answer_as_its_entries(client, vote, player):
    post = vote_in(vote, player, BALLOT)
    held = vote_in(vote, make_user("bo"), "[X] Rest a day\n(X) Scout")
    client.force_login(player)

    rows = _csv_rows(client, vote)

    entries = "Chart the northern pass\n-With two scouts\n--On foot | [Ship] Repair the hull"
    assert rows[1:] == [
        ["player", str(post.ref), "1", entries + " | Rest a day", "counted"],
        ["bo", str(held.ref), "1", "Rest a day", "held back"],
    ]
    assert Reading.objects.filter(vote=vote).count() == 2
