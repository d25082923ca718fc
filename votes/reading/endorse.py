"""Posts that follow another post: endorsements, agreements by name, proxies (rules 7, 8).

What a post's own text says about whom it follows, read from the text alone:
`I second this` next to a quote, `what Anya said but 2-B`, `^ this`, `[X] Name`.
The thread (thread.py) resolves the post followed and copies its ballot.
"""

from __future__ import annotations

import re
from typing import Protocol

from . import agree, grammar, social
from .bbcode import QUOTE_MARK, Doc, Quote
from .found import Found
from .types import VoteSpec

_LINE = re.compile(r"[^\n]*")
# Commentary an endorsement may carry ("I second this. Grain is life."); a longer
# post under a quote is a post of its own, read as such.
_ENDORSEMENT_COMMENT_MAX = 400
# After the agreement: a new sentence or clause, so what follows is commentary.
_COMMENT_START = re.compile(r"[ \t]*(?:[.!,;:\u2013\u2014-]|[ \t][A-Z0-9]|$)")
_AMENDS = re.compile(r"(?i)\b(?:except|but|apart[ \t]+from)\b")


class ThreadView(Protocol):
    """What a named agreement needs of the thread (thread.Thread)."""

    keys: list[str]  # case-folded author of each post, in order
    qm: str  # the quest master, case-folded

    def ballot_post_of(self, key: str, i: int) -> int | None: ...

    def holds_ballot(self, j: int) -> bool: ...


def proxy(doc: Doc, posters: social.Posters) -> tuple[str, bool] | None:
    """A post whose own text is one line naming a poster; stops at a second line."""
    text = doc.text
    if not doc.quotes:
        stripped = text.strip()
        if not stripped or "\n" in stripped:
            return None  # nothing, or a first and a last line that are both not blank
    only = None
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped == QUOTE_MARK:
            continue
        if only is not None:
            return None
        only = line
    return social.proxy(only, posters) if only is not None else None


def proxy_to_nobody(doc: Doc) -> str | None:
    """The name of a one-line `[X] Name` post whose name is no earlier poster's (rule 8)."""
    lines = [x for x in doc.text.split("\n") if x.strip() and x.strip() != QUOTE_MARK]
    return social.proxy_named(lines[0]) if len(lines) == 1 else None


def endorsement(doc: Doc, vote: VoteSpec) -> tuple[Quote, tuple[int, int], list[Found]] | None:
    """A short agreement next to a quote: (the quote, the agreement's own-text span)."""
    if not doc.quotes:
        return None
    lines = _own_lines(doc)
    quotes_before = 0
    agreed: tuple[int, int, int, list[Found]] | None = None
    prose_chars = 0
    for s, e in lines:
        line = doc.text[s:e]
        if line.strip() == QUOTE_MARK:
            quotes_before += 1
            continue
        if agreed is None:
            end = social.agreement(line)
            if end is None:
                return None
            overrides = _endorsement_changes(line, s, end, vote)
            if overrides is None:
                return None
            agreed = (s, s + end, quotes_before, overrides)
            continue
        if not grammar.read_line(line, vote).hits:
            prose_chars += len(line.strip())
    if agreed is None or prose_chars > _ENDORSEMENT_COMMENT_MAX:
        return None
    start, stop, quotes_above, overrides = agreed
    index = quotes_above - 1 if quotes_above > 0 else 0
    return doc.quotes[index], (start, stop), overrides


def _endorsement_changes(line: str, s: int, end: int, vote: VoteSpec) -> list[Found] | None:
    """What follows the agreement on its line: changes, commentary, or (None) not an endorsement.

    `Agreed, except 2-B` changes the copy; `I second this. Grain is life.` is
    commentary; `Agreed, but not on the navy` changes it in words the reader
    cannot read, so the post is held back whole; `I agree with the tanks part`
    is not an agreement with the quoted ballot at all.
    """
    rest = line[end:]
    skip = len(rest) - len(rest.lstrip(" ,;:-\t"))
    at = s + end + skip
    changes = grammar.read_line(rest[skip:], vote).hits if rest.strip() else ()
    if changes and all(h.text is None for h in changes):
        return [
            Found(h.prompt, at + h.start, at + h.end, h.letters, None, h.problem,
                  h.suggestion, f"change to the endorsed ballot: {h.how}")
            for h in changes
        ]  # fmt: skip
    if not rest.strip():
        return []
    if _AMENDS.search(line, 0, end):
        shown = rest.strip()[:60]
        problem = f"agrees with the quoted ballot with changes the reader cannot read: '{shown}'"
        return [Found(0, at, s + len(line), problem=problem)]
    if _COMMENT_START.match(rest) or (rest[:1].isupper() and line[end - 1 : end].isspace()):
        return []
    return None


def named_agreement(
    doc: Doc, vote: VoteSpec, thread: ThreadView, i: int
) -> tuple[int | str, tuple[int, int], list[Found]] | None:
    """`what Anya said but 2-B`, `^ this`: (post to copy, or why none; span; amendments)."""
    first = _first_own_line(doc)
    if first is None:
        return None
    s, e = first
    line = doc.text[s:e]
    if (bare := agree.bare_agreement(doc.text)) is not None:
        # "+1" right under a ballot most likely seconds it, but names nothing: held, not
        # guessed; under anything else it is a reaction, as chatter.
        if i == 0 or not thread.holds_ballot(i - 1):
            return None
        why = f"a bare '{bare}' under a ballot, quoting and naming no one; a moderator must decide"
        return why, (s, e), []
    if not agree.may_agree(line):
        return None  # most posts: no agreement phrase, so no list of posters is built
    posters = sorted(set(thread.keys[:i]) - {thread.keys[i], thread.qm}, key=len, reverse=True)
    found = agree.read_agreement(line, posters[:5000])
    if found is None:
        return None
    overrides: list[Found] = []
    if found.amends_at is not None:
        at = s + found.amends_at
        for h in grammar.read_line(doc.text[at:e], vote).hits:
            overrides.append(
                Found(h.prompt, at + h.start, at + h.end, h.letters, h.text, h.problem,
                      h.suggestion, f"change to the agreed ballot: {h.how}")
            )  # fmt: skip
    target = _agreed_post(found, bool(overrides), posters, thread, i)
    return target, (s, s + found.end), overrides if isinstance(target, int) else []


def _agreed_post(
    found: agree.Agreement, changed: bool, posters: list[str], thread: ThreadView, i: int
) -> int | str:
    """The post a named agreement copies, or why there is none to copy."""
    who = "the post above" if found.target == agree.ABOVE else f"'{found.target}'"
    if found.hedged:
        return f"agrees with {who} only in part or with doubt; a moderator must decide"
    if found.amends_at is not None and not changed:
        return f"agrees with {who} with changes the reader cannot read"
    if found.target == agree.ABOVE:
        return "agrees with the post above, and there is none" if i == 0 else i - 1
    if not found.known:
        near = [p for p in posters if p.startswith(found.target[:5])][:5]
        hint = f" (did they mean {', '.join(near)}?)" if near else ""
        return f"agrees with {who}, who has not posted in this thread{hint}"
    j = thread.ballot_post_of(found.target, i)
    return f"agrees with {who}, who has not posted in this thread" if j is None else j


def _first_own_line(doc: Doc) -> tuple[int, int] | None:
    """The span of the first line with something on it (without splitting the rest)."""
    return next((m.span() for m in _LINE.finditer(doc.text) if m.group(0).strip()), None)


def _own_lines(doc: Doc) -> list[tuple[int, int]]:
    return [m.span() for m in _LINE.finditer(doc.text) if m.group(0).strip()]
