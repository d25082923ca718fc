"""Split a BBCode body into the poster's own text and the quotes they made.

Own text is what the poster typed outside quotes, spoilers, strike-through and
code. Formatting tags are dropped, but every own character keeps a pointer back
to its offset in the original body so that spans shown to people point at the
real source. Each top-level quote becomes one QUOTE_MARK character on a line of
its own, so the line scanner sees where a quote stood without reading into it.

The scanner is one regex pass over tag-shaped tokens plus a stack, so it is
linear in the body: an unclosed or stray tag is dropped and hides nothing, so
"[QUOTE]1-A" with no closing tag still reads as the poster's "1-A".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

QUOTE_MARK = "\x00"

# Tags whose content is not the poster's vote.
_HIDDEN = frozenset({"spoiler", "ispoiler", "s", "strike", "code", "icode", "php", "html", "img"})
_HIDDEN |= {"media", "attach"}
_QUOTE = "quote"
_FORMATTING = frozenset(
    {"b", "i", "u", "color", "size", "font", "url", "email", "center", "left", "right"}
    | {"justify", "indent", "sup", "sub", "user", "list", "table", "tr", "td", "th", "h1"}
    | {"h2", "h3", "h4", "heading", "plain", "abbr", "highlight", "hr", "br", "ol", "ul"}
)
_PAIRED = _HIDDEN | _FORMATTING | {_QUOTE}
# Bounded pieces only: a tag name of at most 12 letters and an attribute of at
# most 300 characters without a bracket, so no input can backtrack. Newlines are
# allowed in the attribute: forums accept `[QUOTE=\n]`, and a quote missed here
# would make the quoted text the poster's own. An attribute stops at the next
# bracket, so each character is scanned from at most one `[`: linear.
_TAG = re.compile(r"\[(/?)([A-Za-z][A-Za-z0-9]{0,11}|\*)(?:=([^\]\[]{0,300}))?\]")
_QUOTE_ATTR_ID = re.compile(r"post:\s{0,5}(\d{1,18})")


@dataclass(frozen=True, slots=True)
class Quote:
    author: str | None  # None for a bare [QUOTE]
    post_id: int | None
    text: str  # the quoted words at this depth, formatting and nested quotes dropped
    start: int  # span of the whole [QUOTE]…[/QUOTE] in the body
    end: int


@dataclass(slots=True)
class Doc:
    """The poster's own text of one body, with a map back into the body."""

    text: str
    quotes: list[Quote]
    # Parallel arrays: own text from _own_starts[i] maps to body from _body_starts[i].
    _own_starts: list[int]
    _body_starts: list[int]

    def body_offset(self, own: int) -> int:
        i = bisect_right(self._own_starts, own) - 1
        if i < 0:
            return 0
        return self._body_starts[i] + (own - self._own_starts[i])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map an own-text span to a body span (end mapped from its last char)."""
        if end <= start:
            b = self.body_offset(start)
            return (b, b)
        return (self.body_offset(start), self.body_offset(end - 1) + 1)


def _parse_quote_attr(attr: str | None) -> tuple[str | None, int | None]:
    if not attr:
        return None, None
    attr = attr.strip().strip("\"'").strip()
    m = _QUOTE_ATTR_ID.search(attr)
    post_id = int(m.group(1)) if m else None
    author = attr.split(",", 1)[0].strip().strip("\"'").strip() or None
    return author, post_id


def _match_tags(body: str) -> list[tuple[int, int, bool, str, str | None, int]]:
    """Known tag tokens: (start, end, closing, name, attr, partner index or -1)."""
    tokens: list[tuple[int, int, bool, str, str | None]] = []
    for m in _TAG.finditer(body):
        name = m.group(2).lower()
        if name in _PAIRED or name == "*":
            tokens.append((m.start(), m.end(), m.group(1) == "/", name, m.group(3)))
    partner = [-1] * len(tokens)
    stack: list[int] = []
    open_count: dict[str, int] = {}
    for i, (_s, _e, closing, name, _a) in enumerate(tokens):
        if name == "*":
            partner[i] = i  # a list bullet stands alone
        elif not closing:
            stack.append(i)
            open_count[name] = open_count.get(name, 0) + 1
        elif open_count.get(name):
            # Tags opened inside and never closed are plain text.
            while stack:
                j = stack.pop()
                open_count[tokens[j][3]] -= 1
                if tokens[j][3] == name:
                    partner[i], partner[j] = j, i
                    break
    return [(*t, partner[i]) for i, t in enumerate(tokens)]


def scan(body: str) -> Doc:
    """Own text, top-level quotes and the offset map of one BBCode body."""
    body = body.replace(QUOTE_MARK, " ")
    if "[" not in body:  # no tag can start: all of it is own text (most short posts)
        return Doc(body, [], [0] if body else [], [0] if body else [])
    own: list[str] = []
    own_starts: list[int] = []
    body_starts: list[int] = []
    quotes: list[Quote] = []
    own_len = 0
    hidden = 0  # depth inside tags whose text is not own
    quote_depth = 0
    quote_open: tuple[int, str | None] | None = None
    quote_text: list[str] = []
    pos = 0

    def emit(text: str, at: int) -> None:
        nonlocal own_len
        if not text:
            return
        own_starts.append(own_len)
        body_starts.append(at)
        own.append(text)
        own_len += len(text)

    for start, end, closing, name, attr, partner in _match_tags(body):
        chunk = body[pos:start]
        if quote_depth == 0 and hidden == 0:
            emit(chunk, pos)
        elif quote_depth == 1 and hidden == 0:
            quote_text.append(chunk)
        pos = end
        if partner < 0:
            continue  # a stray tag: dropped, but it opens or closes nothing
        if name == _QUOTE:
            if not closing:
                quote_depth += 1
                if quote_depth == 1 and hidden == 0:
                    quote_open = (start, attr)
                    quote_text = []
            else:
                quote_depth -= 1
                if quote_depth == 0 and quote_open is not None:
                    author, post_id = _parse_quote_attr(quote_open[1])
                    text = "".join(quote_text)
                    quotes.append(Quote(author, post_id, text, quote_open[0], end))
                    # Own line of its own, mapped to the quote's first character.
                    emit("\n", quote_open[0])
                    emit(QUOTE_MARK, quote_open[0])
                    emit("\n", end - 1)
                    quote_open = None
                elif quote_depth < 0:
                    quote_depth = 0
        elif name in _HIDDEN:
            hidden += -1 if closing else 1
        elif name == "*" and quote_depth == 0 and hidden == 0:
            emit("\n", start)
    if quote_depth == 0 and hidden == 0:
        emit(body[pos:], pos)
    return Doc("".join(own), quotes, own_starts, body_starts)


def strip_tags(text: str) -> str:
    """Text with BBCode tags removed (for write-in text and quote matching)."""
    return _TAG.sub("", text)
