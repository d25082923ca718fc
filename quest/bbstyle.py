"""A poster's colours, sizes and alignment as classes of a fixed palette and scale.

Quest masters colour their vote options, centre their chapter titles and size
their headings, so the page shows `[COLOR]`, `[SIZE]` and `[CENTER]`; but
never as inline styles, which the Content-Security-Policy forbids (and which
would let a post restyle the page). Each value becomes one class from a closed
set that static/css/app.css defines, or nothing when it is not a value a
forum would accept: `[COLOR=red;background:url(x)]` is plain text in no colour.

Pure text in, class name out: no Django.
"""

from __future__ import annotations

import colorsys
import re

import webcolors

__all__ = [
    "ALIGN_CLASSES",
    "COLOR_CLASSES",
    "SIZE_CLASSES",
    "align_class",
    "color_class",
    "size_class",
]

ALIGNS = ("center", "left", "right", "justify")
ALIGN_CLASSES = frozenset(f"bb-align-{name}" for name in ALIGNS)

# The palette, by hue; black and white are the page's own text colour (white text
# would vanish on the light background, black is what text already is).
PALETTE = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "grey")
COLOR_CLASSES = frozenset(f"bb-color-{name}" for name in PALETTE)

# XenForo's [SIZE=1..7] in pixels; 4 is the forum's body text.
SIZE_PX = (9, 10, 12, 15, 18, 22, 26)
SIZE_CLASSES = frozenset(f"bb-size-{n}" for n in range(1, len(SIZE_PX) + 1))
_BODY_PX = SIZE_PX[3]

# Upper bounds of each hue sector, in degrees, red wrapping round at 345.
_HUES = (
    *((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"), (195, "teal")),
    *((255, "blue"), (290, "purple"), (345, "pink"), (360, "red")),
)

_HEX = re.compile(r"#(?:[0-9a-f]{3}){1,2}")
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*[\d.]+%?\s*)?\)")
_NAME = re.compile(r"[a-z]{3,20}")
_LENGTH = re.compile(r"(\d{1,4}(?:\.\d{1,3})?)(px|pt|em|rem|%)?")
_KEYWORD_SIZES = {
    "xx-small": 1,
    "x-small": 1,
    "small": 3,
    "medium": 4,
    "large": 5,
    "x-large": 6,
    "xx-large": 7,
    "xxx-large": 7,
}


def align_class(name: str) -> str | None:
    """`[CENTER]` → "bb-align-center"; None for a tag that is not an alignment."""
    return f"bb-align-{name}" if name in ALIGNS else None


def color_class(value: str | None) -> str | None:
    """The palette class nearest a `[COLOR=…]` value, or None (shown in the text's colour).

    1. The value is read as a CSS colour name, `#rgb`/`#rrggbb` or `rgb()`/`rgba()`
       (what forum editors write); anything else is no colour at all.
    2. Near-black and near-white are the page's own text colour: None.
    3. Greys (little chroma) are grey; dark oranges are brown, dark magentas purple.
    4. Otherwise the hue picks the palette entry whose hue sector holds it.
    """
    rgb = _parse_color(_unquote(value or ""))
    if rgb is None:
        return None
    hue, lightness, _ = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    chroma = (max(rgb) - min(rgb)) / 255
    if lightness <= 0.12 or lightness >= 0.92 and chroma < 0.5:
        return None
    if chroma < 0.15:
        return "bb-color-grey"
    degrees = hue * 360
    if 15 <= degrees < 50 and lightness < 0.42:
        return "bb-color-brown"
    name = next(name for bound, name in _HUES if degrees < bound)
    if name == "pink" and lightness < 0.4:
        name = "purple"
    return f"bb-color-{name}"


def size_class(value: str | None) -> str | None:
    """The class of the scale step nearest a `[SIZE=…]` value, or None (the text's size).

    1 to 7 are XenForo's steps; a larger bare number, or a length in px, pt,
    em, rem or %, is the step of nearest pixel size (clamped to the scale); CSS
    keywords (small, x-large…) map to their step. Zero, negatives and anything
    else are no size.
    """
    text = _unquote(value or "").lower()
    if text in _KEYWORD_SIZES:
        return f"bb-size-{_KEYWORD_SIZES[text]}"
    match = _LENGTH.fullmatch(text)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if number <= 0:
        return None
    if unit is None and number == int(number) and number <= len(SIZE_PX):
        return f"bb-size-{int(number)}"
    px = number * {"pt": 4 / 3, "em": _BODY_PX, "rem": _BODY_PX, "%": _BODY_PX / 100}.get(
        unit or "px", 1
    )
    step = min(range(len(SIZE_PX)), key=lambda i: abs(SIZE_PX[i] - px))
    return f"bb-size-{step + 1}"


def _parse_color(text: str) -> tuple[int, int, int] | None:
    text = text.lower()
    if _HEX.fullmatch(text):
        red, green, blue = webcolors.hex_to_rgb(text)
        return red, green, blue
    if match := _RGB.fullmatch(text):
        red, green, blue = (int(part) for part in match.groups())
        return (red, green, blue) if max(red, green, blue) <= 255 else None
    if _NAME.fullmatch(text):
        try:
            red, green, blue = webcolors.name_to_rgb(text)
        except ValueError:
            return None
        return red, green, blue
    return None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value.strip()
