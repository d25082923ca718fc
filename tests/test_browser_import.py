"""The import page in Chromium: upload pages, paste text, give an address; progress; summary.

The forum is tests/forum_pages.py on 127.0.0.1, allowed in FORUM_HOSTS for
these tests only. Tasks run in this process (eager), so an import is done when
the form's answer arrives; the progress test starts an import the page is
already polling.
"""

from pathlib import Path

import pytest
from playwright import sync_api

from quest.models import Quest
from tests.factories import PASSWORD, make_user
from tests.forum_pages import THREAD, forum_serving
from votes import import_jobs
from votes.models import ImportJob

ROOT = Path(__file__).resolve().parent.parent
PASTE = ROOT.parent / "shared" / "seeds" / "000_9173bf5eb362a06d.txt"
PAGES = [ROOT / "tests" / "fixtures" / "xenforo" / f"thread-page-{n}.html" for n in (1, 2)]

pytestmark = pytest.mark.browser


def _log_in(page, base: str):
    user = make_user("importer", password=PASSWORD)
    page.goto(f"{base}/accounts/login/?next=/")
    page.fill("input[name=username]", "importer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return user


def _summary(page) -> sync_api.Locator:
    status = page.locator("#import-status")
    sync_api.expect(status.locator("h2").first).to_have_text("Imported")
    return status


def test_it_imports_uploaded_pages_and_shows_what_it_found(transactional_db, live_server, page):
    _log_in(page, live_server.url)

    page.click("text=Import a thread")
    page.set_input_files("input[name=uploads]", [str(p) for p in PAGES])
    page.click("button:has-text('Import')")

    status = _summary(page)
    sync_api.expect(status.locator(".posts-stored")).to_have_text("34")
    assert int(status.locator(".posts-read").inner_text()) > 0
    assert int(status.locator(".prompts-found").inner_text()) > 0
    sync_api.expect(status.locator(".import-vote").first.locator(".option").first).to_be_visible()
    quest = Quest.objects.get()
    status.locator("a:has-text('Audit')").first.click()
    page.wait_for_url(f"{live_server.url}/q/{quest.slug}/chapters/*/audit/")  # the importer runs it
    page.go_back()
    _summary(page).locator("a:has-text('Tally')").first.click()
    page.wait_for_url(f"{live_server.url}/q/{quest.slug}/chapters/*/tally/")


def test_it_imports_pasted_text_and_names_a_bad_file(transactional_db, live_server, page):
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}/import/")

    page.fill("textarea[name=text]", PASTE.read_text(encoding="utf-8"))
    page.click("button:has-text('Import')")
    sync_api.expect(_summary(page).locator(".posts-stored")).not_to_have_text("0")

    page.click("text=Import another thread")
    page.set_input_files(
        "input[name=uploads]",
        files=[{"name": "t.json", "mimeType": "application/json", "buffer": b'{"posts": [}'}],
    )
    page.click("button:has-text('Import')")
    sync_api.expect(page.locator(".import-error")).to_contain_text(
        "cannot read t.json: not valid JSON: Expecting value at line 1, column 12"
    )
    assert Quest.objects.count() == 1


def test_it_fetches_a_thread_by_its_address(
    transactional_db, live_server, page, settings, tmp_path
):
    settings.FORUM_FETCH_PAUSE_SECONDS = 0
    settings.FORUM_CACHE_DIR = str(tmp_path / "forum-cache")
    _log_in(page, live_server.url)
    with forum_serving() as (base, seen):
        settings.FORUM_HOSTS = [base.removeprefix("http://")]
        page.goto(f"{live_server.url}/import/")
        page.fill("input[name=url]", f"{base}{THREAD}")
        page.click("button:has-text('Import')")
        status = _summary(page)

    sync_api.expect(status.locator(".pages-fetched")).to_have_text("2 of 2")
    sync_api.expect(status.locator(".posts-stored")).to_have_text("34")
    assert seen == [THREAD, f"{THREAD}page-2"]


def test_it_shows_the_progress_until_the_summary(transactional_db, live_server, page):
    importer = _log_in(page, live_server.url)
    # Queued, not yet sent: the page polls it as it would a worker's.
    sources = [{"name": p.name, "text": p.read_text(encoding="utf-8")} for p in PAGES]
    job = ImportJob.objects.create(by=importer, kind="files", sources=sources, step="Waiting")

    page.goto(f"{live_server.url}/import/{job.pk}/")
    sync_api.expect(page.locator("progress.import-progress")).to_be_visible()
    sync_api.expect(page.locator("#import-status h2")).to_have_text("Waiting…")

    import_jobs.import_job_run(job_id=job.pk)

    status = _summary(page)  # swapped in by the poll, no reload
    sync_api.expect(status.locator(".posts-stored")).to_have_text("34")
    sync_api.expect(page.locator("progress")).to_have_count(0)
