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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from types import MappingProxyType
from typing import Any, NotRequired, TypedDict

from rapidfuzz import fuzz, utils

from chapters.kinds import Method, PassRule, pass_rule_words
from votes.line_tally import APPROVAL, SCORE, entry_label, lines_prompt_json
from votes.line_words import lines_cell
from votes.merging import NO_MERGES, Merge, merge_roots
from votes.ranking import instant_runoff, schulze
from votes.reading.types import Answer, Counted, Folded, PromptKind, PromptSpec, VoteSpec

FORMAT = "quest-tally/1"
METHODS = ("schulze", "instant_runoff")
_TEXT_KINDS = frozenset({PromptKind.WRITE_IN, PromptKind.LINES})
_SPOILER_AFTER = 10
_DASHES = "-\u2013\u2014"  # what nests a sub-line of a `lines` entry
_NO_LINKS: Mapping[tuple[str, int], str] = MappingProxyType({})


# The `quest-tally/1` document, as tally_json builds it and a TallyRun stores it.
class OptionTally(TypedDict):
    letter: str
    text: str
    votes: int
    voters: list[str]
    ranks: NotRequired[list[int]]  # ranked prompts: how many ballots put it 1st, 2nd, ...
    passed: NotRequired[bool]  # multi prompts of a closed vote: whether it passed its pass rule


class PassRuleTally(TypedDict):
    """A multi prompt's pass rule: {"kind": "top"}, or a threshold every option at it passes."""

    kind: str  # a chapters.kinds.PassRule
    at_least: NotRequired[int | float]  # "votes": a count; "share": a fraction of voters, 0-1


class EntryTally(TypedDict):  # one write-in or `lines` entry
    text: str
    votes: int
    voters: list[str]
    # The entries a moderator merged into this one (votes.merging), as they read.
    merged_from: NotRequired[list[str]]
    # `lines` prompts (votes.line_tally): always task and plan, the rest as the marks used.
    task: NotRequired[str | None]
    plan: NotRequired[str | None]
    ranks: NotRequired[list[int]]  # ranked lines: how many ballots put it 1st, 2nd, ...
    approve: NotRequired[int]  # [+] (and [X]) lines, beside [-] ones
    disapprove: NotRequired[int]  # [-] lines
    score: NotRequired[float | None]  # [75%] lines: the mean, one decimal; None if unscored


class OutcomeTally(TypedDict):
    letters: list[str]
    write_ins: list[str]
    by: str
    reason: str


class PromptTally(TypedDict):
    number: int
    kind: str
    text: str
    options: NotRequired[list[OptionTally]]  # choice prompts
    entries: NotRequired[list[EntryTally]]  # write-in and lines prompts
    partition: NotRequired[str]  # lines prompts: what one vote is
    proxies: NotRequired[str]  # lines prompts: what "[X] Username" does
    suggestions: NotRequired[list[str]]  # lines prompts: the quest master's [ ] lines
    method: NotRequired[str]  # ranked prompts; lines prompts that rank, approve or score
    winner: NotRequired[str | list[str] | None]  # ranked: one, a tie, or none without ballots
    leaders: NotRequired[list[str]]  # choice prompts
    pass_rule: NotRequired[PassRuleTally]  # multi prompts
    outcome: NotRequired[OutcomeTally]  # served with the quest master's calls (decided_tally)


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


TOP_RULE: PassRuleTally = {"kind": PassRule.TOP.value}
_NO_RULES: Mapping[int, PassRuleTally] = MappingProxyType({})
_NO_SUGGESTIONS: Mapping[int, Sequence[str]] = MappingProxyType({})


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
    pass_rules: Mapping[int, PassRuleTally] = _NO_RULES,
    merges: Mapping[int, Sequence[Merge]] = NO_MERGES,
    suggestions: Mapping[int, Sequence[str]] = _NO_SUGGESTIONS,
) -> Tally:
    """The `quest-tally/1` document for one vote.

    `method` names the ranked method of lettered prompts (a `lines` prompt
    names its own); `pass_rules` maps a multi prompt's number to its pass rule
    (TOP_RULE when absent). Options of multi prompts say whether they `passed`
    once the vote is closed. `merges` maps a write-in or `lines` prompt's
    number to its standing merges, oldest first: merged entries are one entry,
    which names what it was `merged_from`. `suggestions` maps a `lines`
    prompt's number to the quest master's [ ] lines, listed and not counted.
    """
    if method not in METHODS:
        raise ValueError(f"unknown ranked method {method!r}, expected one of {METHODS}")
    closed = status == "closed"
    return {
        "format": FORMAT,
        "quest": quest,
        "chapter": chapter,
        "status": status,
        "ballots": sum(1 for ballot in folded.ballots.values() if ballot),
        "prompts": [
            _prompt_json(
                prompt,
                folded,
                method,
                pass_rules.get(prompt.number, TOP_RULE),
                closed,
                merges.get(prompt.number, ()) if prompt.kind in _TEXT_KINDS else (),
                suggestions.get(prompt.number, ()),
            )
            for prompt in vote.prompts
        ],
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


def _prompt_json(
    prompt: PromptSpec,
    folded: Folded,
    method: str,
    rule: PassRuleTally,
    closed: bool,
    merges: Sequence[Merge] = (),
    suggestions: Sequence[str] = (),
) -> PromptTally:
    answers = [
        (voter, counted)
        for voter, ballot in folded.ballots.items()
        if (counted := ballot.get(prompt.number)) is not None
    ]
    if prompt.kind == PromptKind.LINES:
        return lines_prompt_json(prompt, dict(answers), suggestions, merges)
    out: PromptTally = {"number": prompt.number, "kind": str(prompt.kind), "text": prompt.text}
    if prompt.kind in _TEXT_KINDS:
        out["entries"] = _entries(answers, merges)
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
    if prompt.kind == PromptKind.MULTI:
        out["pass_rule"] = PassRuleTally(**rule)  # a copy: documents share no dicts
        if closed:
            answered = sum(1 for ranking in rankings.values() if ranking)
            passing = passed_options(rule, options, voters=answered)
            for entry in options:
                entry["passed"] = entry["letter"] in passing
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


def passed_options(
    rule: PassRuleTally, options: Sequence[OptionTally], *, voters: int
) -> list[str]:
    """The letters of the options that pass a multi prompt's `rule`, in option order.

    1. `top`: the leaders (every one of them while tied: the quest master settles a tie).
    2. `votes`: every option with at least `at_least` votes.
    3. `share`: every option whose voters are at least `at_least` (0-1) of the
       prompt's voters, the ballots that answered it. Compared exactly, as
       fractions, so an option right at the threshold passes.
    An option nobody voted for never passes.
    """
    kind = rule["kind"]
    if kind == PassRule.TOP:
        return _leaders(options)
    if kind not in (PassRule.VOTES, PassRule.SHARE):
        raise ValueError(f"unknown pass rule {kind!r}")
    at_least = Fraction(str(rule.get("at_least", 1)))
    needed = at_least if kind == PassRule.VOTES else at_least * voters
    return [o["letter"] for o in options if o["votes"] and o["votes"] >= needed]


def passing(prompt: PromptTally) -> list[str]:
    """The options of a multi prompt that pass its rule: as decided once closed, as of now before.

    Every voter of a multi prompt's options answered it (and each who answered
    named an option), so the voters are the union of the options' voters.
    """
    options = prompt.get("options") or []
    if any("passed" in o for o in options):
        return [o["letter"] for o in options if o.get("passed")]
    voters = len({v for o in options for v in o["voters"]})
    return passed_options(prompt.get("pass_rule", TOP_RULE), options, voters=voters)


def pass_rule_text(rule: PassRuleTally) -> str:
    """The rule as a quest master would say it: "at least 3 votes", "at least 50% of voters"."""
    return pass_rule_words(rule["kind"], rule.get("at_least"))


def _entries(
    answers: Sequence[tuple[str, Counted]], merges: Sequence[Merge] = ()
) -> list[EntryTally]:
    """Group write-ins into entries; an entry reads as its first-posted wording.

    Post ids grow in thread order (forum ids, or positions in a paste), so the
    smallest post id is the first wording. A moderator's `merges` then join
    entries (`merging.merge_roots`): the joined entry reads as the entry kept,
    and lists the others' first wordings as `merged_from`.
    """
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for voter, counted in answers:
        text = _answer_text(counted.answer)
        groups.setdefault(entry_key(text), []).append((counted.post_id, text, voter))
    roots = merge_roots(groups, ((entry_key(m.merged), entry_key(m.kept)) for m in merges))
    joined: dict[str, list[str]] = {}
    for key in groups:
        joined.setdefault(roots[key], []).append(key)
    entries: list[EntryTally] = []
    for root, keys in joined.items():
        group = [answer for key in keys for answer in groups[key]]
        entry: EntryTally = {
            "text": min(groups[root])[1],
            "votes": len(group),
            "voters": sorted(v for *_, v in group),
        }
        if len(keys) > 1:
            wordings = (min(groups[key])[1] for key in keys if key != root)
            entry["merged_from"] = sorted(wordings, key=lambda t: (t.casefold(), t))
        entries.append(entry)
    entries.sort(key=lambda e: (-e["votes"], e["text"].casefold(), e["text"]))
    return entries


def _answer_text(answer: Answer) -> str:
    if answer.text:
        return answer.text
    return f"Same as {answer.joins}" if answer.joins else ""


def merge_suggestions(
    entries: Sequence[Mapping[str, object]], threshold: float = 85
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


# --- Results: what a closed vote decided -------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """The quest master's call on one prompt of a closed vote (an Outcome row, as plain data)."""

    letters: tuple[str, ...] = ()  # the pick that settles a tie
    write_ins: tuple[str, ...] = ()  # adopted write-in entries
    by: str = ""
    reason: str = ""


class DecidedOption(TypedDict):
    letter: str
    text: str
    votes: int


class PromptResult(TypedDict):
    number: int
    text: str
    kind: str
    decided: list[DecidedOption]  # the winning or passing options, after any tie pick
    how: str  # how they were decided, in words
    threshold: bool  # options pass by a threshold (`decided` are those that passed)
    tie: list[str]  # the options tied for the lead, settled or not
    tied: list[str]  # a tie still to settle: the quest master decides
    options: list[OptionTally]
    entries: list[EntryTally]
    adopted: list[str]
    by: str  # who made the quest master's call on this prompt, if any
    reason: str


_UNSETTLED = "tie: the quest master decides"


def tied_options(prompt: PromptTally) -> list[str]:
    """The options tied for the lead of one prompt ([] when one leads, or a threshold decides).

    A multi prompt passing options by a threshold has no tie: every option at
    the threshold passes.
    """
    if prompt.get("pass_rule", TOP_RULE)["kind"] != PassRule.TOP:
        return []
    winner = prompt.get("winner")
    if prompt["kind"] == PromptKind.RANKED:
        return list(winner) if isinstance(winner, list) else []
    leaders = list(prompt.get("leaders") or [])
    return leaders if len(leaders) > 1 else []  # one leader is a decision, not a tie


def results(tally: Tally, calls: Mapping[int, Call] = MappingProxyType({})) -> list[PromptResult]:
    """Per prompt: what was decided, and how, with the quest master's `calls` applied.

    1. A tie (`tied_options`) settled by a call is decided by the call's pick.
    2. A threshold rule decides the options that passed it (`passed_options`).
    3. Otherwise the sole leader (or a ranked prompt's sole winner) is decided;
       a tie not settled yet decides nothing.
    4. Write-in entries are decided by adoption only.
    """
    out: list[PromptResult] = []
    for p in tally["prompts"]:
        call = calls.get(p["number"], Call())
        tie = tied_options(p)
        letters, how = _decided(p, tie, call)
        options = p.get("options") or []
        by_letter = {o["letter"]: o for o in options}
        out.append(
            {
                "number": p["number"],
                "text": p["text"],
                "kind": p["kind"],
                "decided": [
                    {"letter": x, "text": by_letter[x]["text"], "votes": by_letter[x]["votes"]}
                    for x in letters
                    if x in by_letter
                ],
                "how": how,
                "threshold": p.get("pass_rule", TOP_RULE)["kind"] != PassRule.TOP,
                "tie": tie,
                "tied": [] if call.letters and tie else tie,
                "options": options,
                "entries": p.get("entries") or [],
                "adopted": list(call.write_ins),
                "by": call.by,
                "reason": call.reason,
            }
        )
    return out


def _decided(p: PromptTally, tie: list[str], call: Call) -> tuple[list[str], str]:
    """The letters a prompt decided and how, in words (see `results`)."""
    if p["kind"] in _TEXT_KINDS:
        return [], ""
    if tie:
        if call.letters:
            return list(call.letters), f"tie between {_and(tie)}, settled by {call.by}"
        return [], _UNSETTLED
    rule = p.get("pass_rule", TOP_RULE)
    options = p.get("options") or []
    if rule["kind"] != PassRule.TOP:
        passed = [o["letter"] for o in options if o.get("passed")]
        return passed, pass_rule_text(rule)
    if p["kind"] == PromptKind.RANKED:
        winner = p.get("winner")
        return ([winner] if isinstance(winner, str) else []), _method_name(p.get("method", ""))
    leaders = p.get("leaders") or []
    return leaders, "most votes" if leaders else "no votes"


def results_bbcode(results: Sequence[PromptResult], *, title: str) -> str:
    """The results of a closed vote as BBCode, for the top of the next chapter."""
    lines = [f"[B]Results of the vote on {_plain(title)}[/B]"]
    for r in results:
        lines += ["", f"[B]{r['number']}. {_plain(r['text'])}[/B]"]
        if r["tied"]:
            lines.append(f"Tie between {_and(r['tied'])}: the quest master decides.")
        elif r["kind"] not in _TEXT_KINDS:
            decided = "; ".join(
                f"{d['letter']}) {_plain(d['text'])}, {_votes(d['votes'])}" for d in r["decided"]
            )
            label = "Passed" if r["threshold"] else "Decided"
            lines.append(f"{label}: {decided or 'none'} ({_how(r)})")
        counts = ", ".join(f"{o['letter']}: {o['votes']}" for o in r["options"])
        if counts:
            lines.append(f"Votes: {counts}")
        lines.extend(f"Adopted: {_plain(text)}" for text in r["adopted"])
        if r["kind"] == PromptKind.WRITE_IN and not r["adopted"]:
            lines.append(f"{len(r['entries'])} write-in entries; none adopted.")
    return "\n".join(lines)


def _how(result: PromptResult) -> str:
    """How a prompt was decided, with the quest master's reason for settling a tie."""
    if result["reason"] and result["tie"]:
        return f"{result['how']}: {_plain(result['reason'])}"
    return result["how"]


def _votes(n: int) -> str:
    return f"{n} vote{'' if n == 1 else 's'}"


def _and(letters: Sequence[str]) -> str:
    return (
        " and ".join([", ".join(letters[:-1]), letters[-1]])
        if len(letters) > 1
        else "".join(letters)
    )


def _method_name(method: str) -> str:
    return "Schulze" if method == "schulze" else "instant runoff" if method else ""


def decided_tally(tally: Tally, calls: Mapping[int, Call]) -> Tally:
    """The tally with the quest master's calls applied, for people and tools reading it now.

    A settled tie of a multi prompt passes the pick only (`passed`); every
    prompt the quest master ruled on carries an `outcome`: the letters picked,
    the write-ins adopted, by whom and why. The stored tally is left as counted.
    """
    prompts: list[PromptTally] = []
    for p in tally["prompts"]:
        call = calls.get(p["number"])
        if call is None:
            prompts.append(p)
            continue
        q = PromptTally(**p)
        if call.letters and "options" in p and any("passed" in o for o in p["options"]):
            q["options"] = [{**o, "passed": o["letter"] in call.letters} for o in p["options"]]
        q["outcome"] = {
            "letters": list(call.letters),
            "write_ins": list(call.write_ins),
            "by": call.by,
            "reason": call.reason,
        }
        prompts.append(q)
    return {**tally, "prompts": prompts}


def _answer_cell(prompt: PromptSpec | None, answer: Answer | None) -> str:
    if answer is None:
        return ""
    if answer.lines:  # a `lines` prompt: its entries, as the tally labels them
        return lines_cell(answer.lines)
    if prompt is not None and prompt.kind == PromptKind.RANKED:
        return ">".join(answer.letters)
    if answer.letters and (prompt is None or prompt.kind not in _TEXT_KINDS):
        return "".join(answer.letters)
    return _answer_text(answer)


def csv_answer(prompt: PromptSpec | None, answer: Answer | None) -> str:
    """An answer as the ballots CSV writes it: letters ("AC", "B>A>C"), the write-in's text,
    or a `lines` answer's entries joined by " | " ("[Ship] Repair | Rest")."""
    return _answer_cell(prompt, answer)


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


def to_bbcode(
    tally: Tally,
    *,
    title: str,
    links: Mapping[tuple[str, int], str] = _NO_LINKS,
    calls: Mapping[int, Call] = MappingProxyType({}),
    as_of: int | None = None,
) -> str:
    """The tally as forum BBCode, in the layout forum tally tools write.

    The first line is a transparent `#####` marker: readers of the thread (and
    this app's own reader) skip a post holding one as a tally, not a ballot.
    `links[(voter, prompt)]` is the permalink of the post that gave the answer;
    `as_of` the last post the tally counts ("Tally as of post #N"). A closed
    vote's tally says what each prompt decided, with the quest master's `calls`:
    what a quest master posts at the close.
    """
    lines = ["[COLOR=transparent]##### Quest Tally[/COLOR]", f"[B]Vote Tally:[/B] {title}"]
    if as_of is not None:
        lines.append(f"Tally as of post #{as_of}")
    closed = tally["status"] == "closed"
    if closed:
        lines.append("[B]The vote is closed.[/B]")
    lines.append("")
    decided = {r["number"]: r for r in results(tally, calls)} if closed else {}
    for prompt in tally["prompts"]:
        lines.extend(_bb_prompt(prompt, links))
        if prompt["number"] in decided:
            lines.extend(_bb_result(decided[prompt["number"]]))
        lines.append("")
    lines.append(f"Total No. of Voters: {tally['ballots']}")
    return "\n".join(lines) + "\n"


def _bb_prompt(prompt: PromptTally, links: Mapping[tuple[str, int], str]) -> list[str]:
    number = prompt["number"]
    lines = [f"[B]{number}. {_plain(prompt['text'])}[/B]"]
    rule = prompt.get("pass_rule", TOP_RULE)
    if rule["kind"] != PassRule.TOP:
        lines.append(f"[I]Every option with {pass_rule_text(rule)} passes.[/I]")
    for option in prompt.get("options", []):
        head = f"{option['letter']}) {_plain(option['text'])}"
        passed = " - [B]passed[/B]" if option.get("passed") and rule["kind"] != PassRule.TOP else ""
        lines.append(f"[B]{head}[/B] No. of Votes: {option['votes']}{passed}")
        if "ranks" in option:
            lines.append("Ranked " + _places(option["ranks"]))
        lines.extend(_bb_voters(option["voters"], number, links))
    if prompt["kind"] == PromptKind.LINES:
        lines.extend(_bb_lines(prompt, links))
    for entry in prompt.get("entries", []) if prompt["kind"] != PromptKind.LINES else []:
        lines.append(f"[B]{_plain(entry['text'])}[/B] No. of Votes: {entry['votes']}")
        lines.extend(_bb_voters(entry["voters"], number, links))
    if prompt.get("method"):
        if prompt["kind"] == PromptKind.LINES:
            lines.append("")  # after the last entry's voters, as between entries
        lines.append(f"[I]{_plain(_winner_line(prompt))}[/I]")  # a `lines` winner is player text
    return lines


def _bb_lines(prompt: PromptTally, links: Mapping[tuple[str, int], str]) -> list[str]:
    """A `lines` prompt's entries as forum tally tools lay them out, a task heading over each task.

    Each entry shows its lines as voters write them ([X] lines, sub-lines with
    their dashes), then `No. of Votes` and its voters; entries without a task come first.
    """
    entries = prompt.get("entries", [])
    tasks = list(dict.fromkeys(e.get("task") or "" for e in entries))
    lines: list[str] = []
    for task in sorted(tasks, key=bool):  # stable: tasks in order of their best entry
        if task:
            lines.extend(["", f"[B]Task: {_plain(task)}[/B]"])
        for entry in (e for e in entries if (e.get("task") or "") == task):
            lines.append("")
            lines.extend(_bb_marked(entry["text"], task))
            lines.append(f"[B]No. of Votes: {entry['votes']}[/B]")
            lines.extend(_entry_marks(entry))
            lines.extend(_bb_voters(entry["voters"], prompt["number"], links))
    suggested = prompt.get("suggestions") or []
    if suggested:
        lines.extend(["", "[I]Suggested:[/I] " + "; ".join(_plain(s) for s in suggested)])
    return lines


def _bb_marked(text: str, task: str) -> list[str]:
    """An entry's text as [X] lines: `[X][Ship] Repair the reactor`, `-[X] With spare parts`."""
    out = []
    for i, line in enumerate(text.split("\n")):
        words = line.lstrip(_DASHES)
        dashes, words = line[: len(line) - len(words)], words.strip()
        tag = f"[{_plain(task)}]" if task and i == 0 else ""
        out.append(f"{dashes}[X]{tag} {_plain(words)}")
    return out


def _entry_marks(entry: EntryTally) -> list[str]:
    """What a `lines` entry's ranked, approval or scored lines add up to, one line each."""
    out = []
    if "ranks" in entry:
        out.append("Ranked " + _places(entry["ranks"]))
    if "disapprove" in entry:
        out.append(f"Approve: {entry.get('approve', 0)}, disapprove: {entry['disapprove']}")
    if "score" in entry:
        score = entry["score"]
        out.append(f"Score: {'none' if score is None else f'{score:.1f}'}")
    return out


def _bb_result(result: PromptResult) -> list[str]:
    """What one prompt of a closed vote decided, as the quest master announces it."""
    if result["tied"]:
        return [f"[B]Tie between {_and(result['tied'])}:[/B] the quest master decides."]
    options = ", ".join(f"{d['letter']}) {_plain(d['text'])}" for d in result["decided"])
    lines = []
    if result["kind"] not in _TEXT_KINDS:
        label = "Passed" if result["threshold"] else "Decided"
        lines.append(f"[B]{label}:[/B] {options or 'none'} ({_how(result)})")
    for text in result["adopted"]:
        lines.append(f"[B]Adopted:[/B] {_plain(text)}")
    if result["kind"] == PromptKind.WRITE_IN and not result["adopted"]:
        lines.append("[B]Adopted:[/B] none")
    return lines


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


_METHOD_NAMES = {
    "schulze": "Schulze",
    "instant_runoff": "Instant runoff",
    Method.RATED_RUNOFF: "Rated instant runoff",
    Method.BORDA: "Borda",
    APPROVAL: "Approval",
    SCORE: "Score",
}


def _winner_line(prompt: PromptTally) -> str:
    method = _METHOD_NAMES.get(prompt["method"], prompt["method"])
    winner = prompt.get("winner")
    if winner is None:
        return f"{method}: no ballots"
    if isinstance(winner, list):  # a `lines` entry's sub-lines go on one line here
        return f"{method}: tie between {', '.join(' '.join(w.split()) for w in winner)}"
    return f"{method} winner: {' '.join(winner.split())}"


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
        text = " ".join(entry_label(entry["text"], entry.get("task")).split())
        lines.append(f"  [{entry['votes']}] {text}")
        if entry.get("merged_from"):
            merged = ", ".join(" ".join(t.split()) for t in entry["merged_from"])
            lines.append(f"     merged from: {merged}")
        lines.extend(f"     {marks[0].lower()}{marks[1:]}" for marks in _entry_marks(entry))
        lines.append(f"     {', '.join(entry['voters'])}")
    if prompt.get("suggestions"):
        lines.append(f"  suggested: {'; '.join(prompt['suggestions'])}")
    rule = prompt.get("pass_rule", TOP_RULE)
    if prompt.get("method"):
        lines.append(f"  {_winner_line(prompt)}")
    elif rule["kind"] != PassRule.TOP:
        label = "Passed" if any("passed" in o for o in prompt.get("options", [])) else "Passing"
        lines.append(f"  {label} ({pass_rule_text(rule)}): {', '.join(passing(prompt)) or 'none'}")
    elif "leaders" in prompt:
        leaders = ", ".join(prompt["leaders"]) or "none"
        label = "Tied" if len(prompt["leaders"]) > 1 else "Leading"
        lines.append(f"  {label}: {leaders}")
    return lines
