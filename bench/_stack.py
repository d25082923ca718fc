"""The production stack on loopback for benchmarks, and where its CPU time goes.

`Stack` starts what docker-compose.yml runs, against the throwaway PostgreSQL
and Redis of bin/with-services: gunicorn (`quest.wsgi`, sync workers, as the
`web` service), a Celery worker (`celery -A quest worker`, its default prefork
pool) and beat, all with production settings (tests.services.production_env:
DEBUG off, ALLOWED_HOSTS 127.0.0.1, plain http on loopback).

With `split_polls`, a second gunicorn (same app and settings, its own port,
`poll_workers` workers) runs under `nice -n 10` (its session too, where the
kernel schedules sessions as groups): the bench sends the tally and
panel polls there and everything else to the main one, as a reverse proxy
routing those paths to a pool of their own would (bench/burst.py --split-polls).

`cpu_seconds()` reads /proc for the CPU time each part of the stack used so
far (the web workers, the poll pool's as `web-polls`, the Celery worker, this
PostgreSQL's server processes, Redis, and the load generator itself), so a
figure can say what was busy.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.services import CeleryProcess, free_port, production_env, wait_until

REPO_ROOT = Path(__file__).resolve().parent.parent
PROFILE_CONFIG = Path(__file__).resolve().parent / "_gunicorn_profile.py"
_TICKS = os.sysconf("SC_CLK_TCK")


class ProductionWorker(CeleryProcess):
    """`celery -A quest worker -l info` as docker-compose runs it (prefork, one child a core)."""

    def command(self) -> list[str]:
        if self.kind == "beat":
            return super().command()
        return [
            sys.executable,
            *("-m", "celery", "-A", "quest", "worker", "-l", "info"),
            *("--without-gossip", "--without-mingle", "-n", self.nodename),
        ]


class Gunicorn:
    """`gunicorn quest.wsgi --workers N` (sync workers, as the `web` service) on a free port."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workdir: Path,
        workers: int,
        profile: bool,
        name: str = "gunicorn",
        nice: int = 0,
    ) -> None:
        self.env = env
        self.workers = workers
        self.profile = profile
        self.nice = nice
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "Gunicorn":
        # `nice` execs gunicorn in place (the same pid); the workers it forks inherit it.
        niced = ["nice", "-n", str(self.nice)] if self.nice else []
        command = [
            *niced,
            sys.executable,
            *("-m", "gunicorn", "quest.wsgi", f"--bind=127.0.0.1:{self.port}"),
            f"--workers={self.workers}",
            "--timeout=120",
        ]
        if self.profile:
            command.append(f"--config={PROFILE_CONFIG}")
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
                raise RuntimeError(f"gunicorn exited:\n{self.log_path.read_text()[-4000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return False
            return True

        if self.nice:
            self._autogroup_nice()
        wait_until(listening, timeout=timeout, interval=0.1)
        return self

    def _autogroup_nice(self) -> None:
        """Give this gunicorn's session its nice value too, where the kernel groups by session.

        With autogroup scheduling (Linux's default on desktops and many VMs;
        /proc/sys/kernel/sched_autogroup_enabled) a process's nice ranks it only
        within its session, and each session (gunicorn starts one of its own here)
        gets an equal share of the CPU: `nice` alone would not lower the pool
        against the main one. The session's weight is set through /proc, as a
        deployment would set its service's CPU weight (systemd's CPUWeight).
        """
        path = Path(f"/proc/{self.process.pid}/autogroup")
        if path.exists():
            path.write_text(str(self.nice))

    def stop(self, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # workers finish and write their profiles
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Stack:
    """gunicorn, a Celery worker and beat with production settings; a context manager."""

    def __init__(
        self,
        *,
        settings_dict: dict,
        secret_key: str,
        workers: int = 3,
        profile_dir: str = "",
        split_polls: bool = False,
        poll_workers: int = 2,
        poll_nice: int = 10,
    ) -> None:
        self.workdir = Path(os.environ.get("QT_SERVICES_DIR") or "/tmp")
        env = production_env(settings_dict, secret_key, DJANGO_SETTINGS_MODULE="quest.settings")
        env["PYTHONPATH"] = str(REPO_ROOT)
        env.setdefault("TALLY_POLL_SETTLE_SECONDS", "6")  # as docker-compose.yml
        if profile_dir:
            env["BENCH_PROFILE_DIR"] = profile_dir
        self.env = env
        self.web = Gunicorn(
            env=env, workdir=self.workdir, workers=workers, profile=bool(profile_dir)
        )
        # The polls' own pool, at a lower CPU priority: under overload the reads slow
        # down and the ballots, forms and pages of the main pool do not.
        self.polls: Gunicorn | None = None
        if split_polls:
            self.polls = Gunicorn(
                env=env,
                workdir=self.workdir,
                workers=poll_workers,
                profile=False,
                name="gunicorn-polls",
                nice=poll_nice,
            )
            while self.polls.port == self.web.port:
                self.polls.port = free_port()
        self.worker = ProductionWorker("worker", env=env, workdir=self.workdir)
        self.beat = CeleryProcess("beat", env=env, workdir=self.workdir)

    def __enter__(self) -> "Stack":
        try:
            self.worker.start()
            self.beat.start()
            self.web.start()
            if self.polls is not None:
                self.polls.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def polls_base_url(self) -> str:
        """Where the tally and panel polls go: the poll pool if there is one."""
        return (self.polls or self.web).base_url

    def stop(self) -> None:
        if self.polls is not None:
            self.polls.stop()
        self.web.stop()
        self.beat.stop()
        self.worker.stop()

    def roots(self) -> dict[str, int]:
        """The process at the top of each part of the stack, by name."""
        roots = {"generator": os.getpid()}
        for name, proc in (
            ("web", self.web.process),
            ("web-polls", self.polls.process if self.polls else None),
            ("worker", self.worker.process),
            ("beat", self.beat.process),
        ):
            if proc is not None and proc.poll() is None:
                roots[name] = proc.pid
        pg_data = os.environ.get("QT_PG_DATA")
        if pg_data and (Path(pg_data) / "postmaster.pid").exists():
            roots["postgres"] = int((Path(pg_data) / "postmaster.pid").read_text().split()[0])
        redis_pid = os.environ.get("QT_REDIS_PIDFILE")
        if redis_pid and Path(redis_pid).exists():
            roots["redis"] = int(Path(redis_pid).read_text().strip())
        return roots

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system, reaped children included) used so far by each part."""
        return cpu_seconds(self.roots())


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        # After the name: state ppid … utime(11) stime(12) cutime(13) cstime(14), 0-based.
        ppid = int(fields[1])
        ticks = sum(int(f) for f in fields[11:15])
        stats[int(entry.name)] = (ppid, ticks / _TICKS)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    totals = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in stats:
                total += stats[pid][1]
            if name != "generator":  # the generator's own children are the stack's
                todo.extend(children.get(pid, []))
        totals[name] = total
    return totals


def cpu_used(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores busy per part between two snapshots (1.0 = one core all the time)."""
    return {
        name: round((after.get(name, 0.0) - before.get(name, 0.0)) / seconds, 2)
        for name in after
        if seconds > 0
    }


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def wait_for(predicate, timeout: float, interval: float = 0.02):
    """Poll `predicate` until truthy; return (value, seconds waited) or (None, timeout)."""
    t0 = time.perf_counter()
    while True:
        value = predicate()
        if value:
            return value, time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            return None, timeout
        time.sleep(interval)
