"""The [X]-ballot test thread (tests/fixtures/xballots), read, folded, tallied and scored.

The thread and its expectations were written before the code, from how SpaceBattles,
Sufficient Velocity and Questionable Questing players vote (see its README); the shared
checker scores the tally voter by voter and fails one line's variants split over entries.
"""

import json
import subprocess
import sys

import pytest

from votes.reading import line_suggestions, read_thread
from votes.reading.fold import fold
from votes.tally import tally_json

from .example import CHECKER, XBALLOTS, load_thread


@pytest.fixture(scope="module")
def tally():
    data, vote, posts = load_thread(XBALLOTS / "thread.json")
    folded = fold(vote, read_thread(vote, posts), decisions=())
    vote_post = next(p for p in posts if p.id == vote.post_id)
    return tally_json(
        vote=vote,
        folded=folded,
        quest=data["quest"]["slug"],
        chapter=data["chapters"][0]["number"],
        status="closed",
        suggestions=line_suggestions(vote_post.body, vote),
    )


def test_the_thread_scores_zero_wrong_and_nothing_held_that_should_count(tally, tmp_path):
    path = tmp_path / "tally.json"
    path.write_text(json.dumps(tally), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(CHECKER), str(path), str(XBALLOTS / "expect.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 held back, 0 wrong" in result.stdout, result.stdout


def test_the_quest_masters_lines_are_listed_as_suggestions_not_counted(tally):
    lines = next(p for p in tally["prompts"] if p["number"] == 1)
    assert lines["suggestions"], lines
    assert not any(e["voters"] == [] and e["votes"] for e in lines["entries"])


def test_the_ranked_prompt_names_its_method_and_winner(tally):
    ranked = next(p for p in tally["prompts"] if p["number"] == 2)
    assert ranked["method"] == "schulze"
    assert ranked["winner"]
    assert all("ranks" in e for e in ranked["entries"])
