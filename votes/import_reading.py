"""Reading an imported thread: each vote's window read in chunks, then one recount.

An import stores thousands of posts at once (votes/importers/thread_json.py)
and asks here, once per vote, for them to be read once it commits:

- With workers, a Celery chord: one `votes.read_chunk` task per CHUNK posts of
  the window, each reading its posts against every post before them (loaded
  from the database, as the reader needs them for quotes, endorsements and
  proxies) and storing their Readings in one statement, run in parallel; the
  chord's callback is the vote's one recount, which then finds nothing stale
  and only folds and tallies.
- In-process (the embedded default, eager Celery): the recount alone, which
  reads every stale post in one pass through the vote's kept thread
  (votes/contexts.py); chunks would only load the posts before them again.

A chunk lost with its worker or its message leaves its posts without a
Reading: the sweeper finds them stale and the recount reads them, as it does
for any post. Reading is idempotent (an upsert keyed by vote and post).
"""

from django.utils import timezone

from chapters.models import Vote
from quest.celery import app
from votes import contexts, selectors
from votes.enqueue import enqueue_chord_on_commit
from votes.models import Reading, RecountState
from votes.reading import ReadingContext
from votes.services import vote_recount_request

CHUNK = 1000  # posts a chunk task reads: a few seconds of reading, one INSERT of Readings


def import_readings_request(*, vote: Vote) -> None:
    """Read the vote's window and recount it once the import's transaction commits."""
    window = selectors.window_bounds(vote)
    if app.conf.task_always_eager or window is None:
        vote_recount_request(vote=vote)
        return
    last = window[1] - 1 if window[1] is not None else vote.chapter.quest.last_seq
    chunks = [
        (vote.pk, first, min(first + CHUNK - 1, last))
        for first in range(window[0] + 1, last + 1, CHUNK)
    ]
    now = timezone.now()
    # The chord's callback is the vote's queued recount: requests meanwhile only move wanted_at.
    RecountState.objects.update_or_create(
        vote_id=vote.pk, defaults={"wanted_at": now, "queued_at": now}
    )
    enqueue_chord_on_commit(
        [("votes.read_chunk", chunk) for chunk in chunks], ("votes.recount", (vote.pk,))
    )


def window_chunk_read(*, vote_id: int, first_seq: int, last_seq: int) -> int:
    """Read the posts `first_seq`..`last_seq` of the vote's window, each against the
    posts before it, and store their Readings; returns how many were stored.

    The thread is loaded from where the vote's posts are read with
    (selectors.context_start) up to `last_seq`, and only this chunk's posts are
    read: ReadingContext reads a post against the posts before it as
    read_thread would, so chunks read apart store what one pass would. It is
    loaded a batch at a time (contexts.thread_batches) into a context that keeps
    older bodies compressed, so the last chunk of a long window does not hold
    every body before it.
    """
    votes = Vote.objects.select_related("chapter__quest__quest_master", "post")
    found = votes.filter(pk=vote_id).first()
    if found is None:
        return 0
    window = selectors.window_bounds(found)
    if window is None:
        return 0
    first = max(first_seq, window[0] + 1)
    last = last_seq if window[1] is None else min(last_seq, window[1] - 1)
    # Versions before bodies: a post edited in between is stored as read from
    # its older version, so it is stale and the recount reads it again.
    posts = found.chapter.quest.posts.filter(seq__gte=first, seq__lte=last)
    versions = {
        ref: (pk, version) for ref, pk, version in posts.values_list("ref", "pk", "version")
    }
    context = ReadingContext(selectors.vote_spec(found), keep=contexts.KEPT_BODIES)
    now = timezone.now()
    readings = []
    after = selectors.context_start(found, window=window) - 1
    for rows in contexts.thread_batches(found, after_seq=after, upto_seq=last):
        context.add([row.post for row in rows])
        for row in rows:
            if row.seq < first or row.post.id not in versions:
                continue
            reading = context.reading(row.post.id)
            if row.deleted:
                reading = selectors.deleted_reading(reading)
            pk, version = versions[row.post.id]
            readings.append(
                Reading(
                    vote=found,
                    post_id=pk,
                    post_version=version,
                    spec_version=found.spec_version,
                    read_at=now,
                    **Reading.columns(reading),
                )
            )
    Reading.objects.bulk_create(
        readings,
        update_conflicts=True,
        unique_fields=["vote", "post"],
        update_fields=["post_version", "spec_version", "read_at", *Reading.READ_FIELDS],
    )
    return len(readings)
