"""A thread of several chapters imported at once: every vote tallied, and nothing of
a chapter whose window has ended kept in the process after its recount (issue 14).

A whole forum thread is many chapters, each with its vote over a window of a few
hundred to a few thousand posts, all but the last ended by the next chapter's
post. The import recounts them one after another; what the process keeps for a
vote that will take posts again (its thread, its parsed Readings) is only worth
keeping for the last one: kept for every ended window, an import's memory grew
with the thread (bench/import.py --chapters-every, docs/benchmarks.md).
"""

import json
import re
from datetime import datetime, timedelta

import pytest
from django.utils.dateparse import parse_datetime

from chapters.models import Vote
from tests.test_import_bulk import THREAD, _import, _score, _tally
from votes import contexts, selectors, services
from votes.models import Reading, TallyRun

OFFSET = 1_000_000  # the second chapter's post ids: the example's, moved on
QUOTED = re.compile(r"post: (\d+)")


def _later(text: str | None, shift: timedelta) -> str | None:
    when: datetime | None = parse_datetime(text) if text else None
    return (when + shift).isoformat() if when else None


def _two_chapters() -> dict:
    """The example thread (chapter 2 and its vote), then a copy of it a day after its
    last post as chapter 3: ids moved on by OFFSET, quotes pointing at the copies."""
    data = json.loads(THREAD.read_text(encoding="utf-8"))
    first = data["chapters"][0]
    times = [parse_datetime(p["posted_at"]) for p in data["posts"]]
    shift = max(times) - min(times) + timedelta(days=1)
    copies = [
        dict(
            p,
            id=p["id"] + OFFSET,
            posted_at=_later(p["posted_at"], shift),
            edited_at=_later(p.get("edited_at"), shift),
            body=QUOTED.sub(lambda m: f"post: {int(m.group(1)) + OFFSET}", p["body"]),
        )
        for p in data["posts"]
    ]
    vote = first["vote"]
    second = dict(
        first,
        number=3,
        title="Chapter Three",
        post=first["post"] + OFFSET,
        vote=dict(
            vote,
            post=vote["post"] + OFFSET,
            opens_at=_later(vote["opens_at"], shift),
            closes_at=_later(vote["closes_at"], shift),
        ),
    )
    data["chapters"].append(second)
    data["posts"] += copies
    return data


@pytest.mark.django_db
def test_every_chapter_is_tallied_and_an_ended_window_is_not_kept(
    tmp_path, django_capture_on_commit_callbacks
):
    contexts.kept_clear()

    quest = _import(_two_chapters(), django_capture_on_commit_callbacks)

    ended, last = Vote.objects.filter(chapter__quest=quest).order_by("chapter__number")
    assert selectors.window_bounds(ended)[1] is not None  # ended by chapter 3's post
    assert selectors.window_bounds(last)[1] is None
    # Each vote read and counted every post of its window, and no more.
    for vote in (ended, last):
        window = selectors.window_index(vote)
        assert len(window) > 10
        assert Reading.objects.filter(vote=vote).count() == len(window)
        run = TallyRun.objects.filter(vote=vote).latest("pk")
        assert [ref for ref, _ in run.inputs["posts"]] == [ref for _, ref, _ in window]
    # The copy counts what the example does, and the example as its expectations say.
    runs = [TallyRun.objects.filter(vote=v).latest("pk").data for v in (ended, last)]
    assert runs[0]["ballots"] == runs[1]["ballots"] > 0
    assert runs[0]["prompts"] == runs[1]["prompts"]
    scored = _score(_tally(), tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert "0 wrong" in scored.stdout

    # Kept in the process: the open window's thread and parsed Readings, none of the ended one's.
    assert last.pk in contexts._kept
    assert ended.pk not in contexts._kept
    parsed = {key[0] for key in services._parsed.items}
    assert last.pk in parsed
    assert ended.pk not in parsed
    assert last.pk in services._folds
    assert ended.pk not in services._folds

    # The ended vote still recounts from its stored rows to the same tally.
    tally, _ = services.tally_compute(vote=ended)
    assert tally == runs[0]
