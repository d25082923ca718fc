"""A stored Reading is stale when the post, the vote's prompts and window, or the
reading rules changed since it was made: one rule (`Reading.is_stale`), asked by
the worker, the recount, the sweeper and the audit page alike."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chapters.models import Vote
from tests.factories import make_quest, make_user, make_vote, prompt_list, vote_in
from votes import audit, selectors, services
from votes.models import Reading
from votes.reading.types import RULES_VERSION

pytestmark = pytest.mark.django_db


@pytest.fixture
def vote(db):
    quest_master = make_user("quest_master")
    return make_vote(make_quest(quest_master), quest_master, prompt_list("single"))


@pytest.fixture
def row(vote):
    post = vote_in(vote, make_user("voter"), "1-A")
    return Reading.objects.select_related("post").get(vote=vote, post=post)


def test_a_fresh_reading_is_not_stale(vote, row):
    assert not row.is_stale(row.post, vote)


@pytest.mark.parametrize("moved", ["post_version", "spec_version", "rules_version"])
def test_a_reading_is_stale_once_anything_it_was_made_from_moved(vote, row, moved):
    setattr(row, moved, getattr(row, moved) - 1 if moved == "rules_version" else 99)
    assert row.is_stale(row.post, vote)


def _older_rules(row: Reading) -> None:
    Reading.objects.filter(pk=row.pk).update(rules_version=RULES_VERSION - 1)


def test_the_audit_page_shows_a_reading_of_older_rules_as_stale(vote, row):
    _older_rules(row)
    spec = selectors.vote_spec(vote)
    [item] = audit.audit_posts(vote, spec=spec, decisions=[], show="all", ref=row.post.ref)
    assert item.stale


def test_the_sweeper_and_the_recount_read_a_post_of_older_rules_again(
    vote, row, django_capture_on_commit_callbacks
):
    _older_rules(row)
    with django_capture_on_commit_callbacks() as sent:
        assert services.recounts_sweep()["recounts"] == 1
    assert len(sent) == 1

    services.vote_recount(vote_id=vote.pk)
    assert Reading.objects.get(pk=row.pk).rules_version == RULES_VERSION


def test_the_worker_reads_a_post_of_older_rules_again(row):
    _older_rules(row)
    services.post_reading_refresh(post_id=row.post_id)
    assert Reading.objects.get(pk=row.pk).rules_version == RULES_VERSION


def test_the_sweeper_looks_only_at_open_and_lately_closed_votes(
    vote, row, django_capture_on_commit_callbacks
):
    _older_rules(row)
    long_ago = timezone.now() - services.SWEEP_CLOSED_WITHIN - timedelta(hours=1)
    Vote.objects.filter(pk=vote.pk).update(status=Vote.Status.CLOSED, closed_at=long_ago)
    with django_capture_on_commit_callbacks() as sent:
        assert services.recounts_sweep()["recounts"] == 0  # an old closed vote keeps its tally
    assert sent == []

    Vote.objects.filter(pk=vote.pk).update(closed_at=timezone.now())
    with django_capture_on_commit_callbacks():
        assert services.recounts_sweep()["recounts"] == 1  # closed just now: still swept
