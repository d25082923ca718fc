"""A `lines` answer ([X] ballot) in words: for the previews, the audit, the panel and the CSV.

Pure Python (no Django). An answer to a `lines` prompt holds its entries in
`Answer.lines` and no letters or text, so every place that shows answers asks
here how to show its entries; the audit's "Count instead" box is read back by
`lines_from_text`, in the notation `lines_as_text` writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from votes.line_tally import entry_label
from votes.reading.types import Answer, XLine

# A moderator's entry line: optional marker ("[X]", "[#1]", "[2]", "[75%]", "[+]", "[-]"),
# optional task ("[Ship]"), then the text. A sub-line starts with dashes.
_MARKER = re.compile(
    r"\[\s*(?:(?P<tick>[xX✓✔☒☑+])|(?P<minus>-)|#?(?P<rank>\d{1,2})|(?P<score>\d{1,3})\s*%)"
    r"\s*\]\s*"
)
_TASK = re.compile(r"\[(?P<task>[^\[\]\n]+)\]\s*")
_DASHES = re.compile(r"[-–—]+\s*")


def line_words(line: XLine) -> dict[str, Any]:
    """One entry as the templates list it: its marker, task, first line and sub-lines.

    Sub-lines keep their dashes ("-With two scouts"): the list indents them
    under the entry and the dashes say how deep each one is.
    """
    head, *subs = line.text.split("\n")
    plan = None
    if line.plan is not None:  # said only when the entry's first line does not say it
        plan = "" if _bare(line.plan) == _bare(head) else line.plan
    return {
        "marker": marker(line),
        "task": line.task,
        "text": head,
        "subs": subs,
        "plan": plan,
        "refers": line.refers,
        "pinned": line.pinned,
    }


def marker(line: XLine) -> str:
    """The marker the line was voted with, as a voter writes it: [X], [#1], [75%], [-]."""
    if line.against:
        return "[-]"
    if line.rank is not None:
        return f"[#{line.rank}]"
    if line.score is not None:
        return f"[{line.score}%]"
    return "[X]"


def line_label(line: XLine) -> str:
    """One entry on one line of text (the CSV): "[Ship] Repair", "[#1] Rest", "follows Anya".

    The plain [X] marker is left out, as the tally's labels leave it out; the
    others are what the vote says about the entry, so they stay.
    """
    if line.refers is not None:
        return f"follows {line.refers}" + (" (as it stood)" if line.pinned else "")
    mark = marker(line)
    label = entry_label(line.text, line.task)
    return label if mark == "[X]" else f"{mark} {label}"


def lines_cell(lines: Iterable[XLine]) -> str:
    """A lines answer in one CSV cell: its entries joined with " | "."""
    return " | ".join(line_label(x) for x in lines)


def entries_count(answer: Answer) -> str:
    """ "2 [X] entries": a lines answer in the thread's compact "Read as" line."""
    n = len(answer.lines)
    return f"{n} [X] entr{'y' if n == 1 else 'ies'}"


def answer_lines(answer: Answer | Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The entries of an answer (or of its stored JSON) in words; [] for a lettered one."""
    if answer is None:
        return []
    if isinstance(answer, Mapping):
        return [line_words(XLine.from_json(x)) for x in answer.get("lines") or ()]
    return [line_words(x) for x in answer.lines]


def lines_as_text(lines: Iterable[XLine]) -> str:
    """The entries in the notation `lines_from_text` reads: the correction box's start.

    "" when a line follows another voter (the fold resolves those; a box of
    text cannot say it), so the moderator writes the entries out instead.
    """
    lines = list(lines)
    if any(x.refers is not None for x in lines):
        return ""
    out = []
    for x in lines:
        mark = marker(x)
        head, *subs = x.text.split("\n")
        task = f"[{x.task}] " if x.task else ""
        out.append(f"{'' if mark == '[X]' else mark + ' '}{task}{head}")
        out += subs
    return "\n".join(out)


def lines_from_text(text: str) -> tuple[XLine, ...]:
    """A moderator's entries: each non-empty line one entry, "-" before a sub-line of the one above.

    1. A line starting with dashes is a sub-line: it joins the entry above,
       its dashes kept ("Repair\n-With spare parts"), as the reader keeps them
       for a `block` prompt.
    2. Any other line is an entry. A leading marker is optional: "[X]" (or
       none) supports it, "[#1]" or "[1]" ranks it, "[75%]" scores it, "[-]"
       disapproves it. A bracketed word after it is the task: "[Ship] Repair".
    ValueError, with a sentence for the moderator, when nothing is given, a
    sub-line has no entry above it, or a score is over 100.
    """
    entries: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        dashes = _DASHES.match(line)
        if dashes and line[dashes.end() :].strip():
            if not entries:
                raise ValueError(f"The sub-line '{line[:80]}' has no entry above it.")
            depth = len(dashes.group(0).strip())
            entries[-1]["text"] += "\n" + "-" * depth + line[dashes.end() :].strip()
            continue
        entries.append(_entry(line))
    if not entries:
        raise ValueError("Write at least one entry: each line of the box is one [X] line.")
    return tuple(XLine(**e) for e in entries)


def _entry(line: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    mark = _MARKER.match(line)
    if mark:
        line = line[mark.end() :]
        if mark["minus"]:
            entry["against"] = True
        elif mark["rank"]:
            entry["rank"] = int(mark["rank"])
        elif mark["score"]:
            score = int(mark["score"])
            if score > 100:
                raise ValueError(f"A score is 0% to 100%: '{mark.group(0).strip()}' is not.")
            entry["score"] = score
    task = _TASK.match(line)
    if task and line[task.end() :].strip():
        entry["task"] = task["task"].strip()
        line = line[task.end() :]
    entry["text"] = line.strip()
    if not entry["text"]:
        raise ValueError("An entry needs words after its marker.")
    return entry


def _bare(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()
