"""The quest-tally/1 document (shared thread-format.md, section 3)."""

import importlib.util
import json
from pathlib import Path

import pytest

from tests.tally.build import QM, VOTE, flag, post
from votes.reading.fold import fold
from votes.reading.types import OptionSpec, PromptKind, PromptSpec, VoteSpec
from votes.tally import canonical, tally_json, tally_sha256

CHECKER = Path("/work/shared/tools/check_tally.py")


def _tally(readings, vote=VOTE, **kwargs):
    return tally_json(
        vote=vote,
        folded=fold(vote, readings),
        quest="red-alert-1953",
        chapter=2,
        status="open",
        **kwargs,
    )


def _prompt(tally, number):
    return next(p for p in tally["prompts"] if p["number"] == number)


SMALL = VoteSpec(
    prompts=(
        PromptSpec(
            1, PromptKind.SINGLE, "Decide", (OptionSpec("A", "Leniency"), OptionSpec("B", "Punish"))
        ),
        PromptSpec(3, PromptKind.WRITE_IN, "Write down"),
    ),
    quest_master=QM,
)


def test_it_writes_the_whole_document():
    readings = [
        post(10, "RedBanner", "1B 3=General_improvements"),
        post(11, "Dnipro_Rail", "1A"),
        post(12, "Comrade_Sasha", "1B 3=general_improvements."),
        post(13, "Volkov_Fan", flags=(flag(None, reason="reads like a vote"),)),
        post(14, "Late_Larry", "1A", excluded="posted after the vote closed"),
    ]
    assert _tally(readings, vote=SMALL) == {
        "format": "quest-tally/1",
        "quest": "red-alert-1953",
        "chapter": 2,
        "status": "open",
        "ballots": 3,
        "prompts": [
            {
                "number": 1,
                "kind": "single",
                "text": "Decide",
                "options": [
                    {"letter": "A", "text": "Leniency", "votes": 1, "voters": ["Dnipro_Rail"]},
                    {
                        "letter": "B",
                        "text": "Punish",
                        "votes": 2,
                        "voters": ["Comrade_Sasha", "RedBanner"],
                    },
                ],
                "leaders": ["B"],
            },
            {
                "number": 3,
                "kind": "write_in",
                "text": "Write down",
                "entries": [
                    {
                        "text": "General improvements",
                        "votes": 2,
                        "voters": ["Comrade_Sasha", "RedBanner"],
                    }
                ],
            },
        ],
        "flagged": [
            {"post": 13, "author": "Volkov_Fan", "prompt": None, "reason": "reads like a vote"}
        ],
        "excluded": [
            {"post": 14, "author": "Late_Larry", "reason": "posted after the vote closed"}
        ],
    }


# (name, ballots for prompt 1 as "voter:letter", expected leaders)
LEADERS = [
    ("one leader", ["ann:A", "bob:A", "cat:B"], ["A"]),
    ("a tie lists every leader", ["ann:A", "bob:B", "cat:C", "dan:C", "eve:A"], ["A", "C"]),
    ("no votes, no leaders", [], []),
]


@pytest.mark.parametrize(("name", "votes", "leaders"), LEADERS, ids=[c[0] for c in LEADERS])
def test_it_names_the_leaders(name, votes, leaders):
    readings = [post(i, v.split(":")[0], "1" + v.split(":")[1]) for i, v in enumerate(votes)]
    assert _prompt(_tally(readings), 1)["leaders"] == leaders


def test_it_counts_each_letter_of_a_multi_answer():
    tally = _tally([post(1, "ann", "4AC"), post(2, "bob", "4C")])
    options = {o["letter"]: (o["votes"], o["voters"]) for o in _prompt(tally, 4)["options"]}
    assert options == {"A": (1, ["ann"]), "B": (0, []), "C": (2, ["ann", "bob"]), "D": (0, [])}
    assert _prompt(tally, 4)["leaders"] == ["C"]


def test_it_counts_a_voter_once_in_ballots_however_many_prompts():
    tally = _tally(
        [post(1, "ann", "1A 2B 4AC"), post(2, "bob", "2A"), post(3, "cat", flags=(flag(None),))]
    )
    assert tally["ballots"] == 2


# (name, write-ins in post order as (post, voter, text), expected entries as (text, voters))
ENTRIES = [
    (
        "case, punctuation and white space do not split an entry",
        [(1, "ann", "Build dams!"), (2, "bob", "build  DAMS"), (3, "cat", "Build-dams")],
        [("Build dams!", ["ann", "bob", "cat"])],
    ),
    (
        "the entry reads as its first-posted wording",
        [(5, "bob", "build dams"), (2, "ann", "Build Dams.")],
        [("Build Dams.", ["ann", "bob"])],
    ),
    (
        "entries sort by votes, then text",
        [(1, "ann", "Zoos"), (2, "bob", "Roads"), (3, "cat", "Roads"), (4, "dan", "apples")],
        [("Roads", ["bob", "cat"]), ("apples", ["dan"]), ("Zoos", ["ann"])],
    ),
    (
        "different wording stays a different entry",
        [(1, "ann", "Build dams"), (2, "bob", "Build more dams")],
        [("Build dams", ["ann"]), ("Build more dams", ["bob"])],
    ),
]


@pytest.mark.parametrize(("name", "writeins", "entries"), ENTRIES, ids=[c[0] for c in ENTRIES])
def test_it_groups_write_ins(name, writeins, entries):
    readings = [post(p, v, "3=" + t.replace(" ", "_")) for p, v, t in sorted(writeins)]
    got = _prompt(_tally(readings), 3)["entries"]
    assert [(e["text"], e["voters"]) for e in got] == entries
    assert all(e["votes"] == len(e["voters"]) for e in got)


def test_it_puts_a_joined_write_in_in_the_joined_entry():
    tally = _tally([post(1, "bob", "3=Dams"), post(2, "ann", "3^bob")])
    assert _prompt(tally, 3)["entries"] == [{"text": "Dams", "votes": 2, "voters": ["ann", "bob"]}]


RANKED = [
    ("schulze", ["5CAB", "5CBA", "5ABC"], "C"),
    ("instant_runoff", ["5CAB", "5CBA", "5ABC"], "C"),
    ("schulze", ["5AB", "5BA"], ["A", "B"]),
    ("instant_runoff", ["5A", "5B"], ["A", "B"]),
    ("schulze", [], None),
]


@pytest.mark.parametrize(("method", "answers", "winner"), RANKED)
def test_it_names_the_ranked_winner(method, answers, winner):
    readings = [post(i, f"v{i}", a) for i, a in enumerate(answers)]
    prompt = _prompt(_tally(readings, method=method), 5)
    assert (prompt["method"], prompt["winner"]) == (method, winner)
    assert prompt["leaders"] == ([winner] if isinstance(winner, str) else winner or [])


def test_it_counts_ranks_per_option():
    tally = _tally([post(1, "ann", "5CAB"), post(2, "bob", "5CB"), post(3, "cat", "5A")])
    ranks = {o["letter"]: (o["ranks"], o["voters"]) for o in _prompt(tally, 5)["options"]}
    assert ranks == {
        "A": ([1, 1, 0], ["ann", "cat"]),
        "B": ([0, 1, 1], ["ann", "bob"]),
        "C": ([2, 0, 0], ["ann", "bob"]),
    }


def test_it_refuses_an_unknown_method():
    with pytest.raises(ValueError, match="borda"):
        _tally([], method="borda")


def test_it_serialises_as_json_with_nothing_but_the_format_fields():
    tally = _tally([post(1, "ann", "1A 2B 3=Dams 4AB 5CAB"), post(2, "bob", flags=(flag(2),))])
    assert json.loads(json.dumps(tally)) == tally
    keys = {
        "single": {"number", "kind", "text", "options", "leaders"},
        "write_in": {"number", "kind", "text", "entries"},
    }
    keys["multi"] = keys["single"] | {"pass_rule"}
    keys["ranked"] = keys["single"] | {"method", "winner"}
    assert all(set(p) == keys[p["kind"]] for p in tally["prompts"])
    assert all(set(f) == {"post", "author", "prompt", "reason"} for f in tally["flagged"])


def _reorder(value):
    """The same data with every dict's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reorder(v) for v in value]
    return value


def test_it_hashes_the_same_tally_the_same_whatever_the_key_order():
    tally = _tally([post(1, "ann", "1A 3=Dams"), post(2, "bob", "1B 5CA")])
    reordered = _reorder(tally)
    assert list(reordered) != list(tally)
    assert canonical(reordered) == canonical(tally)
    assert tally_sha256(reordered) == tally_sha256(tally)
    assert len(tally_sha256(tally)) == 64


def test_it_hashes_a_changed_tally_differently():
    before = _tally([post(1, "ann", "1A")])
    after = _tally([post(1, "ann", "1B")])
    assert tally_sha256(before) != tally_sha256(after)


def test_it_writes_canonical_json_compact_and_in_utf8():
    tally = _tally([post(1, "Ёлка", "1A")])
    assert canonical(tally).startswith(b'{"ballots":1,"chapter":2,')
    assert "Ёлка".encode() in canonical(tally)


def test_it_scores_right_with_the_shared_checker(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("check_tally", CHECKER)
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    readings = [
        post(10, "RedBanner", "1B 2A 3=General_improvements_on_the_economy"),
        post(11, "Comrade_Sasha", "1B 2A 3^RedBanner"),
        post(12, "Volkov_Fan", flags=(flag(None),)),
        post(13, "Proxy_Pete", proxy="RedBanner"),
        post(14, "Dnipro_Rail", "1A 2B", flags=(flag(3),)),
        post(15, QM, "1A", excluded="quest master's post"),
    ]
    expect = {
        "format": "quest-expect/1",
        "chapter": 2,
        "voters": {
            "RedBanner": {"1": "B", "2": "A", "3": {"write_in": "General improvements"}},
            "Comrade_Sasha": {
                "1": "B",
                "2": "A",
                "3": {"write_in": "General improvements", "same_entry_as": "RedBanner"},
            },
            "Volkov_Fan": {"1": "flag", "2": "flag", "3": None},
            "Proxy_Pete": {"1": {"follows": "RedBanner"}, "3": {"follows": "RedBanner"}},
            "Dnipro_Rail": {"1": "A", "2": "B", "3": {"write_in": "x", "or_flag": True}},
            QM: None,
        },
    }
    (tmp_path / "tally.json").write_text(json.dumps(_tally(readings)))
    (tmp_path / "expect.json").write_text(json.dumps(expect))
    status = checker.main(["check", str(tmp_path / "tally.json"), str(tmp_path / "expect.json")])
    assert "0 wrong" in capsys.readouterr().out
    assert status == 0
