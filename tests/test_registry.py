"""The hooks a lower app calls and a higher app fills (quest/registry.py), and sending tasks."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from quest import registry
from quest.registry import Hook
from votes import enqueue

HOOKS = [value for value in vars(registry).values() if isinstance(value, Hook)]


def test_it_declares_the_hooks_the_lower_apps_call():
    assert {hook.name for hook in HOOKS} == {
        "post_needs_reading",
        "read_as_lines",
        "quests_with_chapters",
        "thread_open_vote",
        "thread_closed_vote",
        "quest_has_chapters",
        "reply_vote",
        "post_vote",
        "edit_preview",
        "vote_changed",
        "vote_reopened",
        "ballot_panel",
    }


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.name)
def test_it_fills_every_hook_once_the_apps_are_ready(hook):
    assert hook.filled, f"no app fills {hook.name!r}: see chapters/apps.py and votes/apps.py"


def test_it_answers_with_the_default_while_nobody_fills_a_hook():
    def _lines(posts: list) -> dict:
        """Post pk -> line."""
        return {}

    hook = Hook(_lines)

    assert not hook.filled
    assert hook([1, 2]) == {}
    assert hook.name == "lines"
    assert hook.__doc__ == "Post pk -> line."


def test_it_answers_with_the_provider_once_filled():
    hook = Hook(lambda *, post: None)
    seen = []

    hook.fill(lambda *, post: seen.append(post) or "read")

    assert hook(post=7) == "read"
    assert seen == [7]


def test_it_refuses_a_second_provider_but_not_the_same_one_again():
    def provider(quest):
        return quest

    hook = Hook(lambda quest: None)
    hook.fill(provider)
    hook.fill(provider)  # ready() run again

    with pytest.raises(ImproperlyConfigured, match="already filled"):
        hook.fill(lambda quest: quest)


def test_it_logs_a_task_it_cannot_send_instead_of_raising(caplog):
    caplog.set_level(logging.WARNING, logger="votes.enqueue")

    enqueue.enqueue("votes.no_such_task", 1)

    [record] = caplog.records
    assert "could not enqueue votes.no_such_task(1,)" in record.getMessage()
