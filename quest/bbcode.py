"""Forum BBCode (the XenForo subset quest threads use) to sanitized HTML.

Everything here is pure text in, text out: no Django, no database.

`render` is a single left-to-right pass over the tags with an explicit stack,
so its cost is linear in the size of the post and deep nesting cannot hit
Python's recursion limit. Text is escaped before anything else happens and the
result still goes through nh3 with a tight allow-list: the hand-written part
decides what the markup means, nh3 guarantees what the browser may see.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field

import nh3

__all__ = ["plain_text", "quote_for_reply", "render", "strip_tags"]

# Deeper nesting is never written by hand; treating it as text keeps the
# output's nesting (and the browser's work) bounded whatever a post holds.
MAX_DEPTH = 30

# The attribute is bounded and may not contain "[" so that a scan started at
# one "[" never runs past the next one: this keeps tokenizing linear.
_TAG = re.compile(r"\[(/?)([A-Za-z]{1,10}|\*)(?:=([^\[\]\r\n]{0,300}))?\]")

_INLINE = {"b": "b", "i": "i", "u": "u", "s": "s"}
# Kept as text with their presentation dropped: colours and sizes chosen by
# posters clash with the site's themes and are a common vector for abuse.
_TRANSPARENT = {"color", "size", "font"}
_BLOCK = {"quote", "spoiler", "list", "*"}
_RAW = {"code", "img", "plain"}
_KNOWN = set(_INLINE) | _TRANSPARENT | _BLOCK | _RAW | {"url"}
# Raw tags are closed while reading their content; [*] is never closed.
_CLOSABLE = _KNOWN - _RAW - {"*"}

_QUOTE_ATTR = re.compile(
    r"^(?P<author>.*?)(?:,\s*post:\s*(?P<post>\d{1,18}))?(?:,\s*member:\s*\d{1,18})?\s*$",
    re.IGNORECASE,
)
_WEB_URL = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)
_MAILTO = re.compile(r"^mailto:[^\s@]+@[^\s@]+$", re.IGNORECASE)
_BARE_DOMAIN = re.compile(r"^www\.[^\s/?#]+\.[a-z]{2,}(?:[/?#]|$)", re.IGNORECASE)
_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f\\]")

_BR = "<br>"

_CLEANER = nh3.Cleaner(
    tags={
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "details",
        "div",
        "i",
        "img",
        "li",
        "ol",
        "pre",
        "s",
        "summary",
        "u",
        "ul",
    },
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}, "img": {"src", "alt", "loading"}},
    allowed_classes={
        "blockquote": {"bb-quote"},
        "div": {"bb-quote-header", "bb-quote-body"},
        "details": {"bb-spoiler"},
        "pre": {"bb-code"},
    },
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow ugc noopener",
    strip_comments=True,
)


@dataclass
class _Frame:
    """An open tag waiting for its closing tag."""

    name: str
    source: str  # the opening tag as written, shown as text if never closed
    attr: str | None = None
    parts: list[str] = field(default_factory=list)
    href: str | None = None

    @property
    def is_block(self) -> bool:
        return self.name in _BLOCK


def render(body: str, *, post_url: Callable[[int], str | None] | None = None) -> str:
    """Render a post body written in forum BBCode as sanitized HTML.

    `post_url(post_id)` gives the link for a quote's "Author said:" header; when it
    is missing or returns None the link is the in-page anchor `#post-<id>`.
    """
    return _CLEANER.clean(_Renderer(body, post_url).run())


class _Renderer:
    """One pass over a body: text is escaped, tags open and close frames.

    1. Text between tags is escaped and appended to the innermost open frame,
       newlines becoming <br>.
    2. An opening tag pushes a frame; raw tags ([CODE], [IMG], [URL]…) consume
       everything up to their closing tag at once, so nothing inside them is markup.
    3. A closing tag closes its frame and every frame opened inside it. Inline
       closers do not reach past a quote, spoiler or list, so a stray [/B] cannot
       tear a quote open.
    4. Whatever is still open at the end is shown as the text that was written.
    """

    def __init__(self, body: str, post_url: Callable[[int], str | None] | None) -> None:
        self.text = body.replace("\r\n", "\n").replace("\r", "\n")
        self.post_url = post_url
        self.stack = [_Frame(name="", source="")]
        # Forums drop the newline that follows a block tag; keeping it would put
        # an empty line at the top and bottom of every quote.
        self.trim_newline = False
        self.raw_closers: dict[str, list[int]] = {}

    def run(self) -> str:
        pos = 0
        while True:
            match = _TAG.search(self.text, pos)
            if match is None:
                self._text(self.text[pos:])
                break
            self._text(self.text[pos : match.start()])
            pos = self._tag(match)
        while len(self.stack) > 1:
            self._unwind_as_text()
        return "".join(self.stack[0].parts)

    # Text

    def _text(self, text: str) -> None:
        if not text:
            return
        if self.trim_newline and text.startswith("\n"):
            text = text[1:]
        self.trim_newline = False
        if not text:
            return
        top = self.stack[-1]
        if top.name == "list":
            if text.isspace():
                return
            self._push(_Frame(name="*", source="[*]"))
            top = self.stack[-1]
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if index:
                top.parts.append(_BR)
            if line:
                top.parts.append(html.escape(line, quote=True))

    def _literal(self, source: str) -> None:
        self.trim_newline = False
        self._text(source)

    # Tags

    def _tag(self, match: re.Match[str]) -> int:
        """Handle one tag and return the position to continue from."""
        closing, name, attr = match.group(1), match.group(2).lower(), match.group(3)
        source = match.group(0)
        if name not in _KNOWN:
            self._literal(source)
        elif closing:
            self._close(name, source)
        elif name in _RAW or (name == "url" and attr is None):
            return self._raw(name, match)
        else:
            self._open(name, attr, source)
        return match.end()

    def _open(self, name: str, attr: str | None, source: str) -> None:
        if len(self.stack) > MAX_DEPTH:
            self._literal(source)
            return
        if name == "*":
            self._open_item(source)
            return
        frame = _Frame(name=name, source=source, attr=attr)
        if name == "url":
            if any(open_frame.name == "url" for open_frame in self.stack):
                self._literal(source)
                return
            frame.href = _safe_url(attr or "")
        self._push(frame)

    def _open_item(self, source: str) -> None:
        # A list item may close the previous item and its inline tags, never a
        # quote or spoiler opened inside that item.
        index = None
        for depth in range(len(self.stack) - 1, 0, -1):
            name = self.stack[depth].name
            if name == "list":
                index = depth
                break
            if name in ("quote", "spoiler"):
                break
        if index is None:
            self._literal(source)
            return
        self._close_down_to(index + 1)
        self._push(_Frame(name="*", source=source))

    def _push(self, frame: _Frame) -> None:
        self.stack.append(frame)
        self.trim_newline = frame.is_block

    def _close(self, name: str, source: str) -> None:
        if name not in _CLOSABLE:
            self._literal(source)
            return
        index = self._find_open(name, stop_at_block=name not in _BLOCK)
        if index is None:
            self._literal(source)
            return
        self._close_down_to(index)
        self.trim_newline = name in _BLOCK

    def _find_open(self, name: str, *, stop_at_block: bool) -> int | None:
        for index in range(len(self.stack) - 1, 0, -1):
            frame = self.stack[index]
            if frame.name == name:
                return index
            if stop_at_block and frame.is_block:
                return None
        return None

    def _close_down_to(self, index: int) -> None:
        """Close every frame from the top of the stack down to `index` inclusive."""
        while len(self.stack) > index:
            frame = self.stack.pop()
            self.stack[-1].parts.append(self._wrap(frame))

    def _unwind_as_text(self) -> None:
        frame = self.stack.pop()
        parent = self.stack[-1]
        parent.parts.append(html.escape(frame.source, quote=True))
        parent.parts.extend(frame.parts)

    def _wrap(self, frame: _Frame) -> str:
        parts = frame.parts
        if frame.is_block and parts and parts[-1] == _BR:
            parts.pop()
        inner = "".join(parts)
        name = frame.name
        if name in _INLINE:
            element = _INLINE[name]
            return f"<{element}>{inner}</{element}>"
        if name in _TRANSPARENT:
            return inner
        if name == "url":
            if frame.href is None:
                return inner
            return f'<a href="{html.escape(frame.href, quote=True)}">{inner}</a>'
        if name == "quote":
            return self._quote(frame.attr, inner)
        if name == "spoiler":
            title = html.escape(plain_text(_unquote(frame.attr or "")) or "Spoiler")
            return f'<details class="bb-spoiler"><summary>{title}</summary>{inner}</details>'
        if name == "list":
            element = "ol" if (frame.attr or "").strip() else "ul"
            return f"<{element}>{inner}</{element}>"
        return f"<li>{inner}</li>"

    def _quote(self, attr: str | None, inner: str) -> str:
        header = ""
        author, post_id = _parse_quote_attr(attr)
        if author:
            said = f"{html.escape(author, quote=True)} said:"
            if post_id is not None:
                href = (self.post_url(post_id) if self.post_url else None) or f"#post-{post_id}"
                said = f'<a href="{html.escape(href, quote=True)}">{said}</a>'
            header = f'<div class="bb-quote-header">{said}</div>'
        body = f'<div class="bb-quote-body">{inner}</div>'
        return f'<blockquote class="bb-quote">{header}{body}</blockquote>'

    def _raw(self, name: str, match: re.Match[str]) -> int:
        """Consume a tag whose content is not markup: up to its closer, or none at all."""
        start = match.end()
        close = self._next_closer(name, start)
        if close is None:
            self._literal(match.group(0))
            return start
        content = self.text[start:close]
        end = close + len(name) + 3
        if name == "code":
            self._block_html(f'<pre class="bb-code"><code>{_escape_code(content)}</code></pre>')
        elif name == "plain":
            self._text(content)
        elif name == "img":
            url = _safe_url(content, allow_mailto=False)
            if url is None:
                self._text(content)
            else:
                src = html.escape(url, quote=True)
                self._append(f'<img src="{src}" alt="" loading="lazy">')
        else:
            url = _safe_url(content)
            if url is None or any(frame.name == "url" for frame in self.stack):
                self._text(content)
            else:
                self._append(f'<a href="{html.escape(url, quote=True)}">{html.escape(content)}</a>')
        return end

    def _next_closer(self, name: str, start: int) -> int | None:
        # Every closer's position is found once, so many unclosed [CODE] tags cost
        # one scan in all instead of one scan each.
        if name not in self.raw_closers:
            closer = re.compile(rf"\[/{name}\]", re.IGNORECASE)
            self.raw_closers[name] = [m.start() for m in closer.finditer(self.text)]
        positions = self.raw_closers[name]
        index = bisect_left(positions, start)
        return positions[index] if index < len(positions) else None

    def _append(self, markup: str) -> None:
        if self.stack[-1].name == "list":
            self._push(_Frame(name="*", source="[*]"))
        self.trim_newline = False
        self.stack[-1].parts.append(markup)

    def _block_html(self, markup: str) -> None:
        self._append(markup)
        self.trim_newline = True


def _escape_code(content: str) -> str:
    if content.startswith("\n"):
        content = content[1:]
    return html.escape(content.rstrip("\n"), quote=True)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value.strip("\"'")


def _parse_quote_attr(attr: str | None) -> tuple[str, int | None]:
    if not attr:
        return "", None
    match = _QUOTE_ATTR.match(_unquote(attr))
    if match is None:
        return "", None
    post = match.group("post")
    return match.group("author").strip(), int(post) if post else None


def _safe_url(raw: str, *, allow_mailto: bool = True) -> str | None:
    """Return the URL if it is plainly http(s) (or mailto), else None.

    Anything else, including entity-encoded or mixed-case `javascript:` and
    `data:`, is refused rather than cleaned: a link that needs repairing is
    not one to trust.
    """
    url = _unquote(raw)
    if not url or len(url) > 2000 or _UNSAFE_URL_CHARS.search(url):
        return None
    if _WEB_URL.match(url):
        return url
    if allow_mailto and _MAILTO.match(url):
        return url
    if _BARE_DOMAIN.match(url):
        return f"http://{url}"
    return None


# Plain text

_QUOTE_TAG = re.compile(r"\[(/?)quote(?:=[^\[\]\r\n]{0,300})?\]", re.IGNORECASE)
_IMG_BLOCK = re.compile(r"\[img\][^\[]*\[/img\]", re.IGNORECASE)


def strip_tags(body: str) -> str:
    """Remove the markup of recognised BBCode tags, keeping everything they enclose.

    Unknown bracketed text such as a ballot's `[X]` or `[ ]` is left alone.
    """
    return _TAG.sub(_strip_one, body)


def _strip_one(match: re.Match[str]) -> str:
    name = match.group(2).lower()
    if name == "*":
        return " "
    return "" if name in _KNOWN else match.group(0)


def _strip_quote_blocks(body: str) -> str:
    """Remove every matched [QUOTE]…[/QUOTE] block, nested ones included.

    An opening tag that is never closed removes nothing: losing the rest of a post to
    a typo would be worse than showing a stray tag.
    """
    opened: list[int] = []
    spans: list[tuple[int, int]] = []
    for match in _QUOTE_TAG.finditer(body):
        if not match.group(1):
            opened.append(match.start())
        elif opened:
            # Inner pairs are kept too: their outer quote may never close.
            spans.append((opened.pop(), match.end()))
    kept: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start >= pos:
            kept.append(body[pos:start])
            pos = end
        elif end > pos:
            pos = end
    kept.append(body[pos:])
    return "".join(kept)


def quote_for_reply(author: str, post_id: int, body: str) -> str:
    """The BBCode a reply starts with when it quotes post `post_id`.

    Quotes inside the quoted post are dropped, as forums do, so that replies do not
    grow a tower of quotes.
    """
    name = re.sub(r'["\[\]\r\n]', "", author).strip()
    quoted = _strip_quote_blocks(body.replace("\r\n", "\n").replace("\r", "\n"))
    quoted = re.sub(r"\n{3,}", "\n\n", quoted).strip()
    return f'[QUOTE="{name}, post: {int(post_id)}"]\n{quoted}\n[/QUOTE]\n'


def plain_text(body: str, limit: int | None = None) -> str:
    """The text of a post on one line, without BBCode, quotes or image addresses.

    With `limit`, the text is cut at a word boundary to at most `limit` characters,
    ending in "…" when anything was cut.
    """
    text = _strip_quote_blocks(body)
    text = _IMG_BLOCK.sub(" ", text)
    text = " ".join(strip_tags(text).split())
    if limit is None or len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"
