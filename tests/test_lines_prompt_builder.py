"""A quest master makes a `lines` prompt (forum-style [X] ballots) in the prompt builder
or by pasting a block of "[ ]" lines, with its partition, proxies and method (issue 15).

The prompt takes no options: its suggestions are the "[ ]" lines the quest master
writes in the chapter, which stay in the post players read.
"""

import pytest
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Chapter, Prompt, Vote
from chapters.prompts import OptionData, PromptData, prompts_problems, vote_block
from tests.test_vote_prompts import form_data
from votes import selectors

PLANS = {"number": 1, "kind": "lines", "text": "What does the expedition do?"}
CHAPTER_BODY = (
    "The ice shelf cracks at dawn.\n\n"
    "[ ] Scout the wreck\n"
    "[ ] Repair the reactor\n"
    "-[ ] With spare parts\n"
    "[ ] Write-in"
)


@pytest.fixture
def chapter(quest, quest_master) -> Chapter:
    return chapter_services.chapter_create(
        quest=quest, title="The Shelf", body=CHAPTER_BODY, by=quest_master
    )


def _url(name: str, chapter: Chapter) -> str:
    return reverse(name, args=[chapter.quest.slug, chapter.number])


def _lines(**settings: str) -> dict:
    return {f"p-0-{name}": value for name, value in settings.items()}


# --- The prompt builder ----------------------------------------------------------


def test_it_saves_a_lines_prompt_with_its_partition_and_proxies(qm_client, chapter):
    data = form_data([PLANS], **_lines(partition="line", proxies="off", method="borda"))

    response = qm_client.post(_url("vote-prompts", chapter), data)

    assert response.status_code == 302
    prompt = Prompt.objects.get(vote__chapter=chapter)
    assert (prompt.kind, prompt.text, prompt.options.count()) == ("lines", PLANS["text"], 0)
    assert (prompt.partition, prompt.proxies, prompt.method) == ("line", "off", "borda")
    spec = selectors.vote_spec(prompt.vote).prompts[0]
    assert (spec.partition, spec.proxies, spec.method) == ("line", "off", "borda")


def test_it_gives_a_lines_prompt_the_defaults_when_the_form_sends_none(qm_client, chapter):
    response = qm_client.post(_url("vote-prompts", chapter), form_data([PLANS]))

    assert response.status_code == 302
    prompt = Prompt.objects.get(vote__chapter=chapter)
    assert (prompt.partition, prompt.proxies, prompt.method) == ("block", "on", "schulze")


def test_it_shows_the_lines_settings_once_the_kind_is_lines(qm_client, chapter):
    single = {**PLANS, "kind": "single", "options": [("A", "North"), ("B", "South")]}
    page = qm_client.post(_url("vote-prompts", chapter), form_data([single], op="refresh")).text
    assert 'name="p-0-partition"' not in page
    assert 'name="p-0-o-0-text"' in page

    page = qm_client.post(
        _url("vote-prompts", chapter), form_data([{**single, "kind": "lines"}], op="refresh")
    ).text
    assert '<select name="p-0-partition">' in page
    assert '<select name="p-0-proxies">' in page
    assert '<select name="p-0-method">' in page
    # No option rows, no "Add option": the suggestions are "[ ]" lines in the chapter.
    assert 'name="p-0-o-0-text"' not in page
    assert "add-option:0" not in page
    assert "write your suggestions as <code>[ ] …</code> lines" in page


def test_it_gives_a_prompt_turned_back_from_lines_two_empty_options(qm_client, chapter):
    page = qm_client.post(
        _url("vote-prompts", chapter), form_data([{**PLANS, "kind": "single"}], op="refresh")
    ).text

    assert 'name="p-0-o-0-letter" value="A"' in page
    assert 'name="p-0-o-1-letter" value="B"' in page


def test_it_shows_the_saved_settings_back_in_the_builder(qm_client, chapter):
    qm_client.post(
        _url("vote-prompts", chapter),
        form_data(
            [PLANS], **_lines(partition="line_task", proxies="pinned", method="rated_runoff")
        ),
    )

    page = qm_client.get(_url("vote-prompts", chapter)).text

    assert '<option value="lines" selected>' in page
    assert '<option value="line_task" selected>' in page
    assert '<option value="pinned" selected>' in page
    assert '<option value="rated_runoff" selected>' in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            {"partition": "paragraph"},
            "Prompt 1: the partition &#x27;paragraph&#x27; is not one of &#x27;post&#x27;",
        ),
        ({"proxies": "maybe"}, "Prompt 1: the proxies &#x27;maybe&#x27; is not one of"),
        ({"method": "coin"}, "Prompt 1: the method &#x27;coin&#x27; is not one of"),
    ],
)
def test_it_refuses_a_setting_it_does_not_know_and_saves_nothing(
    qm_client, chapter, typed, message
):
    response = qm_client.post(_url("vote-prompts", chapter), form_data([PLANS], **_lines(**typed)))

    assert response.status_code == 200
    assert message in response.text
    assert not Vote.objects.filter(chapter=chapter).exists()


def test_it_refuses_options_on_a_lines_prompt():
    prompt = PromptData(1, "lines", "Plans?", [OptionData("A", "Scout"), OptionData("B", "Hide")])

    assert prompts_problems([prompt]) == [
        'Prompt 1 is voted with [X] lines, so it takes no options: write your suggestions as "[ ]" '
        "lines in the chapter."
    ]


def test_it_tells_forum_readers_to_vote_with_x_lines(quest, quest_master, chapter):
    chapter_services.vote_prompts_set(
        chapter=chapter, prompts=[PromptData(1, "lines", PLANS["text"])], by=quest_master
    )
    chapter_services.chapter_publish(chapter=chapter, by=quest_master)
    chapter.refresh_from_db()

    assert vote_block([PromptData(1, "lines", "Plans?")]) == "1. Plans? (vote with [X] lines)"
    # The chapter's post: its "[ ]" suggestions, then the prompt, as a forum post has them.
    body = chapter.post.body
    assert body.index("[ ] Scout the wreck") < body.index(
        "1. What does the expedition do? (vote with [X] lines)"
    )


# --- Pasting a forum block ---------------------------------------------------------


SV_BLOCK = (
    "[B]Vote:[/B]\n"
    "[ ] Scout the wreck\n"
    "[ ] Repair the reactor\n"
    "-[ ] With spare parts\n"
    "-[ ] With salvage from the wreck\n"
    "[ ] Write-in"
)


def test_it_detects_a_pasted_block_of_suggestion_lines_as_a_lines_prompt(qm_client, chapter):
    page = qm_client.post(_url("vote-paste", chapter), {"op": "detect", "text": SV_BLOCK}).text

    assert "Found 1 prompt" in page
    assert "[ ] -With spare parts" not in page
    assert '<li class="suggestion">-[ ] With spare parts</li>' in page

    data = {"op": "save", "text": SV_BLOCK, "results_visibility": "always", "closes_at": ""}
    response = qm_client.post(_url("vote-paste", chapter), data)

    assert response.status_code == 302
    prompt = Prompt.objects.get(vote__chapter=chapter)
    assert (prompt.number, prompt.kind, prompt.text) == (1, "lines", "Vote")
    assert (prompt.partition, prompt.proxies, prompt.options.count()) == ("block", "on", 0)


def test_it_carries_a_detected_lines_prompt_into_the_builder(qm_client, chapter):
    page = qm_client.post(_url("vote-paste", chapter), {"op": "detect", "text": SV_BLOCK}).text

    assert '<input type="hidden" name="p-0-kind" value="lines">' in page
    assert '<input type="hidden" name="p-0-partition" value="block">' in page
