"""BBCode tags found and paired once, for the thread page and the ballot reader.

`parse(body)` is the one place that decides which tag opens, which closes it,
and which is only text. The page (`quest/bbcode.py`) renders what it decides
and the reader (`votes/reading/bbcode.py`) reads what it decides, so a quote
is a quote in both or in neither: what players see quoted is exactly what the
reader skips. Pure text in, marks out: no Django.

The forum's rules (XenForo's, as quest threads use them):

1. Tag names match case-insensitively; names this module does not know
   (`[X]`, `[ ]`, `[unknown]`) are text.
2. A closing tag closes the innermost open tag of its name and every tag opened
   inside it. An inline closer (`[/B]`, `[/COLOR]`…) does not reach past an
   open quote, spoiler, list or list item: a stray `[/B]` cannot tear a quote
   open. A closer with nothing open to close is text.
3. A tag still open at the end of the body was never closed: it is text and
   hides nothing (`[QUOTE]1-A` shows, and reads, `1-A`).
4. Raw tags (`[CODE]`, `[IMG]`, `[PLAIN]`, a bare `[URL]`…) take everything up
   to their own closer as content that is not markup; with no closer they are text.
5. `[*]` opens a list item only inside a list (not across a quote or spoiler
   opened in an item); it closes the previous item.
6. Tags nest at most MAX_DEPTH deep; a deeper opening tag is text, and a `[URL]`
   inside a link is text.

Linear in the body: the tag pattern is bounded (a name of at most 12
characters, an attribute of at most 300 with no bracket, so each character is
scanned from at most one `[`), and each tag does at most MAX_DEPTH steps of
work on the stack.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["KNOWN", "MAX_DEPTH", "TAG", "Mark", "parse", "quote_source"]

# Deeper nesting is never written by hand; treating it as text keeps the page's
# nesting (and everyone's work per tag) bounded whatever a post holds.
MAX_DEPTH = 30

# Newlines are allowed in the attribute: forums accept `[QUOTE="Bob,\npost: 9"]`.
TAG = re.compile(r"\[(/?)([A-Za-z][A-Za-z0-9]{0,11}|\*)(?:=([^\[\]]{0,300}))?\]")

BLOCKS = frozenset({"quote", "spoiler", "list"})
ITEM = "*"
# Content is not markup. A bare [URL] (no attribute) is raw too: its content is the address.
RAWS = frozenset({"code", "icode", "php", "html", "plain", "img", "media", "attach"})
INLINES = frozenset(
    {"b", "i", "u", "s", "strike", "ispoiler", "color", "size", "font", "url", "email"}
    | {"center", "left", "right", "justify", "indent", "sup", "sub", "user", "abbr"}
    | {"highlight", "heading", "h1", "h2", "h3", "h4", "table", "tr", "td", "th"}
    | {"hr", "br", "ol", "ul"}
)
KNOWN = BLOCKS | RAWS | INLINES | {ITEM}
_BARRIERS = BLOCKS | {ITEM}
_CLOSABLE = KNOWN - RAWS - {ITEM}
_RAW_NAMES = RAWS | {"url"}

# Mark kinds.
OPEN = "open"  # an element starts here (it is always closed later)
CLOSE = "close"  # an element ends here; zero width when an outer closer or [*] ends it
RAW = "raw"  # a whole raw element, from its opening tag to the end of its closer
TEXT = "text"  # a known tag shown as the text that was written

_QUOTE_POST = re.compile(r"post:\s{0,5}(\d{1,18})")


@dataclass(slots=True, eq=False)
class Mark:
    """A piece of markup in the body; the body between two marks is text."""

    kind: str
    name: str
    start: int
    end: int
    attr: str | None = None
    opener: Mark | None = None  # CLOSE: the OPEN mark it ends
    content: tuple[int, int] = (0, 0)  # RAW: where its content lies in the body


def parse(body: str) -> list[Mark]:
    """The marks of one body, in order, every OPEN matched by exactly one CLOSE."""
    if "[" not in body:
        return []
    return _Pairing(body).run()


def quote_source(attr: str | None) -> tuple[str | None, int | None]:
    """Author and post id of a quote's attribute: `[QUOTE="Name, post: 12, member: 3"]`.

    Forum names hold no comma, so the author is what comes before the first one.
    """
    if not attr:
        return None, None
    attr = attr.strip().strip("\"'").strip()
    found = _QUOTE_POST.search(attr)
    post_id = int(found.group(1)) if found else None
    author = attr.split(",", 1)[0].strip().strip("\"'").strip() or None
    return author, post_id


class _Token(NamedTuple):
    start: int
    end: int
    closing: bool
    name: str  # lower case
    attr: str | None


def _tokens(body: str) -> list[_Token]:
    found = []
    for match in TAG.finditer(body):
        name = match.group(2).lower()
        if name in KNOWN:
            closing = bool(match.group(1))
            found.append(_Token(match.start(), match.end(), closing, name, match.group(3)))
    return found


class _Pairing:
    """One pass over the tag tokens with a stack of open marks (rules 2-6 above)."""

    def __init__(self, body: str) -> None:
        self.tokens = _tokens(body)
        self.marks: list[Mark] = []
        self.stack: list[Mark] = []
        # Token indexes of each raw tag's closers, so that many unclosed [CODE]
        # tags cost one look-up each rather than a scan each.
        self.raw_closers: dict[str, list[int]] = {}
        for index, token in enumerate(self.tokens):
            if token.closing and token.attr is None and (token.name in _RAW_NAMES):
                self.raw_closers.setdefault(token.name, []).append(index)

    def run(self) -> list[Mark]:
        index = 0
        while index < len(self.tokens):
            index = self._token(index)
        for mark in self.stack:  # never closed: rule 3
            mark.kind = TEXT
        return self.marks

    def _token(self, index: int) -> int:
        """Handle one token; return the index of the next token to look at."""
        token = self.tokens[index]
        if token.closing:
            self._close(token)
        elif token.name in RAWS or (token.name == "url" and token.attr is None):
            return self._raw(index)
        elif token.name == ITEM:
            self._item(token)
        else:
            self._open(token)
        return index + 1

    def _text(self, token: _Token) -> None:
        self.marks.append(Mark(TEXT, token.name, token.start, token.end))

    def _open(self, token: _Token) -> None:
        nested_link = token.name == "url" and any(m.name == "url" for m in self.stack)
        if len(self.stack) >= MAX_DEPTH or nested_link:
            self._text(token)
            return
        self._push(Mark(OPEN, token.name, token.start, token.end, token.attr))

    def _push(self, mark: Mark) -> None:
        self.marks.append(mark)
        self.stack.append(mark)

    def _item(self, token: _Token) -> None:
        depth = self._find_list()
        if depth is None or depth + 1 >= MAX_DEPTH:
            self._text(token)
            return
        self._close_down_to(depth + 1, token.start, token.start)
        self._push(Mark(OPEN, ITEM, token.start, token.end))

    def _find_list(self) -> int | None:
        # An item may close the previous item and its inline tags, never a
        # quote or spoiler opened inside that item.
        for depth in range(len(self.stack) - 1, -1, -1):
            name = self.stack[depth].name
            if name == "list":
                return depth
            if name in ("quote", "spoiler"):
                return None
        return None

    def _close(self, token: _Token) -> None:
        depth = self._find_open(token.name) if token.name in _CLOSABLE else None
        if depth is None:
            self._text(token)
            return
        self._close_down_to(depth + 1, token.start, token.start)
        self._close_down_to(depth, token.start, token.end)

    def _find_open(self, name: str) -> int | None:
        for depth in range(len(self.stack) - 1, -1, -1):
            open_name = self.stack[depth].name
            if open_name == name:
                return depth
            if open_name in _BARRIERS and name not in BLOCKS:
                return None
        return None

    def _close_down_to(self, depth: int, start: int, end: int) -> None:
        """Close every open mark from the top of the stack down to `depth` inclusive."""
        while len(self.stack) > depth:
            opener = self.stack.pop()
            self.marks.append(Mark(CLOSE, opener.name, start, end, opener=opener))

    def _raw(self, index: int) -> int:
        token = self.tokens[index]
        closers = self.raw_closers.get(token.name, [])
        found = bisect_right(closers, index)
        if found == len(closers):
            self._text(token)
            return index + 1
        closer = self.tokens[closers[found]]
        raw = Mark(RAW, token.name, token.start, closer.end, token.attr)
        raw.content = (token.end, closer.start)
        self.marks.append(raw)
        return closers[found] + 1
