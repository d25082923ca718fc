"""The [X]-ballot table cases (tests/fixtures/xballots/cases.json), read and folded.

Each case is one post read for a `lines` prompt with the posts before and after it;
the fold resolves plans and proxies; the author's counted entries (or held-back
answer) must be what the case says. `same_as` / `not_same_as` pairs must get the
same / different tally keys (votes.line_tally.entry_key), entry by entry.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from votes.line_tally import entry_key
from votes.reading import canonical_text, read_thread
from votes.reading.fold import fold
from votes.reading.types import (
    Partition,
    PostIn,
    PromptKind,
    PromptSpec,
    Proxies,
    VoteSpec,
    XLine,
)

CASES = json.loads((Path(__file__).parents[1] / "fixtures/xballots/cases.json").read_text())[
    "cases"
]
BY_ID = {c["id"]: c for c in CASES}
OPENS = datetime(2024, 5, 1, 12, tzinfo=UTC)
QM = "Quest_Master"


def _vote(prompt: dict) -> VoteSpec:
    spec = PromptSpec(
        1,
        PromptKind.LINES,
        "What do we do?",
        partition=Partition(prompt.get("partition", "block")),
        proxies=Proxies(prompt.get("proxies", "on")),
    )
    return VoteSpec(prompts=(spec,), quest_master=QM, post_id=1, opens_at=OPENS)


@cache
def outcome(case_id: str) -> tuple[str, tuple[XLine, ...]]:
    """("counted", lines) / ("flag", ()) / ("none", ()) for the case's author."""
    case = BY_ID[case_id]
    posts = [{"author": QM, "body": "Vote:\n[ ] Scout the wreck"}]
    posts += [*case.get("earlier", []), {"author": case["author"], "body": case["body"]}]
    posts += case.get("later", [])
    ins = [
        PostIn(i + 1, p["author"], OPENS + timedelta(minutes=i + 1), p["body"])
        for i, p in enumerate(posts)
    ]
    vote = _vote(case["prompt"])
    folded = fold(vote, read_thread(vote, ins))
    counted = folded.ballots.get(case["author"], {}).get(1)
    held = any(h.author == case["author"] and h.prompt in (1, None) for h in folded.flagged)
    if counted is not None:
        return ("counted", counted.answer.lines)
    return ("flag" if held else "none", ())


def _text(text: str) -> str:
    """The comparison cases.json states: en/em dashes as '-', no space after them, runs of
    white space collapsed; case, punctuation and diacritics as written."""
    lines = []
    for line in text.split("\n"):
        m = re.match(r"[ \t]*([-\u2013\u2014][ \t]*)*", line)
        dashes = re.sub(r"[^-\u2013\u2014]", "", m.group(0)) if m else ""
        lines.append("-" * len(dashes) + " ".join(line[m.end() if m else 0 :].split()))
    return "\n".join(lines)


def _loose(text: str | None) -> str:
    return re.sub(r"[\W_]+", "", (text or "").casefold())


def _shown(lines: tuple[XLine, ...]) -> list[dict]:
    return [{k: v for k, v in x.to_json().items() if k != "refers"} for x in lines]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_table_case_reads_and_folds_as_stated(case):
    kind, lines = outcome(case["id"])
    want = case["expect"]
    if want in ("flag", "none"):
        assert kind == want, f"{case['id']}: {kind} {_shown(lines)} ({case.get('note', '')})"
        return
    assert kind == "counted", f"{case['id']}: {kind}, want {want}"
    got = [
        {
            "text": _text(x.text),
            "task": _loose(x.task),
            "plan": _loose(x.plan),
            "rank": x.rank,
            "score": x.score,
            "against": x.against,
        }
        for x in lines
    ]
    wanted = [
        {
            "text": _text(e["text"]),
            "task": _loose(e.get("task")),
            "plan": _loose(e.get("plan")),
            "rank": e.get("rank"),
            "score": e.get("score"),
            "against": bool(e.get("against")),
        }
        for e in want
    ]
    assert got == wanted, case.get("note", "")


PAIRS = [(c["id"], c["same_as"], True) for c in CASES if c.get("same_as")] + [
    (c["id"], c["not_same_as"], False) for c in CASES if c.get("not_same_as")
]


@pytest.mark.parametrize(("one", "other", "same"), PAIRS, ids=[f"{a}~{b}" for a, b, _ in PAIRS])
def test_variants_merge_and_near_variants_do_not(one, other, same):
    mine, theirs = outcome(one)[1], outcome(other)[1]
    assert mine and len(mine) == len(theirs)
    keys = [
        (entry_key(x.text, x.task), entry_key(y.text, y.task))
        for x, y in zip(mine, theirs, strict=True)
    ]
    if same:
        assert all(a == b for a, b in keys), keys
    else:
        assert any(a != b for a, b in keys), keys


def test_there_are_enough_cases_of_every_family():
    families = {c["family"] for c in CASES}
    assert len(CASES) >= 120
    assert {"markers", "nesting", "partitions", "plans", "proxies", "merges"} <= families


OWN = [
    c
    for c in CASES
    if isinstance(c["expect"], list) and not c.get("earlier") and not c.get("later")
]


@pytest.mark.parametrize("case", OWN, ids=[c["id"] for c in OWN])
def test_the_ballot_forms_text_of_an_x_ballot_reads_back_as_the_same_entries(case):
    # What the ballot form and a moderator's correction post (canonical_text) must
    # read back exactly as the entries it was made from.
    vote = _vote(case["prompt"])
    first = read_thread(vote, [PostIn(2, case["author"], OPENS, case["body"])])[0]
    text = canonical_text(first.answers, vote)
    again = read_thread(vote, [PostIn(2, case["author"], OPENS, text)])[0]
    assert [a.lines for a in again.answers] == [a.lines for a in first.answers], text


def test_seconding_a_proxy_post_follows_the_same_voter():
    vote = _vote({"partition": "block", "proxies": "on"})
    bodies = [
        ("Anya", "[X] Scout the wreck"),
        ("Bo", "[X] Anya"),
        ("Cy", '[QUOTE="Bo, post: 2"]\n[X] Anya\n[/QUOTE]\nI second this'),
        ("Anya", "[X] Rest a day"),
    ]
    posts = [
        PostIn(i + 1, who, OPENS + timedelta(minutes=i + 1), body)
        for i, (who, body) in enumerate(bodies)
    ]
    readings = read_thread(vote, posts)
    assert (readings[2].proxy_of, readings[2].proxy_pinned) == ("Anya", False)
    folded = fold(vote, readings)
    assert [x.text for x in folded.ballots["Cy"][1].answer.lines] == ["Rest a day"]


def _fold_posts(bodies: list[tuple[str, str]], **prompt) -> dict[str, list[str]]:
    vote = _vote({"partition": "block", "proxies": "on", **prompt})
    posts = [
        PostIn(i + 1, who, OPENS + timedelta(minutes=i + 1), body)
        for i, (who, body) in enumerate(bodies)
    ]
    folded = fold(vote, read_thread(vote, posts))
    return {v: [x.text for x in b[1].answer.lines] for v, b in folded.ballots.items() if 1 in b}


def test_a_proposed_plan_copied_later_is_a_vote_for_that_plan():
    plan = "[x] Proposed Plan: Invade\n-[x] Setup\n-[x] Transport"
    got = _fold_posts([("Anya", plan), ("Bo", plan), ("Cy", "[X] Invade")])
    assert "Anya" not in got  # proposing is not voting
    assert got["Bo"] == got["Cy"] == ["Plan Invade\n-Setup\n-Transport"]


def test_a_plan_named_again_in_the_post_that_defines_it_is_one_entry():
    body = "[X] Plan Dawn\n-[X] Rise early\n\n[X] Scout the wreck\n\n[X] Plan Dawn"
    assert _fold_posts([("Anya", body)])["Anya"] == ["Plan Dawn\n-Rise early", "Scout the wreck"]


def test_a_post_that_only_proposes_a_plan_says_so_for_the_audit():
    vote = _vote({"partition": "block", "proxies": "on"})
    post = PostIn(2, "Anya", OPENS, "[x] Proposed Plan: Invade\n-[x] Setup\n-[x] Transport")
    reading = read_thread(vote, [post])[0]
    assert not reading.answers and not reading.flags
    assert reading.mentions == ("proposes Plan Invade (a proposal is not a vote)",)
