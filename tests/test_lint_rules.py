"""House rules for the source that no linter checks by itself (issue 11).

mypy runs in bin/check with `ignore-without-code` on, so every `# type: ignore`
names its error code; this adds that it says why, on the same line:
`# type: ignore[union-attr]  # matched at this position`.
"""

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("quest", "chapters", "votes")
# A code (or several), then a second comment with some words in it.
_EXPLAINED = re.compile(r"#\s*type:\s*ignore\[[\w-]+(?:\s*,\s*[\w-]+)*\]\s*#\s*\S")


def unexplained_ignores(source: str) -> list[int]:
    """Lines of `source` whose `# type: ignore` comment has no code or no reason after it."""
    return [
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
        and re.search(r"type:\s*ignore", token.string)
        and not _EXPLAINED.match(token.string)
    ]


def _sources() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_it_finds_every_app_module():
    assert len(_sources()) > 50


def test_it_gives_a_reason_for_every_type_ignore():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources()
        for line in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("line", "explained"),
    [
        ("x = f()  # type: ignore[union-attr]  # matched at this position\n", True),
        ("x = f()  # type: ignore[arg-type, union-attr]  # a body no reader can take\n", True),
        ("x = f()  # type: ignore\n", False),
        ("x = f()  # type: ignore[union-attr]\n", False),
        ("x = f()  # type: ignore[union-attr]  #\n", False),
        ("x = f()  # type: ignore  # no code named\n", False),
        ('x = "# type: ignore"  # a string, not a comment\n', True),
    ],
)
def test_it_tells_an_explained_ignore_from_a_bare_one(line, explained):
    assert (unexplained_ignores(line) == []) is explained
