"""The public example thread, read, folded, tallied and scored by the shared checker."""

import json
import subprocess
import sys

import pytest

from votes.reading import read_thread
from votes.reading.types import PostKind

from .example import CHECKER, EXPECT, load_thread
from .helpers import check

EXPECTED_READINGS = {
    8400135: {1: "flag:B", 2: "flag:A"},  # Volkov_Fan: prose only
    8400142: {1: "B", 2: "A", 3: "~General improvements on the economy"},
    8400149: {1: "B", 2: "B", 3: "~expanding economic ties with the Chinese"},
    8400156: {1: "A", 2: "B", 3: "~agricultural inefficiencies"},
    8400163: {1: "B", 2: "A", 3: "~organize meetings with the other communist nations"},
    8400170: {1: "B", 2: "A", 3: "~General improvements", "endorses": 8400142},
    8400184: {1: "B", 2: "A", 3: "~General improvements", "endorses": 8400142},
    8400198: {3: "~Baltic states"},
    8400205: {1: "A", 2: "flag", 3: "~Warsaw Pact"},
}


@pytest.fixture(scope="module")
def thread():
    data, vote, posts = load_thread()
    return data, vote, read_thread(vote, posts)


@pytest.mark.parametrize(("post_id", "expected"), sorted(EXPECTED_READINGS.items()))
def test_it_reads_each_ballot_of_the_example_thread(thread, post_id, expected):
    _, _, readings = thread
    check(next(r for r in readings if r.post_id == post_id), expected)


def test_it_counts_nothing_else_in_the_example_thread(thread):
    _, _, readings = thread
    others = [r for r in readings if r.post_id not in EXPECTED_READINGS]
    assert all(not r.answers and not r.flags for r in others)
    assert {r.kind for r in others} <= {PostKind.NOT_BALLOT, PostKind.QUEST_MASTER}


def test_it_scores_zero_wrong_with_the_shared_checker(thread, tmp_path):
    from votes.reading.fold import fold
    from votes.tally import tally_json

    data, vote, readings = thread
    folded = fold(vote, readings, decisions=())
    chapter = data["chapters"][0]["number"]
    document = tally_json(
        vote=vote, folded=folded, quest=data["quest"]["slug"], chapter=chapter, status="closed"
    )
    path = tmp_path / "tally.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(CHECKER), str(path), str(EXPECT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 wrong" in result.stdout
