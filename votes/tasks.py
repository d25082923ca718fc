"""Celery tasks: thin shells that pass ids to services.

Every task is idempotent (results are recomputed from rows), so
`acks_late` redelivery after a crash is harmless. Services send these by
name through votes/enqueue.py; the beat schedule (quest/settings.py) names
`votes.sweep` and `votes.followed_threads_refresh_due`.
"""

from celery import shared_task
from django.db import OperationalError

from votes import import_jobs, import_reading, services
from votes.importers import follow

_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


# No longer sent for each post (a post asks for its vote's recount, which reads
# every unread post of the window at once); kept for messages sent before that.
@shared_task(name="votes.post_reading_refresh", **_RETRY)
def post_reading_refresh_task(post_id: int) -> None:
    services.post_reading_refresh(post_id=post_id)


# A chord's header task (votes/import_reading.py): its result tells the chord it is done.
@shared_task(name="votes.read_chunk", ignore_result=False, **_RETRY)
def window_chunk_read_task(vote_id: int, first_seq: int, last_seq: int) -> int:
    return import_reading.window_chunk_read(vote_id=vote_id, first_seq=first_seq, last_seq=last_seq)


@shared_task(name="votes.recount", **_RETRY)
def vote_recount_task(vote_id: int) -> None:
    services.vote_recount(vote_id=vote_id)


@shared_task(name="votes.sweep", acks_late=True)
def recounts_sweep_task() -> dict:
    return services.recounts_sweep()


_REFRESH_SOFT_LIMIT, _REFRESH_HARD_LIMIT = follow.task_time_limits()


@shared_task(
    name="votes.followed_thread_refresh",
    **_RETRY,
    soft_time_limit=_REFRESH_SOFT_LIMIT,
    time_limit=_REFRESH_HARD_LIMIT,
)
def followed_thread_refresh_task(followed_id: int) -> None:
    follow.followed_thread_refresh(followed_id=followed_id)


@shared_task(name="votes.followed_threads_refresh_due", acks_late=True)
def followed_threads_refresh_due_task() -> int:
    return follow.followed_threads_refresh_due()


@shared_task(name="votes.import_run", **_RETRY)
def import_run_task(job_id: int) -> None:
    import_jobs.import_job_run(job_id=job_id)


@shared_task(name="votes.import_sweep", acks_late=True)
def import_jobs_sweep_task() -> int:
    return import_jobs.import_jobs_sweep()
