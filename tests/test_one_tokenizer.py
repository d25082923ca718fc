"""One BBCode tokenizer: what the thread page shows quoted is exactly what the reader skips.

The page (quest.bbcode.render) and the ballot reader (votes.reading.bbcode.scan)
both follow quest.bbtokens. Here the same hostile markup goes to both: the text
the page shows outside any quote must be the reader's own text, and the text of
each top-level quote on the page must be the reader's text of that quote, modulo
tag-shaped text (the page shows a stray tag as written, the reader drops it) and
whitespace. Text neither shows as prose (spoilers, struck-through text, code,
image addresses) is left out of both sides.
"""

from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import votes.reading.bbcode as reader_bbcode
from quest import bbcode as page_bbcode
from quest import bbtokens
from quest.bbtokens import MAX_DEPTH, TAG
from votes.reading.bbcode import QUOTE_MARK, scan

# Elements whose text the page does not show as the poster's prose: spoilers,
# strike-through, code and image addresses the page refused to load.
_NOT_PROSE = {"details", "s", "pre", "code"}


class _PageText(HTMLParser):
    """Sorts the text of a rendered post into own text and each top-level quote's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str | None]] = []
        self.own: list[str] = []
        self.quotes: list[list[str]] = []

    def _depth(self) -> int:
        return sum(tag == "blockquote" for tag, _ in self.open)

    def _hidden(self) -> bool:
        return any(tag in _NOT_PROSE or cls == "bb-quote-header" for tag, cls in self.open)

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.handle_data("\n")
            return
        if tag == "img":
            return
        if tag == "blockquote" and self._depth() == 0 and not self._hidden():
            self.quotes.append([])
        self.open.append((tag, dict(attrs).get("class")))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1][0] == tag, f"misnested </{tag}>"
        self.open.pop()

    def handle_data(self, data):
        if self._hidden():
            return
        depth = self._depth()
        if depth == 0:
            self.own.append(data)
        elif depth == 1:
            self.quotes[-1].append(data)


def _normal(text: str) -> str:
    """Text without whitespace or tag-shaped pieces (removed until none is left)."""
    text, previous = "".join(text.split()), None
    while previous != text:
        previous, text = text, TAG.sub("", text)
    return text


def _page(body: str) -> tuple[list[str], str]:
    parser = _PageText()
    parser.feed(page_bbcode.render(body))
    parser.close()
    assert parser.open == []
    return [_normal("".join(q)) for q in parser.quotes], _normal("".join(parser.own))


def _reader(body: str) -> tuple[list[str], str]:
    doc = scan(body)
    for quote in doc.quotes:  # each quote's span starts at its own opening tag
        assert body[quote.start : quote.start + 6].lower() == "[quote"
    own = doc.text.replace(QUOTE_MARK, "")
    return [_normal(q.text) for q in doc.quotes], _normal(own)


DEEP = 1000
HOSTILE = [
    # (body, what both show and read as quoted (top level), what both take as own text)
    ("[QUOTE]1-A", [], "1-A"),
    ('[QUOTE="Bob, post: 9"]1-A\n2-B', [], "1-A2-B"),
    ("1-A[/QUOTE]", [], "1-A"),
    ("[/QUOTE]1-A[QUOTE]2-B[/QUOTE]", ["2-B"], "1-A"),
    ("[QUOTE][QUOTE]1-A[/QUOTE]2-B", ["1-A"], "2-B"),
    ("[QUOTE=Bob][QUOTE=Ann]1-A[/QUOTE]2-B[/QUOTE]3-C", ["2-B"], "3-C"),
    ("[quote]a[QUOTE]b[/quote]c[/Quote]d", ["ac"], "d"),
    # mismatched: a closer closes what was opened inside it
    ("[QUOTE][SPOILER]1-A[/QUOTE]2-B[/SPOILER]", [""], "2-B"),
    ("[SPOILER][QUOTE]1-A[/SPOILER]2-B[/QUOTE]", [], "2-B"),
    ("[QUOTE]1-A[SPOILER]2-B[/QUOTE]3-C[/SPOILER]", ["1-A"], "3-C"),
    # an inline closer does not reach past a quote
    ("[B]1-A[QUOTE]2-B[/B]3-C[/QUOTE]", ["2-B3-C"], "1-A"),
    ("[QUOTE]1-A[/B][/I][/SPOILER]2-B[/QUOTE]", ["1-A2-B"], ""),
    ("[S]1-A[QUOTE]2-B[/S]3-C[/QUOTE]", ["2-B3-C"], "1-A"),
    # attributes: brackets end them, newlines and quotes do not
    ('[QUOTE="a [b] c"]1-A[/QUOTE]', [], "1-A"),
    ('[QUOTE="x]y"]1-A[/QUOTE]', ['y"]1-A'], ""),
    ('[QUOTE="Bob,\npost: 9"]1-A[/QUOTE]\n2-B', ["1-A"], "2-B"),
    ("[QUOTE=\n]\n1-A[/QUOTE]\nHello.", ["1-A"], "Hello."),
    ("[QUOTE=" + "\n" * 400 + "]1-A[/QUOTE]", [], "1-A"),
    ("[QUOTE=Bob 'the' \"Builder\", post: 3]1-A[/QUOTE]", ["1-A"], ""),
    ("[QUOTE=]1-A[/QUOTE]2-B", ["1-A"], "2-B"),
    ("[QUOTE=" + "a" * 301 + "]1-A[/QUOTE]", [], "[QUOTE=" + "a" * 301 + "]1-A"),
    ("[QUOTE]1-A[/QUOTE=x]2-B", ["1-A"], "2-B"),
    # case and look-alikes
    ("[quote]1-A[/QUOTE]2-B", ["1-A"], "2-B"),
    ("[QuOtE=bob]1-A[/qUoTe]", ["1-A"], ""),
    ("[QUOTEX]1-A[/QUOTEX]", [], "1-A"),
    ("[ QUOTE]1-A[/QUOTE]", [], "1-A"),
    ("\r\n[QUOTE]\r\n1-A\r\n[/QUOTE]\r\n2-B", ["1-A"], "2-B"),
    # raw tags: their content is not markup
    ("[CODE][QUOTE]1-A[/QUOTE][/CODE]2-B", [], "2-B"),
    ("[QUOTE][CODE][/QUOTE][/CODE]1-A", [], "1-A"),
    ("[QUOTE][CODE]1-A[/QUOTE]", ["1-A"], ""),
    ("[ICODE][QUOTE][/ICODE]1-A[/QUOTE]", [], "1-A"),
    ("[PLAIN][QUOTE]1-A[/QUOTE][/PLAIN]", [], "1-A"),
    ("[URL][QUOTE]x[/URL]1-A[/QUOTE]", [], "x1-A"),
    ("[IMG][QUOTE][/IMG]1-A[/QUOTE]", [], "1-A"),
    # lists, links
    ("[LIST][*][QUOTE]1-A[*]2-B[/LIST]3-C", ["1-A2-B"], "3-C"),
    ("[LIST][*]1-A[*][QUOTE]2-B[/QUOTE][/LIST]", ["2-B"], "1-A"),
    ("[URL=http://a.b][QUOTE]1-A[/QUOTE][/URL]", ["1-A"], ""),
    ("[URL=http://a.b][URL=http://c.d]1-A[/URL][QUOTE]2-B[/QUOTE][/URL]", ["2-B"], "1-A"),
    # depth: tags deeper than MAX_DEPTH are text on the page and to the reader
    ("[QUOTE]" * DEEP + "1-A" + "[/QUOTE]" * DEEP + "2-B", [""], "2-B"),
    ("[QUOTE]" * DEEP + "1-A", [], "1-A"),
    ("[/QUOTE]" * DEEP + "1-A", [], "1-A"),
    ("[B]" * MAX_DEPTH + "[QUOTE]1-A[/QUOTE]", [], "1-A"),
    ("[B]" * (MAX_DEPTH - 1) + "[QUOTE]1-A[/QUOTE]", ["1-A"], ""),
    ("[QUOTE][SPOILER]" * 20 + "1-A" + "[/QUOTE]" * 20, [""], ""),
]


def test_it_has_one_tokenizer_for_the_page_and_the_reader():
    assert page_bbcode.bbtokens is bbtokens
    assert reader_bbcode.parse is bbtokens.parse
    assert page_bbcode.TAG is reader_bbcode.TAG is bbtokens.TAG
    assert page_bbcode.MAX_DEPTH == bbtokens.MAX_DEPTH


@pytest.mark.parametrize(
    ("body", "quoted", "own"), HOSTILE, ids=[repr(b[:40]) for b, _, _ in HOSTILE]
)
def test_it_shows_quoted_exactly_what_the_reader_skips(body, quoted, own):
    assert _page(body) == (quoted, own)
    assert _reader(body) == (quoted, own)


@pytest.mark.parametrize(
    ("body", "author", "post_id"),
    [
        ('[QUOTE="panpiotr, post: 8400128, member: 45"]x[/QUOTE]', "panpiotr", 8400128),
        ('[QUOTE="Bob,\npost: 9"]x[/QUOTE]', "Bob", 9),
        ("[quote=RedBanner]x[/quote]", "RedBanner", None),
        ("[QUOTE=\n]x[/QUOTE]", None, None),
    ],
)
def test_it_names_the_same_source_on_the_page_and_to_the_reader(body, author, post_id):
    (quote,) = scan(body).quotes
    assert (quote.author, quote.post_id) == (author, post_id)
    rendered = page_bbcode.render(body)
    if author is None:
        assert "said:" not in rendered
    else:
        assert f"{author} said:" in rendered
        assert (f'href="#post-{post_id}"' in rendered) is (post_id is not None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[STRIKE]1-A[/STRIKE]", "<s>1-A</s>"),
        ("[ISPOILER]1-A[/ISPOILER]", '<details class="bb-spoiler"><summary>Spoiler</summary>1-A'),
        ("[ICODE]1-A[/ICODE]", "<code>1-A</code>"),
        ("[MEDIA=youtube]abc[/MEDIA]", "<code>abc</code>"),
        ("[IMG]1-A[/IMG]", "<code>1-A</code>"),
        ("[PHP]<?php 1-A[/PHP]", '<pre class="bb-code"><code>&lt;?php 1-A</code></pre>'),
        ("[H1]Chapter[/H1] [CENTER]x[/CENTER]", 'Chapter <div class="bb-align-center">x</div>'),
        ("[LIST]x", "[LIST]x"),
        ("[QUOTE]\nx", "[QUOTE]<br>x"),
    ],
)
def test_it_shows_what_the_reader_hides_as_not_prose(body, expected):
    """Tags the reader knows are tags on the page too; what it hides is not shown as prose."""
    assert expected in page_bbcode.render(body)


PIECES = [
    "[QUOTE]", "[/QUOTE]", "[quote]", "[/Quote]", '[QUOTE="Bob, post: 9"]', "[QUOTE=Ann]",
    '[QUOTE="a\nb"]', "[QUOTE=", "[/QUOTE=x]", "[SPOILER]", "[/SPOILER]", "[ISPOILER]",
    "[/ISPOILER]", "[B]", "[/B]", "[i]", "[/I]", "[S]", "[/S]", "[COLOR=red]", "[/COLOR]",
    "[CODE]", "[/CODE]", "[ICODE]", "[/ICODE]", "[PLAIN]", "[/PLAIN]", "[IMG]", "[/IMG]",
    "[LIST]", "[LIST=1]", "[*]", "[/LIST]", "[URL=http://a.b]", "[URL]", "[/URL]",
    "http://x.example/", "[CENTER]", "[/CENTER]", "[SIZE=7]", "[/SIZE]", "[RIGHT]", "[X]",
    "[ ]", "[", "]", "=", '"', "'",
    "\n", "\r\n", " ", "1-A", "2-B", "vote", "<b>", "&amp;",
]  # fmt: skip
_words = st.text(st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")), max_size=4)
_NAMES = ["quote", "QUOTE", "spoiler", "b", "s", "code", "plain", "list", "*", "url", "img", "x"]
_NAMES += ["color", "size", "center"]
_tags = st.builds(
    lambda slash, name, attr: f"[{slash}{name}{'' if attr is None else '=' + attr}]",
    st.sampled_from(["", "/"]),
    st.sampled_from(_NAMES),
    st.none() | st.text(alphabet='ab "\n,:1', max_size=6),
)
_runs = st.tuples(st.sampled_from(["[QUOTE]", "[/QUOTE]", "[B]", "[SPOILER]"]), st.integers(1, 40))
_bodies = st.lists(
    st.one_of(st.sampled_from(PIECES), _tags, _words, _runs.map(lambda run: run[0] * run[1])),
    max_size=40,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_bodies)
@example("[B]x[QUOTE]y[/B]z[/QUOTE]w")
@example("[QUOTE=\n" * 40 + "]1-A[/QUOTE]")
def test_the_page_and_the_reader_agree_on_what_is_quoted(body):
    assert _page(body) == _reader(body)
