"""The files `import_thread FILE... --format json|text|xenforo` takes, and those it refuses.

Every refusal names the file and, where it can, the place in it, and stores
nothing. The forum fields of `quest-thread/1` (`source_url`, `forum_user_id`,
`deleted`) go in and come out of a JSON file unchanged.
"""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from chapters.models import Chapter, Option, Prompt, Vote
from quest.models import Post, PostRevision, Quest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
JSON_THREAD = SHARED / "examples" / "red-alert-ch2.thread.json"
PASTE = SHARED / "seeds" / "000_9173bf5eb362a06d.txt"
PAGE = ROOT / "tests" / "fixtures" / "xenforo" / "thread-page-1.html"
SOURCES = {"json": JSON_THREAD, "text": PASTE, "xenforo": PAGE}
SLUG = "red-alert-1953"
MB = 1_000_000


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = (Quest, Post, PostRevision, Chapter, Vote, Prompt, Option, get_user_model())
    return {m.__name__: m.objects.count() for m in models}


def _example() -> dict:
    return json.loads(JSON_THREAD.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data, name: str = "thread.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# --- Formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["json", "text", "xenforo"])
def test_it_guesses_each_format_and_imports_it_the_same_as_when_told(format):
    guessed = _run("import_thread", str(SOURCES[format])).strip()
    before = _counts()

    told = _run("import_thread", str(SOURCES[format]), format=format).strip()

    assert told == guessed
    assert _counts() == before


def test_it_refuses_a_format_it_does_not_know():
    with pytest.raises(CommandError, match="argument --format: invalid choice: 'csv'"):
        _run("import_thread", str(JSON_THREAD), "--format", "csv")
    with pytest.raises(CommandError, match="Unknown format 'csv': it is one of json, text"):
        _run("import_thread", str(JSON_THREAD), format="csv")

    assert not Quest.objects.exists()


@pytest.mark.parametrize(
    ("format", "source", "hint"),
    [
        ("json", "xenforo", "it looks like an HTML page: try --format xenforo"),
        ("json", "text", "it looks like plain text: try --format text"),
        ("xenforo", "json", "it looks like a JSON file: try --format json"),
    ],
)
def test_it_says_what_a_file_read_in_the_wrong_format_looks_like(format, source, hint):
    with pytest.raises(CommandError, match=re.escape(hint)):
        _run("import_thread", str(SOURCES[source]), format=format)

    assert not Quest.objects.exists()


def test_it_refuses_files_of_different_formats_unless_told_which(tmp_path):
    with pytest.raises(CommandError, match="not all of one format") as refused:
        _run("import_thread", str(PAGE), str(PASTE))

    assert f"{PASTE} looks like text" in str(refused.value)
    assert not Quest.objects.exists()


def test_it_takes_one_json_file_at_a_time():
    with pytest.raises(CommandError, match="holds a whole thread: import one file at a time"):
        _run("import_thread", str(JSON_THREAD), str(JSON_THREAD))

    assert not Quest.objects.exists()


# --- Bad files, every format ------------------------------------------------------------


@pytest.mark.parametrize("format", ["json", "text", "xenforo"])
def test_it_refuses_an_empty_file(tmp_path, format):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")

    with pytest.raises(CommandError, match=re.escape(f"cannot read {empty}: the file is empty")):
        _run("import_thread", str(empty), format=format)

    assert not Quest.objects.exists()


@pytest.mark.parametrize("format", ["json", "text", "xenforo"])
def test_it_refuses_a_50_mb_file_without_reading_it_all(tmp_path, format):
    huge = tmp_path / "huge"
    with huge.open("wb") as f:
        f.write(b"{" if format == "json" else b"<" if format == "xenforo" else b"x")
        f.truncate(50 * MB)

    with pytest.raises(CommandError, match="is larger than 25 MB, the most one file may be"):
        _run("import_thread", str(huge), format=format)

    assert not Quest.objects.exists()


def test_it_refuses_a_file_just_over_the_limit_and_takes_one_at_it(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = JSON_THREAD.stat().st_size
    assert _run("import_thread", str(JSON_THREAD)).strip() == SLUG
    settings.IMPORT_MAX_BYTES -= 1

    with pytest.raises(CommandError, match="is larger than"):
        _run("import_thread", str(JSON_THREAD))


def test_it_refuses_a_file_that_is_not_there(tmp_path):
    with pytest.raises(CommandError, match="cannot read .*missing.json: .*No such file"):
        _run("import_thread", str(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("{not json", "Expecting property name enclosed in double quotes at line 1, column 2"),
        ('{"format": "quest-thread/1",\n "posts": [\n  {"id": 1,}\n ]}', "at line 3, column 12"),
        ('{"format": "quest-thread/1"', "Expecting ',' delimiter at line 1, column 28"),
    ],
)
def test_it_says_where_a_json_file_is_malformed(tmp_path, text, place):
    path = _write(tmp_path, text)

    with pytest.raises(CommandError, match=re.escape(f"cannot read {path}: not valid JSON")) as bad:
        _run("import_thread", str(path))

    assert place in str(bad.value)
    assert not Quest.objects.exists()


def test_it_names_the_file_and_the_post_of_a_document_it_refuses(tmp_path):
    data = _example()
    data["posts"][2]["posted_at"] = "soon"
    path = _write(tmp_path, data)

    with pytest.raises(CommandError) as refused:
        _run("import_thread", str(path))

    assert str(refused.value) == (
        f"{path}: post 3 'posted_at' must be an ISO 8601 time with a zone, not 'soon'."
    )
    assert not Quest.objects.exists()


# --- Forum fields in JSON ---------------------------------------------------------------


def _with_forum_fields(data: dict) -> dict:
    data["quest"]["source_url"] = "https://www.alternatehistory.com/forum/threads/red-alert.1/"
    data["quest"]["forum"] = "www.alternatehistory.com"
    for n, post in enumerate(data["posts"]):
        post["source_url"] = f"{data['quest']['source_url']}post-{post['id']}"
        post["forum_user_id"] = 1000 + n
    data["posts"][-1]["deleted"] = True
    return data


def test_it_keeps_the_forum_fields_through_import_and_export(tmp_path):
    data = _with_forum_fields(_example())

    _run("import_thread", str(_write(tmp_path, data)))
    exported = json.loads(_run("export_thread", SLUG))

    assert exported["quest"]["source_url"] == data["quest"]["source_url"]
    assert exported["quest"]["forum"] == "www.alternatehistory.com"
    fields = ("id", "source_url", "forum_user_id", "deleted")
    assert [{k: p.get(k) for k in fields} for p in exported["posts"]] == [
        {k: p.get(k) for k in fields} for p in data["posts"]
    ]


def test_it_writes_no_forum_fields_for_a_thread_that_has_none():
    _run("import_thread", str(JSON_THREAD))

    exported = json.loads(_run("export_thread", SLUG))

    assert not {"source_url", "forum"} & set(exported["quest"])
    assert not any({"source_url", "forum_user_id", "deleted"} & set(p) for p in exported["posts"])


def test_it_marks_a_post_the_file_now_says_is_deleted_and_keeps_its_text(tmp_path):
    _run("import_thread", str(JSON_THREAD))
    data = _example()
    last = data["posts"][-1]
    body = last["body"]
    last.update(deleted=True, body="")

    _run("import_thread", str(_write(tmp_path, data)))

    post = Post.objects.get(ref=last["id"])
    assert (post.deleted, post.body, post.version) == (True, body, 2)


BAD_FORUM_FIELDS = [
    pytest.param(
        {"forum_user_id": "abc"}, "post 1 'forum_user_id' must be the forum's numeric id", id="id"
    ),
    pytest.param({"forum_user_id": True}, "'forum_user_id' must be the forum's", id="bool id"),
    pytest.param({"deleted": "yes"}, "post 1 'deleted' must be true or false", id="deleted"),
    pytest.param(
        {"source_url": "javascript:alert(1)"},
        "post 1 'source_url' must be an http(s) address",
        id="address",
    ),
    pytest.param({"source_url": "https://x/" + "a" * 600}, "longer than 500", id="long address"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_FORUM_FIELDS)
def test_it_refuses_bad_forum_fields_and_saves_nothing(tmp_path, fields, message):
    data = _example()
    data["posts"][0].update(fields)

    with pytest.raises(CommandError, match=re.escape(message)):
        _run("import_thread", str(_write(tmp_path, data)))

    assert _counts()["Quest"] == 0
