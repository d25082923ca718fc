"""Writes for the votes app: reading posts, recounting, outcomes.

Reads (the latest tally, results, whether a tally is behind) are in
votes/selectors.py; moderators' decisions in votes/audit.py.

The flow (see README, "How the pieces fit"):
1. A post is saved: `reading_request`, once it commits, finds the vote whose
   window holds it and asks for that vote's recount; no task per post. A post
   in no vote's window needs no reading.
2. `vote_recount_request` coalesces: at most one recount task is queued per
   vote at a time; requests that arrive meanwhile are folded into it. In a
   burst it is paced: the next recount starts RECOUNT_PACE times the last
   one's duration after it started (at most RECOUNT_MIN_INTERVAL_SECONDS),
   so the worker folds the whole vote a few times a second, not after every
   ballot, and a quick recount is not held back as long as a slow one. A
   change of what posts are read against (a close) is recounted at once.
3. `vote_recount` reads every post of the window whose Reading is missing or
   stale in one pass, through the vote's thread the worker keeps
   (votes/contexts.py), then recomputes the whole tally from stored rows,
   writes the voters' current ballots, and stores a TallyRun when the result
   changed. `post_reading_refresh` still reads one post on its own (the
   `votes.post_reading_refresh` task, for messages sent before this change).
4. The sweeper (`recounts_sweep`, celery beat) re-sends whatever a lost message left behind.
"""

import contextlib
import hashlib
import logging
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone
from redis.exceptions import RedisError

from chapters import events
from chapters.models import Chapter, Vote
from chapters.services import next_chapter_draft
from quest.models import Post
from votes import contexts, poll, selectors
from votes.enqueue import enqueue_on_commit
from votes.models import Ballot, Decision, Outcome, Reading, RecountState, TallyRun
from votes.reading.fold import Folding, fold
from votes.reading.types import RULES_VERSION, Counted, Folded, VoteSpec
from votes.reading.types import Decision as DecisionIn
from votes.reading.types import Reading as ReadingOut
from votes.tally import PromptTally, Tally, tally_json, tally_sha256, tied_options

log = logging.getLogger(__name__)


def _recount_stall() -> timedelta:
    """A queued recount whose message has not run after this long is presumed lost."""
    return timedelta(seconds=settings.RECOUNT_STALL_SECONDS)


# --- 1. Asking for work -------------------------------------------------------


def reading_request(*, post: Post) -> None:
    """Ask for a post to be read once the transaction that saved it commits.

    Not a task per post: the vote whose window holds the post is asked for a
    recount, which reads every unread post of the window in one pass before it
    folds. A burst of N posts in one vote costs a few recounts, not N reading
    tasks and N recounts.
    """
    quest_id, seq = post.quest_id, post.seq
    transaction.on_commit(lambda: _window_recount_request(quest_id=quest_id, seq=seq))


def _window_recount_request(*, quest_id: int, seq: int) -> None:
    # Runs after the post committed, in the request: the post is stored and a
    # database error here must not turn into an error page. Its missing
    # Reading marks it: the sweeper finds it (`_has_stale`) and asks again.
    try:
        vote_id = _window_vote_id(quest_id=quest_id, seq=seq)
        if vote_id is not None:
            _recount_claim(vote_id)
    except DatabaseError:
        log.warning("could not ask for a recount after post %s of quest %s", seq, quest_id)


def _window_vote_id(*, quest_id: int, seq: int) -> int | None:
    """The id of the vote whose window holds the post at `seq`, in one query.

    What `selectors.vote_for_post` finds, without loading the vote: the latest
    vote posted before the post, unless a chapter was posted since (its post
    ends the window, `selectors.window_bounds`).
    """
    later_chapter = Chapter.objects.filter(
        quest_id=quest_id, post__seq__gt=OuterRef("post__seq"), post__seq__lte=seq
    )
    row = (
        Vote.objects.filter(post__quest_id=quest_id, post__seq__lt=seq)
        .order_by("-post__seq")
        .values_list("pk", Exists(later_chapter))
        .first()
    )
    return row[0] if row is not None and not row[1] else None


def vote_recount_request(*, vote: Vote, at_once: bool = False) -> None:
    """Record that the vote's tally is behind, and queue one recount for it.

    The conditional UPDATE claims the right to enqueue: while a recount is
    queued and not yet started, further requests only move `wanted_at`. The
    vote's first request makes its RecountState, queued at once. `at_once`
    (what posts are read against changed: a close) sends a recount now even
    when a paced one waits.
    """
    _recount_claim(vote.pk, at_once=at_once)


def _recount_claim(vote_id: int, *, at_once: bool = False) -> None:
    now = timezone.now()
    # `wanted_at` moves before the claim: a recount that starts between the two
    # reads what this request wants, and the claim then queues a harmless extra one.
    if not RecountState.objects.filter(pk=vote_id).update(wanted_at=now):
        _, created = RecountState.objects.get_or_create(
            vote_id=vote_id, defaults={"wanted_at": now, "queued_at": now}
        )
        if created:
            enqueue_on_commit("votes.recount", vote_id)
            return
        RecountState.objects.filter(pk=vote_id).update(wanted_at=now)
    claimed = RecountState.objects.filter(pk=vote_id, queued_at__isnull=True).update(queued_at=now)
    if claimed or at_once:
        countdown = 0.0 if at_once else _recount_pause(vote_id)
        enqueue_on_commit("votes.recount", vote_id, countdown=countdown)


def _recount_started_key(vote_id: int) -> str:
    return f"votes:recount-started:{vote_id}"


def _recount_took_key(vote_id: int) -> str:
    return f"votes:recount-took:{vote_id}"


def _recount_pause(vote_id: int) -> float:
    """Seconds to put a recount off so that it starts RECOUNT_PACE times the
    vote's last recount's duration after that one started, and never more than
    RECOUNT_MIN_INTERVAL_SECONDS after it; 0 when idle.

    A recount folds every voter of the vote: in a rush, one after every ballot
    would keep the worker busy folding while the web waits for CPU. Paced by
    its own duration, a vote's recounts take at most 1/RECOUNT_PACE of a
    worker, and a ballot waits about as long as its vote takes to count: a
    fixed pause made a 170 ms recount of 1,000 voters wait 0.75 s. The start
    and the duration are kept in the cache (Redis), the start set by
    `vote_recount` as it starts, so a recount still running counts too; until a
    vote's first recount ends its duration is unknown and the pause is the
    longest. Without the cache, no pause: pacing saves work, it is not needed
    for a correct tally.
    """
    longest = settings.RECOUNT_MIN_INTERVAL_SECONDS
    if longest <= 0:
        return 0.0
    try:
        noted = cache.get_many([_recount_started_key(vote_id), _recount_took_key(vote_id)])
    except RedisError:
        return 0.0
    started = noted.get(_recount_started_key(vote_id))
    took = noted.get(_recount_took_key(vote_id))
    if not isinstance(started, float):
        return 0.0
    interval = longest
    if isinstance(took, float):
        interval = min(longest, settings.RECOUNT_PACE * took)
    return max(0.0, min(interval, started + interval - time.time()))


def vote_reread_request(*, vote: Vote) -> None:
    """What posts are read against changed: the recount re-reads stale readings."""
    poll.tally_changed(vote=vote)  # the status ("Live", "closed") shows before the recount
    # Not paced: a close's final tally, or a changed prompt, must not wait on a rush.
    vote_recount_request(vote=vote, at_once=True)


# --- 2. Reading ---------------------------------------------------------------


def post_reading_refresh(*, post_id: int) -> Reading | None:
    """Read one post against the vote whose window holds it, then ask for a recount.

    The post is read with no row locked (reading is bounded, but a lock held
    while reading would make every other writer to the vote wait on it). The
    Reading records the post and spec versions it was read from, so if either
    moved meanwhile it is stale on arrival and the recount reads the post again.
    """
    post = Post.objects.select_related("author", "quest").filter(pk=post_id).first()
    if post is None:
        return None
    vote = selectors.vote_for_post(post)
    if vote is None:
        return None
    row = Reading.objects.filter(vote=vote, post=post).first()
    if row is not None and not row.is_stale(post, vote):
        return row
    # Through the vote's thread kept in this process: only the posts saved since
    # the last read are loaded. It reads as `selectors.reading_of`, which the
    # previews use, so what they show is what is stored.
    reading = contexts.post_reading(vote=vote, post=post)
    with transaction.atomic():
        row = _store_reading(vote, post, reading)
        vote_recount_request(vote=vote)
    return row


def _store_reading(vote: Vote, post: Post, reading: ReadingOut) -> Reading:
    row, _ = Reading.objects.update_or_create(
        vote=vote,
        post=post,
        defaults={
            "post_version": post.version,
            "spec_version": vote.spec_version,
            "read_at": timezone.now(),
            **Reading.columns(reading),
        },
    )
    return row


# A stored Reading's (post version, spec version, rules version, read time): what
# makes it current, and this one write of it. The read time as the database's
# text: only its equality is asked, and making 10,000 timezone-aware datetimes
# was 40 ms of each recount of a 10,000-post vote (issue 14).
type _Stored = tuple[int, int, int, str]
# What makes a parsed Reading current: (vote, post, *_Stored).
type _ReadingKey = tuple[object, ...]


class _ParsedReadings:
    """Readings already parsed in this process, keyed by what makes them current.

    A worker recounts the same vote after every post; parsing 2,000 stored
    Readings each time would dominate the recount. A key names the post's
    version, the vote's spec version and the rules version, so a stale entry
    is never hit, only evicted (oldest first) when the cache is full.
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self.items: dict[_ReadingKey, ReadingOut] = {}

    def get(self, key: _ReadingKey) -> ReadingOut | None:
        return self.items.get(key)

    def put(self, key: _ReadingKey, reading: ReadingOut) -> None:
        if len(self.items) >= self.size:
            for old in list(self.items)[: self.size // 10]:
                del self.items[old]
        self.items[key] = reading


_parsed = _ParsedReadings()


# A window of up to this many posts, not ended, keeps its parsed Readings in `_parsed`
# (a live vote is recounted after every burst of posts). A longer one (an import of a whole
# thread) is folded from its stored rows a chunk at a time and nothing of it is
# kept: keeping it would hold every Reading at once (issue 14), and a cache smaller
# than the window, filled in window order, would evict each row before it is used again.
PARSED_WINDOW_MAX = 20_000
# Stored Readings loaded, parsed and folded at a time.
FOLD_CHUNK = 1000


@dataclass(slots=True)
class _Window:
    """A vote's window as one look found it: its posts and their stored Readings' versions.

    A recount looks before it takes the vote's lock (reading what is stale) and
    folds under the lock what it found then, when `shape` says the window has
    not moved since (`_still`): not loading it twice saves a sixth of a long
    vote's recount.
    """

    bounds: tuple[int, int | None] | None
    spec_version: int
    posts: list[tuple[int, int, int]]  # (pk, ref, version) of the posts folded, in thread order
    stored: dict[int, _Stored]  # post pk -> its stored Reading
    left_out: set[int]  # refs of posts with no current Reading, not folded at their text
    keep: bool  # the Readings are kept parsed in `_parsed`
    shape: tuple[int, int, int]  # (posts, sum of versions, sum of ids) of the whole window

    def keys(self, vote_pk: int) -> list[_ReadingKey]:
        return [(vote_pk, pk, *self.stored[pk]) for pk, _, _ in self.posts]


def _stored_versions(vote: Vote, **only: Any) -> dict[int, _Stored]:
    rows = Reading.objects.filter(vote=vote, **only).values_list(
        "post_id",
        "post_version",
        "spec_version",
        "rules_version",
        Cast("read_at", output_field=CharField()),
    )
    return {
        post_id: (post_version, spec, rules, read_at)
        for post_id, post_version, spec, rules, read_at in rows
    }


def _window(vote: Vote, *, read_stale: bool = True) -> _Window:
    """The window's posts and the versions of their stored Readings, the stale read first.

    1. Load ids and versions only, of the window's posts and stored Readings.
    2. Posts with no current Reading are read (bodies loaded only then) and
       their Readings written back a batch at a time. With read_stale=False (the
       vote's row is locked) nothing is read: posts with a stored Reading use
       it, posts with none are left out, and the caller asks for another recount.
    The Readings themselves come from `_stored_readings`, as the fold takes them.
    """
    bounds = selectors.window_bounds(vote)
    window = selectors.window_index(vote, bounds=bounds)
    shape = (len(window), sum(v for _, _, v in window), sum(pk for pk, _, _ in window))
    # Parsed Readings are kept for a vote still taking posts, recounted after each
    # burst of them: a window that ends (the next chapter is posted) is recounted
    # rarely, and an import of a whole thread would fill the cache with every
    # closed chapter's Readings (issue 14).
    keep = bounds is not None and bounds[1] is None and len(window) <= PARSED_WINDOW_MAX

    def current(version: int) -> tuple[int, int, int]:
        return Reading.current_versions(post_version=version, spec_version=vote.spec_version)

    def behind(among: Collection[int]) -> set[int]:
        """The posts of `among` with no stored Reading, or one of other versions."""
        return {
            pk
            for pk, _, version in window
            if pk in among and stored.get(pk, ())[:3] != current(version)
        }

    stored = _stored_versions(vote)
    stale = behind({pk for pk, _, _ in window})
    if stale and read_stale:
        read_at = _read_and_store(vote, window, stale)
        # As the database gives them back: the keys of the next recount's look.
        stored.update(_stored_versions(vote, read_at=read_at))
        stale = behind(stale)
        if stale:  # written over since by another process's read: as they stand now
            stored.update(_stored_versions(vote, post_id__in=stale))
            stale = behind(stale)
    left_out = {ref for pk, ref, _ in window if pk in stale}
    if stale:
        window = [w for w in window if w[0] in stored]
    return _Window(bounds, vote.spec_version, window, stored, left_out, keep, shape)


def _still(seen: _Window, vote: Vote) -> bool:
    """Whether the window is as `seen` found it: the same bounds and spec, and no post
    added, removed or edited since (any of those changes the count, a version or an id)."""
    if seen.spec_version != vote.spec_version or seen.left_out:
        return False
    bounds = selectors.window_bounds(vote)
    return bounds == seen.bounds and selectors.window_shape(vote, bounds=bounds) == seen.shape


def _stored_readings(
    vote: Vote,
    window: list[tuple[int, int, int]],
    stored: Mapping[int, _Stored],
    *,
    keep: bool,
) -> Iterator[ReadingOut]:
    """The stored Readings of `window`'s posts, in its order, FOLD_CHUNK posts a query;
    kept parsed in `_parsed` when `keep` (`_window` says when)."""
    for start in range(0, len(window), FOLD_CHUNK):
        chunk = [pk for pk, _, _ in window[start : start + FOLD_CHUNK]]
        # read_at is part of the key: ids can be reused (SQLite after a rollback),
        # a row's read time with its versions cannot.
        keys = {pk: (vote.pk, pk, *stored[pk]) for pk in chunk}
        readings = {pk: r for pk in chunk if (r := _parsed.get(keys[pk])) is not None}
        missing = [pk for pk in chunk if pk not in readings]
        if missing:
            rows = Reading.objects.filter(vote=vote, post_id__in=missing)
            for post_id, data in rows.values_list("post_id", "data"):
                readings[post_id] = reading = ReadingOut.from_json(data)
                if keep:
                    _parsed.put(keys[post_id], reading)
        yield from (readings[pk] for pk in chunk)


def _readings_refresh(vote: Vote) -> _Window:
    """Read the window's stale posts and store their Readings, holding no lock.

    Each post is read within the reader's time budget, so this ends however
    hostile the posts are; the recount that follows folds what is stored. A
    window whose Readings are kept parsed has them parsed here, outside the
    vote's lock; any other is parsed only as the fold takes it.
    """
    seen = _window(vote, read_stale=True)
    if seen.keep:
        unparsed = [
            w
            for w, key in zip(seen.posts, seen.keys(vote.pk), strict=True)
            if key not in _parsed.items
        ]
        for _ in _stored_readings(vote, unparsed, seen.stored, keep=True):
            pass
    return seen


def _read_and_store(vote: Vote, window: list[tuple[int, int, int]], stale: set[int]) -> datetime:
    """Read the stale posts of the window and upsert their Readings; returns their read time.

    The kept thread reads only the stale posts (the posts before them as needed),
    not the whole window again, and a batch at a time: each batch's rows are
    built and stored before the next is read, so neither the Readings nor their
    rows are all held at once (issue 14: an import's 100,000 of them were most
    of the recount's memory).
    """
    read = {ref: (pk, version) for pk, ref, version in window if pk in stale}
    now = timezone.now()
    done = 0
    for batch in contexts.window_reading_batches(vote=vote, refs=list(read)):
        done += len(batch)
        rows = [
            Reading(
                vote=vote,
                post_id=read[ref][0],
                post_version=read[ref][1],
                spec_version=vote.spec_version,
                read_at=now,
                **Reading.columns(reading),
            )
            for ref, reading in batch
        ]
        Reading.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["vote", "post"],
            update_fields=["post_version", "spec_version", "read_at", *Reading.READ_FIELDS],
        )
        del rows, batch  # not held while the next batch is read
    if done != len(read):  # a stale post the kept thread does not hold: never marked read
        raise LookupError(f"{len(read) - done} stale posts of {vote} are not in its thread")
    return now


# --- 3. Recounting ------------------------------------------------------------


class TallyInputs(TypedDict):
    inputs: dict[str, Any]  # what TallyRun.inputs stores: the posts, decisions and merges counted
    folded: Folded
    stale: bool  # a post went stale and was left out (read_stale=False)
    counted: poll.Counted  # the refs read at their current text, as pollers are told


def tally_compute(
    *, vote: Vote, read_stale: bool = True, seen: _Window | None = None
) -> tuple[Tally, TallyInputs]:
    """The vote's tally from stored rows, and the inputs it was computed from.

    The `tally` command and the workers both come through here. Inside a
    recount (the vote's row locked) read_stale=False: nothing is read there,
    and the window `seen` before the lock is folded when it has not moved.
    """
    window = seen if seen is not None and _still(seen, vote) else None
    window = window or _window(vote, read_stale=read_stale)
    # Undone decisions and their undos are on record, not in the count.
    decisions = list(
        Decision.objects.filter(vote=vote).standing().select_related("post").order_by("at", "pk")
    )
    decided = [selectors.decision_in(d) for d in decisions]
    spec = selectors.vote_spec(vote)
    folded = _fold(vote, spec, decided, window)
    # Moderators' merges of write-in entries are replayed on every count, as decisions are.
    merges = selectors.standing_merges(vote)
    tally = tally_json(
        vote=spec,
        folded=folded,
        quest=vote.chapter.quest.slug,
        chapter=vote.chapter.number,
        status=vote.status,
        method=vote.ranked_method,
        pass_rules=selectors.pass_rules(vote),
        merges=selectors.merges_in(merges),
        suggestions=selectors.suggestions(vote, spec),
    )
    left_out = window.left_out
    inputs = {
        "posts": [[ref, version] for _, ref, version in window.posts],
        "decisions": [d.pk for d in decisions],
        "merges": [m.pk for m in merges],
        "spec_version": vote.spec_version,
    }
    counted = poll.counted_span(
        [ref for _, ref, _ in window.posts if ref not in left_out], left_out
    )
    return tally, {"inputs": inputs, "folded": folded, "stale": bool(left_out), "counted": counted}


@dataclass(slots=True)
class _KeptFold:
    spec: VoteSpec
    decided: list[DecisionIn]
    keys: list[_ReadingKey]  # of the Readings added, in order
    folding: Folding


# The last fold of each of a few live votes in this process: a recount after new posts
# at the end of the window adds only those (votes/reading/fold.py, `Folding`).
_folds: dict[int, _KeptFold] = {}
KEPT_FOLDS = 8


def _fold(vote: Vote, spec: VoteSpec, decided: list[DecisionIn], window: _Window) -> Folded:
    """Fold the window's stored Readings; a live vote's from where its last fold here stopped.

    Folding a 10,000-post vote's Readings was a third of its recount after every
    burst of posts, most of which only add posts at the end (issue 14). The last
    fold is taken up again when the vote's spec, its moderators' decisions and
    every Reading it added are as they were, each Reading named by its post and
    the versions and read time of its stored row; anything else (an edit of an
    earlier post, a ruling, a reread) folds the whole window again.
    """
    if not window.keep:  # an ended window or an import: folded rarely, kept by no one
        _folds.pop(vote.pk, None)
        readings = _stored_readings(vote, window.posts, window.stored, keep=False)
        return fold(spec, readings, decided)
    keys = window.keys(vote.pk)
    # Taken out while it is added to: a fold that fails half-way is not kept.
    kept = _folds.pop(vote.pk, None)
    if (
        kept is None
        or (kept.spec, kept.decided) != (spec, decided)
        or keys[: len(kept.keys)] != kept.keys
    ):
        kept = _KeptFold(spec, decided, [], Folding(spec, decided))
    new = window.posts[len(kept.keys) :]
    kept.folding.add(_stored_readings(vote, new, window.stored, keep=True))
    kept.keys = keys
    folded = kept.folding.result()
    while len(_folds) >= KEPT_FOLDS:
        del _folds[next(iter(_folds))]  # the vote recounted longest ago
    _folds[vote.pk] = kept
    return folded


def vote_recount(*, vote_id: int) -> TallyRun | None:
    """Recompute the vote's tally from rows; store it only when it changed.

    1. Stale posts are read and their Readings stored with no lock held.
    2. Under the vote's row lock, stored Readings and decisions are folded
       and tallied; nothing is read there. A post that went stale between the
       two steps (edited meanwhile) keeps its previous Reading in this run and
       another recount is asked for.

    Idempotent: running it twice, or after a crash half-way, gives the same
    rows, because nothing is incremented: everything is recomputed.
    """
    started = timezone.now()
    clock = time.monotonic()
    _recount_started(vote_id)
    try:
        return _recount(vote_id, started)
    finally:
        _recount_took(vote_id, time.monotonic() - clock)


def _recount(vote_id: int, started: datetime) -> TallyRun | None:
    # A request arriving from now on must queue a new recount: this one may
    # already have read the rows it would change.
    RecountState.objects.filter(pk=vote_id).update(queued_at=None)
    vote = Vote.objects.filter(pk=vote_id).first()
    if vote is None:
        return None
    seen = _readings_refresh(vote)
    with transaction.atomic():
        # NO KEY UPDATE: one recount at a time, and none while the window changes,
        # but ballots being posted (FOR KEY SHARE, votes/posting.py) do not wait.
        vote = Vote.objects.select_for_update(no_key=True).filter(pk=vote_id).first()
        if vote is None:
            return None
        tally, extra = tally_compute(vote=vote, read_stale=False, seen=seen)
        # What of the last run the panels' stamps are compared with: its held and
        # left-out parts, not the whole run (every voter, every post counted).
        before = selectors.latest_held(vote)
        changed = _store_ballots(vote, extra["folded"])
        # A run missing a post edited meanwhile is not final: the next one is.
        run = _store_run(vote, tally, extra["inputs"], final=not extra["stale"])
        RecountState.objects.update_or_create(vote_id=vote.pk, defaults={"done_at": started})
        # Every recount: a new run, a voter's ballot or the tally no longer behind;
        # while the vote is open pollers may see it a little late (votes/poll.py).
        # A player's own panel changes only with their ballot or what of theirs
        # is held back or left out.
        held = _held_changed(before, tally)
        poll.tally_changed(
            vote=vote, at_once=run.is_final, voters=changed | held, counted=extra["counted"]
        )
        if extra["stale"]:
            vote_recount_request(vote=vote)
    return run


def _recount_started(vote_id: int) -> None:
    """Note when the vote's recount started, for `_recount_pause`: before the
    claim is released, so a request that queues the next one sees it."""
    interval = settings.RECOUNT_MIN_INTERVAL_SECONDS
    if interval <= 0:
        return
    # Without the cache, no pause: the next recount comes at once.
    with contextlib.suppress(RedisError):
        cache.set(_recount_started_key(vote_id), time.time(), timeout=int(interval) + 1)


def _recount_took(vote_id: int, seconds: float) -> None:
    """Note how long the vote's recount took: the next one's pause (`_recount_pause`)."""
    if settings.RECOUNT_MIN_INTERVAL_SECONDS <= 0:
        return
    # Kept past the pause itself: the next burst on the vote starts from it.
    with contextlib.suppress(RedisError):
        cache.set(_recount_took_key(vote_id), seconds, timeout=3600)


def _held_changed(before: Mapping[str, Any], now: Mapping[str, Any]) -> set[str]:
    """Voters whose posts held for a moderator or left out differ from `before` to `now`.

    Not every voter with something held: a vote with many held posts moved all
    their panels' stamps on every recount, though a recount changes a few
    (5,000 held posts of 1,000 voters: a fifth of a 10,000-post vote's recount).
    """

    def by_author(tally: Mapping[str, Any]) -> dict[str, list[Any]]:
        held: dict[str, list[Any]] = {}
        for e in [*(tally.get("flagged") or []), *(tally.get("excluded") or [])]:
            held.setdefault(e["author"], []).append(e)
        return held

    was, is_ = by_author(before), by_author(now)
    return {author for author in was.keys() | is_.keys() if was.get(author) != is_.get(author)}


def _store_ballots(vote: Vote, folded: Folded) -> set[str]:
    """Make the current Ballot rows match the fold; unchanged ballots are left alone.

    Returns the voters whose current ballot changed (made, replaced or retired).
    """
    current = {
        voter: (pk, digest)
        for pk, voter, digest in Ballot.objects.filter(vote=vote, is_current=True).values_list(
            "pk", "voter", "digest"
        )
    }
    now = timezone.now()
    retired, created, changed = [], [], set(current)
    for voter, answers in folded.ballots.items():
        digest = _ballot_digest(answers)
        old = current.pop(voter, None)
        if old is not None and old[1] == digest:
            changed.discard(voter)
            continue
        changed.add(voter)
        if old is not None:
            retired.append(old[0])
        data = {
            str(n): {**c.answer.to_json(), "post": c.post_id} for n, c in sorted(answers.items())
        }
        created.append(Ballot(vote=vote, voter=voter, answers=data, digest=digest, updated_at=now))
    # Voters whose ballot no longer counts (e.g. a moderator rejected it) are retired too.
    retired += [pk for pk, _ in current.values()]
    Ballot.objects.filter(pk__in=retired).update(is_current=False)
    Ballot.objects.bulk_create(created)
    return changed


def _ballot_digest(answers: Mapping[int, Counted]) -> str:
    # Everything that makes two counted ballots differ, without building JSON. A `lines`
    # answer's entries too (a ruling or an edit changes them, not the post); only when
    # there are some, so the digests of lettered ballots stay as they were stored.
    parts = [
        f"{n}\x1f{','.join(c.answer.letters)}\x1f{c.answer.text}\x1f{c.answer.joins}\x1f{c.post_id}"
        + (f"\x1f{c.answer.lines!r}" if c.answer.lines else "")
        for n, c in sorted(answers.items())
    ]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def _store_run(vote: Vote, tally: Tally, inputs: dict[str, Any], *, final: bool = True) -> TallyRun:
    sha = tally_sha256(tally)
    # Not its data or inputs: a 1,000-voter run's JSON, loaded only to compare hashes.
    runs = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk")
    latest = runs.only("pk", "sha256", "is_final").first()
    if latest is None or latest.sha256 != sha:
        latest = TallyRun.objects.create(
            vote=vote, data=tally, sha256=sha, rules_version=RULES_VERSION, inputs=inputs
        )
    if final and vote.status == Vote.Status.CLOSED and not latest.is_final:
        TallyRun.objects.filter(vote=vote, is_final=True).update(is_final=False)
        TallyRun.objects.filter(pk=latest.pk).update(is_final=True)
        latest.is_final = True
    return latest


def tally_unfreeze(*, vote: Vote) -> None:
    """A reopened vote has no final tally until it closes again."""
    TallyRun.objects.filter(vote=vote, is_final=True).update(is_final=False)


# --- 4. The sweeper -----------------------------------------------------------


SWEEP_CLOSED_WITHIN = timedelta(days=1)


def recounts_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue work whose message was lost; return what was found.

    Two kinds: open or recently closed votes whose recount is behind (wanted
    after it was last done, and not queued recently), and posts in their
    windows whose Reading is missing or stale (the recount reads those).
    """
    now = now or timezone.now()
    lost = RecountState.objects.behind(queued_before=now - _recount_stall())
    behind = Vote.objects.filter(pk__in=lost.values("vote_id"))
    # Only votes that can still change: open ones, and ones closed lately (a
    # message lost at the close). Scanning every vote ever, every 30 s, grew
    # with the site's history; an old closed vote keeps its final tally.
    recent = Q(status=Vote.Status.CLOSED, closed_at__gte=now - SWEEP_CLOSED_WITHIN)
    live = Vote.objects.filter(Q(status=Vote.Status.OPEN) | recent)
    stale = [v for v in live if _has_stale(v)]
    requeued = 0
    for vote in {v.pk: v for v in [*behind, *stale]}.values():
        RecountState.objects.filter(pk=vote.pk).update(queued_at=None)
        vote_recount_request(vote=vote)
        requeued += 1
    return {"recounts": requeued}


def _has_stale(vote: Vote) -> bool:
    """Whether a post of the window has no Reading, or a stale one (`Reading.is_stale`)."""
    stored = {
        pk: (post_version, spec_version, rules_version)
        for pk, post_version, spec_version, rules_version in Reading.objects.filter(
            vote=vote
        ).values_list("post_id", "post_version", "spec_version", "rules_version")
    }
    return any(
        stored.get(pk)
        != Reading.current_versions(post_version=version, spec_version=vote.spec_version)
        for pk, _, version in selectors.window_index(vote)
    )


# --- 5. Outcomes: what the closed vote decided ------------------------------


@dataclass(frozen=True)
class OutcomeChange:
    """What a quest master's call did: the Outcome as it stands, and the pick it replaced."""

    outcome: Outcome
    was: list[str]  # the letters decided before ([] for a first pick)

    @property
    def changed(self) -> bool:
        return bool(self.was) and self.was != self.outcome.letters


CHANGE_REASON_REQUIRED = "Say why you change the decision: the reason is kept on record."


def outcome_pick(
    *, vote: Vote, prompt: int, letters: list[str], by: User, reason: str = ""
) -> OutcomeChange:
    """The quest master settles a tie, or changes how it was settled.

    The pick must be among the tied leaders. A first pick may give a reason;
    a change must (it is shown with the decision and kept on record). Picking
    what is already decided changes nothing and records nothing.
    """
    tally_prompt = _final_prompt(vote, prompt)
    tied = tied_options(tally_prompt)
    if len(tied) < 2:
        raise ValidationError(f"Prompt {prompt} has no tie to settle.")
    letters = sorted({letter.upper() for letter in letters})
    if not letters or not set(letters) <= set(tied):
        raise ValidationError(f"Pick among the tied options: {', '.join(tied)}.")
    reason = reason.strip()
    with transaction.atomic():
        outcome = Outcome.objects.select_for_update().filter(vote=vote, prompt=prompt).first()
        if outcome is not None and outcome.letters == letters:
            return OutcomeChange(outcome=outcome, was=letters)
        was = list(outcome.letters) if outcome is not None else []
        if was and not reason:
            raise ValidationError(CHANGE_REASON_REQUIRED)
        if outcome is None:
            outcome = Outcome(vote=vote, prompt=prompt)
        outcome.letters, outcome.by, outcome.at = letters, by, timezone.now()
        outcome.save()
        named = _named(tally_prompt)
        picked = [named.get(x, x) for x in letters]
        if was:
            before = [named.get(x, x) for x in was]
            events.outcome_changed(
                vote, by=by, prompt=prompt, picked=picked, was=before, reason=reason
            )
        else:
            events.outcome_picked(vote, by=by, prompt=prompt, picked=picked, reason=reason)
        poll.tally_changed(vote=vote)
    return OutcomeChange(outcome=outcome, was=was)


def _named(prompt: PromptTally) -> dict[str, str]:
    """Letter -> the option as people read it: "B) South"."""
    return {o["letter"]: f"{o['letter']}) {o['text']}" for o in prompt.get("options") or []}


def write_in_adopt(*, vote: Vote, prompt: int, text: str, by: User, reason: str = "") -> Outcome:
    """The quest master adopts a write-in entry of the final tally (once: again changes nothing)."""
    tally_prompt = _final_prompt(vote, prompt)
    entries = [e["text"] for e in tally_prompt.get("entries") or []]
    if text not in entries:
        raise ValidationError("Adopt one of the entries of the final tally.")
    with transaction.atomic():
        outcome, _ = Outcome.objects.select_for_update().get_or_create(
            vote=vote, prompt=prompt, defaults={"by": by}
        )
        if text not in outcome.write_ins:
            outcome.write_ins = [*outcome.write_ins, text]
            outcome.by, outcome.at = by, timezone.now()
            outcome.save(update_fields=["write_ins", "by", "at"])
            events.write_in_adopted(vote, by=by, prompt=prompt, text=text, reason=reason.strip())
            poll.tally_changed(vote=vote)
    return outcome


def write_in_withdraw(*, vote: Vote, prompt: int, text: str, by: User, reason: str) -> Outcome:
    """The quest master takes back an adopted write-in, saying why."""
    if not reason.strip():
        raise ValidationError("Say why you withdraw it: the reason is kept on record.")
    with transaction.atomic():
        outcome = Outcome.objects.select_for_update().filter(vote=vote, prompt=prompt).first()
        if outcome is None or text not in outcome.write_ins:
            raise ValidationError("That entry is not adopted.")
        outcome.write_ins = [t for t in outcome.write_ins if t != text]
        outcome.by, outcome.at = by, timezone.now()
        outcome.save(update_fields=["write_ins", "by", "at"])
        events.write_in_withdrawn(vote, by=by, prompt=prompt, text=text, reason=reason.strip())
        poll.tally_changed(vote=vote)
    return outcome


def _final_prompt(vote: Vote, number: int) -> PromptTally:
    run = selectors.final_tally(vote)
    if run is None:
        raise ValidationError("The vote has no final tally yet: close it first.")
    prompt: PromptTally | None = next(
        (p for p in run.data["prompts"] if p["number"] == number), None
    )
    if prompt is None:
        raise ValidationError(f"The vote has no prompt {number}.")
    return prompt


@transaction.atomic
def next_chapter_start(*, vote: Vote, by: User) -> Chapter:
    """ "Write the next chapter": the draft after a closed vote, its results at the top."""
    if not vote.is_closed:
        raise ValidationError("Close the vote before writing the next chapter.")
    existing = Chapter.objects.filter(follows_vote=vote).first()
    if existing is not None:
        return existing
    return next_chapter_draft(vote=vote, body=selectors.results_block(vote) + "\n\n", by=by)


# --- 6. A page that finds the tally behind -------------------------------------


def vote_recount_nudge(*, vote: Vote) -> None:
    """Send a recount for a page that found the tally behind, writing no row.

    GET requests never write, so this skips `vote_recount_request`'s
    bookkeeping: the recount brings `RecountState.done_at` up to date itself. A
    recount already queued (and not presumed lost) is left to run; otherwise
    a cache key lets one request per vote send it per RECOUNT_STALL_SECONDS,
    however many readers poll. An extra recount is harmless: it recomputes.
    """
    state = selectors.recount_state(vote)
    queued = state.queued_at if state is not None else None
    if queued is not None and queued > timezone.now() - _recount_stall():
        return
    try:
        first = cache.add(f"votes:recount-nudge:{vote.pk}", 1, settings.RECOUNT_STALL_SECONDS)
    except RedisError:
        first = True  # send anyway: a broker outage too is logged where tasks are sent
    if first:
        enqueue_on_commit("votes.recount", vote.pk)
