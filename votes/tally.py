"""Tally arithmetic: folded ballots in, the `quest-tally/1` JSON and its renderings out.

Pure Python (no Django): the workers, the `tally` command and the chapter page
all call these functions, so a tally reads the same wherever it is shown.
The format is section 3 of the shared thread-format.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from types import MappingProxyType
from typing import Any, NotRequired, TypedDict

from rapidfuzz import fuzz, utils

from votes.reading.types import Answer, Counted, Folded, PromptKind, PromptSpec, VoteSpec

FORMAT = "quest-tally/1"
METHODS = ("schulze", "instant_runoff")
_TEXT_KINDS = frozenset({PromptKind.WRITE_IN, PromptKind.LINES})
# Past this many sets of continuing candidates, instant runoff stops trying every
# order of a tied elimination and drops all tied-last candidates at once, so a
# hostile ballot set cannot make a recount exponential.
_RUNOFF_STATES = 4096
_SPOILER_AFTER = 10
_NO_LINKS: Mapping[tuple[str, int], str] = MappingProxyType({})


# The `quest-tally/1` document, as tally_json builds it and a TallyRun stores it.
class OptionTally(TypedDict):
    letter: str
    text: str
    votes: int
    voters: list[str]
    ranks: NotRequired[list[int]]  # ranked prompts: how many ballots put it 1st, 2nd, ...


class EntryTally(TypedDict):  # one write-in entry
    text: str
    votes: int
    voters: list[str]


class PromptTally(TypedDict):
    number: int
    kind: str
    text: str
    options: NotRequired[list[OptionTally]]  # choice prompts
    entries: NotRequired[list[EntryTally]]  # write-in and lines prompts
    method: NotRequired[str]  # ranked prompts
    winner: NotRequired[str | list[str] | None]  # ranked: one, a tie, or none without ballots
    leaders: NotRequired[list[str]]  # choice prompts


class HeldTally(TypedDict):
    post: int
    author: str
    prompt: int | None
    reason: str


class ExcludedTally(TypedDict):
    post: int
    author: str
    reason: str


class Tally(TypedDict):
    format: str
    quest: str
    chapter: int
    status: str
    ballots: int
    prompts: list[PromptTally]
    flagged: list[HeldTally]
    excluded: list[ExcludedTally]


class MergeSuggestion(TypedDict):
    a: str
    b: str
    score: float


def tally_json(
    *,
    vote: VoteSpec,
    folded: Folded,
    quest: str,
    chapter: int,
    status: str,
    method: str = "schulze",
) -> Tally:
    """The `quest-tally/1` document for one vote; `method` names the ranked method."""
    if method not in METHODS:
        raise ValueError(f"unknown ranked method {method!r}, expected one of {METHODS}")
    return {
        "format": FORMAT,
        "quest": quest,
        "chapter": chapter,
        "status": status,
        "ballots": sum(1 for ballot in folded.ballots.values() if ballot),
        "prompts": [_prompt_json(prompt, folded, method) for prompt in vote.prompts],
        "flagged": [
            {"post": h.post_id, "author": h.author, "prompt": h.prompt, "reason": h.reason}
            for h in folded.flagged
        ],
        "excluded": [
            {"post": e.post_id, "author": e.author, "reason": e.reason} for e in folded.excluded
        ],
    }


def canonical(tally: Mapping[str, Any]) -> bytes:
    """One byte string per tally, whatever order its dicts were built in."""
    return json.dumps(tally, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def tally_sha256(tally: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(tally)).hexdigest()


def entry_key(text: str) -> str:
    """Write-ins that differ only in case, punctuation and white space are one entry."""
    return re.sub(r"[\W_]+", "", text.casefold())


def _prompt_json(prompt: PromptSpec, folded: Folded, method: str) -> PromptTally:
    answers = [
        (voter, counted)
        for voter, ballot in folded.ballots.items()
        if (counted := ballot.get(prompt.number)) is not None
    ]
    out: PromptTally = {"number": prompt.number, "kind": str(prompt.kind), "text": prompt.text}
    if prompt.kind in _TEXT_KINDS:
        out["entries"] = _entries(answers)
        return out
    letters = [o.letter for o in prompt.options]
    rankings = {voter: _ranking(counted.answer, letters) for voter, counted in answers}
    options: list[OptionTally] = []
    for option in prompt.options:
        voters = sorted(v for v, ranking in rankings.items() if option.letter in ranking)
        options.append(
            {"letter": option.letter, "text": option.text, "votes": len(voters), "voters": voters}
        )
    out["options"] = options
    if prompt.kind == PromptKind.RANKED:
        ballots = list(rankings.values())
        for entry in options:
            entry["ranks"] = _ranks(entry["letter"], ballots, len(letters))
        winners = (schulze if method == "schulze" else instant_runoff)(ballots, letters)
        out["method"] = method
        out["winner"] = winners[0] if len(winners) == 1 else (winners or None)
        # A ranked prompt leads by its method's winners, not by first choices, so
        # every page shows the same answer to "who is ahead".
        out["leaders"] = winners
    else:
        out["leaders"] = _leaders(options)
    return out


def _ranking(answer: Answer, letters: Sequence[str]) -> tuple[str, ...]:
    """The answer's letters that name options, first mention kept, in order."""
    known = set(letters)
    return tuple(dict.fromkeys(x for x in answer.letters if x in known))


def _ranks(letter: str, ballots: Iterable[tuple[str, ...]], places: int) -> list[int]:
    ranks = [0] * places
    for ballot in ballots:
        if letter in ballot:
            ranks[ballot.index(letter)] += 1
    return ranks


def _leaders(options: Sequence[OptionTally]) -> list[str]:
    top = max((o["votes"] for o in options), default=0)
    return [o["letter"] for o in options if top and o["votes"] == top]


def _entries(answers: Sequence[tuple[str, Counted]]) -> list[EntryTally]:
    """Group write-ins into entries; an entry reads as its first-posted wording.

    Post ids grow in thread order (forum ids, or positions in a paste), so the
    smallest post id is the first wording.
    """
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for voter, counted in answers:
        text = _answer_text(counted.answer)
        groups.setdefault(entry_key(text), []).append((counted.post_id, text, voter))
    entries: list[EntryTally] = []
    for group in groups.values():
        first = min(group)
        entries.append(
            {"text": first[1], "votes": len(group), "voters": sorted(v for *_, v in group)}
        )
    entries.sort(key=lambda e: (-e["votes"], e["text"].casefold(), e["text"]))
    return entries


def _answer_text(answer: Answer) -> str:
    if answer.text:
        return answer.text
    return f"Same as {answer.joins}" if answer.joins else ""


def merge_suggestions(
    entries: Sequence[EntryTally], threshold: float = 85
) -> list[MergeSuggestion]:
    """Pairs of write-in entries that look like one idea, for a moderator to merge.

    Suggestions only: an entry is never merged without a person saying so.
    Each suggestion names the two texts (the more-supported first, as entries
    come sorted) and their similarity, 0-100; best matches first.
    """
    texts = [str(e["text"]) for e in entries]
    keys = [utils.default_process(t) for t in texts]
    pairs: list[MergeSuggestion] = []
    for i, j in combinations(range(len(texts)), 2):
        score = fuzz.token_sort_ratio(keys[i], keys[j], score_cutoff=threshold)
        if score:
            pairs.append({"a": texts[i], "b": texts[j], "score": round(score, 1)})
    pairs.sort(key=lambda p: (-p["score"], p["a"], p["b"]))
    return pairs


def schulze(ballots: Iterable[Sequence[str]], candidates: Sequence[str]) -> list[str]:
    """Schulze (beatpath) winners, sorted; several when tied, none without ballots.

    1. d[x][y]: ballots ranking x above y; a ranked candidate is above every
       unranked one, and unranked candidates are level with each other.
    2. A direct link x→y has strength d[x][y] when d[x][y] > d[y][x].
    3. p[x][y]: the strength of the strongest path from x to y, where a path is
       as strong as its weakest link (Floyd–Warshall widest paths).
    4. The winners are the candidates x with p[x][y] >= p[y][x] for every y.
    """
    known = set(candidates)
    counts = Counter(tuple(dict.fromkeys(x for x in b if x in known)) for b in ballots)
    counts.pop((), None)
    if not counts:
        return []
    index = {c: i for i, c in enumerate(candidates)}
    n = len(candidates)
    d = [[0] * n for _ in range(n)]
    for ranking, times in counts.items():
        unranked = [index[c] for c in candidates if c not in ranking]
        for place, x in enumerate(ranking):
            row = d[index[x]]
            for y in (*(index[c] for c in ranking[place + 1 :]), *unranked):
                row[y] += times
    p = [[d[x][y] if d[x][y] > d[y][x] else 0 for y in range(n)] for x in range(n)]
    for k in range(n):
        for i in range(n):
            if i == k:
                continue
            for j in range(n):
                if j not in (i, k):
                    p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))
    return sorted(
        candidates[x] for x in range(n) if all(p[x][y] >= p[y][x] for y in range(n) if y != x)
    )


def instant_runoff(ballots: Iterable[Sequence[str]], candidates: Sequence[str]) -> list[str]:
    """Instant-runoff winners, sorted; several when tied, none without ballots.

    1. Each ballot counts for its highest-ranked continuing candidate; ballots
       with none left are exhausted and count for nobody.
    2. A candidate with more than half the ballots still counting wins.
    3. When every continuing candidate has the same count, they are tied.
    4. Otherwise the candidate with the fewest votes is eliminated and step 1
       repeats. Candidates with no votes go together (nothing transfers). When
       several tie for fewest, every order of eliminating them is tried and
       the winners of all orders are reported, so a tie is never broken silently.
    """
    known = set(candidates)
    counts = Counter(tuple(dict.fromkeys(x for x in b if x in known)) for b in ballots)
    counts.pop((), None)
    if not counts:
        return []
    memo: dict[frozenset[str], frozenset[str]] = {}

    def winners(continuing: frozenset[str]) -> frozenset[str]:
        if continuing in memo:
            return memo[continuing]
        votes = dict.fromkeys(continuing, 0)
        for ranking, times in counts.items():
            first = next((c for c in ranking if c in continuing), None)
            if first is not None:
                votes[first] += times
        active, top, low = sum(votes.values()), max(votes.values()), min(votes.values())
        if top * 2 > active:
            result = frozenset(c for c, v in votes.items() if v == top)
        elif low == top:
            result = continuing
        else:
            last = [c for c, v in votes.items() if v == low]
            if low == 0 or len(last) == 1 or len(memo) > _RUNOFF_STATES:
                result = winners(continuing.difference(last))
            else:
                result = frozenset().union(*(winners(continuing - {c}) for c in last))
        memo[continuing] = result
        return result

    return sorted(winners(frozenset(candidates)))


def _answer_cell(prompt: PromptSpec | None, answer: Answer | None) -> str:
    if answer is None:
        return ""
    if prompt is not None and prompt.kind == PromptKind.RANKED:
        return ">".join(answer.letters)
    if answer.letters and (prompt is None or prompt.kind not in _TEXT_KINDS):
        return "".join(answer.letters)
    return _answer_text(answer)


def ballots_csv(folded: Folded, vote: VoteSpec) -> str:
    """Every counted and held-back answer, one row each, for a spreadsheet."""
    rows: list[list[object]] = [["voter", "post", "prompt", "answer", "status"]]
    for voter in sorted(folded.ballots):
        for number, counted in sorted(folded.ballots[voter].items()):
            cell = _answer_cell(vote.prompt(number), counted.answer)
            rows.append([voter, counted.post_id, number, cell, "counted"])
    for held in folded.flagged:
        prompt = vote.prompt(held.prompt) if held.prompt is not None else None
        cell = _answer_cell(prompt, held.suggestion)
        prompt_cell = "" if held.prompt is None else held.prompt
        rows.append([held.author, held.post_id, prompt_cell, cell, "held back"])
    return csv_text(rows)


# A spreadsheet runs a cell that starts with one of these as a formula (tab and
# carriage return because some strip them first and read what follows).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One CSV cell that a spreadsheet shows as text, never runs as a formula.

    Voter names and answers are players' words: a leading apostrophe makes a
    spreadsheet take the cell as text (OWASP's advice on CSV injection).
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV text, every cell through `csv_cell`: every CSV export writes with this."""
    out = io.StringIO()
    # CRLF, as RFC 4180 says: the writer quotes a cell holding any character of
    # the line terminator, so a bare CR in a name cannot start a new row.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


def to_bbcode(tally: Tally, *, title: str, links: Mapping[tuple[str, int], str] = _NO_LINKS) -> str:
    """The tally as forum BBCode, in the layout forum tally tools write.

    The first line is a transparent `#####` marker: readers of the thread (and
    this app's own reader) skip a post holding one as a tally, not a ballot.
    `links[(voter, prompt)]` is the permalink of the post that gave the answer.
    """
    lines = ["[COLOR=transparent]##### Quest Tally[/COLOR]", f"[B]Vote Tally:[/B] {title}", ""]
    for prompt in tally["prompts"]:
        number = prompt["number"]
        lines.append(f"[B]{number}. {_plain(prompt['text'])}[/B]")
        for option in prompt.get("options", []):
            head = f"{option['letter']}) {_plain(option['text'])}"
            lines.append(f"[B]{head}[/B] No. of Votes: {option['votes']}")
            if "ranks" in option:
                lines.append("Ranked " + _places(option["ranks"]))
            lines.extend(_bb_voters(option["voters"], number, links))
        for entry in prompt.get("entries", []):
            lines.append(f"[B]{_plain(entry['text'])}[/B] No. of Votes: {entry['votes']}")
            lines.extend(_bb_voters(entry["voters"], number, links))
        if prompt.get("method"):
            lines.append(f"[I]{_winner_line(prompt)}[/I]")
        lines.append("")
    lines.append(f"Total No. of Voters: {tally['ballots']}")
    return "\n".join(lines) + "\n"


def _bb_voters(
    voters: Sequence[str], prompt: int, links: Mapping[tuple[str, int], str]
) -> list[str]:
    names = [
        f"[url={link}]{name}[/url]" if (link := links.get((name, prompt))) else _plain(name)
        for name in voters
    ]
    if len(names) > _SPOILER_AFTER:
        return ['[SPOILER="Voters"]', *names, "[/SPOILER]"]
    return names


def _plain(text: str) -> str:
    """Player-written text, kept from being read as BBCode tags."""
    if "[" not in text:
        return text
    return "[PLAIN]" + re.sub(r"\[/plain\]", "", text, flags=re.IGNORECASE) + "[/PLAIN]"


def _places(ranks: Sequence[int]) -> str:
    return ", ".join(f"{_ordinal(i + 1)}: {n}" for i, n in enumerate(ranks))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _winner_line(prompt: PromptTally) -> str:
    method = "Schulze" if prompt["method"] == "schulze" else "Instant runoff"
    winner = prompt.get("winner")
    if winner is None:
        return f"{method}: no ballots"
    if isinstance(winner, list):
        return f"{method}: tie between {', '.join(winner)}"
    return f"{method} winner: {winner}"


def to_text(tally: Tally) -> str:
    """The tally as plain text for a terminal."""
    lines = [
        f"{tally['quest']}, chapter {tally['chapter']} ({tally['status']}): "
        f"{tally['ballots']} ballots",
        "",
    ]
    for prompt in tally["prompts"]:
        lines.extend(_prompt_text(prompt))
        lines.append("")
    if tally["flagged"]:
        lines.append(f"Held back for a moderator ({len(tally['flagged'])}):")
        for held in tally["flagged"]:
            where = "whole post" if held["prompt"] is None else f"prompt {held['prompt']}"
            lines.append(f"  post {held['post']} by {held['author']} ({where}): {held['reason']}")
        lines.append("")
    if tally["excluded"]:
        lines.append(f"Not counted ({len(tally['excluded'])}):")
        for post in tally["excluded"]:
            lines.append(f"  post {post['post']} by {post['author']}: {post['reason']}")
        lines.append("")
    return "\n".join(lines)


def _prompt_text(prompt: PromptTally) -> list[str]:
    """One prompt of to_text: its options or entries with their voters, then the result."""
    lines = [f"{prompt['number']}. {prompt['text']}"]
    for option in prompt.get("options", []):
        lines.append(f"  {option['letter']}) {option['text']}: {option['votes']}")
        if "ranks" in option:
            lines.append(f"     ranked {_places(option['ranks'])}")
        if option["voters"]:
            lines.append(f"     {', '.join(option['voters'])}")
    for entry in prompt.get("entries", []):
        text = " ".join(entry["text"].split())
        lines.append(f"  [{entry['votes']}] {text}")
        lines.append(f"     {', '.join(entry['voters'])}")
    if prompt.get("method"):
        lines.append(f"  {_winner_line(prompt)}")
    elif "leaders" in prompt:
        leaders = ", ".join(prompt["leaders"]) or "none"
        label = "Tied" if len(prompt["leaders"]) > 1 else "Leading"
        lines.append(f"  {label}: {leaders}")
    return lines
