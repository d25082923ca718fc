"""The tally of a `lines` prompt (forum-style [X] ballots): entries, methods, quest-tally/1.

Pure Python (no Django): `votes.tally.tally_json` calls `lines_prompt_json` for
every prompt of kind `lines`, after the fold has resolved proxies, plans and
endorsements into each voter's `XLine`s. The rules are docs/xballots.md; the
format is section 3 of the shared thread-format.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from chapters.kinds import Method
from votes.merging import Merge, merge_roots
from votes.ranking import borda, rated_runoff, schulze
from votes.reading.types import Counted, PromptSpec, XLine

if TYPE_CHECKING:  # votes.tally imports this module: its types only, for the checker
    from votes.tally import EntryTally, PromptTally

APPROVAL = "approval"  # [+] / [-] lines: approvals minus disapprovals
SCORE = "score"  # [75%] lines: the highest mean score
_RANKED = {Method.SCHULZE: schulze, Method.RATED_RUNOFF: rated_runoff, Method.BORDA: borda}

# The tags XenForo's BBCode knows, opening or closing, with any option
# ("[COLOR=red]", '[URL="..."]'). Only these: a bracketed word that is not a tag
# ("[Note]") is part of what the voter wrote.
_TAGS = re.compile(
    r"\[/?(?:b|i|u|s|color|font|size|url|email|img|media|quote|spoiler|ispoiler|code|icode"
    r"|php|html|plain|list|\*|left|center|right|indent|user|attach|sub|sup|table|tr|td|th"
    r"|heading|h[1-6]|strike|hr|abbr)(?:=[^\]]*)?\]",
    re.IGNORECASE,
)
# An entry's label with its task: "[Ship] Repair the reactor".
_LABELLED = re.compile(r"\[([^\[\]\n]+)\] (.*)", re.DOTALL)


def entry_key(text: str, task: str | None = None) -> str:
    """What two lines must share to be one entry: `Scout the wreck!` = `scout thé  WRECK`.

    Case, BBCode tags, diacritics and everything that is not a letter or a digit
    (punctuation, dashes, white space) are ignored, so a different number or word
    is a different entry. The task is compared the same way; an entry with a task
    never shares a key with one without (the separator is not alphanumeric).
    """
    folded_task = _fold(task or "")
    return f"{folded_task}|{_fold(text)}" if folded_task else _fold(text)


def _fold(text: str) -> str:
    # NFKD splits "é" into "e" and a combining accent, which is not alphanumeric;
    # casefold between two NFKD passes, as Unicode's caseless matching does.
    text = unicodedata.normalize("NFKD", _TAGS.sub("", text))
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if c.isalnum())


def entry_label(text: str, task: str | None) -> str:
    """An entry as moderators name it in a merge, and as a winner is named: `[Ship] Repair`."""
    return f"[{task}] {text}" if task else text


def label_key(label: str) -> str:
    """The `entry_key` of an entry named by its `entry_label`."""
    labelled = _LABELLED.fullmatch(label)
    return entry_key(labelled[2], labelled[1]) if labelled else entry_key(label)


@dataclass(frozen=True, slots=True)
class _Mark:
    """One line of one voter's counted answer."""

    at: tuple[int, int, int]  # (copied from a proxy's target, post id, place): thread order
    voter: str
    line: XLine


def lines_prompt_json(
    prompt: PromptSpec,
    ballots: Mapping[str, Counted],
    suggestions: Sequence[str] = (),
    merges: Sequence[Merge] = (),
) -> PromptTally:
    """One `lines` prompt of the quest-tally/1 document.

    1. Every counted line joins the entry of its `entry_key`; an entry reads as
       the first spelling counted (the earliest post, then the first line in it).
    2. A moderator's `merges` (labels, oldest first) join entries as write-in
       merges do (`merging.merge_roots`): the joined entry reads as the entry kept
       and lists the others' labels as `merged_from`.
    3. A voter counts once per entry, by their first line on it: a `[-]` line is a
       disapproval, anything else supports it (`votes`, `voters`).
    4. Entries are sorted by votes, most first, then by first appearance.
    5. Marks decide the method: ranked lines -> the prompt's `method`; else
       scores -> `score`; else disapprovals -> `approval`. Entries carry the
       fields of every kind of mark used (`ranks`, `score`, `approve`/`disapprove`).
    The quest master's `suggestions` ([ ] lines) are listed, never counted.
    """
    groups = _groups(ballots)
    pairs = ((_merge_key(m.merged, groups), _merge_key(m.kept, groups)) for m in merges)
    roots = merge_roots(groups, pairs)
    joined: dict[str, list[str]] = {}
    for key in groups:
        joined.setdefault(roots[key], []).append(key)
    marks = [mark for lines in groups.values() for mark in lines]
    ranked = any(m.line.rank is not None for m in marks)
    scored = any(m.line.score is not None for m in marks)
    against = any(m.line.against for m in marks)
    rankings = _rankings(groups, roots) if ranked else {}
    places = max((len(r) for r in rankings.values()), default=0)
    entries: dict[str, EntryTally] = {}
    for root, keys in joined.items():
        firsts = _firsts(m for key in keys for m in groups[key])
        entry = _entry(groups, root, keys, firsts)
        if ranked:
            entry["ranks"] = [
                sum(1 for r in rankings.values() if len(r) > p and r[p] == root)
                for p in range(places)
            ]
        if against:
            entry["approve"] = entry["votes"]
            entry["disapprove"] = sum(1 for m in firsts if m.line.against)
        if scored:
            mean = _mean_score(firsts)
            entry["score"] = None if mean is None else round(float(mean), 1)
        entries[root] = entry
    order = {root: min(m.at for key in keys for m in groups[key]) for root, keys in joined.items()}
    out: PromptTally = {
        "number": prompt.number,
        "kind": str(prompt.kind),
        "text": prompt.text,
        "partition": str(prompt.partition),
        "proxies": str(prompt.proxies),
        "entries": [
            entries[r] for r in sorted(entries, key=lambda r: (-entries[r]["votes"], order[r]))
        ],
        "suggestions": list(suggestions),
    }
    if ranked:
        method = str(prompt.method)
        candidates = [root for root, entry in entries.items() if entry["votes"]]
        winners = _RANKED[prompt.method](rankings.values(), candidates)
    elif scored:
        method, winners = SCORE, _best(_scores(groups, joined))
    elif against:
        method = APPROVAL
        winners = _best({r: Fraction(e["approve"] - e["disapprove"]) for r, e in entries.items()})
    else:
        return out
    out["method"] = method
    names = sorted((_label(entries[w]) for w in winners), key=lambda t: (t.casefold(), t))
    out["winner"] = names[0] if len(names) == 1 else (names or None)
    return out


def _groups(ballots: Mapping[str, Counted]) -> dict[str, list[_Mark]]:
    """Every counted line under its entry key, in thread order."""
    groups: dict[str, list[_Mark]] = {}
    for voter, counted in ballots.items():
        for place, line in enumerate(counted.answer.lines):
            if line.refers is not None:  # the fold resolves proxies: a leftover counts for none
                continue
            # A ballot that follows another voter's (a proxy) copies their words: the
            # first spelling shown is the first one a voter wrote themselves.
            copied = int(counted.answer.reason.startswith("follows "))
            mark = _Mark((copied, counted.post_id, place), voter, line)
            groups.setdefault(entry_key(line.text, line.task), []).append(mark)
    for marks in groups.values():
        marks.sort(key=lambda m: m.at)
    return groups


def _merge_key(label: str, present: Mapping[str, object]) -> str:
    """The key of the entry a merge names by its label.

    A text of its own that starts with a bracketed word reads like a label with
    a task: the key without a task is taken when only that one is in the tally.
    """
    key = label_key(label)
    return entry_key(label) if key not in present and entry_key(label) in present else key


def _entry(
    groups: Mapping[str, list[_Mark]], root: str, keys: Sequence[str], firsts: Sequence[_Mark]
) -> EntryTally:
    first = groups[root][0].line
    entry: EntryTally = {
        "text": first.text,
        "task": first.task,
        "plan": first.plan,
        "votes": sum(1 for m in firsts if not m.line.against),
        "voters": sorted(m.voter for m in firsts if not m.line.against),
    }
    if len(keys) > 1:
        labels = (_label_of(groups[key][0].line) for key in keys if key != root)
        entry["merged_from"] = sorted(labels, key=lambda t: (t.casefold(), t))
    return entry


def _firsts(marks: Iterable[_Mark]) -> list[_Mark]:
    """Each voter's first line among `marks`: a voter counts once per entry."""
    firsts: dict[str, _Mark] = {}
    for mark in sorted(marks, key=lambda m: m.at):
        firsts.setdefault(mark.voter, mark)
    return list(firsts.values())


def _rankings(groups: Mapping[str, list[_Mark]], roots: Mapping[str, str]) -> dict[str, list[str]]:
    """Each voter's ranking of entries (by root key), best first.

    Ranked lines go by their rank, then lines with no rank in the order written
    (a voter who ticks [X] lines in a ranked prompt ranks them as written);
    disapprovals rank nothing, and an entry keeps its best place.
    """
    lines: dict[str, list[tuple[tuple[bool, int, int], str]]] = {}
    for key, marks in groups.items():
        for m in marks:
            if not m.line.against:
                rank = m.line.rank
                order = (rank is None, rank or 0, m.at[2])
                lines.setdefault(m.voter, []).append((order, roots[key]))
    return {
        voter: list(dict.fromkeys(root for _, root in sorted(ls))) for voter, ls in lines.items()
    }


def _mean_score(marks: Iterable[_Mark]) -> Fraction | None:
    scores = [m.line.score for m in marks if m.line.score is not None]
    return Fraction(sum(scores), len(scores)) if scores else None


def _scores(
    groups: Mapping[str, list[_Mark]], joined: Mapping[str, list[str]]
) -> dict[str, Fraction]:
    """Each scored entry's exact mean score; entries no one scored are left out."""
    means = {
        root: _mean_score(_firsts(m for key in keys for m in groups[key]))
        for root, keys in joined.items()
    }
    return {root: mean for root, mean in means.items() if mean is not None}


def _best(values: Mapping[str, Fraction]) -> list[str]:
    top = max(values.values(), default=None)
    return [key for key, value in values.items() if value == top]


def _label(entry: EntryTally) -> str:
    return entry_label(entry["text"], entry.get("task"))


def _label_of(line: XLine) -> str:
    return entry_label(line.text, line.task)
