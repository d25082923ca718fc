"""The fixtures every test module may take: personas, test settings, real services, a browser.

Personas (as in the house style): `quest_master` runs `quest`, `moderator` is
appointed in it, `player` is any other signed-in user, `outsider` is a
signed-in user who has nothing to do with the quest (useful as "someone else's
post"), `other_moderator` moderates another quest. Test data beyond them is
built with the helpers in tests/factories.py.

Tests that need PostgreSQL, Redis or a worker are marked `@pytest.mark.services`
(using `celery_worker`, `celery_beat` or `redis_server` marks them). They run
under `bin/with-services`, which `make test` wraps around pytest. Elsewhere they
are skipped with the reason, except in CI (CI=true), where a missing service is
a failure: a green CI run must mean the real thing was tested.
"""

import asyncio
import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from quest import services as quest_services
from tests.factories import make_quest, make_user
from tests.services import CeleryProcess, RedisServer, database_url_for, services_missing

if TYPE_CHECKING:
    from playwright import sync_api

# Property tests check outcomes, not speed (speed is measured in bench/): with
# Hypothesis's per-example deadline a busy CI machine failed them at random.
# On CI the examples are derandomised: a submission is judged on the same examples
# every run; local runs keep exploring, and what they find becomes a fixed case.
settings.register_profile("quest", deadline=None)
settings.register_profile("quest-ci", deadline=None, derandomize=True)
settings.load_profile(
    "quest-ci" if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"} else "quest"
)

SERVICE_FIXTURES = {"celery_worker", "celery_beat", "redis_server"}


def _own_redis_database() -> None:
    """Under pytest-xdist, give this test process a Redis database of its own.

    bin/check runs the suite in two processes beside one Redis: each empties
    its broker before starting a worker (`_empty_broker`), and each worker
    takes whatever task is in its queue, so sharing a database would hand one
    process's tasks to the other's worker. Django's settings are read before
    this module, so the URL is changed there too; the workers this process
    starts inherit it through the environment (`_celery_env`).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("REDIS_URL", "")
    if not worker.startswith("gw") or not url:
        return
    from django.conf import settings as django_settings

    from quest.celery import app

    # Database 0 is the plain run's; gw0 takes 1, gw1 takes 2, ...
    own = re.sub(r"(redis://[^/]+)(/\d*)?$", rf"\g<1>/{int(worker[2:]) + 1}", url)
    os.environ["REDIS_URL"] = own
    django_settings.REDIS_URL = own
    django_settings.CELERY_BROKER_URL = own
    django_settings.CELERY_RESULT_BACKEND = own
    for config in django_settings.CACHES.values():
        if config["BACKEND"].endswith("RedisCache"):
            config["LOCATION"] = own
    app.conf.broker_url = own
    app.conf.result_backend = own


_own_redis_database()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("services") is None:
        return
    reason = services_missing()
    if not reason:
        return
    message = (
        f"{reason}: this test needs real PostgreSQL and Redis; "
        "run it under bin/with-services (make test does)"
    )
    if _in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    # Production hashing costs ~0.3 s a password: a test creating 300 players
    # would spend minutes in PBKDF2. No test is about hashing strength.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def web_test_settings(settings):
    """Serve pages in tests as on a laptop, and hash test passwords quickly.

    Outside DEBUG the settings redirect to HTTPS and mark cookies secure, which
    the test client and a browser on the live server's http:// URL trip on, and
    static URLs come from a manifest that only `collectstatic` writes.
    """
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings) -> None:
    """Start each test with no request counted against the rate limits.

    A key prefix of its own rather than clearing the cache: under
    bin/with-services the cache is the Redis that also holds the broker's queues.
    """
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def tasks_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run Celery tasks in the test process, except in tests with a real worker.

    Under bin/with-services REDIS_URL is set, which makes the app send tasks to
    Redis; tests that do not start a worker would then wait for nothing.
    """
    from quest.celery import app

    real = bool(SERVICE_FIXTURES & set(request.fixturenames))
    before = app.conf.task_always_eager
    app.conf.task_always_eager = not real
    yield
    app.conf.task_always_eager = before


# --- Personas ---------------------------------------------------------------------


@pytest.fixture
def quest_master(db):
    return make_user("quest_master")


@pytest.fixture
def moderator(db):
    return make_user("moderator")


@pytest.fixture
def player(db):
    return make_user("player")


@pytest.fixture
def outsider(db):
    return make_user("outsider")


@pytest.fixture
def other_moderator(db):
    """A moderator, but of someone else's quest."""
    user = make_user("other_moderator")
    other = make_quest(make_user("other_quest_master"), title="Another quest")
    quest_services.moderator_appoint(quest=other, user=user, by=other.quest_master)
    return user


@pytest.fixture
def quest(quest_master, moderator):
    quest = make_quest(quest_master, description="A quest to test with.")
    quest_services.moderator_appoint(quest=quest, user=moderator, by=quest_master)
    return quest


@pytest.fixture
def qm_client(client, quest_master):
    """The test client, logged in as the quest master."""
    client.force_login(quest_master)
    return client


@pytest.fixture
def as_role(client, request):
    """`as_role("player")`: the test client logged in as that persona ("anonymous": not at all)."""

    def login(role: str):
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        return client

    return login


# --- Real services -------------------------------------------------------------------


def _celery_env() -> dict[str, str]:
    """The test process's environment, pointed at the test run's database.

    pytest-django renamed the database to `test_<name>` in
    `connection.settings_dict` by the time this runs (the caller depends on
    `transactional_db`), so the worker sees what the test wrote and committed.
    """
    from django.conf import settings as django_settings
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_for(connection.settings_dict)
    env["DJANGO_SETTINGS_MODULE"] = "quest.settings"
    # The test's own cache prefix (fresh_rate_limits): the tally's poll stamp the
    # worker moves is the one the test's web requests read (votes/poll.py).
    env["CACHE_KEY_PREFIX"] = django_settings.CACHES["default"]["KEY_PREFIX"]
    env["PYTHONUNBUFFERED"] = "1"
    # A worker never runs tasks eagerly, whatever the caller's shell says.
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def _empty_broker() -> None:
    # Messages left by earlier tests would run against this test's rows.
    with RedisServer().client() as client:
        client.flushdb()


def _celery_process(kind: str, workdir: Path) -> Iterator[CeleryProcess]:
    process = CeleryProcess(kind, env=_celery_env(), workdir=workdir)
    try:
        process.start()
        yield process
    finally:
        process.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """The throwaway Redis: `.stop()`, `.start()`, `.restart()`, `.ping()`, `.client()`.

    Left running after the test, whatever the test did to it.
    """
    server = RedisServer()
    try:
        yield server
    finally:
        server.start()


@pytest.fixture
def celery_worker(transactional_db: None, redis_server: RedisServer, tmp_path: Path):
    """A real worker process on an empty broker: `.stop()`, `.kill()`, `.start()`, `.log_text()`.

    The test's database is transactional (rows are committed, so the worker
    sees them); the worker is stopped before the tables are emptied.
    """
    redis_server.start()
    _empty_broker()
    yield from _celery_process("worker", tmp_path)


@pytest.fixture
def celery_beat(transactional_db: None, redis_server: RedisServer, tmp_path: Path):
    """A real `celery beat` sending the periodic tasks in CELERY_BEAT_SCHEDULE.

    Set SWEEP_SECONDS with `celery_beat.env[...]` and `.stop()`/`.start()` to change its pace.
    """
    redis_server.start()
    yield from _celery_process("beat", tmp_path)


# --- Browser tests: Debian's Chromium driven by Playwright ----------------------

CHROMIUM = "/usr/bin/chromium"
# Playwright's own browser download cannot run here; these flags keep Debian's
# Chromium from reaching for the network it does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def plain_http_live_server(live_server, web_test_settings):
    """The session's live server, serving over plain HTTP.

    It is started once per session, before function-scoped fixtures change the
    settings, so its middleware still holds the HTTPS redirect; reloading the
    middleware makes it read `web_test_settings`.
    """
    handler = live_server.thread.httpd.get_app()
    while handler is not None:  # static files, then media files, then Django's own
        handler.load_middleware()
        handler = getattr(handler, "application", None)
    return live_server


@pytest.fixture(scope="session")
def _chromium() -> Iterator[tuple[asyncio.AbstractEventLoop, "sync_api.Browser"]]:
    """One headless Chromium per test process, launched by the first browser test.

    Starting Playwright's driver and Chromium took 1.5-3 s of every browser
    test; each test still gets contexts (cookies, storage, cache) of its own
    (`page`). Playwright's sync API marks its event loop as running in this
    thread between its calls, which would make every later test in the process
    look like async code to Django (SynchronousOnlyOperation, and connections
    kept apart from the usual ones): the loop is marked running only while a
    browser test runs (`_browser_loop`).
    """
    from playwright import sync_api

    playwright = sync_api.sync_playwright().start()
    loop = asyncio.get_running_loop()  # marked running by the sync call that started it
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        asyncio._set_running_loop(None)
        yield loop, browser
        with _browser_loop(loop):
            browser.close()
    finally:
        asyncio._set_running_loop(loop)
        try:
            playwright.stop()
        finally:
            asyncio._set_running_loop(None)


@contextlib.contextmanager
def _browser_loop(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Playwright's loop marked running in this thread, as its sync calls expect, then not."""
    asyncio._set_running_loop(loop)
    try:
        yield
    finally:
        asyncio._set_running_loop(None)


@pytest.fixture
def page(plain_http_live_server, monkeypatch, _chromium):
    """A Chromium page (headless) against the live server, in a context of its own."""
    from django.db import connections

    loop, browser = _chromium
    # With Playwright's event loop running in this thread, the ORM calls made
    # here between page actions are ordinary blocking ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with _browser_loop(loop):
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            try:
                # Every context the test opened (tests/browsing.py's `open_page`
                # too): the next test starts with no cookies, pages or routes.
                for context in browser.contexts:
                    context.close()
            finally:
                # With that loop running, Django keeps this thread's connections
                # apart from its usual ones (asgiref's Local, thread-critical: a
                # context variable while a loop runs), so the test's ORM calls
                # opened one of their own that `connections.close_all()` outside
                # this block never reaches. Left open, it would outlive a
                # PostgreSQL restart (tests/test_db_outage.py) and fail the next
                # browser test's first query.
                connections.close_all()
