"""A live vote's recount after new posts folds only those (issue 14).

The worker keeps each live vote's last fold (`services._folds`) and the window
it looked at before taking the vote's lock. Both are shortcuts only: whatever
happened since (new posts, an edit of an earlier one, a ruling, a post saved
while the recount ran) must give the tally a worker that has just started
computes from the stored rows.
"""

from datetime import timedelta

import pytest
from django.db.models import F

from quest.models import Post
from quest.services import post_edit
from tests.factories import make_post, make_quest, make_user, make_vote, prompt_list, vote_in
from votes import audit, selectors, services
from votes.models import Reading

pytestmark = pytest.mark.django_db


@pytest.fixture
def vote(db):
    quest_master = make_user("quest_master")
    return make_vote(make_quest(quest_master), quest_master, prompt_list("single", "multi"))


@pytest.fixture
def voters(vote):
    names = ["ann", "bob", "cat", "dan"]
    users = {name: make_user(name) for name in names}
    posts = {
        "ann": vote_in(vote, users["ann"], "1-A\n2-A"),
        "bob": vote_in(vote, users["bob"], "1 B; 2 AB"),
        "cat": vote_in(vote, users["cat"], "[X] ann"),
        "dan": vote_in(vote, users["dan"], "I'm with bob on this."),
    }
    return users, posts


@pytest.fixture
def loaded(monkeypatch) -> list[set[int]]:
    """The posts whose stored Readings each recount loads, parsed or cached, to fold them."""
    calls: list[set[int]] = []
    real = services._stored_readings

    def recorded(vote, window, stored, *, keep):
        calls.append({pk for pk, _, _ in window})
        return real(vote, window, stored, keep=keep)

    monkeypatch.setattr(services, "_stored_readings", recorded)
    return calls


def _from_scratch(vote) -> dict:
    """The tally a worker that has just started computes: nothing kept in the process."""
    services._folds.clear()
    services._parsed.items.clear()
    tally, _ = services.tally_compute(vote=vote)
    return tally


def _latest(vote) -> dict:
    return selectors.latest_tally(vote).data


def test_new_posts_are_all_a_recount_folds_and_the_tally_is_the_whole_fold(vote, voters, loaded):
    users, _ = voters
    loaded.clear()
    new = {
        make_post(vote.chapter.quest, users["ann"], "Revised vote:\n1-B\n2-B").pk,
        make_post(vote.chapter.quest, make_user("eve"), "1) A").pk,
    }
    services.vote_recount(vote_id=vote.pk)

    assert loaded and all(call <= new for call in loaded)
    assert set().union(*loaded) == new
    assert _latest(vote) == _from_scratch(vote)
    assert _latest(vote)["ballots"] == 5


def _edit_earlier(vote, users, posts) -> None:
    post_edit(post=posts["bob"], body="1-A\n2-B", by=users["bob"])


def _rule(vote, users, posts) -> None:
    audit.decision_record(
        vote=vote,
        post=posts["ann"],
        prompt=1,
        action="reject",
        answer=None,
        reason="Asked in the thread to withdraw it.",
        by=vote.chapter.quest.quest_master,
    )


@pytest.mark.parametrize(
    "change", [_edit_earlier, _rule], ids=["an earlier post edited", "a ruling"]
)
def test_a_change_before_the_end_of_the_window_folds_it_all_again(vote, voters, loaded, change):
    users, posts = voters
    before = _latest(vote)
    change(vote, users, posts)
    loaded.clear()
    services.vote_recount(vote_id=vote.pk)

    assert set().union(*loaded) >= {p.pk for p in posts.values()}
    assert _latest(vote) != before
    assert _latest(vote) == _from_scratch(vote)


def test_a_post_edited_while_the_recount_reads_is_not_told_as_counted(vote, voters, monkeypatch):
    # The window seen before the lock is folded only while nothing moved: here an
    # earlier post is edited between the look and the lock, so the fold looks again,
    # folds that post's previous Reading, and asks for another recount to read it.
    users, posts = voters
    edited = posts["bob"]
    real_refresh = services._readings_refresh

    def refresh_then_edit(vote):
        seen = real_refresh(vote)
        Post.objects.filter(pk=edited.pk).update(version=F("version") + 1, body="1-A\n2-B")
        return seen

    asked: list[int] = []
    real_request = services.vote_recount_request

    def request(*, vote, at_once=False):
        asked.append(vote.pk)
        real_request(vote=vote, at_once=at_once)

    monkeypatch.setattr(services, "_readings_refresh", refresh_then_edit)
    monkeypatch.setattr(services, "vote_recount_request", request)
    make_post(vote.chapter.quest, make_user("eve"), "1-A")
    services.vote_recount(vote_id=vote.pk)

    assert asked == [vote.pk]
    _, extra = services.tally_compute(vote=vote, read_stale=False)
    assert edited.ref in extra["counted"][2]  # left out: not read at its text yet
    monkeypatch.setattr(services, "_readings_refresh", real_refresh)
    services.vote_recount(vote_id=vote.pk)
    assert _latest(vote)["ballots"] == 5
    assert _latest(vote) == _from_scratch(vote)


def test_readings_written_over_by_another_process_as_the_recount_reads_are_taken_as_they_stand(
    vote, voters, monkeypatch
):
    # Another process's read of the same posts lands just after this recount's: the
    # rows carry its read time, not this one's, and are folded as they now stand.
    real = services._read_and_store

    def read_then_written_over(vote, window, stale):
        read_at = real(vote, window, stale)
        later = read_at + timedelta(microseconds=1)
        Reading.objects.filter(vote=vote, post_id__in=stale).update(read_at=later)
        return read_at

    monkeypatch.setattr(services, "_read_and_store", read_then_written_over)
    make_post(vote.chapter.quest, make_user("eve"), "1-B\n2-B")
    services.vote_recount(vote_id=vote.pk)

    assert _latest(vote)["ballots"] == 5
    assert _latest(vote) == _from_scratch(vote)
