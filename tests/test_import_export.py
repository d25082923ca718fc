"""Importing and exporting whole threads (`quest-thread/1`), and the `tally` command.

The example thread and its per-voter expectations live in ../shared/examples;
the shared checker scores a tally against them. The in-process tests run on
whatever database the suite runs on (PostgreSQL under `make test`); one test
runs the commands in a fresh process on the embedded default (SQLite).
"""

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils.dateparse import parse_datetime

from chapters.models import Chapter, Option, Prompt, Vote
from quest.models import Membership, Post, Quest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
THREAD = SHARED / "examples" / "red-alert-ch2.thread.json"
EXPECT = SHARED / "examples" / "red-alert-ch2.expect.json"
CHECKER = SHARED / "tools" / "check_tally.py"
SLUG = "red-alert-1953"

pytestmark = pytest.mark.django_db


def _example() -> dict:
    return json.loads(THREAD.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data, name: str = "thread.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = (Quest, Post, Chapter, Vote, Prompt, Option, Membership, get_user_model())
    return {m.__name__: m.objects.count() for m in models}


def _score(tally_json: str, tmp_path: Path) -> subprocess.CompletedProcess:
    tally = _write(tmp_path, tally_json, "tally.json")
    return subprocess.run(
        [sys.executable, str(CHECKER), str(tally), str(EXPECT)],
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- Import ---------------------------------------------------------------------


def test_it_imports_the_example_and_prints_the_slug():
    out = _run("import_thread", str(THREAD))

    assert out.strip() == SLUG
    quest = Quest.objects.get(slug=SLUG)
    assert quest.quest_master.username == "panpiotr"
    assert Post.objects.filter(quest=quest).count() == len(_example()["posts"])
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
    assert vote.post.ref == 8400128
    assert vote.status == Vote.Status.CLOSED
    assert list(vote.prompts.values_list("number", "kind")) == [
        (1, "single"),
        (2, "single"),
        (3, "write_in"),
    ]


def test_it_changes_nothing_when_the_same_file_is_imported_twice():
    _run("import_thread", str(THREAD))
    counts = _counts()
    bodies = dict(Post.objects.values_list("ref", "body"))
    versions = dict(Post.objects.values_list("ref", "version"))

    out = _run("import_thread", str(THREAD))

    assert out.strip() == SLUG
    assert _counts() == counts
    assert dict(Post.objects.values_list("ref", "body")) == bodies
    assert dict(Post.objects.values_list("ref", "version")) == versions


def test_it_reads_the_prompts_from_the_vote_post_when_the_file_gives_none(tmp_path):
    data = _example()
    given = data["chapters"][0]["vote"].pop("prompts")

    _run("import_thread", str(_write(tmp_path, data)))

    vote = Vote.objects.get(chapter__quest__slug=SLUG)
    found = [
        (p.number, p.kind, [o.letter for o in p.options.all()])
        for p in vote.prompts.prefetch_related("options")
    ]
    assert found == [
        (p["number"], p["kind"], [o["letter"] for o in p.get("options", [])]) for p in given
    ]


# --- Export ---------------------------------------------------------------------


def _instant(value: str | None):
    return parse_datetime(value) if value else None


def test_it_keeps_every_post_chapter_vote_and_prompt_through_export(tmp_path):
    original = _example()
    _run("import_thread", str(THREAD))

    exported = json.loads(_run("export_thread", SLUG))

    assert exported["format"] == "quest-thread/1"
    quest = {k: original["quest"][k] for k in ("slug", "title", "quest_master", "moderators")}
    assert exported["quest"] == quest
    assert len(exported["posts"]) == len(original["posts"])
    for mine, theirs in zip(exported["posts"], original["posts"], strict=True):
        assert mine["id"] == theirs["id"]
        assert mine["author"] == theirs["author"]
        assert _instant(mine["posted_at"]) == _instant(theirs["posted_at"])
        assert _instant(mine["edited_at"]) == _instant(theirs["edited_at"])
        assert mine["body"] == theirs["body"]
    assert len(exported["chapters"]) == len(original["chapters"])
    for mine, theirs in zip(exported["chapters"], original["chapters"], strict=True):
        assert (mine["number"], mine["title"], mine["post"]) == (
            theirs["number"],
            theirs["title"],
            theirs["post"],
        )
        vote, given = mine["vote"], theirs["vote"]
        assert vote["post"] == given["post"]
        assert _instant(vote["opens_at"]) == _instant(given["opens_at"])
        assert _instant(vote["closes_at"]) == _instant(given["closes_at"])
        assert [
            (p["number"], p["kind"], p["text"], p.get("options", [])) for p in vote["prompts"]
        ] == [(p["number"], p["kind"], p["text"], p.get("options", [])) for p in given["prompts"]]


def test_it_imports_its_own_export_unchanged(tmp_path):
    _run("import_thread", str(THREAD))
    first = json.loads(_run("export_thread", SLUG))
    Quest.objects.all().delete()

    _run("import_thread", str(_write(tmp_path, first)))

    assert json.loads(_run("export_thread", SLUG)) == first


# A `lines` prompt (forum-style [X] ballots) beside the example's lettered ones.
PLANS_PROMPT = {
    "number": 4,
    "kind": "lines",
    "text": "Plans for the first hundred days",
    "partition": "line",
    "proxies": "off",
    "method": "borda",
}


def _with_prompt(prompt: dict) -> dict:
    data = _example()
    data["chapters"][0]["vote"]["prompts"].append(prompt)
    return data


def test_it_keeps_a_lines_prompts_settings_through_export(tmp_path):
    _run("import_thread", str(_write(tmp_path, _with_prompt(PLANS_PROMPT))))

    stored = Prompt.objects.get(number=4, vote__chapter__quest__slug=SLUG)
    assert (stored.kind, stored.partition, stored.proxies, stored.method) == (
        "lines",
        "line",
        "off",
        "borda",
    )
    exported = json.loads(_run("export_thread", SLUG))
    prompts = exported["chapters"][0]["vote"]["prompts"]
    assert prompts[-1] == PLANS_PROMPT | {"options": []}
    assert all("partition" not in p for p in prompts[:-1])  # lettered prompts have none

    Quest.objects.all().delete()
    _run("import_thread", str(_write(tmp_path, exported, "again.json")))
    assert json.loads(_run("export_thread", SLUG)) == exported


def test_it_gives_a_lines_prompt_without_settings_the_defaults(tmp_path):
    bare = {"number": 4, "kind": "lines", "text": "Plans"}
    _run("import_thread", str(_write(tmp_path, _with_prompt(bare))))

    exported = json.loads(_run("export_thread", SLUG))
    assert exported["chapters"][0]["vote"]["prompts"][-1] == bare | {
        "options": [],
        "partition": "block",
        "proxies": "on",
        "method": "schulze",
    }


def test_it_reads_a_lines_prompt_from_a_vote_post_of_suggestion_lines(tmp_path):
    data = _example()
    vote = data["chapters"][0]["vote"]
    vote.pop("prompts")
    post = next(p for p in data["posts"] if p["id"] == vote["post"])
    post["body"] = (
        "[B]The Presidium meets.[/B]\n\nWhat will the Presidium do first?\n"
        "[ ] Release the doctors\n[ ] Amnesty for short sentences\n"
        "-[ ] Not for political prisoners\n[ ] Write-in"
    )

    _run("import_thread", str(_write(tmp_path, data)))

    prompt = Prompt.objects.get(vote__chapter__quest__slug=SLUG)
    assert (prompt.number, prompt.kind, prompt.text, prompt.options.count()) == (
        1,
        "lines",
        "What will the Presidium do first?",
        0,
    )
    assert (prompt.partition, prompt.proxies, prompt.method) == ("block", "on", "schulze")


def test_it_refuses_to_export_a_quest_that_does_not_exist():
    with pytest.raises(CommandError, match="no quest with slug 'nope'"):
        _run("export_thread", "nope")


# --- The tally command ----------------------------------------------------------


def test_it_scores_the_example_with_no_wrong_answers(tmp_path):
    _run("import_thread", str(THREAD))

    tally = _run("tally", SLUG, chapter=2, format="json")

    assert json.loads(tally)["format"] == "quest-tally/1"
    scored = _score(tally, tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert " 0 wrong" in scored.stdout.strip().splitlines()[-1]


def test_it_scores_the_example_on_the_embedded_default_in_a_fresh_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SQLITE_PATH"] = str(tmp_path / "embedded.sqlite3")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    manage("migrate", "--no-input")
    assert manage("import_thread", str(THREAD)).strip() == SLUG
    tally = manage("tally", SLUG, "--chapter", "2", "--format", "json")

    assert (tmp_path / "embedded.sqlite3").exists()
    scored = _score(tally, tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert " 0 wrong" in scored.stdout.strip().splitlines()[-1]


def test_it_prints_the_tally_as_forum_bbcode():
    _run("import_thread", str(THREAD))

    text = _run("tally", SLUG, chapter=2, format="bbcode")

    lines = text.splitlines()
    assert "#####" in lines[0]
    assert "Chapter Two: Beria's Final Gamble" in lines[1]
    assert "Decide the fate of MVD and MGB agants" in text
    assert "No. of Votes" in text
    assert "Total No. of Voters" in text
    assert "RedBanner" in text


def test_it_prints_the_tally_as_text():
    _run("import_thread", str(THREAD))
    tally = json.loads(_run("tally", SLUG, chapter=2, format="json"))

    text = _run("tally", SLUG, chapter=2, format="text")

    lines = text.splitlines()
    assert lines[0] == f"{SLUG}, chapter 2 (closed): {tally['ballots']} ballots"
    assert "[B]" not in text and "[url=" not in text
    first = tally["prompts"][0]
    assert f"1. {first['text']}" in lines
    for option in first["options"]:
        assert f"  {option['letter']}) {option['text']}: {option['votes']}" in lines
        assert f"     {', '.join(option['voters'])}" in lines
    assert f"  Leading: {first['leaders'][0]}" in lines
    assert f"Held back for a moderator ({len(tally['flagged'])}):" in lines


def test_it_refuses_a_tally_for_a_chapter_without_a_vote():
    _run("import_thread", str(THREAD))

    with pytest.raises(CommandError, match="has no vote on chapter 7"):
        _run("tally", SLUG, chapter=7)


# --- Bad files ------------------------------------------------------------------


def _without_first_post_id(data: dict) -> None:
    del data["posts"][0]["id"]


def _chapter_on_missing_post(data: dict) -> None:
    data["chapters"][0]["post"] = 1


def _bad_last_post_time(value):
    def spoil(data: dict) -> None:
        data["posts"][-1]["posted_at"] = value

    return spoil


def _lines_prompt_with(**settings):
    def spoil(data: dict) -> None:
        prompt = {"number": 4, "kind": "lines", "text": "Plans"} | settings
        data["chapters"][0]["vote"]["prompts"].append(prompt)

    return spoil


BAD_FILES = [
    pytest.param(lambda d: "{not json", "cannot read", id="not JSON"),
    pytest.param(
        lambda d: d.update(format="quest-thread/2"),
        "'format' must be 'quest-thread/1'",
        id="format",
    ),
    pytest.param(_without_first_post_id, "post 1 needs an integer 'id'", id="post without id"),
    pytest.param(
        _chapter_on_missing_post, "a 'post' that is one of the file's posts", id="missing post"
    ),
    pytest.param(
        _bad_last_post_time("yesterday"),
        "post 16 'posted_at' must be an ISO 8601 time with a zone, not 'yesterday'",
        id="bad time",
    ),
    pytest.param(
        _bad_last_post_time("2024-04-21T09:41:00"),
        "post 16 'posted_at' must be an ISO 8601 time with a zone",
        id="time without zone",
    ),
    pytest.param(
        _bad_last_post_time("2024-13-45T09:41:00Z"),
        "post 16 'posted_at' must be an ISO 8601 time with a zone",
        id="impossible date",
    ),
    pytest.param(
        _lines_prompt_with(partition="blocks"),
        "chapter 2's vote: prompt 4's partition 'blocks' is not one of "
        "'post', 'line', 'block', 'line_task'",
        id="lines partition",
    ),
    pytest.param(
        _lines_prompt_with(proxies=False),
        "prompt 4's proxies False is not one of 'on', 'off', 'pinned'",
        id="lines proxies",
    ),
    pytest.param(
        _lines_prompt_with(method="irv"),
        "prompt 4's method 'irv' is not one of 'schulze', 'rated_runoff', 'borda'",
        id="lines method",
    ),
]


@pytest.mark.parametrize(("spoil", "message"), BAD_FILES)
def test_it_refuses_a_bad_file_and_saves_nothing(tmp_path, spoil, message):
    _run("import_thread", str(THREAD))
    before = _counts()
    data = _example()
    data["quest"]["slug"] = "another-quest"  # a second import would be all new rows
    spoiled = spoil(data)

    with pytest.raises(CommandError, match=re.escape(message)):
        _run("import_thread", str(_write(tmp_path, spoiled if spoiled else data)))

    assert _counts() == before
    assert not Quest.objects.filter(slug="another-quest").exists()
