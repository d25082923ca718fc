"""Handles on the real services tests run against.

`bin/with-services` (which `make test` wraps around pytest) starts a throwaway
PostgreSQL and Redis and exports where they are. These classes start real
Celery workers and a real gunicorn against them and stop or restart that Redis
and that PostgreSQL, so tests can exercise crashes, outages and lost messages
for real. tests/conftest.py turns them
into fixtures; import `wait_until` from here in tests.
"""

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import redis

REPO_ROOT = Path(__file__).resolve().parent.parent


def wait_until[T](predicate: Callable[[], T], timeout: float = 20, interval: float = 0.1) -> T:
    """Poll `predicate` until it returns something truthy, and return that.

    Fails the test with AssertionError after `timeout` seconds. Exceptions the
    predicate raises are not swallowed: a broken check should fail at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            name = getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"{name} still false after {timeout}s (last value {result!r})")
        time.sleep(interval)


def services_missing() -> str:
    """Why the real services are not usable here, or "" when they are."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        return "DATABASE_URL does not point at PostgreSQL"
    if not os.environ.get("REDIS_URL"):
        return "REDIS_URL is not set"
    return ""


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL for the database `settings_dict` describes.

    Given `django.db.connection.settings_dict` after pytest-django set up the
    test database, this names `test_<name>`, the one the test run uses.
    """
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


class CeleryProcess:
    """A real `celery -A quest worker` (or `beat`) subprocess, logging to a file.

    `env` holds the environment the next `start()` uses; change it before
    starting to run a worker with other settings.
    """

    READY_MARKERS = {"worker": " ready.", "beat": "beat: Starting..."}

    def __init__(self, kind: str, *, env: dict[str, str], workdir: Path) -> None:
        if kind not in self.READY_MARKERS:
            raise ValueError(f"kind must be 'worker' or 'beat', not {kind!r}")
        self.kind = kind
        self.env = env
        self.workdir = workdir
        self.nodename = f"{kind}-{uuid.uuid4().hex[:8]}@%h"
        self.log_path = workdir / f"celery-{kind}.log"
        self.process: subprocess.Popen | None = None
        self._log_offset = 0

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "celery", "-A", "quest", self.kind, "-l", "info"]
        if self.kind == "beat":
            return [*base, "--schedule", str(self.workdir / "celerybeat-schedule")]
        return [
            *base,
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            "celery",
            "--without-gossip",
            "--without-mingle",
            "-n",
            self.nodename,
        ]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def hostname(self) -> str:
        """The node name as the worker reports it (for `app.control.ping(destination=…)`)."""
        return self.nodename.replace("%h", os.uname().nodename)

    def start(self, timeout: float = 60) -> "CeleryProcess":
        if self.running:
            return self
        # Each start appends to the same log, so a test can read a crash and the
        # restart after it; readiness is looked for only in the new part.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C on pytest reaches us, not the worker
            )
        marker = self.READY_MARKERS[self.kind]

        def started() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"celery {self.kind} exited with {self.process.returncode}:\n"
                    + self.log_text()[-4000:]
                )
            return marker in self.log_text()[self._log_offset :]

        try:
            wait_until(started, timeout=timeout, interval=0.1)
        except AssertionError:
            self.kill()
            raise AssertionError(
                f"celery {self.kind} not ready after {timeout}s:\n{self.log_text()[-4000:]}"
            ) from None
        return self

    def stop(self, timeout: float = 30) -> None:
        """Warm shutdown (SIGTERM: finish the current task), SIGKILL if it hangs."""
        if not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: no cleanup, no acks."""
        if not self.running:
            return
        self.process.kill()
        self.process.wait()

    def log_text(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def __repr__(self) -> str:
        return f"<CeleryProcess {self.kind} pid={self.pid} running={self.running}>"


def _alone() -> None:
    """Refuse to stop a shared server while another test process uses it.

    Under pytest-xdist (bin/check's parallel run) the other process's tests
    would fail at random; a test that stops Redis or PostgreSQL is marked
    `@pytest.mark.exclusive` and bin/check runs it on its own afterwards.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        raise RuntimeError(
            "this test stops a server the other test processes share: "
            "mark it @pytest.mark.exclusive (bin/check runs those alone)"
        )


class RedisServer:
    """The throwaway Redis from bin/with-services, which tests may stop and restart.

    It restarts on the same port with the same (empty, non-persistent) config,
    so clients reconnect to the same URL and find it empty, as after a crash.
    """

    def __init__(self, environ: os._Environ | dict[str, str] = os.environ) -> None:
        try:
            self.url = environ["REDIS_URL"]
            self.port = int(environ["QT_REDIS_PORT"])
            self.conf = environ["QT_REDIS_CONF"]
            self.pidfile = Path(environ["QT_REDIS_PIDFILE"])
            self.server = environ.get("REDIS_SERVER", "redis-server")
        except KeyError as missing:
            raise RuntimeError(
                f"{missing} is not set: run the tests under bin/with-services (make test)"
            ) from None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    @property
    def running(self) -> bool:
        return self.ping()

    def stop(self, timeout: float = 10) -> None:
        _alone()
        if not self.pidfile.exists():
            return
        pid = int(self.pidfile.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return

        def gone() -> bool:
            # A daemon's parent is init, which may reap it late: a zombie is gone too.
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, IndexError):
                return True
            return state in {"Z", "X"}

        wait_until(gone, timeout=timeout, interval=0.05)

    def start(self, timeout: float = 10) -> None:
        if self.ping():
            return
        # The config says `daemonize yes`: this returns once the server forked.
        subprocess.run([self.server, self.conf], check=True)
        wait_until(self.ping, timeout=timeout, interval=0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def flush(self) -> None:
        with self.client() as client:
            client.flushdb()  # this process's database only (tests/conftest.py)

    def __repr__(self) -> str:
        return f"<RedisServer 127.0.0.1:{self.port}>"


class PostgresServer:
    """The throwaway PostgreSQL from bin/with-services, which tests may stop and start.

    It starts again with the command line it was first started with (PostgreSQL
    keeps it in postmaster.opts): same port, same data, as after a restart.
    """

    def __init__(self, environ: os._Environ | dict[str, str] = os.environ) -> None:
        try:
            self.data = Path(environ["QT_PG_DATA"])
            self.port = int(environ["QT_PG_PORT"])
            self.bin = Path(environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
        except KeyError as missing:
            raise RuntimeError(
                f"{missing} is not set: run the tests under bin/with-services (make test)"
            ) from None
        self.log = self.data.parent / "postgres.log"  # where bin/with-services logs

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root, as in bin/with-services
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=90, check=check)

    @property
    def running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when the server restarts under load."""
        _alone()
        if self.running:
            self._pg_ctl("stop", "-m", "fast", "-w", "-t", "60")

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        if self.running:
            return
        # "postgres" "-D" "<data>" "-c" "listen_addresses=…" "-p" "<port>" …
        words = shlex.split((self.data / "postmaster.opts").read_text())[1:]
        at = words.index("-D")
        options = shlex.join(words[:at] + words[at + 2 :])
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log), "-o", options)

    def __repr__(self) -> str:
        return f"<PostgresServer 127.0.0.1:{self.port}>"


def production_env(settings_dict: dict, secret_key: str, **overrides: str) -> dict[str, str]:
    """The environment of an app process with production settings on the test database.

    Plain http on loopback and static files without collectstatic; the caller's
    overrides (a rate limit a test outruns on purpose, say) go on top.
    """
    env = dict(os.environ)  # DJANGO_SETTINGS_MODULE included: pytest-django sets it
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(
        DATABASE_URL=database_url_for(settings_dict),
        DEBUG="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        STATIC_MANIFEST="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebServer:
    """The app in a real gunicorn on a free loopback port, as in production.

    `env` is the whole environment of the process (settings come from it);
    the log holds gunicorn's and the app's output.
    """

    def __init__(
        self, *, env: dict[str, str], workdir: Path, workers: int = 2, threads: int = 4
    ) -> None:
        self.env = env
        self.port = free_port()
        self.workers = workers
        self.threads = threads
        self.log_path = workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, timeout: float = 60) -> "WebServer":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "quest.wsgi",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--threads={self.threads}",
            "--timeout=60",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def listening() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_text()[-4000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listening, timeout=timeout, interval=0.1)
        return self

    def stop(self, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __repr__(self) -> str:
        return f"<WebServer 127.0.0.1:{self.port}>"
