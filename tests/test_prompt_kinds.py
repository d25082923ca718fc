"""Prompt kinds have one definition, `chapters.kinds.PromptKind` (issue 11).

The model's choices, the prompt builder's menu, the importer and the reader all
take their kinds from it. Since issue 15 the quest master can make every kind,
LINES prompts (forum-style [X] lines) too: they have a ballot form.
"""

import pytest

from chapters.forms import PromptsForm
from chapters.kinds import BUILDER_KINDS, PromptKind
from chapters.models import Prompt, Vote
from chapters.prompts import OptionData, PromptData, prompts_problems
from votes.importers.thread_json import FORMAT, ThreadFormatError, thread_import
from votes.models import TallyRun
from votes.reading import types as reading_types

PLANS = [{"letter": "A", "text": "Plant maize"}, {"letter": "B", "text": "Build dams"}]


def _thread(*prompts: dict) -> dict:
    """A quest-thread/1 document: a chapter whose vote has `prompts`, and one ballot."""
    return {
        "format": FORMAT,
        "quest": {"slug": "kinds", "title": "Kinds", "quest_master": "panpiotr"},
        "chapters": [
            {
                "number": 1,
                "title": "The plenum",
                "post": 1,
                "vote": {"post": 1, "closes_at": "2020-01-02T00:00:00+00:00", "prompts": prompts},
            }
        ],
        "posts": [
            {"id": 1, "author": "panpiotr", "body": "Vote!", "posted_at": "2020-01-01T00:00:00Z"},
            {"id": 2, "author": "RedBanner", "body": "[X] A", "posted_at": "2020-01-01T01:00:00Z"},
        ],
    }


def test_it_gives_the_model_every_kind_as_a_choice():
    assert Prompt._meta.get_field("kind").choices == [(k.value, k.label) for k in PromptKind]


def test_it_offers_the_quest_master_every_kind():
    assert tuple(PromptKind) == BUILDER_KINDS
    assert PromptsForm.kinds == [(k.value, k.label) for k in PromptKind]
    assert prompts_problems([PromptData(1, PromptKind.LINES, "Plans")]) == []
    lettered = PromptData(
        1, PromptKind.LINES, "Plans", [OptionData("A", "Maize"), OptionData("B", "Dams")]
    )
    assert prompts_problems([lettered]) == [
        'Prompt 1 is voted with [X] lines, so it takes no options: write your suggestions as "[ ]" '
        "lines in the chapter."
    ]
    unknown = PromptData(1, "checkbox", "Plans")
    assert prompts_problems([unknown]) == [
        "Prompt 1: the kind 'checkbox' is not one of pick one, choose any, rank in order, "
        "write-in, [x] lines."
    ]


def test_it_reads_with_the_same_enum():
    assert reading_types.PromptKind is PromptKind


@pytest.mark.django_db
def test_it_imports_every_kind(django_capture_on_commit_callbacks):
    prompts = [
        {"number": n, "kind": kind.value, "text": f"{kind.label}?"}
        | ({} if kind is PromptKind.WRITE_IN else {"options": PLANS})
        for n, kind in enumerate(PromptKind, start=1)
    ]
    with django_capture_on_commit_callbacks(execute=True):  # the recount reads and tallies
        thread_import(_thread(*prompts))

    vote = Vote.objects.get(chapter__quest__slug="kinds")
    assert [p.kind for p in vote.prompts.all()] == list(PromptKind)
    assert TallyRun.objects.filter(vote=vote).exists()


@pytest.mark.django_db
def test_it_refuses_a_kind_it_does_not_know():
    with pytest.raises(ThreadFormatError, match="prompt kind 'checkbox' is not one of 'single'"):
        thread_import(_thread({"number": 1, "kind": "checkbox", "text": "Plans?"}))
