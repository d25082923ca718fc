"""Forum BBCode rendering: what posts look like, and what they can never smuggle in."""

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quest import bbstyle
from quest.bbcode import MAX_DEPTH, plain_text, quote_for_reply, render, strip_tags

ALLOWED_TAGS = {
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
}
# Every class a rendered post may carry: its own markup's, and the palette and scale
# of quest/bbstyle.py.
ALLOWED_CLASSES = {
    "bb-quote",
    "bb-quote-header",
    "bb-quote-body",
    "bb-spoiler",
    "bb-code",
    *bbstyle.ALIGN_CLASSES,
    *bbstyle.COLOR_CLASSES,
    *bbstyle.SIZE_CLASSES,
}
VOID_TAGS = {"br", "img"}
SAFE_URL_STARTS = ("http://", "https://", "mailto:", "#", "/")


class _Collector(HTMLParser):
    """Records every element and attribute of an HTML fragment, and its nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.max_depth = 0
        self.misnested: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID_TAGS:
            self.open.append(tag)
            self.max_depth = max(self.max_depth, len(self.open))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.misnested.append(tag)


def _parse(markup: str) -> _Collector:
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector


def _assert_safe(markup: str) -> None:
    parsed = _parse(markup)
    assert "<script" not in markup.lower()
    assert parsed.open == [] and parsed.misnested == [], markup
    for tag, attrs in parsed.elements:
        assert tag in ALLOWED_TAGS, markup
        for name, value in attrs.items():
            assert not name.startswith("on"), markup
            assert not name.startswith("hx-"), markup
            assert not name.startswith("data-"), markup
            assert name != "style", markup
            if name == "class":
                assert set((value or "").split()) <= ALLOWED_CLASSES, markup
            if name in ("href", "src"):
                assert (value or "").strip().lower().startswith(SAFE_URL_STARTS), markup
                if name == "src":
                    assert value.lower().startswith(("http://", "https://")), markup


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("plain words", "plain words"),
        ("two\nlines", "two<br>lines"),
        ("crlf\r\nlines", "crlf<br>lines"),
        (
            "[B]bold[/B] [i]it[/I] [u]under[/u] [S]gone[/S]",
            "<b>bold</b> <i>it</i> <u>under</u> <s>gone</s>",
        ),
        ("[COLOR=red]red text[/COLOR]", '<span class="bb-color-red">red text</span>'),
        ("[size=7][font=Comic Sans]big[/font][/size]", '<span class="bb-size-7">big</span>'),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        (
            '[QUOTE="panpiotr, post: 8400128, member: 45"]\n1. Decide\n[/QUOTE]\n1-B. Punish',
            '<blockquote class="bb-quote"><div class="bb-quote-header">'
            '<a href="#post-8400128" rel="nofollow ugc noopener">panpiotr said:</a></div>'
            '<div class="bb-quote-body">1. Decide</div></blockquote>1-B. Punish',
        ),
        (
            "[quote=RedBanner]hi[/quote]",
            '<blockquote class="bb-quote"><div class="bb-quote-header">RedBanner said:</div>'
            '<div class="bb-quote-body">hi</div></blockquote>',
        ),
        (
            "[QUOTE]anonymous[/QUOTE]",
            '<blockquote class="bb-quote"><div class="bb-quote-body">anonymous</div></blockquote>',
        ),
        (
            '[SPOILER="Vote block"]\nhidden\n[/SPOILER]\nafter',
            '<details class="bb-spoiler"><summary>Vote block</summary>hidden</details>after',
        ),
        (
            "[spoiler]x[/spoiler]",
            '<details class="bb-spoiler"><summary>Spoiler</summary>x</details>',
        ),
        (
            "[URL=https://example.com/a?b=1&c=2]site[/URL]",
            '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow ugc noopener">site</a>',
        ),
        (
            "[url]http://example.com[/url]",
            '<a href="http://example.com" rel="nofollow ugc noopener">http://example.com</a>',
        ),
        (
            "[URL='www.example.com']w[/URL]",
            '<a href="http://www.example.com" rel="nofollow ugc noopener">w</a>',
        ),
        (
            "[URL=mailto:qm@example.com]mail[/URL]",
            '<a href="mailto:qm@example.com" rel="nofollow ugc noopener">mail</a>',
        ),
        ("[URL=javascript:alert(1)]click[/URL]", "click"),
        ("[URL]javascript:alert(1)[/URL]", "javascript:alert(1)"),
        (
            "[IMG]https://i.example.com/map.png[/IMG]",
            '<img src="https://i.example.com/map.png" alt="" loading="lazy">',
        ),
        ("[IMG]data:image/png;base64,AAAA[/IMG]", "data:image/png;base64,AAAA"),
        ("[IMG]/local.png[/IMG]", "/local.png"),
        ("[LIST]\n[*]one\n[*]two\n[/LIST]\nend", "<ul><li>one</li><li>two</li></ul>end"),
        ("[LIST=1][*]a[*][B]b[/LIST]", "<ol><li>a</li><li><b>b</b></li></ol>"),
        ("[*]not in a list", "[*]not in a list"),
        (
            "[CODE]\n<b>[B]raw[/B]</b>\n[/CODE]",
            '<pre class="bb-code"><code>&lt;b&gt;[B]raw[/B]&lt;/b&gt;</code></pre>',
        ),
        ("[B]never closed", "[B]never closed"),
        ("[QUOTE=x]never closed", "[QUOTE=x]never closed"),
        ("[CODE]never closed", "[CODE]never closed"),
        ("stray [/B] closer", "stray [/B] closer"),
        ("[B][I]crossed[/B][/I]", "<b><i>crossed</i></b>[/I]"),
        (
            "[QUOTE][B]inside[/QUOTE][/B]",
            '<blockquote class="bb-quote"><div class="bb-quote-body"><b>inside</b></div>'
            "</blockquote>[/B]",
        ),
        ("[B]x[QUOTE]y[/B]z[/QUOTE]", "[B]x"),
        ("[unknown]tag[/unknown] [X] [ ]", "[unknown]tag[/unknown] [X] [ ]"),
        ("[URL=http://a.com][URL=http://b.com]x[/URL][/URL]", "[URL=http://b.com]x"),
    ],
)
def test_it_renders_bbcode(body, expected):
    rendered = render(body)

    assert expected in rendered
    _assert_safe(rendered)


def test_it_links_quote_headers_through_post_url():
    def post_url(post_id):
        return f"/q/red-alert-1953/?page=2#post-{post_id}" if post_id == 5 else None

    rendered = render(
        '[QUOTE="a, post: 5"]x[/QUOTE][QUOTE="b, post: 6"]y[/QUOTE]', post_url=post_url
    )

    hrefs = [attrs["href"] for tag, attrs in _parse(rendered).elements if tag == "a"]
    assert hrefs == ["/q/red-alert-1953/?page=2#post-5", "#post-6"]


XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="width: expression(alert(1))">x</p>',
    '<a href="javascript:alert(1)" hx-get="/admin" hx-post="/x" hx-on:click="alert(1)">x</a>',
    '<div hx-get="/q/x/close/" hx-trigger="load">x</div>',
    "[URL=javascript:alert(1)]x[/URL]",
    "[URL=JaVaScRiPt:alert(1)]x[/URL]",
    "[URL=java&#115;cript:alert(1)]x[/URL]",
    "[URL= javascript:alert(1)]x[/URL]",
    "[URL=java\tscript:alert(1)]x[/URL]",
    "[URL=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==]x[/URL]",
    "[URL=vbscript:msgbox(1)]x[/URL]",
    "[URL]javascript:alert(1)[/URL]",
    "[URL]JAVASCRIPT:alert(1)[/URL]",
    "[URL=//evil.example]x[/URL]",
    '[URL=http://x.example/" onmouseover="alert(1)]x[/URL]',
    '[URL=http://x.example/"><script>alert(1)</script>]x[/URL]',
    "[IMG]javascript:alert(1)[/IMG]",
    "[IMG]data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+[/IMG]",
    '[IMG]http://x.example/a.png" onerror="alert(1)[/IMG]',
    "[IMG]http://x.example/a.png\" onerror='alert(1)'[/IMG]",
    '[QUOTE="x\\" onmouseover=\\"alert(1)"]q[/QUOTE]',
    '[QUOTE="x" onmouseover="alert(1)"]q[/QUOTE]',
    '[QUOTE="<script>alert(1)</script>, post: 1"]q[/QUOTE]',
    '[QUOTE="a, post: 1" hx-get="/x"]q[/QUOTE]',
    '[SPOILER="<img src=x onerror=alert(1)>"]s[/SPOILER]',
    '[SPOILER="x" style="display:block"]s[/SPOILER]',
    "[COLOR=red;background:url(javascript:alert(1))]x[/COLOR]",
    "[COLOR=expression(alert(1))]x[/COLOR]",
    "[B][I][U]<script>alert(1)</script>",
    "[QUOTE][SPOILER][LIST][*]<svg onload=alert(1)>",
    "[/QUOTE][/SPOILER]</div></blockquote><script>alert(1)</script>",
    "[CODE]</code></pre><script>alert(1)</script>[/CODE]",
    "[LIST][*]<li onclick=alert(1)>x[/LIST]",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<!--<script>alert(1)</script>-->",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "[URL=https://ok.example]<a href=javascript:alert(1)>x</a>[/URL]",
]


@pytest.mark.parametrize("body", XSS_CORPUS)
def test_it_lets_nothing_executable_through(body):
    rendered = render(body)

    _assert_safe(rendered)
    assert (
        "javascript:"
        not in "".join(attrs.get("href") or "" for _, attrs in _parse(rendered).elements).lower()
    )


@pytest.mark.parametrize("body", XSS_CORPUS)
def test_it_lets_nothing_executable_through_a_custom_post_url(body):
    rendered = render(f'[QUOTE="a, post: 9"]{body}[/QUOTE]', post_url=lambda _: "javascript:x")

    _assert_safe(rendered)


@pytest.mark.parametrize(
    "body",
    [
        "[QUOTE]" * 1000 + "deep" + "[/QUOTE]" * 1000,
        "[B]" * 1000 + "unclosed",
        "[B][I]" * 600 + "[/QUOTE]" * 600,
        "[LIST]" + "[*]item" * 20_000 + "[/LIST]",
        "[CODE]" * 20_000,
        "[a=" * 30_000,
        ('[B]word[/B] and [QUOTE="a, post: 1"]quoted[/QUOTE]\n' * 2_500)[:100_000],
    ],
)
def test_it_renders_huge_and_deep_posts_without_breaking(body):
    rendered = render(body)

    parsed = _parse(rendered)
    assert parsed.open == [] and parsed.misnested == []
    # Each BBCode level adds at most two elements (a quote's blockquote and body div).
    assert parsed.max_depth <= 2 * MAX_DEPTH + 2


_TOKENS = st.sampled_from(
    [
        "[B]",
        "[/B]",
        "[i]",
        "[/I]",
        "[S]",
        "[/s]",
        '[QUOTE="a, post: 1"]',
        "[QUOTE]",
        "[/QUOTE]",
        "[SPOILER]",
        "[/SPOILER]",
        "[LIST]",
        "[*]",
        "[/LIST]",
        "[URL=http://a.b]",
        "[URL]",
        "[/URL]",
        "[IMG]",
        "[/IMG]",
        "[CODE]",
        "[/CODE]",
        "[COLOR=red]",
        "[/COLOR]",
        "javascript:alert(1)",
        "http://x.example/",
        "<script>",
        '" onerror="x',
        "\n",
        "text",
        "[",
        "]",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=40).map("".join))
def test_it_always_produces_safe_well_nested_html(body):
    _assert_safe(render(body))


@pytest.mark.parametrize(
    ("author", "post_id", "body", "expected"),
    [
        (
            "RedBanner",
            8400142,
            "1-B. Punish",
            '[QUOTE="RedBanner, post: 8400142"]\n1-B. Punish\n[/QUOTE]\n',
        ),
        (
            "Dnipro_Rail",
            8400156,
            '[QUOTE="RedBanner, post: 8400142"]\n1-B. Punish\n[/QUOTE]\nI second this.',
            '[QUOTE="Dnipro_Rail, post: 8400156"]\nI second this.\n[/QUOTE]\n',
        ),
        (
            "a",
            1,
            "[quote]outer [QUOTE=b]inner[/QUOTE] outer[/quote]\n\n\n\nmine",
            '[QUOTE="a, post: 1"]\nmine\n[/QUOTE]\n',
        ),
        (
            "a",
            2,
            "[QUOTE]never closed\nmine",
            '[QUOTE="a, post: 2"]\n[QUOTE]never closed\nmine\n[/QUOTE]\n',
        ),
        ('We"ird]', 3, "x", '[QUOTE="Weird, post: 3"]\nx\n[/QUOTE]\n'),
    ],
)
def test_it_quotes_a_post_for_reply(author, post_id, body, expected):
    assert quote_for_reply(author, post_id, body) == expected


@pytest.mark.parametrize(
    ("body", "limit", "expected"),
    [
        (
            "[B]Chapter Two:[/B] [i]Beria's[/i] Final Gamble",
            None,
            "Chapter Two: Beria's Final Gamble",
        ),
        ('[QUOTE="a, post: 1"]theirs[/QUOTE]\nmine', None, "mine"),
        ("see [IMG]http://x.example/a.png[/IMG] map", None, "see map"),
        ("[URL=http://a.b]the link[/URL]", None, "the link"),
        ("[LIST][*]one[*]two[/LIST]", None, "one two"),
        ("[X] keep ballot boxes", None, "[X] keep ballot boxes"),
        ("one two three four", 12, "one two…"),
        ("one two three", 100, "one two three"),
        ("abcdefghij", 5, "abcd…"),
        ("", 10, ""),
    ],
)
def test_it_gives_plain_text(body, limit, expected):
    assert plain_text(body, limit) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[B]1. Decide[/B]", "1. Decide"),
        ("[color=red]A) Yes[/color]", "A) Yes"),
        ("[ ] A) Yes", "[ ] A) Yes"),
        ("[x] B) No", "[x] B) No"),
    ],
)
def test_it_strips_tags_but_keeps_their_text(body, expected):
    assert strip_tags(body) == expected
