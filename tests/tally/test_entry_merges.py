"""Moderators' merges of write-in entries, as the pure tally applies them (votes.merging)."""

import pytest

from tests.tally.build import VOTE, post
from votes.merging import Merge, merge_applies, merge_roots
from votes.reading.fold import fold
from votes.tally import entry_key, tally_json, tally_sha256, to_bbcode, to_text

WRITE_IN = 3  # VOTE's write-in prompt

READINGS = [
    post(10, "ann", "1A 3=Build_dams"),
    post(11, "bob", "3=Build_more_dams"),
    post(12, "cat", "3=build_dams!"),
    post(13, "dan", "3=Plant_trees"),
    post(14, "eve", "3=Dig_canals"),
]


def _tally(merges=(), readings=READINGS, prompt=WRITE_IN):
    return tally_json(
        vote=VOTE,
        folded=fold(VOTE, readings),
        quest="q",
        chapter=2,
        status="open",
        merges={prompt: [Merge(merged=m, kept=k) for m, k in merges]},
    )


def _entries(tally, prompt=WRITE_IN):
    return [
        (e["text"], e["votes"], e.get("merged_from", []))
        for e in next(p for p in tally["prompts"] if p["number"] == prompt)["entries"]
    ]


@pytest.mark.parametrize(
    ("merges", "expected"),
    [
        pytest.param(
            [],
            [("Build dams", 2, []), ("Build more dams", 1, []), ("Dig canals", 1, [])]
            + [("Plant trees", 1, [])],
            id="no merge: entries as written",
        ),
        pytest.param(
            [("Build more dams", "Build dams")],
            [("Build dams", 3, ["Build more dams"]), ("Dig canals", 1, []), ("Plant trees", 1, [])],
            id="merged into the entry kept, named as it",
        ),
        pytest.param(
            [("Build dams", "Build more dams")],
            [("Build more dams", 3, ["Build dams"]), ("Dig canals", 1, []), ("Plant trees", 1, [])],
            id="the moderator keeps the other wording",
        ),
        pytest.param(
            [("BUILD DAMS", "build more dams")],
            [("Build more dams", 3, ["Build dams"]), ("Dig canals", 1, []), ("Plant trees", 1, [])],
            id="texts match as entries do: case and punctuation aside",
        ),
        pytest.param(
            [("Build more dams", "Build dams"), ("Build dams", "Dig canals")],
            [("Dig canals", 4, ["Build dams", "Build more dams"]), ("Plant trees", 1, [])],
            id="a merged entry merged on: the whole group goes",
        ),
        pytest.param(
            [("Build more dams", "Build dams"), ("Build dams", "Build more dams")],
            [("Build dams", 3, ["Build more dams"]), ("Dig canals", 1, []), ("Plant trees", 1, [])],
            id="a merge back the other way makes no cycle and changes nothing",
        ),
        pytest.param(
            [("Sing loudly", "Build dams"), ("Build more dams", "Sing loudly")],
            [("Build dams", 2, []), ("Build more dams", 1, []), ("Dig canals", 1, [])]
            + [("Plant trees", 1, [])],
            id="a merge naming an entry no one wrote applies to nothing",
        ),
    ],
)
def test_it_applies_standing_merges_in_order(merges, expected):
    assert _entries(_tally(merges)) == expected


def test_it_counts_each_voter_once_in_a_merged_entry():
    entry = _tally([("Build more dams", "Build dams")])["prompts"][2]["entries"][0]
    assert entry["voters"] == ["ann", "bob", "cat"]


def test_it_leaves_other_prompts_alone():
    # Merges only ever apply to write-in prompts, whatever number they are filed under.
    readings = [post(10, "ann", "1A"), post(11, "bob", "1B")]
    tally = _tally([("Option A", "Option B")], readings=readings, prompt=1)
    assert [o["votes"] for o in tally["prompts"][0]["options"]] == [1, 1, 0]


def test_it_changes_the_hash_when_a_merge_applies_and_not_otherwise():
    plain = tally_sha256(_tally())
    assert tally_sha256(_tally([("Build more dams", "Build dams")])) != plain
    assert tally_sha256(_tally([("Sing loudly", "Build dams")])) == plain


def test_it_exports_the_merged_entry_as_bbcode():
    text = to_bbcode(_tally([("Build more dams", "Build dams")]), title="T")
    assert "[B]Build dams[/B] No. of Votes: 3" in text
    assert "Build more dams" not in text


def test_roots_follow_the_kept_side_and_skip_absent_keys():
    roots = merge_roots(["a", "b", "c"], [("a", "b"), ("x", "c"), ("b", "c")])
    assert roots == {"a": "c", "b": "c", "c": "c"}


def test_it_tells_whether_a_merge_applies_from_a_stored_tally():
    entries = _tally([("Build more dams", "Build dams")])["prompts"][2]["entries"]
    groups = [{entry_key(t) for t in [e["text"], *e.get("merged_from", [])]} for e in entries]
    assert merge_applies(entry_key("Build more dams"), entry_key("Build dams"), groups)
    assert not merge_applies(entry_key("Plant trees"), entry_key("Build dams"), groups)


def test_it_names_what_an_entry_was_merged_from_in_plain_text():
    text = to_text(_tally([("Build more dams", "Build dams")]))
    assert "  [3] Build dams\n     merged from: Build more dams\n     ann, bob, cat" in text
