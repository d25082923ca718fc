"""A `quest-thread/1` file imported as a stream (votes/importers/thread_stream.py).

`import_thread` reads a JSON file a post at a time, so a whole thread never
sits in memory parsed. What it stores must be what the whole document gave,
whatever the order of the file's keys; and a file that goes bad partway,
after a batch of posts was inserted, must leave nothing stored.
"""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from chapters.models import Chapter, Option, Prompt, Vote
from quest.models import Post, PostRevision, Quest
from votes.importers.thread_json import BATCH, thread_import

pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
JSON_THREAD = SHARED / "examples" / "red-alert-ch2.thread.json"
POSTS = 2 * BATCH + 500  # three batches of posts after the example's


def _thread(slug: str) -> dict:
    """The example thread, then POSTS more: ballots, chatter, an edit now and then."""
    data = json.loads(JSON_THREAD.read_text(encoding="utf-8"))
    data["quest"]["slug"] = slug
    last = data["posts"][-1]
    for i in range(POSTS):
        body = f"[X] Option {'ABC'[i % 3]}\nI vote for this. Post {i}." if i % 4 else "Thanks!"
        data["posts"].append(
            {
                "id": last["id"] + 1 + i,
                "author": f"voter{i % 300:03}",
                "posted_at": f"2024-04-22T{i // 3600:02}:{i // 60 % 60:02}:{i % 60:02}Z",
                "edited_at": "2024-04-23T00:00:00Z" if i % 97 == 0 else None,
                "body": body,
            }
        )
    return data


def _file(tmp_path: Path, data: dict, *, posts_first: bool = False, text: str | None = None):
    """The document as a file; `posts_first` puts the posts before every other key."""
    if posts_first:
        data = {"posts": data["posts"], **{k: v for k, v in data.items() if k != "posts"}}
    path = tmp_path / "thread.json"
    path.write_text(text if text is not None else json.dumps(data, indent=1), encoding="utf-8")
    return path


def _import(path: Path, **options) -> str:
    out = StringIO()
    call_command("import_thread", str(path), stdout=out, **options)
    return out.getvalue().strip()


def _stored(slug: str) -> dict[str, list]:
    quest = Quest.objects.get(slug=slug)
    return {
        "posts": list(
            Post.objects.filter(quest=quest)
            .order_by("seq")
            .values_list(
                "seq", "ref", "author__username", "body", "posted_at", "edited_at", "version"
            )
        ),
        "revisions": list(
            PostRevision.objects.filter(post__quest=quest)
            .order_by("post__seq", "version")
            .values_list("post__ref", "version", "body")
        ),
        "chapters": list(
            Chapter.objects.filter(quest=quest).values_list("number", "title", "post__ref")
        ),
        "prompts": list(
            Prompt.objects.filter(vote__chapter__quest=quest)
            .order_by("number")
            .values_list("number", "kind", "text")
        ),
        "options": list(
            Option.objects.filter(prompt__vote__chapter__quest=quest)
            .order_by("prompt__number", "letter")
            .values_list("prompt__number", "letter", "text")
        ),
    }


def _counts() -> dict[str, int]:
    models = (Quest, Post, PostRevision, Chapter, Vote, Prompt, Option, get_user_model())
    return {m.__name__: m.objects.count() for m in models}


@pytest.mark.parametrize("posts_first", [False, True], ids=["header first", "posts first"])
def test_it_stores_what_the_whole_document_stored(tmp_path, posts_first):
    whole = _thread("whole")
    thread_import(copy.deepcopy(whole))  # the document parsed at once, as before streaming
    streamed = _thread("streamed")
    path = _file(tmp_path, streamed, posts_first=posts_first)
    assert path.stat().st_size > 64 * 1024  # streamed from disk, not read whole first

    assert _import(path) == "streamed"

    stored = _stored("streamed")
    assert stored == _stored("whole")
    assert len(stored["posts"]) == len(whole["posts"])


def test_it_stores_nothing_from_a_file_whose_json_breaks_partway(tmp_path):
    text = json.dumps(_thread("broken"), indent=1)
    cut = text.index(f'"id": {_thread("broken")["posts"][BATCH + 200]["id"]}')
    path = _file(tmp_path, {}, text=text[:cut] + '"id": 7,, "body": "x"}]}')
    before = _counts()

    with pytest.raises(CommandError) as refused:
        _import(path)

    message = str(refused.value)
    assert message.startswith(f"cannot read {path}: not valid JSON: Expecting")
    assert f"at line {text[:cut].count(chr(10)) + 1}, column" in message
    assert _counts() == before


def test_it_stores_nothing_when_a_post_after_the_first_batch_is_refused(tmp_path):
    data = _thread("refused")
    data["posts"][BATCH + 300]["posted_at"] = "soon"  # a batch was inserted before it
    path = _file(tmp_path, data)
    before = _counts()

    with pytest.raises(CommandError) as refused:
        _import(path)

    assert str(refused.value) == (
        f"{path}: post {BATCH + 301} 'posted_at' must be an ISO 8601 time with a zone, not 'soon'."
    )
    assert _counts() == before


def test_it_refuses_a_document_that_is_not_one_object_or_has_no_posts(tmp_path):
    listed = _file(tmp_path, {}, text="[" + " " * 70_000 + "]")
    with pytest.raises(CommandError, match="Not a quest-thread/1 file: it is not one JSON object"):
        _import(listed, format="json")

    data = _thread("no-posts")
    data["padding"] = "x" * 70_000
    del data["posts"]
    with pytest.raises(CommandError, match="The file has no 'posts' list"):
        _import(_file(tmp_path, data))

    assert not Quest.objects.exists()
