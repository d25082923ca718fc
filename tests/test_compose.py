"""docker-compose.yml and the Dockerfile agree with the settings.

No Docker engine runs here, so these read the files instead of starting them.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
ENV_HELPER_CALL = re.compile(
    r"\benv(?:str|bool|int|float|list|url|rate)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']"
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- NAME=value` form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return env


def _settings_variables() -> set[str]:
    return set(ENV_HELPER_CALL.findall((ROOT / "quest" / "settings.py").read_text()))


def test_it_defines_the_five_services(compose):
    assert {"db", "redis", "web", "worker", "beat"} <= set(compose["services"])


def test_it_runs_the_expected_programs(compose):
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:")
    web = str(services["web"]["command"])
    assert "migrate" in web and "gunicorn quest.wsgi" in web
    assert web.index("migrate") < web.index("gunicorn")
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    for name in APP_SERVICES:
        assert "build" in services[name], name
        assert {"db", "redis"} <= set(services[name]["depends_on"]), name


def test_it_configures_web_worker_and_beat_alike(compose):
    names = {name: set(_environment(compose["services"][name])) for name in APP_SERVICES}
    assert names["web"] == names["worker"] == names["beat"]
    required = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    assert required | {"CSRF_TRUSTED_ORIGINS"} <= names["web"]


def test_it_sets_only_variables_the_settings_read(compose):
    read = _settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"} <= read, "settings parse broke"
    for name in APP_SERVICES:
        unknown = set(_environment(compose["services"][name])) - read
        assert not unknown, f"{name} sets {sorted(unknown)}, which quest/settings.py never reads"


def test_it_points_the_app_at_the_compose_servers(compose):
    env = _environment(compose["services"]["web"])
    assert env["DATABASE_URL"].startswith("postgres://") and "@db:" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")


def test_the_dockerfile_builds_the_app_on_python_312():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.12-slim\b", dockerfile, re.MULTILINE)
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile


def test_the_dockerfile_copies_every_local_app():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    copied = {
        source.rstrip("/")
        for line in lines
        if line.startswith("COPY ") and not line.startswith("COPY --from=")
        for source in line.split()[1:-1]
    }
    # The compiled reader comes from the image's own build stage, not the repo.
    assert "COPY --from=reader /app/.build ./.build" in lines
    for source in copied:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repo"
    local_apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    local_apps |= {path.parent.name for path in ROOT.glob("*/models.py")}
    missing = local_apps - copied
    assert not missing, f"Dockerfile does not copy {sorted(missing)}"
    assert {"manage.py", "quest", "templates", "static"} <= copied
