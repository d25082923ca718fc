"""Split a BBCode body into the poster's own text and the quotes they made.

Own text is what the poster typed outside quotes, spoilers, strike-through and
code. Formatting tags are dropped, but every own character keeps a pointer back
to its offset in the original body so that spans shown to people point at the
real source. Each top-level quote becomes one QUOTE_MARK character on a line of
its own, so the line scanner sees where a quote stood without reading into it.

Which tag opens, which closes it and which is only text is decided by
`quest.bbtokens`, the tokenizer the thread page renders with: a quote is a quote
here exactly when players see it quoted. It is one pass plus a stack, linear in
the body; a tag it leaves as text (unclosed, stray) is dropped here and hides
nothing, so "[QUOTE]1-A" with no closing tag still reads as the poster's "1-A".
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from quest.bbtokens import CLOSE, ITEM, OPEN, RAW, TAG, Mark, parse, quote_source

QUOTE_MARK = "\x00"

# Tags whose content is not the poster's vote: paired ones, and raw ones.
_HIDDEN = frozenset({"spoiler", "ispoiler", "s", "strike"})
_HIDDEN_RAW = frozenset({"code", "icode", "php", "html", "img", "media", "attach"})
_QUOTE = "quote"


@dataclass(frozen=True, slots=True)
class Quote:
    author: str | None  # None for a bare [QUOTE]
    post_id: int | None
    text: str  # the quoted words at this depth, formatting and nested quotes dropped
    start: int  # span of the whole [QUOTE]…[/QUOTE] in the body
    end: int


@dataclass(slots=True, init=False)
class Doc:
    """The poster's own text of one body, with a map back into the body."""

    text: str
    quotes: list[Quote]
    # Parallel arrays: own text from _own_starts[i] maps to body from _body_starts[i].
    _own_starts: list[int]
    _body_starts: list[int]
    body: str = ""  # the body it was read from (formatting marks on a line: marks.py)

    def __init__(  # written out: see types.Answer (one per post read)
        self,
        text: str,
        quotes: list[Quote],
        _own_starts: list[int],
        _body_starts: list[int],
        body: str = "",
    ) -> None:
        self.text, self.quotes, self.body = text, quotes, body
        self._own_starts, self._body_starts = _own_starts, _body_starts

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


def scan(body: str) -> Doc:
    """Own text, top-level quotes and the offset map of one BBCode body."""
    body = body.replace(QUOTE_MARK, " ")
    if "[" not in body:  # no tag can start: all of it is own text (most short posts)
        return Doc(body, [], [0] if body else [], [0] if body else [], body)
    return _Scan(body).run()


class _Scan:
    """One walk over the body's marks, sorting its text into own, quoted and hidden."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.own: list[str] = []
        self.own_starts: list[int] = []
        self.body_starts: list[int] = []
        self.own_len = 0
        self.quotes: list[Quote] = []
        self.hidden = 0  # depth inside tags whose text is not own
        self.quote_depth = 0
        self.quote_open: Mark | None = None  # the top-level quote being read
        self.quote_text: list[str] = []

    def run(self) -> Doc:
        pos = 0
        for mark in parse(self.body):
            self._text(pos, mark.start)
            pos = mark.end
            self._mark(mark)
        self._text(pos, len(self.body))
        return Doc("".join(self.own), self.quotes, self.own_starts, self.body_starts, self.body)

    def _mark(self, mark: Mark) -> None:
        if mark.kind == RAW:
            if mark.name not in _HIDDEN_RAW:  # [PLAIN], a bare [URL]: text as written
                self._text(*mark.content)
        elif mark.name == _QUOTE and mark.kind in (OPEN, CLOSE):
            self._quote(mark)
        elif mark.name in _HIDDEN and mark.kind in (OPEN, CLOSE):
            self.hidden += 1 if mark.kind == OPEN else -1
        elif mark.name == ITEM and mark.kind != CLOSE and self._at_top():
            self._emit("\n", mark.start)  # a list bullet starts a line, shown or not

    def _at_top(self) -> bool:
        return self.quote_depth == 0 and self.hidden == 0

    def _text(self, start: int, end: int) -> None:
        if start >= end or self.hidden:
            return
        if self.quote_depth == 0:
            self._emit(self.body[start:end], start)
        elif self.quote_depth == 1:
            self.quote_text.append(self.body[start:end])

    def _emit(self, text: str, at: int) -> None:
        self.own_starts.append(self.own_len)
        self.body_starts.append(at)
        self.own.append(text)
        self.own_len += len(text)

    def _quote(self, mark: Mark) -> None:
        if mark.kind == OPEN:
            if self._at_top():
                self.quote_open = mark
                self.quote_text = []
            self.quote_depth += 1
            return
        self.quote_depth -= 1
        opened = self.quote_open
        if self.quote_depth == 0 and opened is not None and mark.opener is opened:
            author, post_id = quote_source(opened.attr)
            text = "".join(self.quote_text)
            self.quotes.append(Quote(author, post_id, text, opened.start, mark.end))
            # Own line of its own, mapped to the quote's first character.
            self._emit("\n", opened.start)
            self._emit(QUOTE_MARK, opened.start)
            self._emit("\n", mark.end - 1)
            self.quote_open = None


def strip_tags(text: str) -> str:
    """Text with BBCode tags removed (for write-in text and quote matching)."""
    return TAG.sub("", text)
