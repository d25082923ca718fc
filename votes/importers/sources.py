"""A thread's files, in any format the app reads, into the app: the one way in.

`import_thread` hands over the files (a name and the bytes of each) and a
format; so will the import page. Each file is checked, the files become one
`quest-thread/1` document (a JSON file is one already; pastes are merged by
paste.py, saved forum pages by xenforo_thread.py), and thread_json imports it,
so a thread is stored, read and tallied alike whatever it came as.

Every refusal is a SourceError whose message names the file and, where it can,
the place in it; nothing is stored then.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from quest.models import Quest
from votes.importers.export import thread_export
from votes.importers.paste import PasteError, parse_pastes
from votes.importers.thread_json import ThreadFormatError, thread_import
from votes.importers.thread_stream import Opener, StreamError, stream_import
from votes.importers.xenforo import XenForoFormatError, parse_page
from votes.importers.xenforo_thread import thread_from_pages

__all__ = [
    "FORMATS",
    "Source",
    "SourceError",
    "guess_format",
    "source_file",
    "source_read",
    "sources_import",
    "too_large",
]

FORMATS = ("json", "text", "xenforo")
_HTML = re.compile(r"^\s*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)


class SourceError(ValueError):
    """A file cannot be imported; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Source:
    """One file to import: its name (for messages) and its text.

    A JSON file on disk is not read here: `path` names it, to be streamed
    (thread_stream.py), and `text` holds its start, enough to tell its format.
    """

    name: str
    text: str
    path: Path | None = None


def source_read(name: str, raw: bytes) -> Source:
    """The file's text, once it is known to be a text file of an importable size."""
    if len(raw) > settings.IMPORT_MAX_BYTES:
        raise SourceError(too_large(name))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(f"cannot read {name}: not UTF-8 text ({e})") from None
    # Valid UTF-8 can still be binary; no thread page or JSON file holds a NUL.
    if "\x00" in text:
        raise SourceError(f"cannot read {name}: it is binary, not text")
    if not text.strip():
        raise SourceError(f"cannot read {name}: the file is empty")
    return Source(name=name, text=text)


def source_file(name: str, *, format: str | None = None) -> Source:
    """The file `name` on disk, read whole unless it is JSON (given, or guessed from its start)."""
    path = Path(name)
    size = path.stat().st_size  # OSError if it is not there: the caller says so
    if size > settings.IMPORT_MAX_BYTES:
        raise SourceError(too_large(name))
    with path.open("rb") as f:
        head = f.read(_HEAD if size > _HEAD else size)
    if size <= _HEAD or (format or guess_format(_text_of(head))) != "json":
        return source_read(name, path.read_bytes() if size > _HEAD else head)
    start = source_read(name, head[: len(head.decode("utf-8", "ignore").encode())])
    return Source(name=name, text=start.text, path=path)


# The start of a file read to tell its format; a smaller JSON file is read whole.
_HEAD = 64 * 1024


def _text_of(head: bytes) -> str:
    return head.decode("utf-8-sig", "ignore")


def guess_format(text: str) -> str:
    """json for a file starting with '{', xenforo for an HTML page, text for anything else."""
    start = text.lstrip()
    if start.startswith("{"):
        return "json"
    return "xenforo" if start.startswith("<") else "text"


@transaction.atomic
def sources_import(
    sources: Sequence[Source], *, format: str | None = None, slug: str | None = None
) -> Quest:
    """Import the files as one thread; returns its quest.

    `format` None guesses it from the files, which must then agree. Several
    files are pages of one thread, in order (one file for JSON: it holds a
    whole thread). Importing the same files again changes nothing.
    """
    if not sources:
        raise SourceError("No file to import.")
    format = format or _agreed_format(sources)
    if format not in FORMATS:
        raise SourceError(f"Unknown format {format!r}: it is one of {', '.join(FORMATS)}.")
    if format == "json":
        return _json_import(sources, slug)
    data = _pages(sources, slug) if format == "xenforo" else _pastes(sources, slug)
    try:
        return thread_import(data)
    except ThreadFormatError as e:
        names = ", ".join(source.name for source in sources)
        raise SourceError(f"{names}: {'; '.join(e.messages)}") from None


def _agreed_format(sources: Sequence[Source]) -> str:
    guesses = {source.name: guess_format(source.text) for source in sources}
    if len(set(guesses.values())) > 1:
        listed = ", ".join(f"{name} looks like {guess}" for name, guess in guesses.items())
        raise SourceError(f"The files are not all of one format ({listed}): give --format.")
    return next(iter(guesses.values()))


def _json_import(sources: Sequence[Source], slug: str | None) -> Quest:
    if len(sources) > 1:
        raise SourceError(
            "A quest-thread/1 JSON file holds a whole thread: import one file at a time."
        )
    source = sources[0]
    try:
        return stream_import(_opener(source), slug=slug)
    except StreamError as e:
        raise SourceError(f"cannot read {source.name}: {e}{_hint(source, 'json')}") from None
    except ThreadFormatError as e:
        raise SourceError(f"{source.name}: {'; '.join(e.messages)}") from None


def _opener(source: Source) -> Opener:
    """The JSON file from its start, for each pass over it: from disk, or its text encoded."""
    path = source.path
    if path is not None:
        return lambda: path.open("rb")
    return lambda: io.BytesIO(source.text.encode())


def _pages(sources: Sequence[Source], slug: str | None) -> dict[str, Any]:
    pages = []
    for source in sources:
        try:
            pages.append(parse_page(source.text))
        except XenForoFormatError as e:
            raise SourceError(f"cannot read {source.name}: {e}{_hint(source, 'xenforo')}") from None
    try:
        return thread_from_pages(pages, slug=slug)
    except XenForoFormatError as e:
        raise SourceError(f"{', '.join(s.name for s in sources)}: {e}") from None


def _pastes(sources: Sequence[Source], slug: str | None) -> dict[str, Any]:
    for source in sources:
        if _HTML.match(source.text):
            raise SourceError(
                f"cannot read {source.name}: it is an HTML page, not a plain-text paste "
                "(import a saved forum page with --format xenforo)"
            )
    try:
        return parse_pastes([s.text for s in sources], slug=slug, imported=_imported_thread)
    except PasteError as e:
        named = sources[e.part].name if e.part is not None else "the pastes"
        raise SourceError(f"cannot read {named}: {e}") from None


def _imported_thread(slug: str) -> dict[str, Any] | None:
    """The quest's thread as imported so far, for a paste to be merged onto."""
    quest = Quest.objects.filter(slug=slug).first()
    return thread_export(quest) if quest is not None else None


def _hint(source: Source, format: str) -> str:
    """What the file looks like, when that is not the format it was read as."""
    guess = guess_format(source.text)
    if guess == format:
        return ""
    looks = {"json": "a JSON file", "xenforo": "an HTML page", "text": "plain text"}[guess]
    return f" (it looks like {looks}: try --format {guess})"


def too_large(name: str) -> str:
    """The refusal of a file over IMPORT_MAX_BYTES (the command checks before reading it)."""
    limit = settings.IMPORT_MAX_BYTES
    return (
        f"cannot read {name}: it is larger than {limit / 1_000_000:g} MB, the most one file may be"
    )
