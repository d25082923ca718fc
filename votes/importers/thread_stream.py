"""A `quest-thread/1` JSON file imported a post at a time, never parsed whole.

A whole thread runs to hundreds of thousands of posts: parsed at once, its
document takes several times the file's size in memory. ijson reads the file
as a stream of events instead, in two passes over it:

1. The header: every top-level key but `posts` ("format", "quest",
   "chapters", in any order), built as `json` would; the posts are only
   stepped over, so the pass also finds any syntax error in the file before
   anything is stored.
2. The posts, one object at a time, handed to `thread_json.import_stream`,
   which checks and stores them a batch at a time.

An error found on the way (bad JSON, a post `thread_json` refuses) raises
before the import's transaction commits, so nothing of the file is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

import ijson  # type: ignore[import-untyped]  # ijson ships no type hints

from quest.models import Quest
from votes.importers.thread_json import FORMAT, ThreadFormatError, import_stream

type Opener = Callable[[], IO[bytes]]  # the file from its start, each call anew

_BOM = b"\xef\xbb\xbf"


class StreamError(ValueError):
    """The file is not JSON (the message says where) or not UTF-8."""


def stream_import(open_file: Opener, *, slug: str | None = None) -> Quest:
    """Import the thread in the file `open_file` opens; returns its quest."""
    header = _header(open_file)
    if slug and isinstance(header.get("quest"), dict):
        header["quest"]["slug"] = slug
    return import_stream(header=header, posts=_posts(open_file))


def _header(open_file: Opener) -> dict[str, Any]:
    """Pass 1: the document without its posts, checked as `thread_json.thread_import` checks it.

    ijson names each event by where it is: "" for the document's own (its
    start, end and keys), the key for a top-level value's own (a scalar, or
    the start, keys and end of a map or list), "key.inner..." below that.
    """
    header: dict[str, Any] = {}
    key, building, posts_listed = "", ijson.ObjectBuilder(), False
    with open_file() as f:
        for prefix, event, value in _events(f, lambda f: ijson.parse(f, use_float=True)):
            if prefix == "":
                if event == "map_key":
                    key, building = value, ijson.ObjectBuilder()
                elif event not in ("start_map", "end_map"):
                    raise ThreadFormatError(f"Not a {FORMAT} file: it is not one JSON object.")
            elif key == "posts":  # stepped over: the second pass reads them
                posts_listed = posts_listed or (prefix == "posts" and event == "start_array")
            else:
                building.event(event, value)
                if prefix == key and event not in ("start_map", "start_array", "map_key"):
                    header[key] = building.value  # a scalar, or the end of a map or list
    if header.get("format") != FORMAT:
        raise ThreadFormatError(f"Not a {FORMAT} file: its 'format' must be {FORMAT!r}.")
    if not posts_listed:
        raise ThreadFormatError("The file has no 'posts' list.")
    return header


def _posts(open_file: Opener) -> Iterator[dict[str, Any]]:
    """Pass 2: the posts, one parsed object at a time."""
    with open_file() as f:
        yield from _events(f, lambda f: ijson.items(f, "posts.item", use_float=True))


def _events(f: IO[bytes], parse: Callable[[IO[bytes]], Iterator[Any]]) -> Iterator[Any]:
    """What `parse` yields from the file (a byte-order mark skipped), its errors as StreamError."""
    if f.read(len(_BOM)) != _BOM:
        f.seek(0)
    try:
        yield from parse(f)
    except ijson.JSONError as e:
        raise StreamError(f"not valid JSON: {_place(f, e)}") from None
    except UnicodeDecodeError as e:
        raise StreamError(f"not UTF-8 text ({e})") from None


def _place(f: IO[bytes], error: Exception) -> str:
    """Where the file stops being JSON, as the standard library's decoder says it.

    ijson's parser names the token, not its line and column; the file is read
    whole for that, on this refusal only (it is no larger than IMPORT_MAX_BYTES).
    """
    f.seek(0)
    try:
        json.loads(f.read().decode("utf-8-sig"))
    except json.JSONDecodeError as e:
        return f"{e.msg} at line {e.lineno}, column {e.colno}"
    except UnicodeDecodeError:
        pass
    return str(error).splitlines()[0]
