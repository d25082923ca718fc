"""The players' ballot form on the chapter page: shown while open, posts canonical text, counted.

Posting goes through `post_create`, so the ballot is an ordinary post; the
tests recount with `vote_recount` (what the worker runs) and check the tally
counts exactly what was chosen.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from chapters import services as chapter_services
from chapters.models import Vote
from quest.models import Post
from tests.factories import make_post, make_vote, prompt_list
from votes import services
from votes.models import Ballot
from votes.posting import ballot_post
from votes.reading.types import Answer

HTMX = {"HTTP_HX_REQUEST": "true"}

PROMPTS = prompt_list("single", "multi", "ranked", "write_in", options=3)


def _open_vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, PROMPTS)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return _open_vote(quest, quest_master)


def _url(vote: Vote, name: str = "ballot-submit") -> str:
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def _posts_by(user) -> list[str]:
    return list(Post.objects.filter(author=user).order_by("seq").values_list("body", flat=True))


def _counted(vote: Vote) -> dict:
    """prompt number -> {letter or entry text: voters} from the recounted tally."""
    run = services.vote_recount(vote_id=vote.pk)
    out = {}
    for p in run.data["prompts"]:
        rows = p.get("options") or p.get("entries") or []
        out[p["number"]] = {
            r.get("letter") or r.get("text"): r["voters"] for r in rows if r["voters"]
        }
    return out


# --- Who sees the form ----------------------------------------------------------


def test_it_loads_the_form_for_a_player_while_the_vote_is_open(client, vote, player):
    client.force_login(player)
    page = client.get(vote.chapter.get_absolute_url()).text
    assert f'hx-get="{_url(vote)}"' in page
    assert f'href="{_url(vote)}"' in page  # without JavaScript: the form's own page

    form = client.get(_url(vote), **HTMX)
    assert form.status_code == 200
    assert 'type="radio" name="p1" value="B"' in form.text
    assert 'type="checkbox" name="p2" value="C"' in form.text
    assert '<select name="p3_A"' in form.text and ">1st</option>" in form.text
    assert '<textarea name="p4"' in form.text
    assert "hx-disable" in form.text
    assert "HX-Request" in form["Vary"]


def test_it_shows_the_form_on_its_own_page_without_javascript(client, vote, player):
    client.force_login(player)
    response = client.get(_url(vote))
    assert response.status_code == 200
    assert "<html" in response.text
    assert f'action="{_url(vote)}"' in response.text


def test_it_tells_anonymous_readers_to_log_in(client, vote):
    page = client.get(vote.chapter.get_absolute_url()).text
    assert f'hx-get="{_url(vote)}"' not in page
    assert "Log in</a> to fill in a ballot" in page

    response = client.get(_url(vote))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    posted = client.post(_url(vote), {"p1": "B"})
    assert posted.status_code == 302 and posted["Location"].startswith(reverse("login"))
    assert (
        not Post.objects.filter(quest=vote.chapter.quest)
        .exclude(author=vote.chapter.quest.quest_master)
        .exists()
    )


def test_it_shows_no_form_once_the_vote_is_closed(client, vote, player, quest_master):
    chapter_services.vote_close(vote=vote, by=quest_master)
    client.force_login(player)
    page = client.get(vote.chapter.get_absolute_url()).text
    assert f'hx-get="{_url(vote)}"' not in page
    assert "The vote is closed" in page
    form = client.get(_url(vote), **HTMX).text
    assert "<form" not in form
    assert "The vote is closed" in form


def test_it_shows_the_quest_master_no_form(client, vote, quest_master):
    client.force_login(quest_master)
    assert "your posts are not ballots" in client.get(vote.chapter.get_absolute_url()).text
    assert client.post(_url(vote), {"p1": "A"}).status_code == 403


# --- Posting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text", "counted"),
    [
        ({"p1": "B"}, "1-B", {1: {"B": ["player"]}}),
        ({"p2": ["C", "A"]}, "2-AC", {2: {"A": ["player"], "C": ["player"]}}),
        ({"p3_A": "2", "p3_B": "", "p3_C": "1"}, "3-C>A", None),
        (
            {"p4": "The Internationale"},
            "4-The Internationale",
            {4: {"The Internationale": ["player"]}},
        ),
        (
            {
                "p1": "A",
                "p2": ["B"],
                "p3_A": "3",
                "p3_B": "1",
                "p3_C": "2",
                "p4": "Anthem\r\n\r\nloud",
            },
            "1-A\n2-B\n3-B>C>A\n4-Anthem / loud",
            {1: {"A": ["player"]}, 2: {"B": ["player"]}, 4: {"Anthem / loud": ["player"]}},
        ),
    ],
)
def test_it_posts_the_canonical_text_and_the_tally_counts_it(
    client, vote, player, data, text, counted
):
    client.force_login(player)
    response = client.post(_url(vote), data)

    assert response.status_code == 302
    assert response["Location"] == f"{vote.chapter.get_absolute_url()}#ballot"
    assert _posts_by(player) == [text]
    tally = _counted(vote)
    ballot = Ballot.objects.get(vote=vote, voter="player", is_current=True)
    for number in (1, 2, 4):
        assert tally[number] == (counted or {}).get(number, {})
    if "p3_A" in data:
        ranked = [int(data.get(f"p3_{x}") or 0) for x in "ABC"]
        order = [x for _, x in sorted((r, x) for r, x in zip(ranked, "ABC", strict=True) if r)]
        assert ballot.answers["3"]["letters"] == order
    else:
        assert "3" not in ballot.answers


def test_it_confirms_a_posted_ballot_in_the_partial_with_its_reading(client, vote, player):
    client.force_login(player)
    response = client.post(_url(vote), {"p1": "B", "p4": "<b>Loud</b> songs"}, **HTMX)

    post = Post.objects.get(author=player)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="ballot-form"')
    assert (
        f'Your ballot was posted as <a href="{post.get_absolute_url()}">post #{post.ref}</a>'
        in response.text
    )
    # Read alone until the worker reads it in the thread (no worker runs in this test).
    assert "How it will be read" in response.text
    assert "(being counted…)" in response.text
    assert "<b>B</b> South" in response.text
    assert "write-in “&lt;b&gt;Loud&lt;/b&gt; songs”" in response.text
    assert "<b>Loud</b>" not in response.text
    # The form comes back filled in with what was posted.
    assert 'value="B" required' not in response.text
    assert 'name="p1" value="B" id="id_p1_1" checked' in response.text


def test_it_prefills_the_form_from_the_current_ballot(client, vote, player):
    make_post(vote.chapter.quest, player, "1-C\n2-AB\n3-B>A\n4-Row row row")
    services.vote_recount(vote_id=vote.pk)
    client.force_login(player)

    form = client.get(_url(vote), **HTMX).text
    assert 'name="p1" value="C" id="id_p1_2" checked' in form
    assert 'name="p2" value="A" id="id_p2_0" checked' in form
    assert 'name="p2" value="B" id="id_p2_1" checked' in form
    assert 'name="p2" value="C" id="id_p2_2">' in form
    assert (
        '<option value="1" selected>1st</option>'
        in form.split('name="p3_B"')[1].split("</select>")[0]
    )
    assert (
        '<option value="2" selected>2nd</option>'
        in form.split('name="p3_A"')[1].split("</select>")[0]
    )
    assert "Row row row</textarea>" in form


def test_it_posts_a_change_that_replaces_the_earlier_answers(client, vote, player):
    client.force_login(player)
    client.post(_url(vote), {"p1": "A", "p2": ["A"]})
    services.vote_recount(vote_id=vote.pk)
    client.post(_url(vote), {"p1": "C", "p2": ["A", "B"]})

    assert _posts_by(player) == ["1-A\n2-A", "Revised vote:\n1-C\n2-AB"]
    tally = _counted(vote)
    assert tally[1] == {"C": ["player"]}
    assert tally[2] == {"A": ["player"], "B": ["player"]}


def test_it_withdraws_an_answer_left_empty_in_a_second_ballot(client, vote, player):
    client.force_login(player)
    client.post(_url(vote), {"p1": "A", "p2": ["A"]})
    services.vote_recount(vote_id=vote.pk)
    client.post(_url(vote), {"p1": "B"})

    tally = _counted(vote)
    assert tally[1] == {"B": ["player"]}
    assert tally[2] == {}


# --- Refusals: nothing is posted --------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Choose at least one answer."),
        ({"p4": "   \r\n  "}, "Choose at least one answer."),
        ({"p3_A": "1", "p3_B": "1"}, "Prompt 3: give each rank to one option only."),
        ({"p3_A": "1", "p3_C": "3"}, "Prompt 3: rank from 1st without skipping a place."),
        ({"p3_A": "2"}, "Prompt 3: rank from 1st without skipping a place."),
        ({"p1": "D"}, "Select a valid choice. D is not one of the available choices."),
        ({"p2": ["A", "Z"]}, "Select a valid choice. Z is not one of the available choices."),
        ({"p3_A": "9"}, "Select a valid choice. 9 is not one of the available choices."),
        ({"p3_A": "x"}, "Select a valid choice. x is not one of the available choices."),
        ({"p1": "B", "p4": "x" * 20_001}, "Ensure this value has at most 20000 characters"),
    ],
)
def test_it_refuses_bad_input_and_keeps_the_choices(client, vote, player, data, error):
    client.force_login(player)
    response = client.post(_url(vote), data)
    partial = client.post(_url(vote), data, **HTMX)

    assert response.status_code == 400
    assert partial.status_code == 200  # htmx 2 swaps only successful responses
    assert error in response.text and error in partial.text
    assert 'action="' + _url(vote) + '"' in partial.text
    assert _posts_by(player) == []


def test_it_keeps_the_choices_beside_the_error(client, vote, player):
    client.force_login(player)
    data = {"p1": "B", "p2": ["A", "C"], "p3_A": "1", "p3_B": "1", "p4": "Our <i>song</i>"}
    text = client.post(_url(vote), data, **HTMX).text

    assert "give each rank to one option only" in text
    assert 'name="p1" value="B" id="id_p1_1" checked' in text
    assert 'name="p2" value="A" id="id_p2_0" checked' in text
    assert 'name="p2" value="C" id="id_p2_2" checked' in text
    assert (
        '<option value="1" selected>1st</option>'
        in text.split('name="p3_B"')[1].split("</select>")[0]
    )
    assert "Our &lt;i&gt;song&lt;/i&gt;</textarea>" in text
    assert _posts_by(player) == []


def test_it_refuses_a_ballot_once_the_vote_has_closed(client, vote, player, quest_master):
    client.force_login(player)
    client.get(_url(vote), **HTMX)  # the form was loaded while open...
    chapter_services.vote_close(vote=vote, by=quest_master)  # ...and the vote closed meanwhile

    response = client.post(_url(vote), {"p1": "B"}, **HTMX)
    plain = client.post(_url(vote), {"p1": "B"})

    assert "The vote has closed: your ballot was not posted." in response.text
    assert plain.status_code == 400
    assert _posts_by(player) == []


def test_it_refuses_a_ballot_past_the_closing_time_before_the_clock_closes_it(client, vote, player):
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    client.force_login(player)

    response = client.post(_url(vote), {"p1": "B"}, **HTMX)

    assert "The vote has closed" in response.text
    assert _posts_by(player) == []


def test_it_refuses_in_the_service_too_when_the_vote_closed_under_the_form(
    vote, player, quest_master
):
    chapter_services.vote_close(vote=vote, by=quest_master)
    with pytest.raises(ValidationError, match="The vote has closed"):
        ballot_post(vote=vote, user=player, answers=[Answer(prompt=1, letters=("B",))])
    assert _posts_by(player) == []


def test_it_writes_only_the_votes_own_prompts(vote, player):
    answers = [Answer(prompt=9, letters=("A",)), Answer(prompt=1, letters=("C",))]
    post = ballot_post(vote=vote, user=player, answers=answers)
    assert post.body == "1-C"


# --- Write-ins come back as written --------------------------------------------

# What players type in a write-in box that looks like a ballot: each is posted
# with 1-B and must be counted as written (on one line), 1-B untouched.
INERT_WRITE_INS = [
    "more tractors\n1-C",
    "#####\nmore tractors",
    "Revised vote:\nkeep the tractors",
    "[QUOTE]Loud songs[/QUOTE]",
    "tractors [/QUOTE] and farms",
    "more\n\n\ntractors",
    "[SPOILER]songs[/SPOILER]",
    "scratch that, 1-A",
    "[X] Plan Tractor",
    "+1",
]


@pytest.mark.parametrize("text", INERT_WRITE_INS)
def test_a_write_in_is_counted_as_written_and_changes_no_other_answer(client, vote, player, text):
    client.force_login(player)
    response = client.post(_url(vote), {"p1": "B", "p4": text})

    assert response.status_code == 302, response.content.decode()[:500]
    tally = _counted(vote)
    assert tally[1] == {"B": ["player"]} or tally[1] == {"B": 1}
    ballot = Ballot.objects.get(vote=vote, voter="player", is_current=True)
    assert ballot.answers["1"]["letters"] == ["B"]
    assert ballot.answers["4"]["text"] == " / ".join(
        " ".join(line.split()) for line in text.split("\n") if line.strip()
    )


def test_a_write_in_that_would_answer_another_prompt_is_refused_and_kept(client, vote, player):
    client.force_login(player)
    data = {"p1": "B", "p4": "we sing 2-B, 3-C"}
    response = client.post(_url(vote), data)

    assert response.status_code == 400
    assert "Your write-in for prompt 4 would not be read as you wrote it" in response.text
    assert "we sing 2-B, 3-C" in response.text  # what the player wrote is kept
    assert _posts_by(player) == []


# --- The form's widgets, written out in Python ------------------------------------


def test_its_widgets_write_the_html_djangos_templates_write(quest, quest_master, monkeypatch):
    """Every widget of the form, and every option of a list, as Django's form templates
    render them: unanswered, answered, refused with errors; the quest master's words
    with markup in them; a `lines` prompt's suggestions as the template lists them."""
    from chapters.prompts import PromptData
    from votes import forms as ballot_forms
    from votes.forms import BallotForm

    odd = ['<b>"Tea" & biscuits</b>', "Coffee's <i>fine</i>", "Plain"]
    kinds = prompt_list(
        "single", "multi", "ranked", "write_in", option_texts={1: odd, 2: odd, 3: odd}
    )
    kinds.append(PromptData(5, "lines", "What <now>?"))
    body = 'Choose.\n[ ] Hold <the> "line"\n-[ ] With & care\n[ ] [Crew] Ask'
    vote = make_vote(quest, quest_master, kinds, body=body)
    vote = Vote.objects.select_related("chapter__quest", "post").get(pk=vote.pk)
    answered = {
        "1": {"letters": ["B"]},
        "2": {"letters": ["A", "C"]},
        "3": {"letters": ["C", "A"]},
        "4": {"text": "<script>1-A</script> & more"},
        "5": {"lines": [{"text": 'Hold <the> "line"\n-With & care'}, {"text": "<Mine>"}]},
    }
    bad = {"p1": "Z", "p2": ["A", "Q"], "p3_A": "1", "p3_B": "1", "p4": "x" * 30_000}

    def rendered() -> list[str]:
        shown = [
            BallotForm(vote=vote),
            BallotForm(vote=vote, initial_answers=answered),
            BallotForm(bad, vote=vote),
        ]
        out = []
        for form in shown:
            for name in form.fields:
                if name != "submission":
                    out.append(str(form[name]))
                    out.extend(w.tag() for w in form[name].subwidgets)
                    out.extend(str(w) for w in form[name].subwidgets)
        return out

    written = rendered()
    monkeypatch.setattr(ballot_forms, "_HTML", {})  # every widget through its templates
    templated = rendered()
    assert written == templated
    assert len(written) > 100
    assert "&lt;b&gt;&quot;Tea&quot; &amp; biscuits&lt;/b&gt;" in "".join(written)
