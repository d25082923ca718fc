"""The players' ballot form for a `lines` prompt (forum-style [X] ballots, issue 15).

The form offers the quest master's "[ ]" lines of the vote's post as a checklist
and a box for lines of one's own, and posts them as "[X]" lines, sub-lines
keeping their dashes, which the reader then reads like any forum ballot.
"""

import pytest
from django.urls import reverse

from chapters.models import Vote
from chapters.prompts import OptionData, PromptData
from quest.models import Post
from tests.factories import make_vote
from votes import services

HTMX = {"HTTP_HX_REQUEST": "true"}

# A Sufficient Velocity update: story, a quoted earlier vote, then the suggestions.
CHAPTER = (
    "The ice shelf cracked at dawn.\n"
    '[QUOTE="Anya, post: 12"]\n[ ] Abandon the ship\n[/QUOTE]\n'
    "Captain Ilse counts the hours of air left.\n\n"
    "[B]What do you do?[/B]\n"
    "[ ] Scout the wreck of the Meridian\n"
    "[ ] Repair the reactor\n"
    "-[ ] With the spare parts in the hold\n"
    "[ ] [Crew] Hold a vote among the crew\n"
    "[ ] Write-in"
)
SCOUT = "Scout the wreck of the Meridian"
REPAIR = "Repair the reactor\n-With the spare parts in the hold"
CREW = "[Crew] Hold a vote among the crew"  # listed as the tally lists it: with its task
LINES = PromptData(1, "lines", "What does the expedition do?")
MARCH = PromptData(
    1, "single", "Where do we march?", [OptionData("A", "North"), OptionData("B", "South")]
)


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    return make_vote(quest, quest_master, [LINES], title="The Shelf", body=CHAPTER)


@pytest.fixture
def mixed(quest, quest_master) -> Vote:
    lines = PromptData(2, "lines", "What does the expedition do?")
    return make_vote(quest, quest_master, [MARCH, lines], title="The Shelf", body=CHAPTER)


def _url(vote: Vote) -> str:
    return reverse("ballot-submit", args=[vote.chapter.quest.slug, vote.chapter.number])


def _values(client, vote: Vote, prompt: int = 1) -> dict[str, str]:
    """The checklist's suggestion text -> checkbox value, as the form shows them."""
    form = client.get(_url(vote), **HTMX).context["form"]
    return {label: value for value, label in form.fields[f"p{prompt}"].choices}


def _posts_by(user) -> list[str]:
    return list(Post.objects.filter(author=user).order_by("seq").values_list("body", flat=True))


# --- The checklist --------------------------------------------------------------


def test_it_offers_the_quest_masters_lines_and_a_box_for_ones_own(client, vote, player):
    client.force_login(player)

    form = client.get(_url(vote), **HTMX)

    assert form.status_code == 200
    page = form.text
    assert list(_values(client, vote)) == [SCOUT, REPAIR, CREW, "Write-in"]
    assert 'type="checkbox" name="p1"' in page
    assert "Repair the reactor<br>-With the spare parts in the hold" in page
    assert '<textarea name="p1_free"' in page
    assert 'aria-describedby="id_p1_free_helptext"' in page
    assert 'id="id_p1_free_helptext">One per line.' in page
    assert "Abandon the ship" not in page  # a quoted line is not the quest master's suggestion
    assert "<code>[X] …</code>" in page


# --- Posting --------------------------------------------------------------------


def test_it_posts_ticked_lines_and_ones_own_as_x_lines(client, vote, player):
    client.force_login(player)
    values = _values(client, vote)
    data = {
        "p1": [values[SCOUT], values[REPAIR]],
        "p1_free": "Hide in the ice caves\r\n-[X] Take the sled\r\n\r\n",
    }

    response = client.post(_url(vote), data)

    assert response.status_code == 302
    assert _posts_by(player) == [
        "[X] Scout the wreck of the Meridian\n"
        "[X] Repair the reactor\n"
        "-[X] With the spare parts in the hold\n"
        "[X] Hide in the ice caves\n"
        "-[X] Take the sled"
    ]


def test_it_keeps_a_task_tag_and_drops_bbcode_and_typed_markers(client, vote, player):
    client.force_login(player)
    data = {"p1": [_values(client, vote)[CREW]], "p1_free": "[x] [Crew] [b]Ration[/b] the  air"}

    client.post(_url(vote), data)

    assert _posts_by(player) == ["[X] [Crew] Hold a vote among the crew\n[X] [Crew] Ration the air"]


def test_it_puts_a_dashed_line_of_ones_own_under_the_line_above(client, vote, player):
    client.force_login(player)
    data = {"p1": [_values(client, vote)[SCOUT]], "p1_free": "- Quietly, at night"}

    client.post(_url(vote), data)

    assert _posts_by(player) == ["[X] Scout the wreck of the Meridian\n-[X] Quietly, at night"]


def test_it_posts_lines_after_the_lettered_answers(client, mixed, player):
    client.force_login(player)
    data = {"p1": "B", "p2": [_values(client, mixed, prompt=2)[SCOUT]]}

    response = client.post(_url(mixed), data)

    assert response.status_code == 302
    assert _posts_by(player) == ["1-B\n[X] Scout the wreck of the Meridian"]


def test_it_posts_a_plan_named_by_a_line_for_the_thread_to_settle(client, vote, player):
    # Read alone, a plan no post defined yet is held back; in the thread it may be defined.
    client.force_login(player)

    response = client.post(_url(vote), {"p1_free": "Plan Quiet Hours"})

    assert response.status_code == 302
    assert _posts_by(player) == ["[X] Plan Quiet Hours"]


def test_it_shows_the_posted_lines_again_ticked_and_written(client, vote, player):
    client.force_login(player)
    values = _values(client, vote)
    data = {"p1": [values[REPAIR]], "p1_free": "Hide in the ice caves"}

    response = client.post(_url(vote), data, **HTMX)

    assert response.status_code == 200
    fresh = response.context["form"]
    assert fresh.initial["p1"] == [values[REPAIR]]
    assert fresh.initial["p1_free"] == "Hide in the ice caves"


def test_it_counts_the_posted_lines_and_fills_the_form_in_from_the_ballot(client, vote, player):
    client.force_login(player)
    values = _values(client, vote)
    client.post(_url(vote), {"p1": [values[SCOUT], values[REPAIR]], "p1_free": "Hide\n-Quickly"})

    run = services.vote_recount(vote_id=vote.pk)

    entries = {e["text"]: e["voters"] for e in run.data["prompts"][0]["entries"]}
    assert entries == {SCOUT: ["player"], REPAIR: ["player"], "Hide\n-Quickly": ["player"]}
    form = client.get(_url(vote), **HTMX).context["form"]
    assert form.initial["p1"] == [values[SCOUT], values[REPAIR]]
    assert form.initial["p1_free"] == "Hide\n-Quickly"


def test_it_heads_each_prompts_lines_with_its_number_when_a_vote_has_two(
    client, quest, quest_master, player
):
    # Each prompt's suggestions under its words, as the reader sorts them.
    body = "Where does the fleet go?\n[ ] Kessel\n[ ] Corellia\n\nWho leads?\n[ ] Daala"
    prompts = [
        PromptData(1, "lines", "Where does the fleet go?"),
        PromptData(2, "lines", "Who leads?"),
    ]
    vote = make_vote(quest, quest_master, prompts, body=body)
    client.force_login(player)
    assert list(_values(client, vote, prompt=1)) == ["Kessel", "Corellia"]
    assert list(_values(client, vote, prompt=2)) == ["Daala"]

    data = {"p1": [_values(client, vote)["Corellia"]], "p2_free": "Pellaeon"}
    response = client.post(_url(vote), data)

    assert response.status_code == 302
    assert _posts_by(player) == ["1.\n[X] Corellia\n2.\n[X] Pellaeon"]


# --- Bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Choose at least one answer: tick a line, or write one of your own."),
        ({"p1_free": "  \r\n-\r\n[X]\r\n"}, "tick a line, or write one of your own."),
        (
            {"p1": ["0123456789abcdef"]},
            "The quest master changed the suggestions: tick them again.",
        ),
        ({"p1_free": "\n".join(f"Line {n}" for n in range(101))}, "Write at most 100 lines"),
    ],
)
def test_it_refuses_bad_input_and_posts_nothing(client, vote, player, data, error):
    client.force_login(player)

    response = client.post(_url(vote), data)

    assert response.status_code == 400
    assert error in response.text
    assert _posts_by(player) == []


def test_it_refuses_a_line_that_would_answer_another_prompt_and_keeps_it(client, mixed, player):
    client.force_login(player)
    data = {"p1": "A", "p2_free": "1-B"}

    response = client.post(_url(mixed), data, **HTMX)

    assert response.status_code == 200
    assert "would not be read as you wrote it" in response.text
    assert "nothing was posted" in response.text
    assert ">\n1-B</textarea>" in response.text
    assert _posts_by(player) == []
