"""The import page's imports: queued as a row, run by a task, summed up at the end.

1. The page checks what it was given (each file's size and text, the URL's
   host) and stores it in an ImportJob row; `import_job_create` sends the task
   `votes.import_run` once that row is committed.
2. The task (`import_job_run`) claims the row, fetches the thread's pages when
   it was given a URL, and imports everything through the one way in,
   votes.importers.sources, in one transaction: a failure stores nothing.
   Progress is written to the row outside that transaction, so the page
   polling it sees each step; reading the posts is asked for by the import
   and sent when it commits.
   A thread given by its address is fetched as a followed thread is
   (votes.importers.fetch).
3. `import_summary` tells what the quest holds once imported: chapters, votes
   and their prompts, posts read, answers held back.

Importing again is idempotent (the importers key posts by their forum ids or
their text); a thread whose address names a quest the importer does not run is
refused, so an import can never write into someone else's quest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from chapters.models import Chapter, Prompt, Vote
from quest.models import Post, Quest
from quest.outbound import OutboundRefused
from quest.permissions import can_manage
from quest.services import quest_master_grant
from votes import selectors
from votes.enqueue import enqueue, enqueue_on_commit
from votes.importers.fetch import Fetcher, FetchError, FetchSettings, PageCache
from votes.importers.sources import Source, SourceError, sources_import
from votes.importers.xenforo import XenForoFormatError, page_urls, parse_page, thread_url
from votes.models import ImportJob, Reading

log = logging.getLogger(__name__)

# Longer than a task may run (CELERY_TASK_TIME_LIMIT): a job still running then has lost its worker.
STALLED_AFTER = timedelta(minutes=10)
LOST_AFTER = timedelta(minutes=5)  # queued this long: its message was lost (Redis down)
SWEEP_BATCH = 100
FAILED_UNEXPECTEDLY = "The import failed unexpectedly; nothing was stored. Try again later."


def import_job_create(
    *,
    by: User,
    kind: str,
    sources: Sequence[Source] = (),
    url: str = "",
    format: str = "",
) -> ImportJob:
    """Store what to import and send the task once the row is committed."""
    job = ImportJob.objects.create(
        by=by,
        kind=kind,
        format=format,
        url=url,
        sources=[{"name": s.name, "text": s.text} for s in sources],
        step="Waiting to start",
    )
    enqueue_on_commit("votes.import_run", job.pk)
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run the import `job_id`, once: a redelivered message finds it claimed and returns.

    A run that has gone on past STALLED_AFTER died with its worker: it is claimed again.
    """
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=ImportJob.Status.QUEUED)
            | Q(status=ImportJob.Status.RUNNING, started_at__lt=now - STALLED_AFTER)
        )
        .update(status=ImportJob.Status.RUNNING, started_at=now, step="Starting")
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("by").get(pk=job_id)
    try:
        sources = _job_sources(job)
        _progress(job, step="Storing the posts")
        quest = _import(job, sources)
    except SourceError as e:
        return _end(job, status=ImportJob.Status.FAILED, message=_for_the_page(str(e)))
    except OperationalError:
        # The database went away: let the task retry from the start.
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
        raise
    except Exception:
        log.exception("import %s failed", job.pk)
        return _end(job, status=ImportJob.Status.FAILED, message=FAILED_UNEXPECTEDLY)
    job.quest = quest
    job.posts_stored = Post.objects.filter(quest=quest).count()
    return _end(job, status=ImportJob.Status.DONE, message="")


def import_jobs_sweep(*, now: datetime | None = None) -> int:
    """Send again the imports whose message was lost (waiting past LOST_AFTER) or whose
    worker died (running past STALLED_AFTER); returns how many. The claim in
    `import_job_run` makes a doubled message harmless."""
    now = now or timezone.now()
    lost = ImportJob.objects.filter(
        Q(status=ImportJob.Status.QUEUED, created_at__lt=now - LOST_AFTER)
        | Q(status=ImportJob.Status.RUNNING, started_at__lt=now - STALLED_AFTER)
    )
    pks = list(lost.order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    for pk in pks:
        enqueue("votes.import_run", pk)
    return len(pks)


def _job_sources(job: ImportJob) -> list[Source]:
    if job.kind != ImportJob.Kind.URL:
        return [Source(name=s["name"], text=s["text"]) for s in job.sources]

    def fetched(done: int, total: int) -> None:
        _progress(job, step="Fetching the thread's pages", pages_fetched=done, pages_total=total)

    _progress(job, step="Fetching the thread's pages")
    return thread_pages_fetch(job.url, on_page=fetched)


@transaction.atomic
def _import(job: ImportJob, sources: list[Source]) -> Quest:
    assert job.started_at is not None  # claimed above
    quest = sources_import(sources, format=job.format or None)
    if quest.created_at < job.started_at and not can_manage(job.by, quest):
        # Raised inside the transaction: whatever the import wrote is undone.
        raise SourceError(
            f"A quest with the address “{quest.slug}” exists already and you do not run it: "
            "nothing was imported."
        )
    quest_master_grant(quest=quest, user=job.by)
    return quest


def _progress(job: ImportJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _end(job: ImportJob, *, status: str, message: str) -> ImportJob:
    job.status, job.message, job.sources = status, message, []
    job.step = "Done" if status == ImportJob.Status.DONE else "Stopped"
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "message",
            "sources",
            "step",
            "finished_at",
            "quest",
            "posts_stored",
        ]
    )
    return job


def _for_the_page(message: str) -> str:
    """An importer's message, which speaks to the command line, for the import page."""
    return (
        message.replace("give --format", "choose the format")
        .replace("try --format ", "choose the format ")
        .replace("with --format xenforo", "as a XenForo page")
    )


# --- Fetching a thread by its address ---------------------------------------------------


def thread_pages_fetch(url: str, *, on_page: Callable[[int, int], None]) -> list[Source]:
    """Every page of the XenForo thread at `url`, in order, as sources to import.

    Fetched as a followed thread is (votes.importers.fetch: FORUM_HOSTS, taking
    turns with the host, retries, the page cache); `on_page(done, count)` after each.
    """
    try:
        first = thread_url(url)
    except XenForoFormatError as e:
        raise SourceError(str(e)) from None
    sources: list[Source] = []
    count = 1
    with Fetcher(FetchSettings.from_settings(), pages=PageCache(settings.FORUM_CACHE_DIR)) as f:
        # A page's navigation may show only the pages near it: each page can tell of more.
        while len(sources) < count:
            address = page_urls(first, len(sources) + 1)[-1]
            sources.append(_page(f, address))
            count = max(count, _page_count(sources[-1], address))
            on_page(len(sources), count)
    return sources


def _page(fetcher: Fetcher, url: str) -> Source:
    """One page as a Source named by its URL; SourceError saying why it cannot be had."""
    try:
        fetched = fetcher.get(url)
    except (FetchError, OutboundRefused) as e:
        raise SourceError(f"cannot fetch {url}: {e}") from None
    kind = fetched.content_type.split(";")[0].strip().lower()
    if kind not in ("text/html", "application/xhtml+xml"):
        raise SourceError(
            f"cannot read {url}: it is not an HTML page (the forum sent {kind or 'no type'})"
        )
    if not fetched.text.strip():
        raise SourceError(f"cannot read {url}: the page is empty")
    return Source(name=url, text=fetched.text)


def _page_count(source: Source, url: str) -> int:
    try:
        return parse_page(source.text, url=url).page_count
    except XenForoFormatError as e:
        raise SourceError(f"cannot read {url}: {e}") from None


# --- What an import brought in ----------------------------------------------------------


@dataclass
class VoteSummary:
    vote: Vote
    prompts: list[Prompt]
    held_back: int


@dataclass
class ImportSummary:
    quest: Quest
    posts: int
    posts_read: int
    chapters: list[Chapter] = field(default_factory=list)
    votes: list[VoteSummary] = field(default_factory=list)
    reading: bool = False  # some vote's count is still under way

    @property
    def prompts(self) -> int:
        return sum(len(v.prompts) for v in self.votes)

    @property
    def held_back(self) -> int:
        return sum(v.held_back for v in self.votes)


def import_summary(quest: Quest) -> ImportSummary:
    """What the quest holds: chapters, votes and their prompts, posts read, answers held back."""
    prompts = Prompt.objects.prefetch_related("options").order_by("number")
    votes = (
        Vote.objects.filter(chapter__quest=quest)
        .select_related("chapter", "post")
        .prefetch_related(Prefetch("prompts", queryset=prompts))
        .order_by("chapter__number")
    )
    summary = ImportSummary(
        quest=quest,
        posts=Post.objects.filter(quest=quest).count(),
        posts_read=Reading.objects.filter(vote__chapter__quest=quest).aggregate(
            n=Count("post", distinct=True)
        )["n"],
        chapters=list(Chapter.objects.filter(quest=quest).order_by("number")),
    )
    for vote in votes:
        run = selectors.latest_tally(vote)
        if run is None or selectors.tally_is_behind(vote, run):
            summary.reading = True
        held = len(run.data.get("flagged") or []) if run is not None else 0
        summary.votes.append(
            VoteSummary(vote=vote, prompts=list(vote.prompts.all()), held_back=held)
        )
    return summary
