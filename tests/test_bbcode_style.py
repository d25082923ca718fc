"""[CENTER], [COLOR] and [SIZE] on our pages: classes of a fixed palette and scale, never styles.

Quest masters centre chapter titles, size headings and colour vote options; the
page shows them through classes static/css/app.css defines (quest/bbstyle.py),
so the Content-Security-Policy's `style-src 'self'` holds and no post can
restyle the page. A value outside what forums accept is plain text.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quest import bbstyle
from quest.bbcode import MAX_DEPTH, render

CSS = (Path(__file__).resolve().parents[1] / "static" / "css" / "app.css").read_text()
STYLE_CLASSES = bbstyle.ALIGN_CLASSES | bbstyle.COLOR_CLASSES | bbstyle.SIZE_CLASSES
OWN_CLASSES = {"bb-quote", "bb-quote-header", "bb-quote-body", "bb-spoiler", "bb-code"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str | None]] = []
        self.open: list[str] = []
        self.misnested: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value) for name, value in attrs]
        if tag not in ("br", "img"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.misnested.append(tag)


def _assert_no_style(markup: str) -> None:
    parsed = _Elements()
    parsed.feed(markup)
    parsed.close()
    assert parsed.open == [] and parsed.misnested == [], markup
    assert "style" not in [name for _, name, _ in parsed.attributes], markup
    assert not re.search(r"<[^>]*\sstyle\s*=", markup, re.IGNORECASE), markup
    for _, name, value in parsed.attributes:
        assert not name.startswith("on"), markup
        if name == "class":
            assert set((value or "").split()) <= STYLE_CLASSES | OWN_CLASSES, markup


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("red", "red"),
        ("Red", "red"),
        ('"red"', "red"),
        ("'blue'", "blue"),
        ("#F00", "red"),
        ("#ff0000", "red"),
        ("#2980b9", "blue"),  # XenForo's editor blue
        ("rgb(184, 49, 47)", "red"),  # XenForo's editor red
        ("rgba(65, 168, 95, 0.5)", "green"),
        ("darkred", "red"),
        ("crimson", "red"),
        ("orange", "orange"),
        ("chocolate", "orange"),
        ("gold", "yellow"),
        ("yellow", "yellow"),
        ("lime", "green"),
        ("darkgreen", "green"),
        ("teal", "teal"),
        ("cyan", "teal"),
        ("navy", "blue"),
        ("royalblue", "blue"),
        ("skyblue", "blue"),
        ("purple", "purple"),
        ("indigo", "purple"),
        ("violet", "pink"),
        ("magenta", "pink"),
        ("hotpink", "pink"),
        ("saddlebrown", "brown"),
        ("sienna", "brown"),
        ("grey", "grey"),
        ("gray", "grey"),
        ("silver", "grey"),
        ("slategray", "grey"),
    ],
)
def test_it_maps_a_colour_to_the_nearest_of_the_palette(value, expected):
    assert bbstyle.color_class(value) == f"bb-color-{expected}"


@pytest.mark.parametrize(
    "value",
    [
        "black",
        "#000",
        "white",
        "#fefefe",
        None,
        "",
        "notacolour",
        "red;background:url(x)",
        "red; background: url(javascript:alert(1))",
        "expression(alert(1))",
        "url(http://x.example/a.png)",
        "#ff00",
        "#gg0000",
        "rgb(300, 0, 0)",
        'red" onmouseover="alert(1)',
        "var(--danger)",
        "transparent",
        "currentcolor",
    ],
)
def test_it_leaves_text_in_its_own_colour_for_black_white_and_what_is_no_colour(value):
    assert bbstyle.color_class(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("4", 4),
        ("7", 7),
        ('"6"', 6),
        ("8", 1),  # a bare number past the scale is pixels: 8px is the smallest step
        ("22", 6),
        ("999", 7),
        ("22px", 6),
        ("20px", 5),
        ("100px", 7),
        ("1px", 1),
        ("150%", 6),
        ("100%", 4),
        ("50%", 1),
        ("2em", 7),
        ("1.2em", 5),
        ("12pt", 4),
        ("14pt", 5),
        ("small", 3),
        ("X-Large", 6),
    ],
)
def test_it_maps_a_size_to_the_nearest_step_of_the_scale(value, expected):
    assert bbstyle.size_class(value) == f"bb-size-{expected}"


@pytest.mark.parametrize(
    "value",
    [None, "", "0", "-3", "0px", "huge", "7;font-size:999px", "10vw", "calc(100px)", "1e9"],
)
def test_it_keeps_text_its_own_size_for_what_is_no_size(value):
    assert bbstyle.size_class(value) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[CENTER]Chapter Three[/CENTER]", '<div class="bb-align-center">Chapter Three</div>'),
        ("[left]l[/left][RIGHT]r[/RIGHT]", '<div class="bb-align-left">l</div>'),
        ("[left]l[/left][RIGHT]r[/RIGHT]", '<div class="bb-align-right">r</div>'),
        ("[JUSTIFY]j[/JUSTIFY]", '<div class="bb-align-justify">j</div>'),
        ("[COLOR=red]A) Yes[/COLOR]", '<span class="bb-color-red">A) Yes</span>'),
        ("[SIZE=6]Title[/SIZE]", '<span class="bb-size-6">Title</span>'),
        (
            "[CENTER][B][SIZE=6]Chapter One: The Lamp Goes Dark[/SIZE][/B][/CENTER]\n\nText",
            '<div class="bb-align-center"><b><span class="bb-size-6">Chapter One: The Lamp Goes'
            " Dark</span></b></div><br>Text",
        ),
        # The forum drops the newline after a block's opening and closing tags.
        ("[CENTER]\nmiddle\n[/CENTER]\nnext", '<div class="bb-align-center">middle</div>next'),
        ("[COLOR=red;background:url(x)]hostile[/COLOR]", "hostile"),
        ('[COLOR="red" style="color:red"]x[/COLOR]', "x"),
        ("[SIZE=999]big[/SIZE]", '<span class="bb-size-7">big</span>'),
        ('[SIZE=7" onmouseover="alert(1)]x[/SIZE]', "x"),
        ("[COLOR=white]on white[/COLOR]", "on white"),
        ("[FONT=Comic Sans]still dropped[/FONT]", "still dropped"),
        ("[CENTER]never closed", "[CENTER]never closed"),
        ("[COLOR=red]never closed", "[COLOR=red]never closed"),
        ("[SIZE=5]never closed", "[SIZE=5]never closed"),
        ("stray [/CENTER] and [/COLOR]", "stray [/CENTER] and [/COLOR]"),
        (
            '[QUOTE="QM, post: 1"][COLOR=blue]1-A[/COLOR][/QUOTE]',
            '<div class="bb-quote-body"><span class="bb-color-blue">1-A</span></div>',
        ),
        (
            "[COLOR=red][SIZE=7][CENTER]nested[/CENTER][/SIZE][/COLOR]",
            '<span class="bb-color-red"><span class="bb-size-7"><div class="bb-align-center">'
            "nested</div></span></span>",
        ),
    ],
)
def test_it_renders_alignment_colour_and_size_as_classes(body, expected):
    rendered = render(body)

    assert expected in rendered
    _assert_no_style(rendered)


def test_it_closes_misnested_styles_as_the_forum_does():
    # [/B] closes the [CENTER] opened inside it; the [/CENTER] after is text.
    assert render("[B][CENTER]x[/B]y[/CENTER]") == (
        '<b><div class="bb-align-center">x</div></b>y[/CENTER]'
    )


def test_it_nests_styles_no_deeper_than_any_tag():
    body = "[COLOR=red][SIZE=7][CENTER]" * 50 + "deep" + "[/CENTER][/SIZE][/COLOR]" * 50

    rendered = render(body)

    _assert_no_style(rendered)
    assert rendered.count("<span") + rendered.count("<div") <= MAX_DEPTH


def test_it_defines_every_class_it_can_render_in_the_stylesheet():
    defined = set(re.findall(r"\.(bb-(?:align|color|size)-[a-z0-9]+)\s*\{", CSS))

    assert defined == STYLE_CLASSES
    assert len(bbstyle.COLOR_CLASSES) <= 12 and len(bbstyle.SIZE_CLASSES) == 7


_VALUES = st.sampled_from(
    [
        "red",
        "#2980b9",
        "rgb(184, 49, 47)",
        "999",
        "7",
        "150%",
        "red;background:url(x)",
        '" style="x',
        "' onclick='x",
        "expression(alert(1))",
        "<script>",
        "",
    ]
)
_PIECES = st.one_of(
    st.builds(lambda name, value: f"[{name}={value}]", st.sampled_from(["COLOR", "SIZE"]), _VALUES),
    st.sampled_from(
        ["[/COLOR]", "[/SIZE]", "[CENTER]", "[/CENTER]", "[RIGHT]", "[/RIGHT]", "[LEFT]"]
        + ["[B]", "[/B]", "[QUOTE]", "[/QUOTE]", "[LIST]", "[*]", "[/LIST]", "\n", "text"]
        + ['<span style="color:red">', "</div>"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_it_never_renders_a_style_attribute(body):
    _assert_no_style(render(body))
