"""Imports at scale: posts stored in batches, read in chunks (issue 14).

A thread of a few hundred posts (the public example with chatter added inside
its vote) is imported through the bulk path with batches small enough that it
takes several, and must come out as the example's expectations say
(tools/check_tally.py) with every post read as the pure reader reads the whole
thread in one pass. Importing again changes nothing; a malformed post after
1,500 good ones leaves no quest behind; with a real worker the posts are read
by a chord of chunk tasks and the vote ends with the same tally.
"""

import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils.dateparse import parse_datetime

from chapters.models import Vote
from quest.models import Post, PostRevision, Quest
from tests.services import wait_until
from votes import import_reading
from votes.importers import thread_json
from votes.importers.sources import Source, SourceError, sources_import
from votes.models import Reading, TallyRun
from votes.reading import read_thread
from votes.reading.types import PostIn
from votes.selectors import vote_spec

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
THREAD = SHARED / "examples" / "red-alert-ch2.thread.json"
EXPECT = SHARED / "examples" / "red-alert-ch2.expect.json"
CHECKER = SHARED / "tools" / "check_tally.py"
SLUG = "red-alert-1953"
CHATTER = ["Great chapter!", "lol", "Can't wait for the next update.", "Oh no, Beria...", "Nice."]


def _thread(chatter: int = 300) -> dict:
    """The example thread with `chatter` posts by lurkers right after the vote's post."""
    data = json.loads(THREAD.read_text(encoding="utf-8"))
    vote_ref = data["chapters"][0]["vote"]["post"]
    at = next(i for i, p in enumerate(data["posts"]) if p["id"] == vote_ref)
    opened = parse_datetime(data["posts"][at]["posted_at"])
    added = [
        {
            "id": 9_000_000 + i,
            "author": f"Lurker_{i % 40}",
            "posted_at": (opened + timedelta(seconds=i + 1)).isoformat(),
            "edited_at": None,
            "body": CHATTER[i % len(CHATTER)],
        }
        for i in range(chatter)
    ]
    data["posts"][at + 1 : at + 1] = added
    return data


def _import(data: dict, commit=None) -> Quest:
    """Import `data`; `commit` (django_capture_on_commit_callbacks) runs what waits on commit."""
    if commit is None:
        return sources_import([Source("thread.json", json.dumps(data))], format="json")
    with commit(execute=True):
        return sources_import([Source("thread.json", json.dumps(data))], format="json")


def _tally() -> str:
    out = StringIO()
    call_command("tally", SLUG, chapter=2, format="json", stdout=out)
    return out.getvalue()


def _score(tally: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "tally.json"
    path.write_text(tally, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(CHECKER), str(path), str(EXPECT)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_pass(data: dict, vote: Vote) -> dict[int, dict]:
    """Post ref -> how the pure reader reads it in one pass over the file's posts."""
    posts = [
        PostIn(
            p["id"],
            p["author"],
            parse_datetime(p["posted_at"]),
            p["body"],
            parse_datetime(p["edited_at"]) if p.get("edited_at") else None,
        )
        for p in data["posts"]
    ]
    return {
        p.id: r.to_json() for p, r in zip(posts, read_thread(vote_spec(vote), posts), strict=True)
    }


def _stored(vote: Vote) -> dict[int, dict]:
    return dict(Reading.objects.filter(vote=vote).values_list("post__ref", "data"))


def _window_refs(vote: Vote) -> set[int]:
    return set(
        Post.objects.filter(quest=vote.chapter.quest, seq__gte=vote.post.seq + 1).values_list(
            "ref", flat=True
        )
    )


@pytest.mark.django_db
def test_it_stores_a_thread_in_batches_as_the_file_orders_it(monkeypatch, tmp_path):
    monkeypatch.setattr(thread_json, "BATCH", 64)
    data = _thread()

    quest = _import(data)

    posts = list(Post.objects.filter(quest=quest).order_by("seq").select_related("author"))
    assert [p.seq for p in posts] == list(range(1, len(data["posts"]) + 1))
    assert [(p.ref, p.author.username, p.body) for p in posts] == [
        (p["id"], p["author"], p["body"]) for p in data["posts"]
    ]
    assert all(p.imported and p.version == 1 for p in posts)
    assert PostRevision.objects.filter(post__quest=quest, version=1).count() == len(posts)
    quest.refresh_from_db()
    assert quest.last_seq == len(posts)
    assert quest.last_ref == max(p["id"] for p in data["posts"])
    # Forty lurkers, one account each, whatever batch their posts fell in.
    assert get_user_model().objects.filter(username__startswith="Lurker_").count() == 40


@pytest.mark.django_db
def test_it_reads_every_post_as_one_pass_does_and_scores_the_example(
    monkeypatch, tmp_path, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(thread_json, "BATCH", 64)
    data = _thread()

    quest = _import(data, django_capture_on_commit_callbacks)

    vote = Vote.objects.get(chapter__quest=quest)
    stored = _stored(vote)
    assert set(stored) == _window_refs(vote)
    expected = _one_pass(data, vote)
    assert stored == {ref: expected[ref] for ref in stored}
    scored = _score(_tally(), tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    assert "0 wrong" in scored.stdout


@pytest.mark.django_db
def test_it_changes_nothing_when_imported_again_in_batches(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(thread_json, "BATCH", 50)
    data = _thread()
    quest = _import(data, django_capture_on_commit_callbacks)
    vote = Vote.objects.get(chapter__quest=quest)
    before = (
        list(Post.objects.filter(quest=quest).values_list("seq", "ref", "version", "body")),
        PostRevision.objects.filter(post__quest=quest).count(),
        _stored(vote),
        TallyRun.objects.filter(vote=vote).count(),
        get_user_model().objects.count(),
    )

    _import(data, django_capture_on_commit_callbacks)

    quest.refresh_from_db()
    after = (
        list(Post.objects.filter(quest=quest).values_list("seq", "ref", "version", "body")),
        PostRevision.objects.filter(post__quest=quest).count(),
        _stored(vote),
        TallyRun.objects.filter(vote=vote).count(),
        get_user_model().objects.count(),
    )
    assert after == before
    assert quest.last_seq == len(data["posts"])


@pytest.mark.django_db
def test_it_stores_nothing_when_a_post_after_1500_good_ones_is_malformed():
    data = _thread(chatter=1600)
    del data["posts"][1510]["author"]
    users = get_user_model().objects.count()

    with pytest.raises(SourceError, match="post 1511 needs an integer 'id', an 'author'"):
        _import(data)

    assert not Quest.objects.filter(slug=SLUG).exists()
    assert Post.objects.count() == 0 and PostRevision.objects.count() == 0
    assert get_user_model().objects.count() == users


def test_it_reads_an_import_in_a_chord_of_chunks_on_a_real_worker(
    celery_worker, monkeypatch, tmp_path
):
    monkeypatch.setattr(import_reading, "CHUNK", 60)
    data = _thread()

    quest = _import(data)

    vote = Vote.objects.get(chapter__quest=quest)
    window = _window_refs(vote)

    def counted() -> bool:
        run = TallyRun.objects.filter(vote=vote).order_by("-pk").first()
        return run is not None and len(run.inputs["posts"]) == len(window)

    wait_until(counted, timeout=120, interval=0.2)
    chunks = -(-len(window) // 60)
    assert celery_worker.log_text().count("Task votes.read_chunk[") >= chunks
    stored = _stored(vote)
    assert set(stored) == window
    expected = _one_pass(data, vote)
    assert stored == {ref: expected[ref] for ref in stored}
    scored = _score(_tally(), tmp_path)
    assert scored.returncode == 0, scored.stdout + scored.stderr
