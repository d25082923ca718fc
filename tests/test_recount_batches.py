"""A long window recounted a batch at a time, never every Reading at once (issue 14).

The recount reads the stale posts through the kept thread READ_BATCH at a
time, storing each batch's rows before the next batch is read, and folds the
stored rows FOLD_CHUNK at a time as the fold takes them; a window longer than
PARSED_WINDOW_MAX keeps nothing parsed. Here the sizes are made small so the
imported example thread (a few hundred posts) takes several batches, and the
Readings and the tally must still be what one pass reads and the example
expects. And what the tally's pollers are told is counted stays small when an
import's refs are the forum's, far apart.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from django.db.models import F

from chapters.models import Vote
from quest.models import Post
from tests.test_import_bulk import _import, _one_pass, _score, _stored, _tally, _thread
from votes import contexts, poll, services
from votes.models import Reading
from votes.reading.types import Reading as ReadingOut


class _CountedParse:
    """services.ReadingOut, counting the stored Readings parsed."""

    parsed = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReadingOut:
        cls.parsed += 1
        return ReadingOut.from_json(data)


@pytest.mark.django_db
def test_the_recount_reads_stores_and_folds_a_long_window_a_batch_at_a_time(
    monkeypatch, tmp_path, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(contexts, "READ_BATCH", 64)
    monkeypatch.setattr(services, "FOLD_CHUNK", 50)
    monkeypatch.setattr(services, "PARSED_WINDOW_MAX", 100)
    monkeypatch.setattr(services, "ReadingOut", _CountedParse)
    batches: list[tuple[int, int]] = []  # (posts in the batch, rows stored before it was read)
    real_batches = contexts.window_reading_batches

    def recorded(*, vote, refs, size=None):
        for batch in real_batches(vote=vote, refs=refs, size=size):
            batches.append((len(batch), Reading.objects.filter(vote=vote).count()))
            yield batch

    monkeypatch.setattr(contexts, "window_reading_batches", recorded)
    most_ahead = [0]  # Readings parsed and not yet taken by the fold, at most
    real_fold = services.fold

    def fold(spec, readings: Iterable[ReadingOut], decisions):
        assert not isinstance(readings, list | tuple)
        taken = []
        for reading in readings:
            taken.append(reading)
            most_ahead[0] = max(most_ahead[0], _CountedParse.parsed - len(taken))
        return real_fold(spec, taken, decisions)

    monkeypatch.setattr(services, "fold", fold)
    data = _thread()
    cached = set(services._parsed.items)

    quest = _import(data, django_capture_on_commit_callbacks)

    vote = Vote.objects.get(chapter__quest=quest)
    window = Reading.objects.filter(vote=vote).count()
    assert window > 300
    # Read 64 at a time, each batch stored before the next was read.
    assert [size for size, _ in batches[:-1]] == [64] * (len(batches) - 1)
    assert sum(size for size, _ in batches) == window
    assert [before for _, before in batches] == [64 * k for k in range(len(batches))]
    # Folded as parsed: never more than one chunk ahead of the fold, and nothing kept.
    assert _CountedParse.parsed >= window
    assert most_ahead[0] < 50
    assert set(services._parsed.items) == cached
    # And the same Readings and tally as one pass.
    stored = _stored(vote)
    expected = _one_pass(data, vote)
    assert stored == {ref: expected[ref] for ref in stored}
    scored = _score(_tally(), tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert "0 wrong" in scored.stdout


@pytest.mark.django_db
def test_what_pollers_are_told_is_counted_names_only_posts_far_apart_refs_or_not(
    django_capture_on_commit_callbacks,
):
    data = _thread()  # the forum's refs: the example's, and chatter from 9,000,000
    quest = _import(data, django_capture_on_commit_callbacks)
    vote = Vote.objects.get(chapter__quest=quest)
    refs = sorted(Reading.objects.filter(vote=vote).values_list("post__ref", flat=True))
    assert refs[-1] - refs[0] > 500_000  # numbers between them: not posts

    assert poll._counted(vote.pk) == (refs[0], refs[-1], ())

    edited = refs[len(refs) // 2]  # an edit not read yet
    Post.objects.filter(quest=quest, ref=edited).update(version=F("version") + 1)
    assert poll._counted(vote.pk) == (refs[0], refs[-1], (edited,))

    # A recount under the vote's lock reads nothing and says the same of what it counted.
    _, extra = services.tally_compute(vote=vote, read_stale=False)
    assert extra["counted"] == poll._counted(vote.pk)
    assert extra["stale"]
