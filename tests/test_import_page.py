"""The import page: a thread in by uploaded files, pasted text or its forum address.

The import runs as the task `votes.import_run` (in this process here); the page
polls its progress and ends on a summary. Every bad input ends on a message
naming the problem and, for a file, the place in it, with nothing stored.
The forum is tests/forum_pages.py on 127.0.0.1: nothing reaches the internet.
"""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from chapters.models import Chapter, Option, Prompt, Vote
from quest.models import Membership, Post, Quest
from quest.permissions import Role, can_manage, role_in
from tests.factories import make_post, make_quest
from tests.forum_pages import MISSING, NOT_A_THREAD, NOT_HTML, THREAD, forum_serving
from votes import import_jobs, selectors
from votes.models import ImportJob, Reading

# Committed for real: the import is sent when its job row commits, reading when the import does.
pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
JSON_THREAD = SHARED / "examples" / "red-alert-ch2.thread.json"
PASTE = SHARED / "seeds" / "000_9173bf5eb362a06d.txt"
PAGES = [ROOT / "tests" / "fixtures" / "xenforo" / f"thread-page-{n}.html" for n in (1, 2, 3)]
STARTER = "Harrow_Quill"  # who started the fixture thread on the forum
MB = 1_000_000


@pytest.fixture(autouse=True)
def forum_fetching(settings, tmp_path):
    """Fetch from the test forum at once, into a page cache of this test's own."""
    settings.FORUM_FETCH_PAUSE_SECONDS = 0
    settings.FORUM_FETCH_RETRIES = 0
    settings.FORUM_CACHE_DIR = str(tmp_path / "forum-cache")


@pytest.fixture
def importer(client, player):
    client.force_login(player)
    return client


def _upload(*paths: Path) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(p.name, p.read_bytes(), content_type="text/html") for p in paths]


def _post(client, **data):
    return client.post(reverse("import-thread"), data, follow=True)


def _counts() -> dict[str, int]:
    models = (Quest, Post, Chapter, Vote, Prompt, Option, Reading, get_user_model())
    return {m.__name__: m.objects.count() for m in models}


def _job() -> ImportJob:
    return ImportJob.objects.get()


# --- Each way in ------------------------------------------------------------------------


def test_it_asks_to_sign_in_first(client):
    response = client.get(reverse("import-thread"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_offers_files_text_and_an_address(importer):
    response = importer.get(reverse("import-thread"))

    for field in ('type="file"', 'name="uploads"', "multiple", 'name="text"', 'name="url"'):
        assert field in response.content.decode()


def test_it_imports_uploaded_pages_and_sums_them_up(importer, player):
    response = _post(importer, uploads=_upload(*PAGES))

    job = _job()
    assert job.status == ImportJob.Status.DONE, job.message
    assert response.redirect_chain == [(reverse("import-job", args=[job.pk]), 302)]
    quest = job.quest
    summary = import_jobs.import_summary(quest)
    assert summary.posts == Post.objects.filter(quest=quest).count() == job.posts_stored > 0
    assert summary.chapters and summary.votes and summary.prompts > 0
    assert summary.posts_read == Reading.objects.values("post").distinct().count() > 0
    assert not summary.reading  # the tasks ran here: every vote is counted
    page = response.content.decode()
    vote = summary.votes[0].vote
    for text in (
        "Imported",
        f"{summary.posts}</dd>",
        reverse("chapter-tally", args=[quest.slug, vote.chapter.number]),
        reverse("vote-audit", args=[quest.slug, vote.chapter.number]),
        reverse("vote-prompts", args=[quest.slug, vote.chapter.number]),
        summary.votes[0].prompts[0].options.all()[0].text,
    ):
        assert text in page
    assert 'class="held-back">' in page
    assert job.sources == []  # the uploaded text is not kept once imported


def test_it_lets_the_importer_run_the_quest_and_keeps_the_starter_its_quest_master(
    importer, player
):
    _post(importer, uploads=_upload(*PAGES))

    quest = _job().quest
    assert quest.quest_master.username == STARTER
    assert role_in(player, quest) == Role.QUEST_MASTER and can_manage(player, quest)
    assert Membership.objects.get(quest=quest, user=player).role == "quest_master"
    # The reader still knows the starter's posts are the quest master's, never ballots.
    vote = Vote.objects.filter(chapter__quest=quest).first()
    assert selectors.vote_spec(vote).quest_master == STARTER
    assert importer.get(reverse("vote-audit", args=[quest.slug, 1])).status_code == 200


def test_it_imports_pasted_text(importer):
    _post(importer, text=PASTE.read_text(encoding="utf-8"))

    job = _job()
    assert (job.kind, job.status) == ("text", ImportJob.Status.DONE), job.message
    assert job.quest is not None and job.posts_stored > 0


def test_it_imports_a_json_file(importer):
    _post(importer, uploads=_upload(JSON_THREAD))

    job = _job()
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.quest.slug == json.loads(JSON_THREAD.read_text())["quest"]["slug"]


def test_it_fetches_every_page_of_a_thread_from_its_address(importer, settings):
    with forum_serving() as (base, seen):
        settings.FORUM_HOSTS = [base.removeprefix("http://")]
        response = _post(importer, url=f"{base}{THREAD}")

    job = _job()
    assert job.status == ImportJob.Status.DONE, job.message
    # The fixture's pages 1 and 2 say the thread has two (page 3 came later).
    assert seen == [THREAD, f"{THREAD}page-2"]
    assert (job.pages_fetched, job.pages_total) == (2, 2)
    assert "2 of 2" in response.content.decode()
    assert job.posts_stored == Post.objects.filter(quest=job.quest).count() == 26 + 8
    assert job.quest.quest_master.username == STARTER


def test_importing_again_changes_nothing(importer):
    _post(importer, uploads=_upload(*PAGES))
    before = _counts()

    _post(importer, uploads=_upload(*PAGES))

    first, again = ImportJob.objects.order_by("pk")
    assert again.status == ImportJob.Status.DONE, again.message
    assert again.quest == first.quest
    assert _counts() == before


def test_it_sends_the_import_once_the_job_is_committed(player):
    source = import_jobs.Source(name="a.json", text=JSON_THREAD.read_text())
    with transaction.atomic():
        job = import_jobs.import_job_create(by=player, kind="files", sources=[source])
        assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.message
    assert Reading.objects.filter(vote__chapter__quest=job.quest).exists()


def test_a_redelivered_task_does_not_import_twice(importer):
    _post(importer, uploads=_upload(JSON_THREAD))

    assert import_jobs.import_job_run(job_id=_job().pk) is None


def _waiting_job(player, **fields) -> ImportJob:
    sources = [{"name": JSON_THREAD.name, "text": JSON_THREAD.read_text(encoding="utf-8")}]
    return ImportJob.objects.create(by=player, kind="files", sources=sources, **fields)


def test_the_sweeper_sends_again_an_import_whose_message_was_lost(player):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    lost = _waiting_job(player, created_at=an_hour_ago)
    died = _waiting_job(player, status="running", started_at=an_hour_ago)
    just_sent = _waiting_job(player)
    running = _waiting_job(player, status="running", started_at=timezone.now())

    assert import_jobs.import_jobs_sweep() == 2

    statuses = {j.pk: j.status for j in ImportJob.objects.all()}
    assert statuses[lost.pk] == statuses[died.pk] == ImportJob.Status.DONE
    assert statuses[just_sent.pk] == ImportJob.Status.QUEUED
    assert statuses[running.pk] == ImportJob.Status.RUNNING
    assert Quest.objects.count() == 1  # the same thread twice: imported once
    assert import_jobs.import_jobs_sweep() == 0


def test_beat_sends_the_import_sweep(settings):
    from quest.celery import app
    from votes import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-imports"]

    assert entry["task"] == "votes.import_sweep" in app.tasks
    assert tasks.import_jobs_sweep_task.name == entry["task"]


# --- Progress ---------------------------------------------------------------------------


def test_it_polls_the_progress_while_the_import_waits(importer, player):
    job = ImportJob.objects.create(by=player, kind="files", step="Waiting to start")

    page = importer.get(reverse("import-job", args=[job.pk])).content.decode()
    partial = importer.get(reverse("import-job", args=[job.pk]), headers={"HX-Request": "true"})

    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert "Waiting to start" in partial.content.decode()


def test_it_shows_the_pages_fetched_so_far(importer, player):
    job = ImportJob.objects.create(
        by=player, kind="url", status="running", pages_fetched=2, pages_total=5, step="Fetching"
    )

    page = importer.get(reverse("import-job", args=[job.pk])).content.decode()

    assert "2 of 5" in page and 'max="5" value="2"' in page


def test_it_stops_polling_at_the_summary(importer):
    _post(importer, uploads=_upload(JSON_THREAD))

    partial = importer.get(reverse("import-job", args=[_job().pk]), headers={"HX-Request": "true"})

    assert partial.status_code == 286  # htmx: stop polling
    assert "hx-trigger" not in partial.content.decode()
    assert "Prompts found" in partial.content.decode()


def test_an_import_is_its_importers_alone(importer, client, outsider):
    _post(importer, uploads=_upload(JSON_THREAD))
    client.force_login(outsider)

    assert client.get(reverse("import-job", args=[_job().pk])).status_code == 404


# --- Bad input --------------------------------------------------------------------------


def _html_page(name: str, html: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, html.encode(), content_type="text/html")


NOT_XENFORO = "<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hi</p></body></html>"

BAD_FILES = [
    pytest.param(
        {"uploads": [_html_page("t.json", '{"format": "quest-thread/1",\n "posts": [}')]},
        "cannot read t.json: not valid JSON: Expecting value at line 2, column 12",
        id="malformed JSON",
    ),
    pytest.param(
        {"uploads": _upload(PAGES[0]), "format": "json"},
        "thread-page-1.html: not valid JSON",
        id="wrong format",
    ),
    pytest.param(
        {"uploads": [_html_page("blog.html", NOT_XENFORO)]},
        "cannot read blog.html: Not a XenForo 2 thread page: it has no posts",
        id="HTML that is not a XenForo thread",
    ),
    pytest.param(
        {"uploads": _upload(PAGES[0]) + _upload(PASTE)},
        "The files are not all of one format",
        id="files of two formats",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_it_refuses_a_bad_file_naming_it_and_the_place_and_stores_nothing(importer, data, message):
    response = _post(importer, **data)

    job = _job()
    assert job.status == ImportJob.Status.FAILED
    assert message in job.message
    assert message in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert "--format" not in job.message
    assert not Quest.objects.exists() and not Post.objects.exists()
    assert job.sources == []


def test_it_says_which_format_a_file_read_in_the_wrong_one_looks_like(importer):
    _post(importer, uploads=_upload(PAGES[0]), format="json")

    assert "it looks like an HTML page: choose the format xenforo" in _job().message


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("empty.html", b""), "cannot read empty.html: the file is empty"),
        (
            SimpleUploadedFile("huge.html", b"<" + b" " * (50 * MB)),
            "cannot read huge.html: it is larger than 25 MB, the most one file may be",
        ),
        (SimpleUploadedFile("bin.html", b"<a>\x00</a>"), "cannot read bin.html: it is binary"),
        (SimpleUploadedFile("l1.html", b"<p>caf\xe9</p>"), "cannot read l1.html: not UTF-8 text"),
    ],
    ids=["empty", "50 MB", "binary", "not UTF-8"],
)
def test_it_refuses_a_file_it_cannot_read_before_starting(importer, upload, message):
    response = _post(importer, uploads=[upload])

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists() and not Quest.objects.exists()


def test_it_asks_for_one_way_in(importer):
    for data in ({}, {"text": "1-A", "url": "https://forums.example.net/threads/x.1/"}):
        response = _post(importer, **data)

        assert "Give the thread one way: files, pasted text or a forum address." in (
            response.content.decode()
        )
    assert not ImportJob.objects.exists()


def test_it_refuses_an_address_on_a_forum_it_may_not_fetch_from(importer, settings):
    settings.FORUM_HOSTS = ["forums.example.net"]

    response = _post(importer, url="http://127.0.0.1:9/threads/x.1/")

    assert "127.0.0.1:9 is not one of the forums in FORUM_HOSTS." in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (MISSING, "The forum has no page at"),
        (NOT_HTML, "it is not an HTML page (the forum sent application/json)"),
        (NOT_A_THREAD, "Not a XenForo 2 thread page: it has no posts"),
        ("/forums/general.4/", "is not a XenForo thread address (/threads/<name>/)"),
    ],
    ids=["404", "not HTML", "not a XenForo thread", "not a thread address"],
)
def test_it_refuses_an_address_that_gives_no_thread(importer, settings, path, message):
    with forum_serving() as (base, _):
        settings.FORUM_HOSTS = [base.removeprefix("http://")]
        response = _post(importer, url=f"{base}{path}")

    job = _job()
    assert job.status == ImportJob.Status.FAILED
    assert message in job.message and base in job.message
    assert "The import failed" in response.content.decode()
    assert not Quest.objects.exists()


def test_it_stores_hostile_html_in_posts_as_harmless_text(importer):
    _post(importer, uploads=_upload(*PAGES))

    quest = _job().quest
    thread = importer.get(reverse("quest-thread", args=[quest.slug]) + "?page=2")
    summary = importer.get(reverse("import-job", args=[_job().pk]))
    for page in (thread.content.decode().lower(), summary.content.decode().lower()):
        assert page.count("<script") == page.count('<script src="/static/')  # ours only
        for hostile in ("onerror", "onclick", "<iframe", 'href="javascript'):
            assert hostile not in page


def test_it_never_imports_into_a_quest_the_importer_does_not_run(importer, outsider):
    theirs = make_quest(outsider, title="Red Alert 1953")
    theirs.slug = json.loads(JSON_THREAD.read_text())["quest"]["slug"]
    theirs.save()
    make_post(theirs, outsider, "Our own thread.")
    before = _counts()

    _post(importer, uploads=_upload(JSON_THREAD))

    assert "exists already and you do not run it: nothing was imported" in _job().message
    assert _counts() == before
    assert list(theirs.posts.values_list("body", flat=True)) == ["Our own thread."]
