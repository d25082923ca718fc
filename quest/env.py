"""Read settings from the environment, failing loudly on malformed values.

A typo in a deployment variable should stop the process at start-up with a
message naming the variable, not surface later as odd behaviour.
"""

import os
import re
from urllib.parse import urlparse

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ValueError):
    pass


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name} must be one of {sorted(_TRUE | _FALSE - {''})}, not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise EnvError(f"{name} must be a whole number, not {raw!r}") from None


def envfloat(name: str, default: float) -> float:
    """A number of seconds or the like; fractions allowed, negatives and NaN not."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):  # NaN compares false
        raise EnvError(f"{name} must be a number of 0 or more, not {raw!r}")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def envrate(name: str, default: str) -> tuple[int, int]:
    """A rate limit written "N/S": at most N requests in S seconds, as (N, S)."""
    raw = os.environ.get(name)
    text = default if raw is None or raw.strip() == "" else raw
    match = re.fullmatch(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*", text)
    if match is None or int(match[1]) < 1 or int(match[2]) < 1:
        raise EnvError(
            f"{name} must be N/S, at most N requests in S seconds, both above 0 "
            f"(like 10/60), not {text!r}"
        )
    return int(match[1]), int(match[2])


def envurl(name: str, schemes: tuple[str, ...]) -> str:
    """A URL with one of `schemes`, or "" when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not (parsed.hostname or parsed.path):
        raise EnvError(f"{name} must be a URL starting with {' or '.join(schemes)}://, not {raw!r}")
    return raw
