"""Building a vote's prompts: the form builder, pasting a forum block, and bad input."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from chapters import selectors, services
from chapters.models import Chapter, Prompt, Vote, VoteEvent
from chapters.prompts import PromptData, vote_block
from tests.factories import make_post, prompt_list
from votes.models import Reading

EXAMPLE = Path("/work/shared/examples/red-alert-ch2.thread.json")
if not EXAMPLE.exists():  # a checkout with shared/ beside it
    EXAMPLE = Path(__file__).resolve().parents[2] / "shared/examples/red-alert-ch2.thread.json"

PROMPTS = prompt_list("single", "write_in", texts={2: "Name the new general."})


def _red_alert() -> dict:
    return json.loads(EXAMPLE.read_text())


def red_alert_block() -> str:
    """The quest master's prompt post 8400128, exactly as posted (stray backslash included)."""
    return next(p["body"] for p in _red_alert()["posts"] if p["id"] == 8400128)


def red_alert_prompts() -> list[dict]:
    return _red_alert()["chapters"][0]["vote"]["prompts"]


@pytest.fixture
def chapter(quest, quest_master) -> Chapter:
    return services.chapter_create(
        quest=quest, title="Beria's Final Gamble", body="", by=quest_master
    )


def url(name, chapter):
    return reverse(name, args=[chapter.quest.slug, chapter.number])


def in_a_week(fmt: str = "%Y-%m-%dT%H:%M") -> str:
    return (timezone.localtime() + timedelta(days=7)).strftime(fmt)


def form_data(prompts: list[dict], op: str = "save", **settings) -> dict:
    """The builder's POST fields for prompts given as {number, kind, text, options: [(l, t)]}."""
    data = {"op": op, "results_visibility": "always", "closes_at": in_a_week(), "opens_at": ""}
    data.update(settings)
    for p, prompt in enumerate(prompts):
        data[f"p-{p}-number"] = str(prompt["number"])
        data[f"p-{p}-kind"] = prompt.get("kind", "single")
        data[f"p-{p}-text"] = prompt["text"]
        for o, (letter, text) in enumerate(prompt.get("options", [])):
            data[f"p-{p}-o-{o}-letter"] = letter
            data[f"p-{p}-o-{o}-text"] = text
    return data


def saved(vote: Vote) -> list[dict]:
    """The vote's prompts in the example file's shape."""
    out = []
    for p in selectors.prompt_data(vote):
        prompt = {"number": p.number, "kind": p.kind, "text": p.text}
        if p.options:
            prompt["options"] = [{"letter": o.letter, "text": o.text} for o in p.options]
        out.append(prompt)
    return out


MARCH = {"number": 1, "text": "Where do we march?", "options": [("A", "North"), ("B", "South")]}
GENERAL = {"number": 2, "kind": "write_in", "text": "Name the new general."}


# --- The form builder ----------------------------------------------------------------


def test_it_starts_with_one_prompt_and_two_options(qm_client, chapter):
    response = qm_client.get(url("vote-prompts", chapter))
    assert response.status_code == 200
    assert 'name="p-0-number" value="1"' in response.text
    assert 'name="p-0-o-0-letter" value="A"' in response.text
    assert 'name="p-0-o-1-letter" value="B"' in response.text
    assert "Ballots exist" not in response.text


def test_it_saves_prompts_built_in_the_form(qm_client, chapter, quest_master):
    response = qm_client.post(
        url("vote-prompts", chapter),
        form_data([MARCH, GENERAL], results_visibility="after_close"),
    )
    assert response.status_code == 302
    assert response["Location"] == url("chapter-detail", chapter)
    vote = Vote.objects.get(chapter=chapter)
    assert selectors.prompt_data(vote) == PROMPTS
    assert vote.results_visibility == Vote.Visibility.AFTER_CLOSE
    assert vote.status == Vote.Status.SCHEDULED  # opens when the chapter is published


def test_it_skips_option_rows_left_empty(qm_client, chapter):
    general = {**GENERAL, "options": [("A", ""), ("B", "  ")]}
    qm_client.post(url("vote-prompts", chapter), form_data([MARCH, general]))
    assert selectors.prompt_data(Vote.objects.get(chapter=chapter)) == PROMPTS


def test_it_reads_the_closing_time_in_the_readers_zone(qm_client, chapter):
    qm_client.cookies["tz"] = "Asia/Tokyo"
    year = timezone.now().year + 2
    qm_client.post(
        url("vote-prompts", chapter), form_data([MARCH], closes_at=f"{year}-01-01T09:00")
    )
    vote = Vote.objects.get(chapter=chapter)
    assert vote.closes_at == datetime(year, 1, 1, 0, 0, tzinfo=UTC)


def test_it_loads_the_saved_prompts_into_the_form(qm_client, chapter, quest_master):
    services.vote_prompts_set(chapter=chapter, prompts=PROMPTS, by=quest_master)
    text = qm_client.get(url("vote-prompts", chapter)).text
    assert 'name="p-0-o-1-text" value="South"' in text
    assert 'name="p-1-text" rows="2">Name the new general.</textarea>' in text
    assert '<option value="write_in" selected>' in text


def test_it_adds_a_prompt_keeping_what_was_typed(qm_client, chapter):
    response = qm_client.post(
        url("vote-prompts", chapter), form_data([MARCH], op="add-prompt"), HTTP_HX_REQUEST="true"
    )
    text = response.text
    assert text.lstrip().startswith('<div id="prompt-builder"')
    assert 'name="p-0-o-0-text" value="North"' in text
    assert 'name="p-1-number" value="2"' in text
    assert 'name="p-1-o-1-letter" value="B"' in text
    assert "HX-Request" in response["Vary"]
    assert not Vote.objects.exists()


def test_it_adds_an_option_with_the_next_letter(qm_client, chapter):
    response = qm_client.post(url("vote-prompts", chapter), form_data([MARCH], op="add-option:0"))
    assert 'name="p-0-o-2-letter" value="C"' in response.text
    assert "<html" in response.text  # without htmx the whole page comes back


def test_it_moves_a_prompt_up_keeping_the_numbers_in_place(qm_client, chapter):
    response = qm_client.post(url("vote-prompts", chapter), form_data([MARCH, GENERAL], op="up:1"))
    text = response.text
    assert 'name="p-0-number" value="1"' in text
    assert 'name="p-0-text" rows="2">Name the new general.</textarea>' in text
    assert 'name="p-1-number" value="2"' in text
    assert 'name="p-1-text" rows="2">Where do we march?</textarea>' in text


def test_it_moves_an_option_down_keeping_the_letters_in_place(qm_client, chapter):
    text = qm_client.post(
        url("vote-prompts", chapter), form_data([MARCH], op="option-down:0:0")
    ).text
    assert 'name="p-0-o-0-letter" value="A"' in text
    assert 'name="p-0-o-0-text" value="South"' in text
    assert 'name="p-0-o-1-text" value="North"' in text


def test_it_removes_an_option_and_a_prompt(qm_client, chapter):
    text = qm_client.post(
        url("vote-prompts", chapter), form_data([MARCH, GENERAL], op="remove-option:0:1")
    ).text
    assert "South" not in text
    text = qm_client.post(
        url("vote-prompts", chapter), form_data([MARCH, GENERAL], op="remove-prompt:0")
    ).text
    assert "Where do we march?" not in text
    assert 'name="p-0-text" rows="2">Name the new general.</textarea>' in text


def test_it_ignores_a_forged_button(qm_client, chapter):
    response = qm_client.post(url("vote-prompts", chapter), form_data([MARCH], op="up:x:99"))
    assert response.status_code == 200
    assert "Where do we march?" in response.text


# --- Bad input in the form builder -----------------------------------------------------


@pytest.mark.parametrize(
    ("prompts", "window", "message"),
    [
        pytest.param(
            [MARCH, {**GENERAL, "number": 1}], {}, "Prompt 1 is numbered twice.", id="dup-number"
        ),
        pytest.param(
            [{**MARCH, "options": [("A", "North"), ("A", "South")]}],
            {},
            "Option A appears twice in prompt 1.",
            id="dup-letter",
        ),
        pytest.param(
            [{**MARCH, "options": [("A", "North")]}],
            {},
            "Prompt 1 needs at least two options (or make it a write-in).",
            id="single-one-option",
        ),
        pytest.param(
            [{**MARCH, "kind": "multi", "options": [("A", "North")]}],
            {},
            "Prompt 1 needs at least two options (or make it a write-in).",
            id="multi-one-option",
        ),
        pytest.param(
            [{**MARCH, "kind": "ranked", "options": [("A", "North")]}],
            {},
            "Prompt 1 needs at least two options (or make it a write-in).",
            id="ranked-one-option",
        ),
        pytest.param(
            [{**GENERAL, "options": [("A", "Zhukov")]}],
            {},
            "Prompt 2 is a write-in, so it takes no options.",
            id="write-in-with-options",
        ),
        pytest.param(
            [MARCH],
            {"closes_at": "2001-01-01T12:00"},
            "The closing time is in the past.",
            id="closes-in-the-past",
        ),
        pytest.param(
            [{**MARCH, "number": "one"}],
            {},
            "Prompt number &#x27;one&#x27; is not a whole number.",
            id="number-not-a-number",
        ),
        pytest.param(
            [MARCH],
            {"closes_at": "next tuesday"},
            "Enter a valid date/time.",
            id="closes-at-unreadable",
        ),
    ],
)
def test_it_rejects_bad_prompts_keeping_the_input(qm_client, chapter, prompts, window, message):
    response = qm_client.post(url("vote-prompts", chapter), form_data(prompts, **window))
    assert response.status_code == 200
    assert message in response.text
    assert "Where do we march?" in response.text or "Name the new general." in response.text
    assert not Vote.objects.exists()
    assert not Prompt.objects.exists()


def test_it_asks_for_at_least_one_prompt(qm_client, chapter):
    response = qm_client.post(url("vote-prompts", chapter), form_data([]))
    assert "Add at least one prompt." in response.text
    assert not Vote.objects.exists()


def test_a_failed_save_leaves_the_previous_prompts_intact(qm_client, chapter, quest_master):
    vote = services.vote_prompts_set(chapter=chapter, prompts=PROMPTS, by=quest_master)
    bad = [{**MARCH, "options": [("A", "Only one")]}]
    response = qm_client.post(url("vote-prompts", chapter), form_data(bad))
    assert "needs at least two options" in response.text
    vote.refresh_from_db()
    assert selectors.prompt_data(vote) == PROMPTS
    assert vote.spec_version == 1
    assert not vote.events.exists()


def test_a_save_failing_half_way_rolls_back_everything(
    chapter, quest_master, monkeypatch, django_capture_on_commit_callbacks
):
    """The old prompts are deleted before the new ones are written: one transaction."""
    services.vote_prompts_set(chapter=chapter, prompts=PROMPTS, by=quest_master)
    services.chapter_publish(chapter=chapter, by=quest_master)
    chapter.refresh_from_db()
    body_before = chapter.post.body

    def broken_post_edit(**kwargs):
        raise RuntimeError("the database went away")

    import quest.services

    monkeypatch.setattr(quest.services, "post_edit", broken_post_edit)
    new = [PromptData(number=1, kind="write_in", text="Something else entirely.")]
    with pytest.raises(RuntimeError):
        services.vote_prompts_set(chapter=chapter, prompts=new, by=quest_master)

    vote = Vote.objects.get(chapter=chapter)
    assert selectors.prompt_data(vote) == PROMPTS
    assert vote.spec_version == 1
    assert not vote.events.filter(kind=VoteEvent.Kind.PROMPTS_CHANGED).exists()
    chapter.post.refresh_from_db()
    assert chapter.post.body == body_before


def test_changing_prompts_of_a_published_chapter_edits_its_post(qm_client, chapter, quest_master):
    services.vote_prompts_set(chapter=chapter, prompts=PROMPTS, by=quest_master)
    services.chapter_publish(chapter=chapter, by=quest_master)
    qm_client.post(url("vote-prompts", chapter), form_data([MARCH]))
    chapter.refresh_from_db()
    assert chapter.post.body.endswith(vote_block(PROMPTS[:1]))
    vote = Vote.objects.get(chapter=chapter)
    assert vote.spec_version == 2
    event = vote.events.get(kind=VoteEvent.Kind.PROMPTS_CHANGED)
    assert (event.by, event.data) == (quest_master, {"ballots_existed": False})


def test_it_warns_when_ballots_exist(qm_client, chapter, quest, quest_master, player):
    vote = services.vote_prompts_set(chapter=chapter, prompts=PROMPTS, by=quest_master)
    services.chapter_publish(chapter=chapter, by=quest_master)
    post = make_post(quest, player, "1. A")
    Reading.objects.create(
        vote=vote,
        post=post,
        post_version=1,
        spec_version=1,
        rules_version=1,
        kind="ballot",
        data={},
    )
    warning = "Ballots exist: changing prompts re-reads every post in the window"
    assert warning in qm_client.get(url("vote-prompts", chapter)).text
    assert warning in qm_client.get(url("vote-paste", chapter)).text

    qm_client.post(url("vote-prompts", chapter), form_data([MARCH]))
    event = vote.events.get(kind=VoteEvent.Kind.PROMPTS_CHANGED)
    assert event.data == {"ballots_existed": True}


# --- Pasting a forum vote block ---------------------------------------------------------


def test_it_pastes_the_red_alert_block_as_its_three_prompts(qm_client, chapter):
    block = red_alert_block()
    assert block.splitlines()[0].endswith("\\")  # the stray backslash is in the paste

    shown = qm_client.post(url("vote-paste", chapter), {"op": "detect", "text": block})
    assert shown.status_code == 200
    assert "Found 3 prompts" in shown.text
    assert "Save these prompts" in shown.text
    assert not Vote.objects.exists()  # shown back first, nothing saved

    confirmed = qm_client.post(
        url("vote-paste", chapter),
        {"op": "save", "text": block, "closes_at": in_a_week(), "results_visibility": "always"},
    )
    assert confirmed.status_code == 302
    vote = Vote.objects.get(chapter=chapter)
    assert saved(vote) == red_alert_prompts()


def test_it_shows_the_detected_prompts_for_confirmation(qm_client, chapter):
    text = qm_client.post(
        url("vote-paste", chapter), {"op": "detect", "text": red_alert_block()}
    ).text
    assert "Should USSR end the ongoing conflict in Korea?" in text
    # Each kind by its label, never its stored value.
    assert '<span class="prompt-kind">(write-in)</span>' in text
    assert 'victorious Red Army. <span class="prompt-kind">(pick one)</span>' in text
    assert "(write_in)" not in text and "(single)" not in text
    # The confirm step posts the same text back.
    assert '<input type="hidden" name="text"' in text


def test_it_says_so_when_the_paste_has_no_prompts(qm_client, chapter):
    text = "Comrades, the vote is below.\nPlease vote!"
    response = qm_client.post(url("vote-paste", chapter), {"op": "save", "text": text})
    assert response.status_code == 200
    assert "No prompts found." in response.text
    assert "Comrades, the vote is below." in response.text
    assert not Vote.objects.exists()


def test_it_asks_for_a_paste(qm_client, chapter):
    response = qm_client.post(url("vote-paste", chapter), {"op": "detect", "text": ""})
    assert "Paste the vote block first." in response.text


def test_it_does_not_save_a_paste_with_problems(qm_client, chapter):
    block = "1. Where?\nA) North\nA) South\n\n1. Who?"
    response = qm_client.post(
        url("vote-paste", chapter),
        {"op": "save", "text": block, "closes_at": in_a_week(), "results_visibility": "always"},
    )
    assert response.status_code == 200
    assert "Prompt 1 is numbered twice." in response.text
    assert "Option A appears twice in prompt 1." in response.text
    assert "Save these prompts" not in response.text
    assert not Vote.objects.exists()


def test_it_does_not_save_a_paste_closing_in_the_past(qm_client, chapter):
    block = red_alert_block()
    response = qm_client.post(
        url("vote-paste", chapter),
        {
            "op": "save",
            "text": block,
            "closes_at": "2001-01-01T00:00",
            "results_visibility": "always",
        },
    )
    assert "The closing time is in the past." in response.text
    assert "2001-01-01T00:00" in response.text
    assert not Vote.objects.exists()


def test_it_hands_the_detected_prompts_to_the_form_builder(qm_client, chapter):
    shown = qm_client.post(url("vote-paste", chapter), {"op": "detect", "text": red_alert_block()})
    assert f'action="{url("vote-prompts", chapter)}"' in shown.text
    assert 'name="p-2-kind" value="write_in"' in shown.text
    # What that form posts, the builder shows for editing (and saves nothing).
    data = form_data(
        [
            {**p, "options": [(o["letter"], o["text"]) for o in p.get("options", [])]}
            for p in red_alert_prompts()
        ],
        op="edit",
    )
    text = qm_client.post(url("vote-prompts", chapter), data).text
    assert (
        'name="p-1-text" rows="2">Should USSR end the ongoing conflict in Korea?</textarea>' in text
    )
    assert not Vote.objects.exists()
