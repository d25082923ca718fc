""" "Choose any" prompts that pass every option at a threshold, from the builder to the exports.

The quest master sets a prompt's pass rule in the prompt builder; the recount
writes it into the tally (quest-tally/1 `pass_rule`, each option's `passed`
once closed), and the tally page, the JSON and the BBCode show it.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from chapters import services as chapter_services
from chapters.models import Chapter, Prompt, Vote
from chapters.prompts import OptionData, PromptData, prompts_problems, vote_block
from tests.factories import make_user, make_vote, prompt_list, vote_in
from tests.test_vote_prompts import form_data
from votes import selectors, services

CREW = {
    "number": 1,
    "kind": "multi",
    "text": "Who comes with us?",
    "options": [("A", "The scouts"), ("B", "The cooks"), ("C", "The band")],
}


@pytest.fixture
def chapter(quest, quest_master) -> Chapter:
    return chapter_services.chapter_create(quest=quest, title="The March", by=quest_master)


def _builder_url(chapter: Chapter) -> str:
    return reverse("vote-prompts", args=[chapter.quest.slug, chapter.number])


def _save(client, chapter, rule: str, at: str):
    data = form_data([CREW], **{"p-0-pass_rule": rule, "p-0-pass_at": at})
    return client.post(_builder_url(chapter), data)


# --- The prompt builder ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "typed", "stored"),
    [
        ("votes", "3", Decimal("3")),
        ("share", "50", Decimal("0.5")),
        ("share", "33.33%", Decimal("0.3333")),
        ("top", "7", None),  # the most votes win: a threshold left in the box is dropped
    ],
)
def test_it_saves_the_pass_rule_set_in_the_builder(qm_client, chapter, rule, typed, stored):
    response = _save(qm_client, chapter, rule, typed)

    assert response.status_code == 302
    prompt = Prompt.objects.get(vote__chapter=chapter)
    assert (prompt.pass_rule, prompt.pass_at_least) == (rule, stored)


@pytest.mark.parametrize(
    ("rule", "typed", "message"),
    [
        ("votes", "", "give the votes an option needs to pass, a whole number from 1 to 10,000"),
        ("votes", "2.5", "a whole number from 1 to 10,000"),
        ("votes", "0", "a whole number from 1 to 10,000"),
        ("share", "0", "over 0% and up to 100% (two decimals at most)"),
        ("share", "120", "over 0% and up to 100% (two decimals at most)"),
        ("share", "33.333", "over 0% and up to 100% (two decimals at most)"),
        ("share", "half", "the threshold &#x27;half&#x27; is not a number"),
        ("votes", "NaN", "the threshold &#x27;NaN&#x27; is not a number"),
    ],
)
def test_it_refuses_a_threshold_it_cannot_use(qm_client, chapter, rule, typed, message):
    response = _save(qm_client, chapter, rule, typed)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Vote.objects.filter(chapter=chapter).exists()


def test_it_shows_the_saved_rule_back_in_the_builder(qm_client, chapter):
    _save(qm_client, chapter, "share", "33.33")

    page = qm_client.get(_builder_url(chapter)).content.decode()

    assert '<option value="share" selected>' in page
    assert 'name="p-0-pass_at" value="33.33"' in page


def test_it_offers_the_rule_only_for_choose_any_prompts(qm_client, chapter):
    single = {**CREW, "kind": "single"}
    page = qm_client.post(_builder_url(chapter), form_data([single], op="refresh")).content
    assert b"p-0-pass_rule" not in page

    page = qm_client.post(_builder_url(chapter), form_data([CREW], op="refresh")).content
    assert b'name="p-0-pass_rule"' in page


def test_it_keeps_a_threshold_off_other_kinds():
    options = [OptionData("A", "North"), OptionData("B", "South")]
    prompt = PromptData(1, "single", "Where?", options, pass_rule="votes", pass_at_least=Decimal(2))
    assert prompts_problems([prompt]) == [
        'Prompt 1: only a "choose any" prompt passes options by a threshold.'
    ]


def test_it_tells_forum_readers_what_passes():
    prompt = PromptData(1, "multi", "Who comes?", pass_rule="share", pass_at_least=Decimal("0.5"))
    assert (
        vote_block([prompt])
        == "1. Who comes? (choose any) Every option with at least 50% of voters passes."
    )


# --- The tally, the page and the exports -----------------------------------------


@pytest.fixture
def crew_vote(quest, quest_master) -> Vote:
    """Prompt 1 passes every option with at least 2 votes: A has 3, B 2, C 1."""
    prompts = prompt_list("multi", options=3)
    prompts[0].pass_rule, prompts[0].pass_at_least = "votes", Decimal(2)
    vote = make_vote(quest, quest_master, prompts)
    for name, letters in [("ann", "AB"), ("bob", "AB"), ("cat", "AC")]:
        vote_in(vote, make_user(name), f"1-{letters}")
    return vote


def _close(vote: Vote) -> None:
    chapter_services.vote_close(vote=vote, by=vote.chapter.quest.quest_master)
    services.vote_recount(vote_id=vote.pk)


def _url(vote: Vote, name: str) -> str:
    return reverse(name, args=[vote.chapter.quest.slug, vote.chapter.number])


def test_it_writes_the_rule_into_the_tally_and_passed_once_closed(client, crew_vote):
    open_prompt = selectors.latest_tally(crew_vote).data["prompts"][0]
    _close(crew_vote)
    data = client.get(_url(crew_vote, "chapter-tally-json")).json()

    assert open_prompt["pass_rule"] == {"kind": "votes", "at_least": 2}
    assert all("passed" not in o for o in open_prompt["options"])
    [prompt] = data["prompts"]
    assert prompt["pass_rule"] == {"kind": "votes", "at_least": 2}
    passed = {o["letter"]: (o["votes"], o["passed"]) for o in prompt["options"]}
    assert passed == {"A": (3, True), "B": (2, True), "C": (1, False)}


def test_it_shows_the_options_passing_on_the_tally_page(client, crew_vote):
    page = client.get(_url(crew_vote, "chapter-tally")).content.decode()

    assert "Every option with at least 2 votes passes." in page
    assert page.count('<span class="badge ok">passing</span>') == 2

    _close(crew_vote)
    page = client.get(_url(crew_vote, "chapter-tally")).content.decode()

    assert page.count('<span class="badge ok">passed</span>') == 2
    assert re.search(
        r"Passed:</strong>\s*A\) The scouts \(3 votes\); B\) The cooks \(2 votes\)\s*"
        r'<span class="muted">\(every option with at least 2 votes passes\)',
        page,
    )
    assert "Tie between" not in page
    assert "Settle the tie" not in page


def test_it_puts_what_passed_in_the_bbcode_and_the_results(client, crew_vote):
    _close(crew_vote)

    text = client.get(_url(crew_vote, "chapter-tally-bbcode")).content.decode()

    assert "[B]The vote is closed.[/B]" in text
    assert "[I]Every option with at least 2 votes passes.[/I]" in text
    assert "[B]A) The scouts[/B] No. of Votes: 3 - [B]passed[/B]" in text
    assert "[B]C) The band[/B] No. of Votes: 1\n" in text
    assert "[B]Passed:[/B] A) The scouts, B) The cooks (at least 2 votes)" in text
    assert "Passed: A) The scouts, 3 votes; B) The cooks, 2 votes (at least 2 votes)" in (
        selectors.results_block(crew_vote)
    )


def test_it_tells_players_what_passes_on_the_chapter_and_the_ballot_form(client, crew_vote, player):
    client.force_login(player)

    chapter = client.get(crew_vote.chapter.get_absolute_url()).content.decode()
    ballot = client.get(_url(crew_vote, "ballot-submit")).content.decode()

    rule = "Every option with at least 2 votes passes."
    assert f'<span class="prompt-rule">{rule}</span>' in chapter
    assert f'<span class="muted">{rule}</span>' in ballot
