"""Saved XenForo 2 thread pages to the posts of a `quest-thread/1` document.

Pure: HTML text in, plain dataclasses out; no Django, no database, no network.
`parse_page(html, url=...)` reads one page; `ForumPost.as_thread_post()` gives the
post object of ../shared/thread-format.md. Fetching pages, merging them, finding
votes and saving are the importer's and the follower's business.

The markup read is XenForo 2's default style (2.0 to 2.3), as the quest forums
serve it:

- A post is `.message--post` (an `article`; a moderator's view of a deleted post
  is a `div.message--deleted` placeholder) with `data-author` and
  `data-content="post-N"`. The author's forum id comes only from the post's own
  user block (`.message-user a.username[data-user-id]`): an @mention in the body
  or the signature renders the very same link.
- Times are `time.u-dt` elements: `datetime` (ISO 8601) or `data-timestamp` (Unix
  seconds). `data-time` is Unix seconds before XenForo 2.2 and a clock time
  ("6:11 PM") since, so it is read only when it is a number.
- The body is `article.message-body div.bbWrapper` (a signature is a `bbWrapper`
  too, outside the `article.message-body`), turned back into the BBCode it was
  rendered from, as `_BodyWriter` describes.
- `div.message-lastEdit time` is the edit time; `span.threadmarkLabel` (the
  threadmarks add-on of SpaceBattles and Sufficient Velocity) a chapter's title.
- Pages are `<thread>/page-N`; `.pageNav-main` lists the page numbers.

Bad input raises `XenForoFormatError` (a ValueError) naming the post and the part
that is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from quest.bbtokens import KNOWN, TAG

__all__ = [
    "ForumPost",
    "ThreadPage",
    "XenForoFormatError",
    "body_to_bbcode",
    "page_count",
    "page_of",
    "page_urls",
    "parse_page",
    "posts_per_page",
    "thread_url",
]

POSTS_PER_PAGE = 25
# Questionable Questing shows more posts a page than the other quest forums.
POSTS_PER_PAGE_BY_HOST = {"questionablequesting.com": 30}


class XenForoFormatError(ValueError):
    """The HTML is not a XenForo 2 thread page, or a post lacks a part; the message says which."""


@dataclass(frozen=True, slots=True)
class ForumPost:
    """One post of a thread page, its body back in BBCode."""

    id: int
    author: str
    forum_user_id: int | None  # None for a guest or an account since deleted
    posted_at: datetime
    edited_at: datetime | None
    body: str  # "" for a deleted post's placeholder
    source_url: str | None = None
    position: int | None = None  # the "#N" XenForo shows: the post's place in the thread
    threadmark: str | None = None  # a chapter's title, when the post is threadmarked
    deleted: bool = False

    def as_thread_post(self) -> dict:
        """The post as an object of the `posts` list of a `quest-thread/1` document."""
        post = {
            "id": self.id,
            "author": self.author,
            "posted_at": _iso(self.posted_at),
            "edited_at": _iso(self.edited_at) if self.edited_at else None,
            "body": self.body,
        }
        if self.source_url:
            post["source_url"] = self.source_url
        if self.forum_user_id is not None:
            post["forum_user_id"] = self.forum_user_id
        if self.deleted:
            post["deleted"] = True
        return post


@dataclass(frozen=True, slots=True)
class ThreadPage:
    """One page of a thread: what it says about the thread, and its posts in order."""

    title: str
    thread_url: str | None  # without page or post: `https://host/threads/slug.123/`
    page: int
    page_count: int
    starter: str | None  # the thread starter's forum name, when the page tells
    posts: tuple[ForumPost, ...]

    @property
    def forum(self) -> str | None:
        return urlsplit(self.thread_url).hostname if self.thread_url else None

    def page_urls(self) -> list[str]:
        if self.thread_url is None:
            raise XenForoFormatError("The page does not say its thread's address; pass url=.")
        return page_urls(self.thread_url, self.page_count)


# Pages and addresses


def parse_page(html: str, *, url: str | None = None) -> ThreadPage:
    """Read one saved or fetched XenForo 2 thread page.

    `url` is the page's address; without it the page's canonical link is used.
    It resolves relative links and gives posts their `source_url`.
    """
    tree = _tree(html)
    page_url = url or _canonical(tree)
    base = thread_url(page_url) if page_url else None
    nodes = tree.css(".message--post")
    if not nodes:
        raise XenForoFormatError(
            "Not a XenForo 2 thread page: it has no posts (.message--post elements)."
        )
    posts = tuple(_post(node, index, page_url=page_url) for index, node in enumerate(nodes))
    page = _current_page(tree, page_url)
    return ThreadPage(
        title=_title(tree),
        thread_url=base,
        page=page,
        page_count=max(_page_count(tree), page),
        starter=_starter(tree) or (posts[0].author if page == 1 else None),
        posts=posts,
    )


def page_count(html: str) -> int:
    """How many pages the thread has, from the page navigation (1 when there is none)."""
    return _page_count(_tree(html))


def thread_url(url: str) -> str:
    """The thread's address without page, post, query or anchor: `https://host/threads/x.123/`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise XenForoFormatError(f"{url!r} is not an http(s) address of a forum thread.")
    segments = parts.path.split("/")
    if "threads" not in segments[:-1] or not segments[segments.index("threads") + 1]:
        raise XenForoFormatError(f"{url!r} is not a XenForo thread address (/threads/<name>/).")
    path = "/".join(segments[: segments.index("threads") + 2]) + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def page_urls(thread: str, count: int) -> list[str]:
    """The addresses of pages 1 to `count`; page 1 is the thread's own address."""
    if count < 1:
        raise ValueError(f"A thread has at least one page, not {count}.")
    base = thread_url(thread)
    return [base] + [f"{base}page-{number}" for number in range(2, count + 1)]


def posts_per_page(url: str) -> int:
    """How many posts a page of this forum's threads holds."""
    host = (urlsplit(url).hostname or "").lower()
    for domain, count in POSTS_PER_PAGE_BY_HOST.items():
        if host == domain or host.endswith("." + domain):
            return count
    return POSTS_PER_PAGE


def page_of(position: int, *, per_page: int) -> int:
    """The page that shows the thread's post number `position` (XenForo's "#N")."""
    if position < 1 or per_page < 1:
        raise ValueError(f"No page holds post #{position} at {per_page} posts a page.")
    return (position - 1) // per_page + 1


def _tree(html: str) -> LexborHTMLParser:
    if not html or not html.strip():
        raise XenForoFormatError("The page is empty.")
    return LexborHTMLParser(html)


def _canonical(tree: LexborHTMLParser) -> str | None:
    link = tree.css_first('link[rel="canonical"]')
    href = (link.attributes.get("href") or "").strip() if link else ""
    return href if href.startswith(("http://", "https://")) else None


def _title(tree: LexborHTMLParser) -> str:
    heading = tree.css_first("h1.p-title-value")
    if heading is None:
        raise XenForoFormatError(
            "Not a XenForo 2 thread page: it has no thread title (h1.p-title-value)."
        )
    # A thread prefix ("Quest", "Complete") is a label before the title, not part of it.
    words = [
        child.text(deep=True)
        for child in heading.iter(include_text=True)
        if not _classes(child) & {"label", "label-append", "labelLink"}
    ]
    title = " ".join(" ".join(words).split())
    if not title:
        raise XenForoFormatError("The thread title (h1.p-title-value) is empty.")
    return title


def _starter(tree: LexborHTMLParser) -> str | None:
    # Under the title, on every page: "Thread starter <name>".
    link = tree.css_first(".p-description a.username")
    name = link.text(deep=True).strip() if link else ""
    return name or None


def _page_numbers(tree: LexborHTMLParser, selector: str) -> list[int]:
    return [
        int(text)
        for link in tree.css(selector)
        if (text := link.text(deep=True).strip().replace(",", "")).isdigit()
    ]


def _page_count(tree: LexborHTMLParser) -> int:
    # The last link is the last page; the largest number is the same and survives
    # the "…" jump between them.
    return max(_page_numbers(tree, ".pageNav-main .pageNav-page a"), default=1)


def _current_page(tree: LexborHTMLParser, page_url: str | None) -> int:
    current = _page_numbers(tree, ".pageNav-main .pageNav-page--current a")
    if current:
        return current[0]
    last = urlsplit(page_url or "").path.rstrip("/").rsplit("/", 1)[-1]
    number = last.removeprefix("page-")
    return int(number) if last.startswith("page-") and number.isdigit() else 1


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Posts


def _post(node: LexborNode, index: int, *, page_url: str | None) -> ForumPost:
    post_id = _post_id(node, index)
    where = f"post {post_id}"
    deleted = "message--deleted" in _classes(node)
    return ForumPost(
        id=post_id,
        author=_author(node, where),
        forum_user_id=_user_id(node, where),
        posted_at=_posted_at(node, where),
        edited_at=_edited_at(node, where),
        body="" if deleted else body_to_bbcode(_body_node(node, where), base_url=page_url),
        source_url=_source_url(node, post_id, page_url),
        position=_position(node),
        threadmark=_threadmark(node),
        deleted=deleted,
    )


def _post_id(node: LexborNode, index: int) -> int:
    content = (node.attributes.get("data-content") or "").strip()
    number = content.removeprefix("post-")
    if not content.startswith("post-") or not number.isdigit():
        found = f"data-content={content!r}" if content else "no data-content attribute"
        raise XenForoFormatError(
            f"Post {index + 1} on the page has {found}; a XenForo post has "
            'data-content="post-<id>".'
        )
    return int(number)


def _author(node: LexborNode, where: str) -> str:
    author = (node.attributes.get("data-author") or "").strip()
    if not author:
        raise XenForoFormatError(f"{where} has no author: its data-author attribute is missing.")
    return author


def _own(node: LexborNode, selector: str) -> list[LexborNode]:
    """The elements under a post that are the page's, not inside the post's body."""
    found = []
    for element in node.css(selector):
        ancestor = element.parent
        while ancestor is not None and ancestor != node and not _is_body(ancestor):
            ancestor = ancestor.parent
        if ancestor is None or ancestor == node:
            found.append(element)
    return found


def _is_body(node: LexborNode) -> bool:
    return "bbWrapper" in _classes(node)


def _user_id(node: LexborNode, where: str) -> int | None:
    # The user block only: a mention in the body is the same `a.username` link.
    links = _own(node, ".message-user a.username[data-user-id]") or _own(
        node, ".message-user .avatar[data-user-id]"
    )
    if not links:
        return None  # a guest, or an account since deleted: its name is plain text
    value = (links[0].attributes.get("data-user-id") or "").strip()
    if not value.isdigit():
        raise XenForoFormatError(f"{where}: its author's data-user-id {value!r} is not a number.")
    return int(value) or None


def _posted_at(node: LexborNode, where: str) -> datetime:
    times = _own(node, ".message-attribution time")
    if not times:
        raise XenForoFormatError(
            f"{where} has no time: no time element in its .message-attribution header."
        )
    return _time(times[0], f"{where}: its posting time")


def _edited_at(node: LexborNode, where: str) -> datetime | None:
    edits = _own(node, ".message-lastEdit")
    if not edits:
        return None
    found = edits[0].css_first("time")
    if found is None:
        raise XenForoFormatError(f"{where}: its 'Last edited' line has no time element.")
    return _time(found, f"{where}: its edit time")


def _time(node: LexborNode, what: str) -> datetime:
    attrs = node.attributes
    stamp = (attrs.get("datetime") or "").strip()
    if stamp:
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            raise XenForoFormatError(f"{what} datetime={stamp!r} is not ISO 8601.") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    for name in ("data-timestamp", "data-time"):
        seconds = (attrs.get(name) or "").strip()
        if seconds.isdigit():
            return datetime.fromtimestamp(int(seconds), UTC)
    raise XenForoFormatError(f"{what} has neither a datetime nor a data-timestamp attribute.")


def _body_node(node: LexborNode, where: str) -> LexborNode:
    body = node.css_first("article.message-body div.bbWrapper")
    if body is None:
        raise XenForoFormatError(
            f"{where} has no body (article.message-body div.bbWrapper) and is not "
            "marked deleted (message--deleted)."
        )
    return body


def _source_url(node: LexborNode, post_id: int, page_url: str | None) -> str | None:
    for link in _own(node, ".message-attribution a[href]"):
        href = (link.attributes.get("href") or "").strip()
        if href.rstrip("/").endswith((f"post-{post_id}", f"posts/{post_id}")):
            absolute = urljoin(page_url, href) if page_url else href
            return absolute if absolute.startswith(("http://", "https://")) else None
    return f"{thread_url(page_url)}post-{post_id}" if page_url else None


def _position(node: LexborNode) -> int | None:
    for link in _own(node, ".message-attribution-opposite a"):
        text = link.text(deep=True).strip().replace(",", "")
        if text.startswith("#") and text[1:].isdigit():
            return int(text[1:])
    return None


def _threadmark(node: LexborNode) -> str | None:
    labels = _own(node, "span.threadmarkLabel")
    title = " ".join(labels[0].text(deep=True).split()) if labels else ""
    return title or None


def _classes(node: LexborNode) -> set[str]:
    if not node.tag or node.tag.startswith("-"):
        return set()
    return set((node.attributes.get("class") or "").split())


# Bodies

# XenForo 2's [SIZE=1..7] as it renders them.
_SIZES = {"9px": "1", "10px": "2", "12px": "3", "15px": "4", "18px": "5", "22px": "6", "26px": "7"}
_ALIGNS = {"center": "CENTER", "left": "LEFT", "right": "RIGHT", "justify": "JUSTIFY"}
_INLINE_TAGS = {
    **{"b": "B", "strong": "B", "i": "I", "em": "I", "u": "U", "ins": "U"},
    **{"s": "S", "strike": "S", "del": "S", "sup": "SUP", "sub": "SUB"},
    **{"table": "TABLE", "tr": "TR", "td": "TD", "th": "TH"},
}
_HEADINGS = {"h2": "1", "h3": "2", "h4": "3"}
# Page furniture inside a body: the quote's "Bob said:" line and its expander,
# a spoiler's button (read for the title), script data, embedded players.
_SKIPPED_CLASSES = frozenset(
    {"bbCodeBlock-title", "bbCodeBlock-expandLink", "bbCodeSpoiler-button", "js-selectToQuoteEnd"}
)
_SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "button", "iframe", "video", "audio"}
    | {"svg", "object", "embed", "input", "select", "textarea", "head", "title", "meta", "link"}
)
# Wrappers XenForo puts around a block's content: their content is all that counts.
_WRAPPER_CLASSES = frozenset(
    {"bbCodeBlock-content", "bbCodeBlock-expandContent", "bbCodeSpoiler-content"}
    | {"bbCodeBlock--spoiler", "bbImageWrapper", "bbMediaWrapper-inner", "bbTable"}
)
_BLOCK_TAGS = frozenset(
    {"div", "p", "blockquote", "section", "article", "aside", "header", "footer", "pre"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "figure", "table", "ul", "ol"}
)
_SPACES = re.compile(r"[ \t\n\r\f]+")  # HTML white space; a no-break space is text


def body_to_bbcode(node: LexborNode | str, *, base_url: str | None = None) -> str:
    """The BBCode a rendered post body (a `div.bbWrapper`, or its HTML) was written in.

    `base_url` resolves relative links and image addresses.
    """
    if isinstance(node, str):
        html = f"<div class='bbWrapper'>{node}</div>"
        wrapper = LexborHTMLParser(html).css_first("div.bbWrapper")
        assert wrapper is not None  # the div written around the HTML is always there
        node = wrapper
    return _BodyWriter(base_url).run(node)


class _Out:
    """BBCode being written, white space collapsed as a browser shows the HTML.

    Text runs are kept apart from markup until the next tag, so that text which
    spells a tag (`[/QUOTE]` written inside [PLAIN], or split by a comment) is
    escaped as a whole and can never become markup.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.run: list[str] = []
        self.newline_due = False  # a block just ended: what follows starts a line

    def _last(self) -> str:
        for pieces in (self.run, self.parts):
            for piece in reversed(pieces):
                if piece:
                    return piece[-1]
        return "\n"

    def _at_line_start(self) -> bool:
        if self.newline_due or self._last() == "\n":
            return True
        return not self.run and bool(self.parts) and self.parts[-1] == "[*]"

    def text(self, text: str) -> None:
        text = _SPACES.sub(" ", text)
        if self._at_line_start() or self._last() == " ":
            text = text.lstrip(" ")
        if not text:
            return
        self._settle()
        self.run.append(text.replace("\xa0", " "))

    def markup(self, code: str) -> None:
        self._settle()
        self._flush()
        self.parts.append(code)

    def line_break(self) -> None:
        self._trim()
        self.run.append("\n")

    def start_line(self) -> None:
        self._settle()
        if self._last() != "\n":
            self.line_break()

    def end_block(self) -> None:
        self.newline_due = True

    def result(self) -> str:
        self._flush()
        return "".join(self.parts).strip(" \n")

    def _settle(self) -> None:
        if self.newline_due:
            self.newline_due = False
            self.line_break()

    def _trim(self) -> None:
        while self.run and self.run[-1].endswith(" "):
            self.run[-1] = self.run[-1].rstrip(" ")
            if not self.run[-1]:
                self.run.pop()

    def _flush(self) -> None:
        if self.run:
            self.parts.append(_escape("".join(self.run)))
            self.run = []


def _escape(text: str) -> str:
    """Text in which no BBCode tag this project knows can open or close."""
    pieces = []
    pos = 0
    for match in TAG.finditer(text):
        if match.group(2).lower() in KNOWN:
            pieces.append(text[pos : match.start()])
            pieces.append("[PLAIN][[/PLAIN]")  # the bracket alone, as written
            pos = match.start() + 1
    pieces.append(text[pos:])
    return "".join(pieces)


_Exit = Callable[[], None] | None


class _BodyWriter:
    """Walk a body's HTML and write the BBCode XenForo rendered it from.

    1. Text is written with HTML white space collapsed; `<br>` is a new line.
    2. Each element is entered (its opening tag written) and, after its children,
       left (its closing tag written). The walk keeps its own stack, so deeply
       nested markup cannot reach Python's recursion limit.
    3. A quote (`.bbCodeBlock--quote`) becomes `[QUOTE="name, post: N, member: M"]`
       from its own data attributes; the quotes nested in it are written inside
       it, where they stand. A spoiler (`div.bbCodeSpoiler`) takes its title from
       its own button, never a nested spoiler's.
    4. Blocks (quotes, spoilers, lists, code, centred text) start on a line of
       their own and what follows them starts a new line, as XenForo drops the
       line break after a block tag when it renders one.
    """

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self.out = _Out()

    def run(self, root: LexborNode) -> str:
        stack: list[tuple[Iterator[LexborNode], _Exit]] = [(root.iter(include_text=True), None)]
        while stack:
            children, leave = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if leave is not None:
                    leave()
            elif child.tag == "-text":
                self.out.text(child.text_content or "")
            elif child.tag and not child.tag.startswith("-"):  # comments, doctypes: not text
                inner, leave_child = self._enter(child)
                stack.append((iter(inner), leave_child))
        return self.out.result()

    def _enter(self, node: LexborNode) -> tuple[Iterable[LexborNode], _Exit]:
        """Write what an element opens with; return the children to walk and how to leave."""
        classes = _classes(node)
        if node.tag in _SKIPPED_TAGS or classes & _SKIPPED_CLASSES:
            return (), None
        if classes & _WRAPPER_CLASSES:
            return node.iter(include_text=True), None
        for handler in self._handlers:
            handled = handler(self, node, classes)
            if handled is not None:
                return handled
        if node.tag in _BLOCK_TAGS:
            self.out.start_line()
            return node.iter(include_text=True), self.out.end_block
        return node.iter(include_text=True), None

    # Each handler returns None when the element is not its kind.

    def _leaf(self, node: LexborNode, classes: set[str]):
        if node.tag == "br":
            self.out.line_break()
        elif node.tag == "img":
            self._image(node, classes)
        elif node.tag == "hr":
            self.out.start_line()
            self.out.markup("[HR][/HR]")
            self.out.end_block()
        elif node.tag == "code" and "bbCodeInline" in classes:
            self._raw("ICODE", node.text(deep=True))
        elif "bbCodeBlock--code" in classes:
            self._code(node)
        elif "bbCodeBlock--unfurl" in classes or node.attributes.get("data-media-site-id"):
            self._embed(node)
        else:
            return None
        return (), None

    def _quote(self, node: LexborNode, classes: set[str]):
        if "bbCodeBlock--quote" not in classes:
            return None
        attrs = node.attributes
        source = [
            _attribute_text(attrs.get("data-quote") or ""),
            _attribute_text(attrs.get("data-source") or ""),
            _attribute_text(attrs.get("data-attributes") or ""),
        ]
        attr = ", ".join(part for part in source if part)
        return self._block(node, f'[QUOTE="{attr}"]' if source[0] else "[QUOTE]", "[/QUOTE]")

    def _spoiler(self, node: LexborNode, classes: set[str]):
        if "bbCodeSpoiler" not in classes:
            return None
        title = _spoiler_title(node)
        return self._block(node, f'[SPOILER="{title}"]' if title else "[SPOILER]", "[/SPOILER]")

    def _list(self, node: LexborNode, classes: set[str]):
        if node.tag == "ul":
            return self._block(node, "[LIST]", "[/LIST]")
        if node.tag == "ol":
            kind = _attribute_text(node.attributes.get("type") or "") or "1"
            return self._block(node, f"[LIST={kind}]", "[/LIST]")
        if node.tag == "li":
            self.out.start_line()
            self.out.markup("[*]")
            return node.iter(include_text=True), None
        return None

    def _link(self, node: LexborNode, classes: set[str]):
        if node.tag != "a":
            return None
        user_id = (node.attributes.get("data-user-id") or "").strip()
        if "username" in classes and user_id.isdigit():  # an @mention
            return self._inline(node, [f"[USER={user_id}]"], ["[/USER]"])
        href = self._address(node.attributes.get("href"))
        if href is None:
            return node.iter(include_text=True), None
        text = node.text(deep=True).strip()
        if next(node.iter(), None) is None and text in (href, node.attributes.get("href")):
            self.out.markup(f"[URL]{href}[/URL]")
            return (), None
        return self._inline(node, [f"[URL={href}]"], ["[/URL]"])

    def _styled(self, node: LexborNode, classes: set[str]):
        opening, closing = _style_tags(node)
        if "bbCodeInlineSpoiler" in classes:
            opening, closing = ["[ISPOILER]", *opening], [*closing, "[/ISPOILER]"]
        if node.tag in _HEADINGS and "bbHeading" in classes:
            opening, closing = [f"[HEADING={_HEADINGS[node.tag]}]"], ["[/HEADING]"]
        elif node.tag in _INLINE_TAGS:
            tag = _INLINE_TAGS[node.tag]
            opening, closing = [f"[{tag}]", *opening], [*closing, f"[/{tag}]"]
        if not opening:
            return None
        if node.tag in _BLOCK_TAGS:
            self.out.start_line()
            inner, _ = self._inline(node, opening, closing)

            def leave() -> None:
                self._close(closing)
                self.out.end_block()

            return inner, leave
        return self._inline(node, opening, closing)

    _handlers = (_leaf, _quote, _spoiler, _list, _link, _styled)

    # Writing

    def _inline(self, node: LexborNode, opening: list[str], closing: list[str]):
        for code in opening:
            self.out.markup(code)
        return node.iter(include_text=True), lambda: self._close(closing)

    def _close(self, closing: list[str]) -> None:
        for code in closing:
            self.out.markup(code)

    def _block(self, node: LexborNode, opening: str, closing: str):
        self.out.start_line()
        self.out.markup(opening)
        self.out.line_break()
        return node.iter(include_text=True), lambda: self._end_block(closing)

    def _end_block(self, closing: str) -> None:
        self.out.start_line()
        self.out.markup(closing)
        self.out.end_block()

    def _image(self, node: LexborNode, classes: set[str]) -> None:
        attrs = node.attributes
        if "smilie" in classes:  # a smiley or an emoji: its text is its alt
            self.out.text(attrs.get("alt") or "")
            return
        for name in ("data-url", "data-src", "src"):  # data-url: the address behind the proxy
            address = self._address(attrs.get(name))
            if address is not None:
                self.out.markup(f"[IMG]{address}[/IMG]")
                return

    def _code(self, node: LexborNode) -> None:
        block = node.css_first("pre") or node.css_first("code")
        content = block.text(deep=True) if block else ""
        language = _attribute_text((block.attributes.get("data-lang") or "") if block else "")
        self.out.start_line()
        self._raw("CODE", content.strip("\n"), language)
        self.out.end_block()

    def _raw(self, name: str, content: str, attr: str = "") -> None:
        """A tag whose content is not markup; content that holds its closer is text instead."""
        if f"[/{name.lower()}]" in content.lower():
            self.out.text(content)  # escaped, so it closes nothing
            return
        self.out.markup(f"[{name}={attr}]" if attr else f"[{name}]")
        self.out.markup(f"{content}[/{name}]")

    def _embed(self, node: LexborNode) -> None:
        attrs = node.attributes
        site = _attribute_text(attrs.get("data-media-site-id") or "")
        key = _attribute_text(attrs.get("data-media-key") or "")
        address = self._address(attrs.get("data-url"))
        self.out.start_line()
        if site and key:
            self.out.markup(f"[MEDIA={site}]{key}[/MEDIA]")
        elif address:
            self.out.markup(f"[URL]{address}[/URL]")
        self.out.end_block()

    def _address(self, raw: str | None) -> str | None:
        """A link's or image's address, absolute when the page's address is known."""
        address = (raw or "").strip()
        if not address or address.startswith(("#", "data:", "javascript:")):
            return None
        if self.base_url:
            address = urljoin(self.base_url, address)
        # A bracket would end the BBCode tag the address stands in.
        return address.replace("[", "%5B").replace("]", "%5D").replace("\n", "")


def _attribute_text(value: str) -> str:
    """A value for inside a BBCode tag's attribute: one line, no quotes or brackets."""
    return " ".join(value.replace('"', "").replace("[", "").replace("]", "").split())


def _spoiler_title(node: LexborNode) -> str:
    """The title on the spoiler's own button ("Spoiler: Title"), not a nested spoiler's."""
    button = next(
        (
            child
            for child in node.iter()
            if child.tag == "button" or "bbCodeSpoiler-button" in _classes(child)
        ),
        None,
    )
    if button is None:
        return ""
    titled = button.css_first(".bbCodeSpoiler-button-title")
    text = " ".join((titled or button).text(deep=True).split())
    if titled is None:
        label, colon, rest = text.partition(":")
        text = rest if colon and label.strip().lower() == "spoiler" else text
        text = "" if text.strip().lower() == "spoiler" else text
    return _attribute_text(text)


def _style_tags(node: LexborNode) -> tuple[list[str], list[str]]:
    """BBCode tags for an element's inline style: colour, size, font, alignment, indent."""
    opening: list[str] = []
    closing: list[str] = []
    for declaration in (node.attributes.get("style") or "").split(";"):
        name, _, value = declaration.partition(":")
        tag = _style_tag(name.strip().lower(), _attribute_text(value).strip("'"))
        if tag:
            name_only = tag.split("=", 1)[0]
            opening.append(f"[{tag}]")
            closing.insert(0, f"[/{name_only}]")
    return opening, closing


def _style_tag(name: str, value: str) -> str | None:
    if not value:
        return None
    if name == "color":
        return f"COLOR={value}"
    if name == "font-size":
        return f"SIZE={_SIZES.get(value, value)}"
    if name == "font-family":
        return f"FONT={value}"
    if name == "text-align" and value.lower() in _ALIGNS:
        return _ALIGNS[value.lower()]
    if name == "margin-left" and value.endswith("px") and value[:-2].isdigit():
        steps = max(1, int(value[:-2]) // 20)
        return "INDENT" if steps == 1 else f"INDENT={steps}"
    return None
