"""Merging write-in entries: a moderator's recorded decision, replayed on every recount, undone.

Posts are counted by calling the recount service directly (what the worker
runs), so these tests behave the same with in-process tasks and with Redis.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from chapters import selectors as chapter_selectors
from chapters import services as chapter_services
from chapters.models import Vote, VoteEvent
from chapters.prompts import PromptData
from tests.factories import make_user, make_vote, prompt_list, vote_in
from votes import audit, selectors, services
from votes.entry_merges import entry_merge, entry_merge_undo, merges_shown
from votes.models import EntryMerge, TallyRun

PROMPTS = prompt_list("single", "write_in", options=2)
REASON = "Both ask for dams on the river."


@pytest.fixture
def vote(quest, quest_master) -> Vote:
    """Prompt 2's entries: "Build dams" (2 votes), "Build more dams", "Plant trees"."""
    vote = make_vote(quest, quest_master, PROMPTS)
    vote_in(vote, make_user("ann"), "1-A\n2-Build dams")
    vote_in(vote, make_user("bob"), "1-B\n2-Build more dams")
    vote_in(vote, make_user("cat"), "1-A\n2-build dams!")
    vote_in(vote, make_user("dan"), "1-A\n2-Plant trees")
    return vote


def _entries(vote: Vote) -> list[tuple[str, int]]:
    run = selectors.latest_tally(vote)
    return [(e["text"], e["votes"]) for e in run.data["prompts"][1]["entries"]]


def _merge(vote, by, merged="Build more dams", kept="Build dams", reason=REASON, prompt=2):
    row = entry_merge(vote=vote, prompt=prompt, merged=merged, kept=kept, reason=reason, by=by)
    services.vote_recount(vote_id=vote.pk)
    return row


def test_it_counts_merged_entries_as_one_under_the_kept_wording(vote, moderator):
    assert _entries(vote) == [("Build dams", 2), ("Build more dams", 1), ("Plant trees", 1)]

    _merge(vote, moderator)

    assert _entries(vote) == [("Build dams", 3), ("Plant trees", 1)]
    entry = selectors.latest_tally(vote).data["prompts"][1]["entries"][0]
    assert entry["merged_from"] == ["Build more dams"]
    assert entry["voters"] == ["ann", "bob", "cat"]


def test_it_replays_the_merge_on_every_recount(vote, moderator):
    _merge(vote, moderator)
    vote_in(vote, make_user("eve"), "1-B\n2-Build more dams")  # a new post: another recount

    assert _entries(vote) == [("Build dams", 4), ("Plant trees", 1)]


def test_it_records_the_merge_and_its_undo_in_the_votes_record(vote, moderator, quest_master):
    merge = _merge(vote, moderator)
    entry_merge_undo(merge=merge, reason="Dams and more dams differ in cost.", by=quest_master)

    merged, split = chapter_selectors.vote_events(vote)[-2:]
    assert (merged.kind, merged.by, merged.reason) == (
        VoteEvent.Kind.ENTRIES_MERGED,
        moderator,
        REASON,
    )
    assert merged.summary == "prompt 2: “Build more dams” merged into “Build dams”"
    assert (split.kind, split.by, split.reason) == (
        VoteEvent.Kind.ENTRIES_SPLIT,
        quest_master,
        "Dams and more dams differ in cost.",
    )
    assert split.summary == "prompt 2: “Build more dams” split from “Build dams”"


def test_undo_restores_the_entries_and_keeps_the_merge_on_record(vote, moderator):
    before = selectors.latest_tally(vote).sha256
    merge = _merge(vote, moderator)

    entry_merge_undo(merge=merge, reason="They are different plans.", by=moderator)
    services.vote_recount(vote_id=vote.pk)

    assert _entries(vote) == [("Build dams", 2), ("Build more dams", 1), ("Plant trees", 1)]
    assert selectors.latest_tally(vote).sha256 == before
    merge.refresh_from_db()
    assert merge.undone_by == moderator and merge.undo_reason == "They are different plans."
    assert selectors.standing_merges(vote) == []


def test_it_stores_a_new_run_naming_the_merge(vote, moderator):
    before = selectors.latest_tally(vote)
    merge = _merge(vote, moderator)

    after = selectors.latest_tally(vote)
    assert after.pk != before.pk and after.sha256 != before.sha256
    assert after.inputs["merges"] == [merge.pk]
    assert before.inputs["merges"] == []


def test_verify_replays_the_merges_the_run_names_even_after_an_undo(vote, moderator):
    merge = _merge(vote, moderator)
    run = selectors.latest_tally(vote)
    entry_merge_undo(merge=merge, reason="Split again.", by=moderator)
    services.vote_recount(vote_id=vote.pk)

    assert audit.tally_verify(run=run)["match"] is True
    assert audit.tally_verify(run=selectors.latest_tally(vote))["match"] is True


def test_a_merge_on_a_closed_vote_makes_a_new_final_tally(vote, moderator, quest_master):
    chapter_services.vote_close(vote=vote, by=quest_master)
    services.vote_recount(vote_id=vote.pk)

    _merge(vote, moderator)

    [final] = TallyRun.objects.filter(vote=vote, is_final=True)
    assert final == selectors.latest_tally(vote)
    assert [(e["text"], e["votes"]) for e in final.data["prompts"][1]["entries"]][0] == (
        "Build dams",
        3,
    )
    bbcode = selectors.tally_bbcode(vote, base_url="http://testserver/")
    assert "[B]Build dams[/B] No. of Votes: 3" in bbcode


def test_a_merge_whose_texts_are_gone_is_kept_but_joins_nothing(vote, moderator, quest):
    _merge(vote, moderator, merged="Plant trees")
    # dan changes his answer: "Plant trees" is no longer written by anyone.
    vote_in(vote, vote.chapter.quest.posts.get(body__contains="Plant trees").author, "2-Dig canals")

    assert _entries(vote) == [("Build dams", 2), ("Build more dams", 1), ("Dig canals", 1)]
    assert len(selectors.standing_merges(vote)) == 1


@pytest.mark.parametrize(
    ("merged", "kept", "reason", "prompt", "message"),
    [
        ("Build more dams", "Build dams", "  ", 2, "Give a reason"),
        ("Build more dams", "Sing loudly", REASON, 2, "“Sing loudly” is not an entry of prompt 2"),
        ("Build dams", "Build dams", REASON, 2, "cannot be merged into itself"),
        ("Build dams", "build DAMS", REASON, 2, "cannot be merged into itself"),
        ("Option A", "Option B", REASON, 1, "Prompt 1 is not a write-in prompt"),
        ("Build more dams", "Build dams", REASON, 7, "The vote has no prompt 7"),
        ("", "Build dams", REASON, 2, "Choose the two entries"),
    ],
)
def test_bad_input_says_why_and_changes_nothing(
    vote, moderator, merged, kept, reason, prompt, message
):
    runs, events = TallyRun.objects.count(), VoteEvent.objects.count()

    with pytest.raises(ValidationError) as e:
        entry_merge(vote=vote, prompt=prompt, merged=merged, kept=kept, reason=reason, by=moderator)

    assert any(message in m for m in e.value.messages), e.value.messages
    assert EntryMerge.objects.count() == 0
    assert (TallyRun.objects.count(), VoteEvent.objects.count()) == (runs, events)


def test_it_refuses_to_merge_an_entry_merged_already(vote, moderator):
    entry_merge(
        vote=vote,
        prompt=2,
        merged="Build more dams",
        kept="Build dams",
        reason=REASON,
        by=moderator,
    )
    # Before the recount the tally still shows the entry: the standing merge says no.
    with pytest.raises(ValidationError, match="already merged into “Build dams”"):
        entry_merge(
            vote=vote,
            prompt=2,
            merged="Build more dams",
            kept="Plant trees",
            reason=REASON,
            by=moderator,
        )
    with pytest.raises(ValidationError, match="itself merged into “Build dams”"):
        entry_merge(
            vote=vote,
            prompt=2,
            merged="Plant trees",
            kept="Build more dams",
            reason=REASON,
            by=moderator,
        )
    assert EntryMerge.objects.count() == 1


def test_it_refuses_to_merge_away_an_adopted_write_in(vote, moderator, quest_master):
    chapter_services.vote_close(vote=vote, by=quest_master)
    services.vote_recount(vote_id=vote.pk)
    services.write_in_adopt(vote=vote, prompt=2, text="Build more dams", by=quest_master)

    with pytest.raises(ValidationError, match="is adopted"):
        entry_merge(
            vote=vote,
            prompt=2,
            merged="Build more dams",
            kept="Build dams",
            reason=REASON,
            by=moderator,
        )
    assert EntryMerge.objects.count() == 0


def test_an_undo_needs_a_reason_and_happens_once(vote, moderator):
    merge = _merge(vote, moderator)

    with pytest.raises(ValidationError, match="Give a reason"):
        entry_merge_undo(merge=merge, reason="", by=moderator)
    entry_merge_undo(merge=merge, reason="Split.", by=moderator)
    with pytest.raises(ValidationError, match="already undone"):
        entry_merge_undo(merge=merge, reason="Split again.", by=moderator)
    assert VoteEvent.objects.filter(kind=VoteEvent.Kind.ENTRIES_SPLIT).count() == 1


@pytest.mark.parametrize("role", ["player", "outsider", "other_moderator"])
def test_only_the_quest_master_and_moderators_merge(vote, moderator, role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        entry_merge(
            vote=vote, prompt=2, merged="Build more dams", kept="Build dams", reason=REASON, by=user
        )
    merge = entry_merge(
        vote=vote,
        prompt=2,
        merged="Build more dams",
        kept="Build dams",
        reason=REASON,
        by=moderator,
    )
    with pytest.raises(PermissionDenied):
        entry_merge_undo(merge=merge, reason="Mine now.", by=user)
    assert EntryMerge.objects.get().undone_at is None


def test_the_quest_master_merges_too(vote, quest_master):
    _merge(vote, quest_master)
    assert _entries(vote)[0] == ("Build dams", 3)


# --- [X] lines prompts: entries merged by their labels, the same way ---------------


@pytest.fixture
def lines_vote(quest, quest_master) -> Vote:
    """Prompt 1's entries: "[Ship] Repair the reactor" (2), "[Ship] Fix the reactor", "Rest"."""
    vote = make_vote(quest, quest_master, [PromptData(1, "lines", "What does the crew do?")])
    vote_in(vote, make_user("ann"), "[X][Ship] Repair the reactor\n[X] Rest")
    vote_in(vote, make_user("bob"), "[X][SHIP] repair the reactor!")
    vote_in(vote, make_user("cat"), "[X][Ship] Fix the reactor")
    return vote


def _lines(vote: Vote) -> list[tuple[str | None, str, int]]:
    run = selectors.latest_tally(vote)
    return [(e["task"], e["text"], e["votes"]) for e in run.data["prompts"][0]["entries"]]


def test_it_merges_lines_entries_by_their_labels_and_replays_the_merge(lines_vote, moderator):
    assert _lines(lines_vote) == [
        ("Ship", "Repair the reactor", 2),
        (None, "Rest", 1),
        ("Ship", "Fix the reactor", 1),
    ]
    # The entry's text alone does not name it: a task's entries are named "[Task] text".
    with pytest.raises(ValidationError, match="is not an entry of prompt 1 now"):
        _merge(lines_vote, moderator, merged="Fix the reactor", kept="Repair the reactor", prompt=1)

    _merge(
        lines_vote,
        moderator,
        merged="[Ship] Fix the reactor",
        kept="[Ship] Repair the reactor",
        prompt=1,
    )
    vote_in(lines_vote, make_user("dan"), "[X][ship] Fix the reactor")  # another recount

    assert _lines(lines_vote) == [("Ship", "Repair the reactor", 4), (None, "Rest", 1)]
    entry = selectors.latest_tally(lines_vote).data["prompts"][0]["entries"][0]
    assert entry["merged_from"] == ["[Ship] Fix the reactor"]
    assert entry["voters"] == ["ann", "bob", "cat", "dan"]
    shown = merges_shown(lines_vote, selectors.latest_tally(lines_vote).data, recounting=False)
    assert shown[1]["entries"] == ["[Ship] Repair the reactor", "Rest"]
    assert [s["applies"] for s in shown[1]["standing"]] == [True]
