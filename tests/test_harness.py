"""The test harness runs on the real thing: PostgreSQL, Redis and a worker process."""

import os

import pytest
from django.db import connection

from quest.celery import app
from tests.services import RedisServer, wait_until

pytestmark = pytest.mark.services


def test_it_runs_on_postgresql(db):
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["NAME"].startswith("test_")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert int(cursor.fetchone()[0]) >= 150000


def test_it_talks_to_redis():
    with RedisServer().client() as client:
        assert client.ping() is True
        client.set("harness", "ok")
        assert client.get("harness") == b"ok"


def test_it_runs_tasks_in_a_real_worker_process(celery_worker):
    assert celery_worker.pid != os.getpid()
    replies = app.control.ping(destination=[celery_worker.hostname], timeout=5)
    assert replies == [{celery_worker.hostname: {"ok": "pong"}}]

    # A built-in task, so this test depends on none of the app's own.
    result = app.send_task("celery.accumulate", args=[1, 2])
    wait_until(lambda: f"[{result.id}] succeeded" in celery_worker.log_text())


def test_it_shares_the_test_database_with_the_worker(celery_worker):
    log = celery_worker.log_text()
    assert celery_worker.env["DATABASE_URL"].endswith("/" + connection.settings_dict["NAME"])
    assert "Traceback" not in log


def test_it_can_kill_and_restart_the_worker(celery_worker):
    first_pid = celery_worker.pid
    celery_worker.kill()
    assert not celery_worker.running
    celery_worker.start()
    assert celery_worker.running and celery_worker.pid != first_pid
    result = app.send_task("celery.accumulate", args=[3])
    wait_until(lambda: f"[{result.id}] succeeded" in celery_worker.log_text())


@pytest.mark.exclusive
def test_it_can_stop_and_restart_redis(redis_server):
    redis_server.client().set("before", "1")
    redis_server.stop()
    assert not redis_server.ping()
    redis_server.start()
    assert redis_server.ping()
    assert redis_server.client().get("before") is None  # nothing persisted
