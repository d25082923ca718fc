"""Following a forum thread live (issue 12): the refresh loop against a forum on 127.0.0.1.

The forum (tests/forum_thread.py) serves the Lighthouse Keepers of Vael thread
(the XenForo fixture pages) and grows between refreshes as each test says: new
posts, an edit, a deleted post, a new chapter, a server error, a 429 with
Retry-After, a page that is not a XenForo thread. FORUM_HOSTS lists only that
server, and only here; pauses and backoffs are made short and measured from
the server's record of when each request came. Tasks run in the test process;
one test at the end runs the refresh in a real Celery worker.

The quest's quest master in the app is `Harrow_Quill`, the thread's starter, so
their posts are the quest master's, as they are once a forum name is claimed:
made with no password and never signed in, the account is what an import made
for a forum name before forum identities, which the name's identity takes over
(quest/identities.py; claiming a name is tests/test_forum_name_claim.py).
"""

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from chapters.models import Chapter, Vote
from quest.celery import app
from quest.env import EnvError, envfloat
from quest.models import Post, PostRevision, QuestEvent
from tests.factories import make_quest, make_user
from tests.forum_thread import QUEST_MASTER, ForumServer, ForumThread
from votes import selectors
from votes.importers import follow
from votes.importers.fetch import Fetcher, FetchSettings, HostGate, PageCache, _retry_after
from votes.models import Ballot, FollowedPage, FollowedThread
from votes.tasks import followed_threads_refresh_due_task

pytestmark = pytest.mark.django_db

PAUSE = 0.15
BACKOFF = 0.3
HTMX = {"HX-Request": "true"}
# A post the fixture's page 2 holds: Mirelle's "1-B\n2-A" on chapter 2's vote.
MIRELLE = 5120078
BALLOT = "1-A<br>2-B"


@pytest.fixture
def forum(settings, tmp_path):
    """The forum on 127.0.0.1, the one host FORUM_HOSTS lists; short pauses; a fresh disk cache."""
    server = ForumServer(ForumThread()).start()
    settings.FORUM_HOSTS = [server.host]
    settings.FORUM_CACHE_DIR = str(tmp_path / "forum-cache")
    settings.FORUM_FETCH_PAUSE_SECONDS = PAUSE
    settings.FORUM_FETCH_BACKOFF_SECONDS = BACKOFF
    settings.FORUM_FETCH_RETRIES = 2
    settings.FORUM_FETCH_MAX_WAIT_SECONDS = 5.0
    settings.FORUM_FETCH_TIMEOUT_SECONDS = 5.0
    settings.FORUM_USER_AGENT = "QuestTally/test (+http://testserver/)"
    yield server
    server.stop()


@pytest.fixture
def harrow(db):
    return make_user(QUEST_MASTER)


@pytest.fixture
def quest(harrow):
    return make_quest(harrow, title="Lighthouse Keepers of Vael")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run what a call sends after commit (refreshes, readings, recounts) as a worker would."""

    def run_(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run_


@pytest.fixture
def followed(forum, quest, harrow, run):
    """The quest linked to the thread, and the first refresh done (pages 1 and 2)."""
    linked = run(
        follow.thread_follow, quest=quest, url=forum.thread_url, refresh_minutes=5, by=harrow
    )
    linked.refresh_from_db()
    assert linked.status == FollowedThread.Status.OK, linked.message
    forum.requests.clear()
    return linked


def _refresh(run, followed: FollowedThread) -> FollowedThread:
    result = run(follow.followed_thread_refresh, followed_id=followed.pk)
    assert result is not None
    return result


def _voters(quest, chapter: int) -> dict[int, dict[str, list[str]]]:
    """Prompt -> letter -> voters of the chapter's stored tally."""
    vote = Vote.objects.get(chapter__quest=quest, chapter__number=chapter)
    tally = selectors.latest_tally(vote)
    assert tally is not None
    return {
        p["number"]: {o["letter"]: o["voters"] for o in p.get("options") or []}
        for p in tally.data["prompts"]
    }


def _counts(quest) -> dict[str, int]:
    return {
        "posts": Post.objects.filter(quest=quest).count(),
        "revisions": PostRevision.objects.filter(post__quest=quest).count(),
        "chapters": Chapter.objects.filter(quest=quest).count(),
        "votes": Vote.objects.filter(chapter__quest=quest).count(),
        "ballots": Ballot.objects.filter(vote__chapter__quest=quest, is_current=True).count(),
    }


# --- Linking and the first read -------------------------------------------------------


def test_it_reads_the_whole_thread_when_a_quest_is_linked(followed, quest, forum):
    assert followed.page_count == followed.last_page == 2
    assert Post.objects.filter(quest=quest).count() == 26 + 8
    assert list(Chapter.objects.filter(quest=quest).values_list("number", flat=True)) == [1, 2]
    assert (followed.last_post_id, followed.last_post_position) == (5120090, 33)
    assert followed.last_post_url == forum.thread_url + "post-5120090"
    quest.refresh_from_db()
    assert (quest.source_url, quest.forum) == (forum.thread_url, "127.0.0.1")
    assert _voters(quest, 2)[1]["B"] == ["Mirelle", "old_salt"]
    event = QuestEvent.objects.get(quest=quest, kind=QuestEvent.Kind.FORUM_LINKED)
    assert event.data == {"url": forum.thread_url, "refresh_minutes": 5}


def test_it_names_itself_and_a_contact_in_every_request(forum, quest, harrow, run):
    run(follow.thread_follow, quest=quest, url=forum.thread_url, refresh_minutes=5, by=harrow)

    assert forum.paths() == [forum.page_path(1), forum.page_path(2)]
    agents = {r.headers.get("User-Agent") for r in forum.requests}
    assert agents == {"QuestTally/test (+http://testserver/)"}
    assert "+http" in django_settings.FORUM_USER_AGENT  # the default names a contact URL too


@pytest.mark.parametrize(
    "url",
    [
        "https://forums.example.net/threads/lighthouse.48213/",  # not in FORUM_HOSTS
        "http://127.0.0.1:9/threads/lighthouse.48213/",  # listed host, another port
        "http://localhost:{port}/threads/lighthouse.48213/",  # a name not listed
        "http://127.0.0.1:{port}/forums/quests.12/",  # not a thread's address
    ],
)
def test_it_refuses_a_thread_anywhere_but_a_listed_forum(forum, quest, harrow, url):
    with pytest.raises(ValidationError):
        follow.thread_follow(
            quest=quest, url=url.format(port=forum.httpd.server_port), refresh_minutes=5, by=harrow
        )

    assert not FollowedThread.objects.exists()
    assert forum.requests == []


def test_it_refuses_another_thread_than_the_one_the_quest_came_from(forum, quest, harrow):
    quest.source_url = "http://127.0.0.1/threads/another-quest.777/"
    quest.save()

    with pytest.raises(ValidationError, match="can follow only that thread"):
        follow.thread_follow(quest=quest, url=forum.thread_url, refresh_minutes=5, by=harrow)


# --- New posts, edits, deletions --------------------------------------------------------


def test_it_counts_new_forum_posts_in_the_live_tally(followed, quest, forum, run):
    forum.thread.add("Nim", BALLOT)
    forum.thread.add("Orrin", "1-A<br>2-A")

    _refresh(run, followed)

    tally = _voters(quest, 2)
    assert tally[1]["A"] == ["Nim", "Orrin"]
    assert "Nim" in tally[2]["B"] and "Orrin" in tally[2]["A"]
    followed.refresh_from_db()
    assert followed.last_post_position == 35


def test_it_reads_an_edited_post_again(followed, quest, forum, run):
    post_id = forum.thread.add("Nim", BALLOT)
    _refresh(run, followed)
    assert "Nim" in _voters(quest, 2)[1]["A"]

    forum.thread.edit(post_id, "1-B<br>2-B")
    _refresh(run, followed)

    post = Post.objects.get(quest=quest, ref=post_id)
    assert (post.body, post.version) == ("1-B\n2-B", 2)
    assert list(post.revisions.values_list("body", flat=True)) == [
        "1-A\n2-B",
        "1-B\n2-B",
    ]
    assert "Nim" not in _voters(quest, 2)[1]["A"]
    assert "Nim" in _voters(quest, 2)[1]["B"]


def test_it_marks_a_post_deleted_on_the_forum_and_counts_it_no_more(followed, quest, forum, run):
    forum.thread.delete(MIRELLE)

    _refresh(run, followed)

    post = Post.objects.get(quest=quest, ref=MIRELLE)  # kept, with its text
    assert (post.deleted, post.body) == (True, "1-B\n2-A")
    assert "Mirelle" not in _voters(quest, 2)[1]["B"]


def test_it_marks_a_post_that_comes_back_as_no_longer_deleted(followed, quest, forum, run):
    thread = forum.thread
    kept = list(thread.articles)
    thread.delete(MIRELLE)
    _refresh(run, followed)

    thread.articles = kept
    _refresh(run, followed)

    assert Post.objects.get(quest=quest, ref=MIRELLE).deleted is False
    assert "Mirelle" in _voters(quest, 2)[1]["B"]


def test_it_follows_the_thread_onto_a_new_page(followed, quest, forum, run):
    ids = [forum.thread.add(f"Voter{i:02}", BALLOT) for i in range(20)]
    assert forum.thread.page_count == 3

    _refresh(run, followed)

    followed.refresh_from_db()
    assert (followed.page_count, followed.last_page) == (3, 3)
    assert set(Post.objects.filter(ref__in=ids).values_list("ref", flat=True)) == set(ids)
    assert len(_voters(quest, 2)[1]["A"]) == 20


def test_it_opens_the_new_chapters_vote_and_closes_the_one_before(followed, quest, forum, run):
    chapter_post = forum.thread.add_chapter(
        "Chapter Three: The Reef Lantern",
        "<b>Chapter Three: The Reef Lantern</b><br><br>The reef is dark.<br><br>"
        "1. Do you light the reef lantern?<br>A) Light it now<br>B) Wait for dawn",
    )
    forum.thread.add("Nim", "1-B")

    _refresh(run, followed)

    votes = {v.chapter.number: v for v in Vote.objects.filter(chapter__quest=quest)}
    posted_at = Post.objects.get(quest=quest, ref=chapter_post).posted_at
    assert (votes[2].status, votes[2].closes_at) == (Vote.Status.CLOSED, posted_at)
    assert votes[3].status == Vote.Status.OPEN
    assert _voters(quest, 3)[1]["B"] == ["Nim"]
    assert "Nim" not in str(_voters(quest, 2))


# --- Nothing doubled, conditional requests ------------------------------------------------


def test_it_doubles_nothing_however_often_it_refreshes(followed, quest, forum, run):
    forum.thread.add("Nim", BALLOT)
    _refresh(run, followed)
    before = _counts(quest)
    tally = _voters(quest, 2)

    for _ in range(3):
        _refresh(run, followed)
        forum.conditional = False  # the later ones fetch whole pages again
    assert _counts(quest) == before
    assert _voters(quest, 2) == tally


def test_it_asks_conditionally_and_a_304_changes_nothing(followed, quest, forum, run):
    versions = dict(Post.objects.filter(quest=quest).values_list("ref", "version"))
    fetched_before = followed.last_fetched_at

    after = _refresh(run, followed)

    assert [(r.path, r.status) for r in forum.requests] == [
        (forum.page_path(1), 304),
        (forum.page_path(2), 304),
    ]
    assert all("If-None-Match" in r.headers for r in forum.requests)
    assert all("If-Modified-Since" in r.headers for r in forum.requests)
    assert dict(Post.objects.filter(quest=quest).values_list("ref", "version")) == versions
    assert after.status == FollowedThread.Status.OK
    assert after.last_fetched_at > fetched_before


def test_it_refetches_only_the_last_pages_of_a_long_thread(followed, forum, run, settings):
    settings.FOLLOW_RECENT_PAGES = 1
    for i in range(20):
        forum.thread.add(f"Voter{i:02}", BALLOT)
    _refresh(run, followed)  # pages 2 and 3
    forum.requests.clear()

    _refresh(run, followed)

    assert forum.paths() == [forum.page_path(3)]


# --- Politeness: one at a time, paused, retried ---------------------------------------------


def _gaps(requests) -> list[float]:
    return [b.started - a.ended for a, b in zip(requests, requests[1:], strict=False)]


def test_it_pauses_between_pages(forum, quest, harrow, run):
    run(follow.thread_follow, quest=quest, url=forum.thread_url, refresh_minutes=5, by=harrow)

    assert len(forum.requests) == 2
    assert min(_gaps(forum.requests)) >= PAUSE * 0.9


def test_it_retries_a_server_error_after_a_pause(followed, forum, run):
    forum.thread.add("Nim", BALLOT)
    forum.fail(forum.page_path(2), 500)

    after = _refresh(run, followed)

    assert after.status == FollowedThread.Status.OK
    page2 = [r for r in forum.requests if r.path == forum.page_path(2)]
    assert [r.status for r in page2] == [500, 200]
    assert page2[1].started - page2[0].ended >= BACKOFF * 0.9


def test_it_waits_as_long_as_a_429_retry_after_asks(followed, forum, run):
    forum.fail(forum.page_path(1), 429, retry_after="1")

    after = _refresh(run, followed)

    assert after.status == FollowedThread.Status.OK
    assert [r.status for r in forum.requests] == [429, 304, 304]
    assert forum.requests[1].started - forum.requests[0].ended >= 0.95


def test_it_backs_off_more_at_each_try_then_gives_up_and_says_why(followed, forum, run):
    forum.fail(forum.page_path(1), 503, times=3)

    after = _refresh(run, followed)

    assert after.status == FollowedThread.Status.FAILED
    assert "answered 503" in after.message and "3 tries" in after.message
    gaps = _gaps(forum.requests)
    assert gaps[0] >= BACKOFF * 0.9 and gaps[1] >= 2 * BACKOFF * 0.9
    assert len(forum.requests) == 3


def test_it_stops_when_the_forum_asks_to_wait_too_long_and_tries_then(followed, forum, run):
    forum.fail(forum.page_path(1), 429, retry_after="3600")
    started = timezone.now()

    after = _refresh(run, followed)

    assert after.status == FollowedThread.Status.FAILED
    assert "asked us to wait 3600 s" in after.message
    assert after.next_refresh_at >= started + timedelta(seconds=3590)
    assert len(forum.requests) == 1


def test_it_sends_one_request_at_a_time_to_a_forum_from_every_fetcher(forum, tmp_path):
    import threading

    config = FetchSettings.from_settings()
    urls = [forum.thread_url, forum.thread_url + "page-2"] * 2

    def fetch(url: str) -> None:
        with Fetcher(config, pages=PageCache(tmp_path / url[-6:].strip("/"))) as fetcher:
            fetcher.get(url)

    workers = [threading.Thread(target=fetch, args=(url,)) for url in urls]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    requests = sorted(forum.requests, key=lambda r: r.started)
    assert len(requests) == 4
    assert min(_gaps(requests)) >= PAUSE * 0.9  # never two at once, and a pause between


def test_it_takes_turns_in_the_shared_cache(forum):
    moments = []
    gate = HostGate(pause=0.1, hold_seconds=5)
    for _ in range(3):
        with gate.turn("forum.example:443"):
            moments.append(time.monotonic())

    assert moments[1] - moments[0] >= 0.09 and moments[2] - moments[1] >= 0.09


def test_it_reads_retry_after_as_seconds_or_as_a_date():
    now = 1_700_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 90, UTC), usegmt=True)

    assert _retry_after("120", now=now) == 120.0
    assert _retry_after(date, now=now) == pytest.approx(90.0)
    assert _retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now=now) == 0.0
    assert _retry_after("soon", now=now) is None
    assert _retry_after(None, now=now) is None


@pytest.mark.parametrize("raw", ["-1", "nan", "inf", "two"])
def test_it_refuses_a_pause_that_is_not_a_number_of_seconds(monkeypatch, raw):
    monkeypatch.setenv("FORUM_FETCH_PAUSE_SECONDS", raw)

    with pytest.raises(EnvError, match="FORUM_FETCH_PAUSE_SECONDS must be a number of 0 or more"):
        envfloat("FORUM_FETCH_PAUSE_SECONDS", 2.0)


def test_it_keeps_every_page_inside_the_cache_folder(tmp_path):
    pages = PageCache(tmp_path)
    url = "http://127.0.0.1:8080/threads/../../etc/passwd.1/page-2"

    pages.write(url, "<html></html>")

    assert pages.read(url) == "<html></html>"
    written = list(tmp_path.rglob("*.html"))
    assert len(written) == 1 and written[0].parent.parent == tmp_path


# --- What went wrong, said clearly ---------------------------------------------------------


def test_it_says_clearly_when_the_page_is_not_a_xenforo_thread(forum, quest, harrow, run):
    forum.serve("/threads/not-a-quest.9/", "<!doctype html><html><body><p>Hi!</p></body></html>")

    run(
        follow.thread_follow,
        quest=quest,
        url=forum.base + "/threads/not-a-quest.9/",
        refresh_minutes=5,
        by=harrow,
    )

    followed = FollowedThread.objects.get(quest=quest)
    assert followed.status == FollowedThread.Status.FAILED
    assert "is not a page of a XenForo thread" in followed.message
    assert "no posts" in followed.message
    assert not Post.objects.filter(quest=quest).exists()


def test_it_says_when_the_forum_answers_something_else_than_a_page(forum, quest, harrow, run):
    forum.serve("/threads/data.1/", '{"posts": []}', "application/json")

    run(
        follow.thread_follow,
        quest=quest,
        url=forum.base + "/threads/data.1/",
        refresh_minutes=5,
        by=harrow,
    )

    message = FollowedThread.objects.get(quest=quest).message
    assert "answered with application/json, not a forum thread's page" in message


def test_it_says_when_the_thread_is_gone(forum, quest, harrow, run):
    run(
        follow.thread_follow,
        quest=quest,
        url=forum.base + "/threads/gone.404/",
        refresh_minutes=5,
        by=harrow,
    )

    message = FollowedThread.objects.get(quest=quest).message
    assert "has no page at" in message and "404" in message


def test_it_warns_when_the_thread_starter_is_not_the_quest_master(forum, quest_master, run):
    other = make_quest(quest_master, title="Someone else's copy")

    run(
        follow.thread_follow,
        quest=other,
        url=forum.thread_url,
        refresh_minutes=5,
        by=quest_master,
    )

    followed = FollowedThread.objects.get(quest=other)
    assert followed.status == FollowedThread.Status.OK
    assert "started by Harrow_Quill, not by this quest's quest master" in followed.message


# --- Resuming after a crash -----------------------------------------------------------------


def test_it_resumes_a_read_that_failed_half_way_from_the_page_it_reached(forum, quest, harrow, run):
    for i in range(20):
        forum.thread.add(f"Voter{i:02}", BALLOT)
    forum.fail(forum.page_path(3), 500, times=3)

    run(follow.thread_follow, quest=quest, url=forum.thread_url, refresh_minutes=5, by=harrow)

    followed = FollowedThread.objects.get(quest=quest)
    assert (followed.status, followed.last_page, followed.page_count) == ("failed", 2, 3)
    assert set(FollowedPage.objects.values_list("number", flat=True)) == {1, 2}
    assert not Post.objects.filter(quest=quest).exists()  # nothing imported from half a thread
    forum.requests.clear()

    _refresh(run, followed)

    assert forum.paths() == [forum.page_path(3)]  # pages 1 and 2 come from the disk cache
    assert Post.objects.filter(quest=quest).count() == 26 + 8 + 20


def test_it_imports_next_time_what_a_crashed_import_left(followed, quest, forum, run, monkeypatch):
    post_id = forum.thread.add("Nim", BALLOT)

    def crash(document):
        raise RuntimeError("the worker died")

    with monkeypatch.context() as patched:
        patched.setattr(follow, "thread_import", crash)
        with pytest.raises(RuntimeError):
            _refresh(run, followed)
    assert not Post.objects.filter(ref=post_id).exists()
    followed.refresh_from_db()
    assert followed.claimed_until is None  # released, so the next refresh may run
    forum.requests.clear()

    _refresh(run, followed)

    assert {r.status for r in forum.requests} == {304}  # nothing fetched again
    assert Post.objects.filter(quest=quest, ref=post_id).exists()


def test_it_goes_on_in_a_new_task_when_its_time_is_up(forum, quest, harrow, run, settings):
    settings.FOLLOW_REFRESH_BUDGET_SECONDS = 0  # one page per task
    for i in range(20):
        forum.thread.add(f"Voter{i:02}", BALLOT)

    run(follow.thread_follow, quest=quest, url=forum.thread_url, refresh_minutes=5, by=harrow)

    assert forum.paths() == [forum.page_path(n) for n in (1, 2, 3)]
    followed = FollowedThread.objects.get(quest=quest)
    assert (followed.status, followed.last_page) == ("ok", 3)
    assert Post.objects.filter(quest=quest).count() == 26 + 8 + 20


def test_it_runs_one_refresh_of_a_thread_at_a_time(followed, forum, run):
    FollowedThread.objects.filter(pk=followed.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=5)
    )

    assert run(follow.followed_thread_refresh, followed_id=followed.pk) is None
    assert forum.requests == []


# --- The schedule ---------------------------------------------------------------------------


def test_beat_sends_the_refresh_of_each_thread_whose_interval_has_passed(
    followed, quest, forum, run
):
    assert "votes.followed_threads_refresh_due" in app.tasks
    entry = django_settings.CELERY_BEAT_SCHEDULE["refresh-followed-threads"]
    assert entry["task"] == "votes.followed_threads_refresh_due"
    assert entry["schedule"] == timedelta(minutes=1)
    forum.thread.add("Nim", BALLOT)
    assert run(followed_threads_refresh_due_task) == 0  # not due: linked a moment ago
    FollowedThread.objects.filter(pk=followed.pk).update(
        next_refresh_at=timezone.now() - timedelta(seconds=1)
    )

    assert run(followed_threads_refresh_due_task) == 1

    assert "Nim" in _voters(quest, 2)[1]["A"]
    followed.refresh_from_db()
    assert followed.next_refresh_at > timezone.now() + timedelta(minutes=4)
    assert run(followed_threads_refresh_due_task) == 0


# --- The pages --------------------------------------------------------------------------------


def test_the_quest_master_links_the_thread_on_the_follow_page(client, forum, quest, harrow, run):
    client.force_login(harrow)
    page = client.get(reverse("quest-follow", args=[quest.slug]))
    assert page.status_code == 200
    assert "Follow a forum thread" in page.content.decode()

    response = run(
        client.post,
        reverse("quest-follow", args=[quest.slug]),
        {"url": forum.thread_url, "refresh_minutes": "5"},
    )

    assert response.status_code == 302
    followed = FollowedThread.objects.get(quest=quest)
    assert (followed.url, followed.refresh_minutes, followed.status) == (
        forum.thread_url,
        5,
        FollowedThread.Status.OK,
    )
    text = client.get(reverse("quest-follow", args=[quest.slug])).content.decode()
    assert "the last post" in text and "#33" in text and "Refresh now" in text


def test_the_follow_page_names_the_problem_with_an_address(client, forum, quest, harrow):
    client.force_login(harrow)

    response = client.post(
        reverse("quest-follow", args=[quest.slug]),
        {"url": "https://elsewhere.example/threads/x.1/", "refresh_minutes": "5"},
    )

    assert response.status_code == 200
    assert "is not one of the forums in FORUM_HOSTS" in response.content.decode()
    assert not FollowedThread.objects.exists()


def test_the_follow_page_refuses_a_refresh_more_often_than_allowed(client, forum, quest, harrow):
    client.force_login(harrow)

    response = client.post(
        reverse("quest-follow", args=[quest.slug]),
        {"url": forum.thread_url, "refresh_minutes": "1"},
    )

    assert "greater than or equal to 2" in response.content.decode()
    assert not FollowedThread.objects.exists()


def test_refresh_now_reads_the_thread_at_once(client, followed, quest, forum, harrow, run):
    client.force_login(harrow)
    forum.thread.add("Nim", BALLOT)
    url = reverse("quest-follow-refresh", args=[quest.slug])

    response = run(client.post, url, headers=HTMX)

    assert response.status_code == 200
    assert "Reading the thread now." in response.content.decode()
    assert "Nim" in _voters(quest, 2)[1]["A"]


def test_refresh_now_pressed_again_sends_nothing_while_one_is_on_its_way(
    client, followed, quest, forum, harrow, run
):
    client.force_login(harrow)
    now = timezone.now()
    FollowedThread.objects.filter(pk=followed.pk).update(
        queued_at=now, last_attempt_at=now - timedelta(minutes=1)
    )

    response = run(client.post, reverse("quest-follow-refresh", args=[quest.slug]), follow=True)

    assert "A refresh was asked for a moment ago" in response.content.decode()
    assert forum.requests == []


def test_refresh_now_and_the_follow_page_are_the_quest_masters(client, followed, quest, player):
    client.force_login(player)

    assert client.get(reverse("quest-follow", args=[quest.slug])).status_code == 403
    assert client.post(reverse("quest-follow-refresh", args=[quest.slug])).status_code == 403
    client.logout()
    assert client.post(reverse("quest-follow-refresh", args=[quest.slug])).status_code == 302


def test_the_status_polls_while_a_refresh_is_on_its_way_and_then_stops(
    client, followed, quest, harrow
):
    client.force_login(harrow)
    status = reverse("quest-follow-status", args=[quest.slug])
    FollowedThread.objects.filter(pk=followed.pk).update(queued_at=timezone.now())

    busy = client.get(status, headers=HTMX).content.decode()

    assert 'hx-trigger="every 3s"' in busy and "Reading the thread…" in busy
    FollowedThread.objects.filter(pk=followed.pk).update(last_attempt_at=timezone.now())
    done = client.get(status, headers=HTMX).content.decode()
    assert "hx-trigger" not in done and "Following" in done


def test_stop_following_keeps_the_posts(client, followed, quest, harrow):
    client.force_login(harrow)
    posts = Post.objects.filter(quest=quest).count()

    client.post(reverse("quest-follow", args=[quest.slug]), {"action": "unfollow"})

    assert not FollowedThread.objects.exists()
    assert Post.objects.filter(quest=quest).count() == posts
    assert QuestEvent.objects.filter(quest=quest, kind=QuestEvent.Kind.FORUM_UNLINKED).exists()


def test_the_tally_says_which_forum_post_it_is_as_of(client, followed, quest, forum, run):
    forum.thread.add("Nim", BALLOT)
    _refresh(run, followed)
    followed.refresh_from_db()
    when = followed.last_fetched_at.strftime("%Y-%m-%d %H:%M UTC")

    bbcode = client.get(reverse("chapter-tally-bbcode", args=[quest.slug, 2])).content.decode()
    partial = client.get(reverse("chapter-tally", args=[quest.slug, 2]), headers=HTMX)

    assert bbcode.rstrip().endswith(
        f"[I]As of forum post [URL={forum.thread_url}post-5120200]#34[/URL], fetched at {when}.[/I]"
    )
    assert "As of forum post" in partial.content.decode()
    assert "#34" in partial.content.decode()


# --- With a real worker ----------------------------------------------------------------------


@pytest.fixture
def forum_for_workers(forum, settings, monkeypatch):
    """The forum's settings in the environment too, for the worker started after this."""
    for name in (
        "FORUM_HOSTS",
        "FORUM_CACHE_DIR",
        "FORUM_FETCH_PAUSE_SECONDS",
        "FORUM_FETCH_BACKOFF_SECONDS",
        "FORUM_FETCH_TIMEOUT_SECONDS",
    ):
        value = getattr(settings, name)
        monkeypatch.setenv(name, ",".join(value) if isinstance(value, list) else str(value))
    return forum


def _eventually(check, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_worker_follows_the_thread_into_the_live_tally(forum_for_workers, celery_worker, client):
    forum = forum_for_workers
    harrow = make_user(QUEST_MASTER)
    quest = make_quest(harrow, title="Lighthouse Keepers of Vael")
    client.force_login(harrow)

    client.post(
        reverse("quest-follow", args=[quest.slug]),
        {"url": forum.thread_url, "refresh_minutes": "5"},
    )

    def read() -> bool:
        return FollowedThread.objects.filter(quest=quest, status="ok").exists()

    assert _eventually(read), celery_worker.log_text()
    post_id = forum.thread.add("Nim", BALLOT)
    client.post(reverse("quest-follow-refresh", args=[quest.slug]))

    def counted() -> bool:
        vote = Vote.objects.get(chapter__quest=quest, chapter__number=2)
        tally = selectors.latest_tally(vote)
        return tally is not None and "Nim" in str(tally.data["prompts"][0])

    assert _eventually(counted), celery_worker.log_text()
    assert Post.objects.filter(quest=quest, ref=post_id).count() == 1
