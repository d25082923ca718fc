"""Deployment settings: `check --deploy` passes in production, bad variables stop start-up.

Each case runs `manage.py` in a fresh process, because settings are read from
the environment once, at import.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Variables that would make the child process anything but what a case says.
UNSET = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "SQLITE_PATH",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in UNSET}
    base["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production() -> dict[str, str]:
    return {"SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "quest.example.org"}


@pytest.mark.parametrize("debug", [None, "0"], ids=["DEBUG unset", "DEBUG=0"])
def test_it_passes_the_deploy_check_with_production_settings(tmp_path, debug):
    env = _production() if debug is None else {**_production(), "DEBUG": debug}

    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_it_fails_the_deploy_check_with_a_weak_secret_key(tmp_path):
    # The passing check above could not fail if these checks did not run here.
    env = {**_production(), "SECRET_KEY": "short"}

    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


def test_it_fails_the_deploy_check_when_secret_key_is_unset(tmp_path):
    env = {"ALLOWED_HOSTS": "quest.example.org"}

    done = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://localhost:6379"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("FORUM_HOSTS", "forums.example.org/threads"),
    ],
)
def test_it_stops_on_a_malformed_variable_and_names_it(tmp_path, name, value):
    env = {**_production(), name: value}

    done = _manage("check", env=env, tmp_path=tmp_path)

    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("quest.env.EnvError: ")
    assert name in last_line
    assert repr(value) in last_line
