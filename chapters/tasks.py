from celery import shared_task
from django.db import OperationalError

from chapters import services


@shared_task(
    name="chapters.close_due_votes",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def close_due_votes_task() -> dict:
    """Open and close votes whose time has come, with no one on the page."""
    return {"opened": services.due_votes_open(), "closed": services.due_votes_close()}
