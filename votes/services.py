"""Writes for the votes app: reading posts, recounting, moderator decisions.

The flow (see README, "How the pieces fit"):
1. A post is saved: `reading_request` enqueues `votes.read_post` after commit.
2. The task reads the post against its vote (the pure reader), stores the
   Reading, and asks for a recount.
3. `vote_recount_request` coalesces: at most one recount task is queued per
   vote at a time; requests that arrive meanwhile are folded into it.
4. `vote_recount` recomputes the whole tally from stored rows (reading any
   post whose Reading is missing or stale first), writes the voters' current
   ballots, and stores a TallyRun when the result changed.
5. The sweeper (celery beat) re-enqueues whatever a lost message left behind.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from chapters.models import Vote
from quest.models import Post
from votes import selectors
from votes.models import Ballot, Decision, Reading, TallyRun
from votes.reading import read_post, read_thread
from votes.reading.fold import fold
from votes.reading.types import RULES_VERSION, Answer, DecisionAction
from votes.reading.types import Decision as DecisionIn
from votes.reading.types import Reading as ReadingOut
from votes.tally import tally_json, tally_sha256

log = logging.getLogger(__name__)


def _recount_stall() -> timedelta:
    """A queued recount whose message has not run after this long is presumed lost."""
    return timedelta(seconds=settings.RECOUNT_STALL_SECONDS)


# --- 1. Asking for work -------------------------------------------------------


def reading_request(*, post: Post) -> None:
    """Ask for a post to be read once the transaction that saved it commits."""
    from votes.tasks import read_post_task

    post_id = post.pk
    transaction.on_commit(lambda: _enqueue(read_post_task, post_id))


def vote_recount_request(*, vote: Vote) -> None:
    """Record that the vote's tally is behind, and queue one recount for it.

    The conditional UPDATE claims the right to enqueue: while a recount is
    queued and not yet started, further requests only move `wanted_at`.
    """
    from votes.tasks import recount_task

    now = timezone.now()
    Vote.objects.filter(pk=vote.pk).update(recount_wanted_at=now)
    claimed = Vote.objects.filter(pk=vote.pk, recount_queued_at__isnull=True).update(
        recount_queued_at=now
    )
    if claimed:
        vote_id = vote.pk
        transaction.on_commit(lambda: _enqueue(recount_task, vote_id))


def vote_reread_request(*, vote: Vote) -> None:
    """What posts are read against changed: the recount re-reads stale readings."""
    vote_recount_request(vote=vote)


def _enqueue(task, *args) -> None:
    # The post is already committed: a broker outage must not turn into an
    # error page or a lost post. The sweeper finds the work later.
    try:
        task.delay(*args)
    except Exception:
        log.warning("could not enqueue %s%r; the sweeper will pick it up", task.name, args)


# --- 2. Reading ---------------------------------------------------------------


def post_read(*, post_id: int) -> Reading | None:
    """Read one post against the vote whose window holds it, then ask for a recount."""
    post = Post.objects.select_related("author", "quest").filter(pk=post_id).first()
    if post is None:
        return None
    vote = selectors.vote_for_post(post)
    if vote is None:
        return None
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        row = Reading.objects.filter(vote=vote, post=post).first()
        if row is not None and not _is_stale(row, post, vote):
            return row
        earlier = selectors.context_posts(vote, upto_seq=post.seq)
        reading = read_post(
            selectors.post_in(post),
            selectors.vote_spec(vote),
            [selectors.post_in(p) for p in earlier],
        )
        row = _store_reading(vote, post, reading)
        vote_recount_request(vote=vote)
    return row


def _is_stale(row: Reading, post: Post, vote: Vote) -> bool:
    return (
        row.post_version != post.version
        or row.spec_version != vote.spec_version
        or row.rules_version != RULES_VERSION
    )


def _store_reading(vote: Vote, post: Post, reading: ReadingOut) -> Reading:
    row, _ = Reading.objects.update_or_create(
        vote=vote,
        post=post,
        defaults={
            "post_version": post.version,
            "spec_version": vote.spec_version,
            "rules_version": reading.rules_version,
            "kind": str(reading.kind),
            "data": reading.to_json(),
            "read_at": timezone.now(),
        },
    )
    return row


def _fresh_readings(vote: Vote) -> tuple[list[Post], list[ReadingOut]]:
    """The window's posts and their Readings, reading stale or missing ones first."""
    posts = selectors.window_posts(vote)
    rows = {r.post_id: r for r in Reading.objects.filter(vote=vote)}
    stale = [p for p in posts if p.pk not in rows or _is_stale(rows[p.pk], p, vote)]
    if stale:
        context = selectors.context_posts(vote)
        spec = selectors.vote_spec(vote)
        wanted = {p.pk for p in stale}
        fresh = read_thread(spec, [selectors.post_in(p) for p in context])
        by_ref = {r.post_id: r for r in fresh}
        for p in posts:
            if p.pk in wanted:
                rows[p.pk] = _store_reading(vote, p, by_ref[p.ref])
    return posts, [ReadingOut.from_json(rows[p.pk].data) for p in posts]


# --- 3. Recounting ------------------------------------------------------------


def tally_compute(vote: Vote) -> tuple[dict, dict]:
    """The vote's tally from stored rows, and the inputs it was computed from.

    The `tally` command and the workers both come through here.
    """
    posts, readings = _fresh_readings(vote)
    decisions = list(Decision.objects.filter(vote=vote).select_related("post").order_by("at", "pk"))
    folded = fold(selectors.vote_spec(vote), readings, [_decision_in(d) for d in decisions])
    tally = tally_json(
        vote=selectors.vote_spec(vote),
        folded=folded,
        quest=vote.chapter.quest.slug,
        chapter=vote.chapter.number,
        status=vote.status,
    )
    inputs = {
        "posts": [[p.ref, p.version] for p in posts],
        "decisions": [d.pk for d in decisions],
        "spec_version": vote.spec_version,
    }
    return tally, {"inputs": inputs, "folded": folded}


def vote_recount(*, vote_id: int) -> TallyRun | None:
    """Recompute the vote's tally from rows; store it only when it changed.

    Idempotent: running it twice, or after a crash half-way, gives the same
    rows, because nothing is incremented: everything is recomputed.
    """
    started = timezone.now()
    # A request arriving from now on must queue a new recount: this one may
    # already have read the rows it would change.
    Vote.objects.filter(pk=vote_id).update(recount_queued_at=None)
    with transaction.atomic():
        vote = Vote.objects.select_for_update().filter(pk=vote_id).first()
        if vote is None:
            return None
        tally, extra = tally_compute(vote)
        _store_ballots(vote, extra["folded"])
        run = _store_run(vote, tally, extra["inputs"])
        Vote.objects.filter(pk=vote.pk).update(recount_done_at=started)
    return run


def _store_ballots(vote: Vote, folded) -> None:
    current = {b.voter: b for b in Ballot.objects.filter(vote=vote, is_current=True)}
    now = timezone.now()
    for voter, answers in folded.ballots.items():
        data = {
            str(n): {**c.answer.to_json(), "post": c.post_id} for n, c in sorted(answers.items())
        }
        old = current.pop(voter, None)
        if old is not None and old.answers == data:
            continue
        if old is not None:
            Ballot.objects.filter(pk=old.pk).update(is_current=False)
        Ballot.objects.create(vote=vote, voter=voter, answers=data, updated_at=now)
    # Voters whose ballot no longer counts (e.g. a moderator rejected it).
    Ballot.objects.filter(pk__in=[b.pk for b in current.values()]).update(is_current=False)


def _store_run(vote: Vote, tally: dict, inputs: dict) -> TallyRun:
    sha = tally_sha256(tally)
    latest = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()
    if latest is None or latest.sha256 != sha:
        latest = TallyRun.objects.create(
            vote=vote, data=tally, sha256=sha, rules_version=RULES_VERSION, inputs=inputs
        )
    if vote.status == Vote.Status.CLOSED and not latest.is_final:
        TallyRun.objects.filter(vote=vote, is_final=True).update(is_final=False)
        TallyRun.objects.filter(pk=latest.pk).update(is_final=True)
        latest.is_final = True
    return latest


def tally_unfreeze(*, vote: Vote) -> None:
    """A reopened vote has no final tally until it closes again."""
    TallyRun.objects.filter(vote=vote, is_final=True).update(is_final=False)


def latest_tally(vote: Vote) -> TallyRun | None:
    return TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()


# --- 4. Moderator decisions ---------------------------------------------------


def _decision_in(d: Decision) -> DecisionIn:
    return DecisionIn(
        post_id=d.post.ref,
        prompt=d.prompt,
        action=DecisionAction(d.action),
        answer=Answer.from_json(d.answer) if d.answer else None,
    )


# --- 5. The sweeper -----------------------------------------------------------


def sweep(*, now=None) -> dict:
    """Re-enqueue work whose message was lost; return what was found.

    Two kinds: open or recently closed votes whose recount is behind (wanted
    after it was last done, and not queued recently), and posts in their
    windows whose Reading is missing or stale (the recount reads those).
    """
    now = now or timezone.now()
    behind = Vote.objects.filter(
        Q(recount_done_at__isnull=True) | Q(recount_wanted_at__gt=F("recount_done_at")),
        recount_wanted_at__isnull=False,
    ).filter(Q(recount_queued_at__isnull=True) | Q(recount_queued_at__lt=now - _recount_stall()))
    stale = [v for v in Vote.objects.exclude(status=Vote.Status.SCHEDULED) if _has_stale(v)]
    requeued = 0
    for vote in {v.pk: v for v in [*behind, *stale]}.values():
        Vote.objects.filter(pk=vote.pk).update(recount_queued_at=None)
        vote_recount_request(vote=vote)
        requeued += 1
    return {"recounts": requeued}


def _has_stale(vote: Vote) -> bool:
    posts = selectors.window_posts(vote)
    rows = {r.post_id: r for r in Reading.objects.filter(vote=vote)}
    return any(p.pk not in rows or _is_stale(rows[p.pk], p, vote) for p in posts)


# --- 6. Reading the results -------------------------------------------------


def tally_title(vote: Vote) -> str:
    chapter = vote.chapter
    return f"{chapter.quest.title}: {chapter.title} - vote tally"


def current_tally(vote: Vote) -> TallyRun:
    """The latest stored tally, computing the first one if there is none yet."""
    return latest_tally(vote) or vote_recount(vote_id=vote.pk)


def answer_posts(vote: Vote) -> dict[tuple[str, int], int]:
    """(voter, prompt number) -> ref of the post that gave the counted answer."""
    links: dict[tuple[str, int], int] = {}
    for voter, answers in Ballot.objects.filter(vote=vote, is_current=True).values_list(
        "voter", "answers"
    ):
        for number, answer in answers.items():
            if answer.get("post") is not None:
                links[(voter, int(number))] = answer["post"]
    return links


def has_ballot(vote: Vote, user) -> bool:
    return (
        user.is_authenticated
        and Ballot.objects.filter(vote=vote, voter=user.username, is_current=True).exists()
    )
