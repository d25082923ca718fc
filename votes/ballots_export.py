"""The ballots CSV, streamed from the stored rows the tally was made from.

Every counted answer comes from the current Ballot rows (one per voter, which
the recount writes with each tally run), read a chunk at a time in voter order;
what is held back for a moderator comes from the latest stored tally, with the
suggestion its post's Reading offers. Nothing is folded again: a 10,000-post
vote's CSV starts at once and never sits whole in memory.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.db import connection
from django.db.models.functions import Collate

from chapters.models import Vote
from votes import selectors
from votes.models import Ballot, Reading
from votes.reading.types import Answer, Flag, VoteSpec
from votes.tally import csv_answer, csv_text

HEADER = ["voter", "post", "prompt", "answer", "status"]
CHUNK = 500


def ballot_csv_lines(vote: Vote) -> Iterator[str]:
    """The CSV a few lines at a time: a header, counted answers by voter, then held-back ones."""
    spec = selectors.vote_spec(vote)
    yield csv_text([HEADER])
    rows: list[list[object]] = []
    for row in _counted(vote, spec):
        rows.append(row)
        if len(rows) >= CHUNK:
            yield csv_text(rows)
            rows = []
    rows += _held(vote, spec)
    if rows:
        yield csv_text(rows)


def _counted(vote: Vote, spec: VoteSpec) -> Iterator[list[object]]:
    # Byte order sorts names as Python's sorted() does, as the fold's export did
    # (PostgreSQL's "C" collation; SQLite compares bytes already).
    by_name = Collate("voter", "C") if connection.vendor == "postgresql" else "voter"
    ballots = (
        Ballot.objects.filter(vote=vote, is_current=True)
        .order_by(by_name)
        .values_list("voter", "answers")
    )
    for voter, answers in ballots.iterator(chunk_size=CHUNK):
        for number, answer in sorted((int(n), a) for n, a in answers.items()):
            cell = csv_answer(spec.prompt(number), Answer.from_json(answer))
            yield [voter, answer.get("post"), number, cell, "counted"]


def _held(vote: Vote, spec: VoteSpec) -> list[list[object]]:
    """The latest tally's held-back answers, each with the suggestion its Reading offers."""
    run = selectors.latest_tally(vote)
    flagged = run.data.get("flagged", []) if run is not None else []
    suggestions = _suggestions(vote, {h["post"] for h in flagged})
    rows: list[list[object]] = []
    for h in flagged:
        prompt = spec.prompt(h["prompt"]) if h["prompt"] is not None else None
        suggestion = suggestions.get((h["post"], h["prompt"]))
        number = "" if h["prompt"] is None else h["prompt"]
        rows.append([h["author"], h["post"], number, csv_answer(prompt, suggestion), "held back"])
    return rows


def _suggestions(vote: Vote, refs: set[int]) -> Mapping[tuple[int, Any], Answer | None]:
    """(post ref, prompt) -> the suggested reading of the flag there, for the held posts."""
    if not refs:
        return {}
    out: dict[tuple[int, Any], Answer | None] = {}
    rows = Reading.objects.filter(vote=vote, post__ref__in=refs).values_list("post__ref", "data")
    for ref, data in rows:
        for flag in (Flag.from_json(f) for f in data.get("flags") or []):
            out.setdefault((ref, flag.prompt), flag.suggestion)
    return out
