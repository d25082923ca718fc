"""The reader compiled with mypyc, used only while it matches these sources.

`bin/build-reader` (run by `make venv`, `make test`, `make demo` and `make
bench`) compiles the modules of this package with mypyc, the compiler that
ships with mypy, into `.build/reader/`, and stamps the build with
`sources_digest()`. The compiled modules are these same typed modules, about a
third faster (docs/benchmarks.md); they behave the same, and the test suite
runs against both (`make test` runs tests/reading/ again with the pure modules).

The build is only a speed-up: `use_build` puts it in front of the package's
own modules when the stamp matches the sources byte for byte and the running
Python is the one it was built for. An edited module, a missing compiler, another
Python or QUEST_PURE_READER=1 all mean the plain modules are read, never a stale
build.

This module and the package's __init__ are not compiled: they choose.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BUILD = PACKAGE.parents[1] / ".build" / "reader"
STAMP = BUILD / "SOURCES"
NOT_COMPILED = frozenset({"__init__.py", "compiled.py"})
# The one BBCode tokenizer (issue 9), which the page renderer shares: compiled with
# the reader, which runs it on every post with a tag.
TOKENIZER = PACKAGE.parents[1] / "quest" / "bbtokens.py"


def compiled_modules() -> list[Path]:
    """The modules the build compiles, in a stable order: this package's, then the tokenizer."""
    return [*sorted(p for p in PACKAGE.glob("*.py") if p.name not in NOT_COMPILED), TOKENIZER]


def sources_digest() -> str:
    """Names and bytes of every compiled module, and the Python they are built for."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for path in compiled_modules():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def use_build(package_path: list[str]) -> bool:
    """Put the compiled build first on the package's path, if it matches its sources."""
    if os.environ.get("QUEST_PURE_READER"):
        return False
    try:
        built = STAMP.read_text(encoding="ascii").strip()
    except OSError:
        return False
    if built != sources_digest():
        return False
    # mypyc puts the compiled code in one shared library at the build's top
    # level, which each module's small library imports by its own name.
    sys.path.append(str(BUILD))
    package_path.insert(0, str(BUILD / "votes" / "reading"))
    # The tokenizer, unless it was imported before (then the plain one serves
    # both: the same code). quest is already imported: this module's package is
    # under votes, which imports it.
    if "quest.bbtokens" not in sys.modules:
        import quest

        quest.__path__.insert(0, str(BUILD / "quest"))
    return True
