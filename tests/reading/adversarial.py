"""Adversarial posts: every separator and repetition the grammar accepts, in long runs.

Shared by the bounded-time tests and bench/reading.py. Each family is one run
(spaces, a dash, `1-A `, an unclosed tag, ...) repeated to SIZE characters
between a prefix and a suffix (WRAPS): between a number and a letter, after a
voting statement, alone.
"""

DASH_KINDS = {
    "hyphen": "-",
    "hyphen2": "\u2010",
    "nbhyphen": "\u2011",
    "figure": "\u2012",
    "en": "\u2013",
    "em": "\u2014",
    "bar": "\u2015",
    "minus": "\u2212",
}
RUNS = {
    "spaces": " ", "tabs": "\t", "nbsp": "\u00a0", "dots": ".", "colons": ":",
    "open-brackets": "[", "close-brackets": "]", "open-parens": "(", "close-parens": ")",
    "digits": "1", "letters": "A", "lower-letters": "a", "letters-commas": "A, ",
    "commas": ",", "newlines": "\n", "crlf": "\r\n", "unclosed-bold": "[B]",
    "unclosed-quote": "[QUOTE]", "quote-attr": "[QUOTE=x]", "close-quote": "[/QUOTE]",
    "space-tab": " \t", "dash-space": "- ", "space-dot": " .", "answers": "1-A ",
    "answer-lines": "1-A\n", "numbers-dash": "1-", "numbers-space": "1 ", "ranks": "A > ",
    "i-vote": "I vote ", "and": " and ", "slashes": "/", "x-markers": "[X] ",
    "hashes": "#", "q-numbers": "Q1 ", "arrows": "->", "equals": "=", "bullets": "* ",
    "option-lines": "A) ", "for-prompt": "For 1, ", "on-prompt": "on 1 ", "yes": "yes ",
    "word": "vote ", "apostrophes": "'", "caps-run": "AB", "numbers-dot": "1.",
    "paren-numbers": "1)", "bracket-ranks": "[1] A ", "tally-count": "A - 3 ",
    "spoilers": "[SPOILER]", "strike": "[S]", "color": "[COLOR=red]", "url": "[URL=",
    **{f"dashes-{k}": v for k, v in DASH_KINDS.items()},
    "mix-space-dash-dot": " -.", "mix-tab-colon": "\t:", "mix-nbsp-en": "\u00a0\u2013",
    "mix-brackets-space": "[ ] ", "mix-newline-space": "\n ",
    "mix-quote-nested": "[QUOTE][QUOTE=a]",
    "mix-answer-separators": "1 -\t.A,\u00a0", "mix-tags-answers": "[B]1-A[/I]\n",
}  # fmt: skip
WRAPS = {
    "number-letter": ("1", "A"),
    "letter-end": ("1-", "B"),
    "prose": ("I vote ", " 1-B"),
    "plain": ("", ""),
}
SIZE = 60_000


def body(run: str, wrap: tuple[str, str] = ("1", "A"), size: int = SIZE) -> str:
    pre, post = wrap
    n = size - len(pre) - len(post)
    return pre + (run * (n // len(run) + 1))[:n] + post


def nested_quotes(size: int = SIZE) -> str:
    """Quotes nested as deep as the size allows, each closed, a ballot at the bottom."""
    depth = (size - 3) // len("[QUOTE][/QUOTE]")
    return "[QUOTE]" * depth + "1-A" + "[/QUOTE]" * depth


def spans_post(size: int = 96_000) -> tuple[str, list[tuple[int, int]]]:
    """A post of `1-A` lines and one span per line: the audit highlighter's worst case."""
    lines = size // 4
    return "1-A\n" * lines, [(4 * i, 4 * i + 3) for i in range(lines)]


def cases() -> list[tuple[str, str]]:
    """(id, body) for every family in every wrap, and the nested quotes."""
    found = [(f"{r}/{w}", body(run, wrap)) for r, run in RUNS.items() for w, wrap in WRAPS.items()]
    return [*found, ("nested-quotes", nested_quotes())]


# `[X]` ballots (issue 15): families read against a vote with `lines` prompts, where
# the [X] scanner, the plan book and the line proxies run on every line.
X_RUNS = {
    "x-lines": "[X] Scout the wreck\n", "x-sub-lines": "-[X] with parts\n",
    "x-deep": "-", "x-dash-space": "- ", "x-unclosed": "[X", "x-brackets": "[X][X][X] ",
    "x-tasks": "[X][Ship] Repair\n", "x-plans": "[X] Plan Quiet Hours\n",
    "x-plan-blocks": "[X] Plan A\n-[X] b\n", "x-proposed": "Proposed Plan: A\n[ ] b\n",
    "x-proxies": "[X] voter1\n", "x-pinned": "[X] ^voter1\n", "x-ranks": "[#1] a\n",
    "x-scores": "[75%] a\n", "x-approval": "[+] a\n[-] b\n", "x-boxes": "\u2612 a\n",
    "x-lookalikes": "(X) a\n", "x-empty": "[ ] \n", "x-headings": "2.\n[X] a\n",
    "x-possessive": "[X] voter1's plan\n", "x-struck": "[X] [S]a[/S]\n",
}  # fmt: skip
X_WRAPS = {"plain": ("", ""), "after-block": ("[X] Repair\n", "\n-[X] tail")}


def x_cases() -> list[tuple[str, str]]:
    """(id, body) for every [X] family in every wrap: read against tests' LINES_VOTE."""
    return [
        (f"{r}/{w}", body(run, wrap)) for r, run in X_RUNS.items() for w, wrap in X_WRAPS.items()
    ]


def x_earlier() -> list[tuple[str, str]]:
    """Posts before the adversarial one: posters to name, plans to find (author, body)."""
    plans = [(f"voter{i}", f"[X] Plan Quiet Hours\n-[X] step {i}") for i in range(1, 40)]
    return [*plans, *((f"voter{i}", "[X] Scout the wreck") for i in range(40, 200))]
