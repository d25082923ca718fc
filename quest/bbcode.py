"""Forum BBCode (the XenForo subset quest threads use) to sanitized HTML.

Everything here is pure text in, text out: no Django, no database.

Which tag opens, closes or is only text is decided by `quest.bbtokens`, the
tokenizer the ballot reader uses too, so what the page shows quoted is what the
reader skips. `render` is a single left-to-right pass over its marks with an
explicit stack, so its cost is linear in the size of the post and deep nesting
cannot hit Python's recursion limit. Text is escaped before anything else
happens and the result still goes through nh3 with a tight allow-list: the
hand-written part decides what the markup means, nh3 guarantees what the
browser may see.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import nh3

from quest import bbstyle, bbtokens
from quest.bbtokens import BLOCKS, KNOWN, TAG, Mark

__all__ = [
    "MAX_DEPTH",
    "plain_text",
    "quote_for_reply",
    "render",
    "strip_quote_blocks",
    "strip_tags",
]

# Deeper nesting is text (decided in bbtokens, for the reader too).
MAX_DEPTH = bbtokens.MAX_DEPTH

_INLINE = {"b": "b", "i": "i", "u": "u", "s": "s", "strike": "s"}
_SPOILERS = {"spoiler", "ispoiler"}
# Colours, sizes and alignment are shown as classes of a fixed palette and scale
# (quest/bbstyle.py), never as the poster's own CSS.
_STYLED = {"color", "size"}
_ALIGNS = set(bbstyle.ALIGNS)
# Kept as text with their presentation dropped: fonts and layout (headings,
# tables, indents) chosen by posters clash with the site's themes and are a
# common vector for abuse.
_TRANSPARENT = bbtokens.INLINES - set(_INLINE) - _SPOILERS - _STYLED - _ALIGNS - {"url"}
# Alignment is a block on the page (as on the forum) though the tokenizer pairs
# it as inline: only how newlines around it are kept depends on this.
_BLOCK = BLOCKS | {bbtokens.ITEM} | _ALIGNS
# Raw content the reader never reads as a vote is shown as code, so that what
# looks like prose on the page is what the reader reads.
_CODE_BLOCKS = {"code", "php", "html"}

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
        "span",
        "summary",
        "u",
        "ul",
    },
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}, "img": {"src", "alt", "loading"}},
    allowed_classes={
        "blockquote": {"bb-quote"},
        "div": {"bb-quote-header", "bb-quote-body", *bbstyle.ALIGN_CLASSES},
        "details": {"bb-spoiler"},
        "pre": {"bb-code"},
        "span": bbstyle.COLOR_CLASSES | bbstyle.SIZE_CLASSES,
    },
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow ugc noopener",
    strip_comments=True,
)


@dataclass
class _Frame:
    """An open element; `mark` is None for a list item the text implied."""

    name: str
    mark: Mark | None = None
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
    """One pass over the marks of bbtokens.parse: text is escaped, marks open and close frames.

    1. Text between marks is escaped and appended to the innermost open frame,
       newlines becoming <br>.
    2. An OPEN mark pushes a frame and its CLOSE mark wraps it into HTML; which
       tag closes where (and which is only text) is bbtokens' decision, shared
       with the ballot reader.
    3. A raw element ([CODE], [IMG], a bare [URL]…) is rendered from its content.
    4. Text directly inside a list opens an item of its own.
    """

    def __init__(self, body: str, post_url: Callable[[int], str | None] | None) -> None:
        self.body = body
        self.post_url = post_url
        self.stack = [_Frame(name="")]
        # Forums drop the newline that follows a block tag; keeping it would put
        # an empty line at the top and bottom of every quote.
        self.trim_newline = False

    def run(self) -> str:
        pos = 0
        for mark in bbtokens.parse(self.body):
            self._text(self.body[pos : mark.start])
            pos = mark.end
            self._mark(mark)
        self._text(self.body[pos:])
        self._close_down_to(1)
        return "".join(self.stack[0].parts)

    def _mark(self, mark: Mark) -> None:
        if mark.kind == bbtokens.OPEN:
            self._open(mark)
        elif mark.kind == bbtokens.CLOSE:
            self._close(mark)
        elif mark.kind == bbtokens.RAW:
            self._raw(mark)
        else:
            self._literal(self.body[mark.start : mark.end])

    # Text

    def _text(self, text: str) -> None:
        if not text:
            return
        text = _newlines(text)
        if self.trim_newline and text.startswith("\n"):
            text = text[1:]
        self.trim_newline = False
        if not text:
            return
        top = self.stack[-1]
        if top.name == "list":
            if text.isspace():
                return
            self._push(_Frame(name=bbtokens.ITEM))
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

    # Elements

    def _open(self, mark: Mark) -> None:
        top = self.stack[-1]
        if mark.name == bbtokens.ITEM and top.name == bbtokens.ITEM and top.mark is None:
            self._close_down_to(len(self.stack) - 1)  # the item the text implied
        frame = _Frame(name=mark.name, mark=mark, attr=mark.attr)
        if mark.name == "url":
            frame.href = _safe_url(mark.attr or "")
        self._push(frame)

    def _push(self, frame: _Frame) -> None:
        self.stack.append(frame)
        self.trim_newline = frame.is_block

    def _close(self, mark: Mark) -> None:
        index = len(self.stack) - 1
        while index > 0 and self.stack[index].mark is not mark.opener:
            index -= 1
        self._close_down_to(max(index, 1))
        self.trim_newline = mark.name in _BLOCK

    def _close_down_to(self, index: int) -> None:
        """Close every frame from the top of the stack down to `index` inclusive."""
        while len(self.stack) > index:
            frame = self.stack.pop()
            self.stack[-1].parts.append(self._wrap(frame))

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
        if name in _STYLED or name in _ALIGNS:
            return _styled(name, frame.attr, inner)
        if name == "url":
            if frame.href is None:
                return inner
            return f'<a href="{html.escape(frame.href, quote=True)}">{inner}</a>'
        if name == "quote":
            return self._quote(frame.attr, inner)
        if name in _SPOILERS:
            title = html.escape(plain_text(_unquote(frame.attr or "")) or "Spoiler")
            return f'<details class="bb-spoiler"><summary>{title}</summary>{inner}</details>'
        if name == "list":
            element = "ol" if (frame.attr or "").strip() else "ul"
            return f"<{element}>{inner}</{element}>"
        return f"<li>{inner}</li>"

    def _quote(self, attr: str | None, inner: str) -> str:
        header = ""
        author, post_id = bbtokens.quote_source(attr)
        if author:
            said = f"{html.escape(' '.join(author.split()), quote=True)} said:"
            if post_id is not None:
                href = (self.post_url(post_id) if self.post_url else None) or f"#post-{post_id}"
                said = f'<a href="{html.escape(href, quote=True)}">{said}</a>'
            header = f'<div class="bb-quote-header">{said}</div>'
        body = f'<div class="bb-quote-body">{inner}</div>'
        return f'<blockquote class="bb-quote">{header}{body}</blockquote>'

    def _raw(self, mark: Mark) -> None:
        """A tag whose content is not markup."""
        content = _newlines(self.body[mark.content[0] : mark.content[1]])
        name = mark.name
        if name in _CODE_BLOCKS:
            self._block_html(f'<pre class="bb-code"><code>{_escape_code(content)}</code></pre>')
        elif name == "plain":
            self._text(content)
        elif name == "img":
            self._image(content)
        elif name == "url":
            self._link(content)
        else:  # [ICODE], [MEDIA], [ATTACH]
            self._append(f"<code>{html.escape(content, quote=True)}</code>")

    def _image(self, content: str) -> None:
        url = _safe_url(content, allow_mailto=False)
        if url is None:
            # An address not shown as an image is still not the poster's text.
            self._append(f"<code>{html.escape(content, quote=True)}</code>")
        else:
            src = html.escape(url, quote=True)
            self._append(f'<img src="{src}" alt="" loading="lazy">')

    def _link(self, content: str) -> None:
        url = _safe_url(content)
        if url is None or any(frame.name == "url" for frame in self.stack):
            self._text(content)
        else:
            self._append(f'<a href="{html.escape(url, quote=True)}">{html.escape(content)}</a>')

    def _append(self, markup: str) -> None:
        if self.stack[-1].name == "list":
            self._push(_Frame(name=bbtokens.ITEM))
        self.trim_newline = False
        self.stack[-1].parts.append(markup)

    def _block_html(self, markup: str) -> None:
        self._append(markup)
        self.trim_newline = True


def _styled(name: str, attr: str | None, inner: str) -> str:
    """`[COLOR]`, `[SIZE]` and alignment as a class; a value outside the palette is plain text."""
    if name in _ALIGNS:
        css_class = bbstyle.align_class(name)
        return f'<div class="{css_class}">{inner}</div>' if css_class else inner
    css_class = bbstyle.color_class(attr) if name == "color" else bbstyle.size_class(attr)
    return f'<span class="{css_class}">{inner}</span>' if css_class else inner


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _escape_code(content: str) -> str:
    if content.startswith("\n"):
        content = content[1:]
    return html.escape(content.rstrip("\n"), quote=True)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value.strip("\"'")


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

_IMG_BLOCK = re.compile(r"\[img\][^\[]*\[/img\]", re.IGNORECASE)


def strip_tags(body: str) -> str:
    """Remove the markup of recognised BBCode tags, keeping everything they enclose.

    Unknown bracketed text such as a ballot's `[X]` or `[ ]` is left alone.
    """
    return TAG.sub(_strip_one, body)


def _strip_one(match: re.Match[str]) -> str:
    name = match.group(2).lower()
    if name == "*":
        return " "
    return "" if name in KNOWN else match.group(0)


def strip_quote_blocks(body: str) -> str:
    """Remove every [QUOTE]…[/QUOTE] block, as the page shows them (nested ones within).

    An opening tag that is never closed removes nothing: losing the rest of a post to
    a typo would be worse than showing a stray tag.
    """
    kept: list[str] = []
    pos = 0
    depth = 0
    for mark in bbtokens.parse(body):
        if mark.name != "quote" or mark.kind not in (bbtokens.OPEN, bbtokens.CLOSE):
            continue
        if mark.kind == bbtokens.OPEN:
            if depth == 0:
                kept.append(body[pos : mark.start])
            depth += 1
        else:
            depth -= 1
            pos = mark.end if depth == 0 else pos
    kept.append(body[pos:])
    return "".join(kept)


def quote_for_reply(author: str, post_id: int, body: str) -> str:
    """The BBCode a reply starts with when it quotes post `post_id`.

    Quotes inside the quoted post are dropped, as forums do, so that replies do not
    grow a tower of quotes.
    """
    name = re.sub(r'["\[\]\r\n]', "", author).strip()
    quoted = strip_quote_blocks(body.replace("\r\n", "\n").replace("\r", "\n"))
    quoted = re.sub(r"\n{3,}", "\n\n", quoted).strip()
    return f'[QUOTE="{name}, post: {int(post_id)}"]\n{quoted}\n[/QUOTE]\n'


def plain_text(body: str, limit: int | None = None) -> str:
    """The text of a post on one line, without BBCode, quotes or image addresses.

    With `limit`, the text is cut at a word boundary to at most `limit` characters,
    ending in "…" when anything was cut.
    """
    text = strip_quote_blocks(body)
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
