"""Sending Celery tasks: the one place that does, by task name.

By name, not by importing the task functions: tasks import services, services
import this module, and nothing the services import imports the tasks (the
import contract in pyproject.toml keeps it so).
"""

import logging

from celery import chord
from django.db import transaction

from quest.celery import app

log = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args, countdown: float = 0.0) -> None:
    """Send the task once the transaction in progress commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(task_name, *args, countdown=countdown))


def enqueue(task_name: str, *args, countdown: float = 0.0) -> None:
    """Send the task named `task_name` with `args`; a broker outage is logged, not raised.

    The caller's rows are already committed: a broker outage must not turn into
    an error page or a lost post. The sweeper finds the work later. With a
    `countdown` the worker runs it that many seconds from now (run at once
    when eager: nothing else would run it).
    """
    try:
        if app.conf.task_always_eager:
            # `send_task` would publish to the broker even so: the embedded
            # default (no Redis) and the tests run the task here, as `delay` does.
            _registered(task_name).delay(*args)
        else:
            # No result kept: only chords use the result backend, and asking
            # for one would make sending wait on Redis for a result channel.
            app.send_task(task_name, args=args, ignore_result=True, countdown=countdown or None)
    except Exception:
        log.warning("could not enqueue %s%r; the sweeper will pick it up", task_name, args)


def enqueue_chord_on_commit(header: list[tuple[str, tuple]], callback: tuple[str, tuple]) -> None:
    """Once the transaction commits, run the `header` tasks in parallel, then `callback`.

    A Celery chord of tasks sent by name; the callback does not take the
    header's results (an immutable signature). Eager (no workers), the header
    runs here in order, then the callback. A broker outage is logged, as in
    `enqueue`; a chord left unfinished (a task lost with its worker) never
    calls back: its work must be found by a sweeper, as a lost message is.
    """
    transaction.on_commit(lambda: _chord(header, callback))


def _chord(header: list[tuple[str, tuple]], callback: tuple[str, tuple]) -> None:
    try:
        if app.conf.task_always_eager:
            for name, args in header:
                _registered(name).delay(*args)
            _registered(callback[0]).delay(*callback[1])
            return
        tasks = [app.signature(name, args=args) for name, args in header]
        chord(tasks)(app.signature(callback[0], args=callback[1], immutable=True))
    except Exception:
        log.warning(
            "could not enqueue a chord of %d tasks; the sweeper will pick it up", len(header)
        )


def _registered(task_name: str):
    if task_name not in app.tasks:
        # Workers import the apps' tasks modules at start; a web process has not.
        app.autodiscover_tasks(force=True)
    return app.tasks[task_name]
