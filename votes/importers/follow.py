"""Following a forum thread live: a quest linked to its XenForo thread, refreshed on a schedule.

The quest master links the quest to its thread (`thread_follow`); celery beat
sends a refresh for every thread whose interval has passed
(`followed_threads_refresh_due`, each minute), and "Refresh now" sends one at
once (`followed_thread_refresh_request`). A refresh (`followed_thread_refresh`):

1. Claims the thread with a conditional UPDATE of `claimed_until`, so two
   refreshes of one thread never run at once (a crashed one's claim expires).
2. Fetches the last FOLLOW_RECENT_PAGES pages it knows of, then every page
   after them (the count comes from each page's navigation), then any earlier
   page missing from the disk cache: politely and conditionally (fetch.py).
   Each page is recorded as it comes (`FollowedPage`: validators, digest), so
   a refresh that crashed or ran out of time resumes where it stopped.
3. When a page's content changed since the last import, makes one
   `quest-thread/1` document of the whole thread with
   `xenforo_thread.thread_from_pages` (every page from the disk cache, each
   parsed once per content), keeps the posts of the changed pages, and imports
   it with `thread_json.thread_import`: new posts are created, changed bodies
   edited through `post_edit` (a revision, read again), posts the forum shows
   as deleted marked so; posts are keyed by the forum's ids, so nothing doubles.
   In the same transaction:
4. a post of the re-fetched stretch of the thread that is on no page any more
   was deleted on the forum: it is marked `deleted`, never removed;
5. the vote of the chapter before a chapter new in this import is closed at
   that chapter's post, as the import closes every vote but the last;
   and players' forum-name claims whose one-time code the imported posts
   hold are settled (claims.py).
6. Records the last post seen (its "#N" on the forum) and the time, or what
   went wrong, for the quest master's page and the tally's "as of" line.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from chapters.models import Chapter, Vote
from chapters.services import vote_close
from quest import events
from quest.identities import forum_of
from quest.models import ForumIdentity, Post, Quest
from quest.outbound import OutboundRefused, check_outbound_url
from quest.services import post_forum_sync
from votes.enqueue import enqueue_on_commit
from votes.importers import xenforo
from votes.importers.claims import claims_settle
from votes.importers.fetch import Fetched, Fetcher, FetchError, FetchSettings, PageCache
from votes.importers.fetch import content_digest as _digest
from votes.importers.thread_json import ThreadFormatError, thread_import
from votes.importers.xenforo import ForumPost, ThreadPage, XenForoFormatError, parse_page
from votes.importers.xenforo_thread import thread_from_pages
from votes.models import FollowedPage, FollowedThread

__all__ = [
    "as_of_bbcode",
    "forum_as_of",
    "followed_thread_refresh",
    "followed_thread_refresh_request",
    "followed_threads_refresh_due",
    "thread_follow",
    "thread_unfollow",
]

REFRESH_TASK = "votes.followed_thread_refresh"
# "Refresh now" twice within this many seconds sends one refresh.
REFRESH_NOW_SECONDS = 15
# A refresh fetches for FOLLOW_REFRESH_BUDGET_SECONDS, then finishes the page in
# hand (a few tries and waits) and imports: its task may run this much longer,
# and its claim outlasts the task, so a live refresh's claim never expires.
RUN_MARGIN_SECONDS = 300
# Bumped when what is read from a page changes, so cached readings are made again.
PARSED_VERSION = "xenforo-1"


class NotAThread(Exception):
    """What was fetched is not a page of the followed XenForo thread; the message says what."""


# --- Linking -------------------------------------------------------------------------------


@transaction.atomic
def thread_follow(*, quest: Quest, url: str, refresh_minutes: int, by: User) -> FollowedThread:
    """Link the quest to its forum thread (or change the link's interval) and fetch it soon.

    Raises ValidationError when the address is no XenForo thread on a forum in
    FORUM_HOSTS, or not the thread the quest was imported from.
    """
    address = _thread_address(url)
    if quest.source_url and _same_thread(quest.source_url, address) is False:
        raise ValidationError(
            f"This quest was imported from {quest.source_url}: it can follow only that thread."
        )
    now = timezone.now()
    schedule = {
        "refresh_minutes": refresh_minutes,
        "next_refresh_at": now + timedelta(minutes=refresh_minutes),
        "queued_at": now,
    }
    followed = FollowedThread.objects.select_for_update().filter(quest=quest).first()
    if followed is not None and followed.url == address:
        FollowedThread.objects.filter(pk=followed.pk).update(**schedule)
    else:
        FollowedThread.objects.filter(quest=quest).delete()  # another thread: start afresh
        followed = FollowedThread.objects.create(
            quest=quest, url=address, linked_by=by, linked_at=now, **schedule
        )
    if not quest.source_url:
        host = urlsplit(address).hostname or ""
        Quest.objects.filter(pk=quest.pk).update(source_url=address, forum=host)
    events.forum_linked(quest, by=by, url=address, refresh_minutes=refresh_minutes)
    enqueue_on_commit(REFRESH_TASK, followed.pk)
    return followed


@transaction.atomic
def thread_unfollow(*, quest: Quest, by: User) -> bool:
    """Stop following; the posts already read stay. Returns whether the quest followed a thread."""
    followed = FollowedThread.objects.filter(quest=quest).first()
    if followed is None:
        return False
    pages = PageCache(settings.FORUM_CACHE_DIR)
    for number in range(1, followed.page_count + 1):
        pages.remove(_page_url(followed.url, number))
    followed.delete()
    events.forum_unlinked(quest, by=by, url=followed.url)
    return True


def _thread_address(url: str) -> str:
    try:
        address = xenforo.thread_url(url)
        check_outbound_url(address, allowed_hosts=settings.FORUM_HOSTS)
    except (XenForoFormatError, OutboundRefused) as e:
        raise ValidationError(str(e)) from None
    return address


def _same_thread(source_url: str, address: str) -> bool | None:
    try:
        return xenforo.thread_url(source_url) == address
    except XenForoFormatError:
        return None  # imported from something else than a thread address: no objection


# --- Scheduling ----------------------------------------------------------------------------


def followed_threads_refresh_due(*, now: datetime | None = None) -> int:
    """Send a refresh for each followed thread whose interval has passed; returns how many.

    Each is claimed with a conditional UPDATE that moves its next refresh on,
    so two beats at once send one. A lost message is harmless: the thread is
    due again one interval later.
    """
    now = now or timezone.now()
    sent = 0
    due = FollowedThread.objects.filter(next_refresh_at__lte=now)
    for pk, due_at, minutes in due.values_list("pk", "next_refresh_at", "refresh_minutes"):
        claimed = FollowedThread.objects.filter(pk=pk, next_refresh_at=due_at).update(
            next_refresh_at=now + timedelta(minutes=minutes), queued_at=now
        )
        if claimed:
            enqueue_on_commit(REFRESH_TASK, pk)
            sent += 1
    return sent


def followed_thread_refresh_request(
    *, followed: FollowedThread, now: datetime | None = None
) -> bool:
    """ "Refresh now": send a refresh, unless one asked for a moment ago has not run yet."""
    now = now or timezone.now()
    recent = now - timedelta(seconds=REFRESH_NOW_SECONDS)
    idle = Q(queued_at__isnull=True) | Q(queued_at__lt=recent)
    claimed = (
        FollowedThread.objects.filter(pk=followed.pk)
        .filter(idle | Q(last_attempt_at__gte=F("queued_at")))
        .update(queued_at=now, next_refresh_at=now + timedelta(minutes=followed.refresh_minutes))
    )
    if claimed:
        enqueue_on_commit(REFRESH_TASK, followed.pk)
    return bool(claimed)


# --- Refreshing ----------------------------------------------------------------------------


def followed_thread_refresh(*, followed_id: int) -> FollowedThread | None:
    """Bring the quest up to date with its forum thread, as the module docstring says.

    Returns the thread's row as the refresh left it, or None when it is gone
    or another refresh holds it. Nothing here raises for the forum's sake: a
    failure is recorded on the row for the quest master to read.
    """
    followed = _claim(followed_id)
    if followed is None:
        return None
    finished = failed = False
    try:
        finished = _Refresh(followed).run()
    except (FetchError, NotAThread, XenForoFormatError, ThreadFormatError, OutboundRefused) as e:
        _failed(followed, e)
        failed = True
    finally:
        FollowedThread.objects.filter(pk=followed.pk).update(claimed_until=None)
    if not finished and not failed:
        # Out of time with pages left: go on in a new task, from where this one stopped.
        FollowedThread.objects.filter(pk=followed.pk).update(queued_at=timezone.now())
        enqueue_on_commit(REFRESH_TASK, followed.pk)
    followed.refresh_from_db()
    return followed


def _claim(pk: int) -> FollowedThread | None:
    now = timezone.now()
    claimed = (
        FollowedThread.objects.filter(pk=pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=task_time_limits()[1] + 60))
    )
    if not claimed:
        return None
    return FollowedThread.objects.select_related("quest__quest_master").get(pk=pk)


def task_time_limits() -> tuple[int, int]:
    """(soft, hard) time limits of the refresh task, in seconds."""
    soft = settings.FOLLOW_REFRESH_BUDGET_SECONDS + RUN_MARGIN_SECONDS
    return soft, soft + 60


def _failed(followed: FollowedThread, error: Exception) -> None:
    now = timezone.now()
    message = str(error)
    if isinstance(error, ThreadFormatError):
        message = "; ".join(error.messages)
    changes: dict[str, Any] = {
        "status": FollowedThread.Status.FAILED,
        "message": message[:500],
        "last_attempt_at": now,
    }
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        later = now + timedelta(seconds=retry_after)
        if followed.next_refresh_at is None or followed.next_refresh_at < later:
            changes["next_refresh_at"] = later
    FollowedThread.objects.filter(pk=followed.pk).update(**changes)


@dataclass
class _Refresh:
    """One refresh of one followed thread; `run` is the whole of it."""

    followed: FollowedThread
    pages: PageCache = field(init=False)
    records: dict[int, FollowedPage] = field(init=False)
    parsed: dict[int, ThreadPage] = field(default_factory=dict)  # fetched by this refresh
    count: int = 0
    # The first post of the first page re-fetched: deletions are looked for from it on.
    since: int | None = None

    def __post_init__(self) -> None:
        self.pages = PageCache(settings.FORUM_CACHE_DIR)
        self.records = {p.number: p for p in FollowedPage.objects.filter(thread=self.followed)}
        self.count = self.followed.page_count

    def run(self) -> bool:
        """Fetch, import what changed, record; False when time ran out with pages left."""
        deadline = time.monotonic() + settings.FOLLOW_REFRESH_BUDGET_SECONDS
        with Fetcher(FetchSettings.from_settings(), pages=self.pages) as fetcher:
            if not self._fetch_all(fetcher, deadline):
                return False
        FollowedPage.objects.filter(thread=self.followed, number__gt=self.count).delete()
        self.records = {n: r for n, r in self.records.items() if n <= self.count}
        if any(r.sha256 != r.imported_sha256 for r in self.records.values()):
            self._import()
        self._succeeded()
        return True

    # Fetching

    def _fetch_all(self, fetcher: Fetcher, deadline: float) -> bool:
        start = number = self._first_page()
        while number <= max(self.count, 1):
            if self._out_of_time(deadline):
                return False
            page = self._fetch(fetcher, number)
            if number == start and page.posts:
                self.since = page.posts[0].id
            number = max(number, page.page) + 1
        for number in range(1, start):
            if self.pages.read(_page_url(self.followed.url, number)) is None:
                if self._out_of_time(deadline):
                    return False
                self._fetch(fetcher, number)
        return True

    def _out_of_time(self, deadline: float) -> bool:
        # Every refresh fetches at least one page, so a chain of them always gets on.
        return bool(self.parsed) and time.monotonic() > deadline

    def _first_page(self) -> int:
        """Where this refresh starts: after the last page fetched while the thread is
        being read for the first time; else the last FOLLOW_RECENT_PAGES pages."""
        if self.followed.last_page < self.count:
            return self.followed.last_page + 1
        return max(1, self.count - settings.FOLLOW_RECENT_PAGES + 1)

    def _fetch(self, fetcher: Fetcher, number: int) -> ThreadPage:
        url = _page_url(self.followed.url, number)
        record = self.records.get(number)
        fetched = fetcher.get(
            url,
            etag=record.etag if record else "",
            last_modified=record.last_modified if record else "",
        )
        page = self._page_of(fetched)
        self._record(page, fetched)
        return page

    def _page_of(self, fetched: Fetched) -> ThreadPage:
        if "html" not in fetched.content_type.lower():
            kind = fetched.content_type.split(";")[0].strip() or "no content type"
            raise NotAThread(f"{fetched.url} answered with {kind}, not a forum thread's page.")
        try:
            page = _parsed(self.pages, fetched.url, fetched.text)
        except XenForoFormatError as e:
            raise NotAThread(f"{fetched.url} is not a page of a XenForo thread: {e}") from None
        if page.thread_url != self.followed.url:
            raise NotAThread(
                f"{fetched.url} is a page of {page.thread_url}, not of the followed thread "
                f"{self.followed.url}: was the thread moved?"
            )
        return page

    def _record(self, page: ThreadPage, fetched: Fetched) -> None:
        """Progress, committed as it is made: this page's validators and digest, how far we got."""
        record = self.records.get(page.page) or FollowedPage(thread=self.followed, number=page.page)
        record.etag = fetched.etag or record.etag
        record.last_modified = fetched.last_modified or record.last_modified
        record.sha256 = _digest(fetched.text)
        record.fetched_at = timezone.now()
        record.save()
        self.records[page.page] = record
        self.parsed[page.page] = page
        self.count = page.page_count
        self.followed.last_page = max(self.followed.last_page, page.page)
        self.followed.page_count = page.page_count
        self.followed.save(update_fields=["last_page", "page_count"])

    # Importing

    def _import(self) -> None:
        pages = [self._page(number) for number in range(1, self.count + 1)]
        document = thread_from_pages(pages, slug=self.followed.quest.slug)
        changed = {n for n, r in self.records.items() if r.sha256 != r.imported_sha256}
        kept = {post.id for n in changed for post in pages[n - 1].posts}
        seen = {post["id"] for post in document["posts"]}
        document["posts"] = [post for post in document["posts"] if post["id"] in kept]
        quest = self.followed.quest
        with transaction.atomic():
            before = set(Chapter.objects.filter(quest=quest).values_list("number", flat=True))
            thread_import(document)
            _mark_vanished(quest, since=self.since, seen=seen)
            _close_votes_before_new_chapters(quest, before=before)
            claims_settle(quest=quest, refs=kept)
            FollowedPage.objects.filter(thread=self.followed).update(imported_sha256=F("sha256"))
            self._record_last_post(pages[-1].posts[-1] if pages[-1].posts else None)

    def _page(self, number: int) -> ThreadPage:
        if number in self.parsed:
            return self.parsed[number]
        url = _page_url(self.followed.url, number)
        text = self.pages.read(url)
        if text is None:  # removed from disk since this refresh fetched the earlier pages
            raise FetchError(
                f"Page {number} is missing from the cache: the next refresh fetches it."
            )
        return _parsed(self.pages, url, text)

    def _record_last_post(self, post: ForumPost | None) -> None:
        if post is None:
            return
        self.followed.last_post_id = post.id
        self.followed.last_post_position = post.position
        self.followed.last_post_url = post.source_url or ""
        self.followed.save(update_fields=["last_post_id", "last_post_position", "last_post_url"])

    def _succeeded(self) -> None:
        now = timezone.now()
        self.followed.status = FollowedThread.Status.OK
        self.followed.message = self._starter_warning()
        self.followed.last_fetched_at = now
        self.followed.last_attempt_at = now
        self.followed.save(
            update_fields=["status", "message", "last_fetched_at", "last_attempt_at"]
        )

    def _starter_warning(self) -> str:
        starter = next((p.starter for p in self.parsed.values() if p.starter), None)
        quest = self.followed.quest
        # Read again: a claim settled by this refresh may have made the starter's
        # account the player's, the quest's quest master with it.
        qm_id, quest_master = Quest.objects.filter(pk=quest.pk).values_list(
            "quest_master_id", "quest_master__username"
        )[0]
        if starter is None:
            return ""
        forum = forum_of(forum=quest.forum, source_url=quest.source_url)
        identity = ForumIdentity.objects.filter(forum=forum, name=starter).first()
        if identity is not None and identity.author_id == qm_id:
            return ""
        return (
            f"The thread was started by {starter}, not by this quest's quest master here "
            f"({quest_master}): {starter}'s posts are read as a player's until {starter} "
            "claims the name (the quest's “Your forum name” page)."
        )[:500]


def _mark_vanished(quest: Quest, *, since: int | None, seen: set[int]) -> None:
    """Mark deleted the forum posts from `since` on that no page shows any more."""
    if since is None:
        return
    gone = (
        Post.objects.filter(quest=quest, imported=True, deleted=False, ref__gte=since)
        .exclude(ref__in=seen)
        .order_by("seq")
    )
    for post in gone:
        post_forum_sync(
            post=post, source_url=post.source_url, forum_user_id=post.forum_user_id, deleted=True
        )


def _close_votes_before_new_chapters(quest: Quest, *, before: set[int]) -> None:
    chapters = (
        Chapter.objects.filter(quest=quest, status=Chapter.Status.PUBLISHED)
        .exclude(post=None)
        .select_related("post")
        .order_by("number")
    )
    for previous, chapter in pairwise(chapters):
        if chapter.number in before or chapter.post is None:
            continue
        for vote in Vote.objects.filter(chapter=previous, status=Vote.Status.OPEN):
            vote_close(
                vote=vote,
                by=None,
                reason="The next chapter was posted on the forum.",
                now=chapter.post.posted_at,
            )


# --- "As of forum post #N" -------------------------------------------------------------


def forum_as_of(quest: Quest) -> FollowedThread | None:
    """The thread the quest follows, once read: what the tally is "as of".

    No query when the quest was loaded with `select_related("followed_thread")`.
    """
    followed: FollowedThread | None = getattr(quest, "followed_thread", None)
    if followed is None or followed.last_fetched_at is None or followed.last_post_id is None:
        return None
    return followed


def as_of_bbcode(followed: FollowedThread) -> str:
    """ "As of forum post #N, fetched at T." for the tally posted back to the forum."""
    number = f"#{followed.last_post_position or followed.last_post_id}"
    url = followed.last_post_url.replace("[", "%5B").replace("]", "%5D")
    post = f"[URL={url}]{number}[/URL]" if url else number
    fetched = followed.last_fetched_at
    at = fetched.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if fetched else "?"
    return f"[I]As of forum post {post}, fetched at {at}.[/I]"


# --- Pages -------------------------------------------------------------------------------


def _page_url(thread: str, number: int) -> str:
    return thread if number == 1 else f"{thread}page-{number}"


def _parsed(pages: PageCache, url: str, text: str) -> ThreadPage:
    """The page read from `text`, from the disk cache when it was read before."""
    digest = _digest(text)
    stored = pages.read_parsed(url, digest=digest, version=PARSED_VERSION)
    if stored is not None:
        return _page_from_json(stored)
    page = parse_page(text, url=url)
    pages.write_parsed(url, _page_to_json(page), digest=digest, version=PARSED_VERSION)
    return page


def _page_to_json(page: ThreadPage) -> dict[str, Any]:
    data = asdict(page)
    for post in data["posts"]:
        for name in ("posted_at", "edited_at"):
            post[name] = post[name].isoformat() if post[name] else None
    return data


def _page_from_json(data: dict[str, Any]) -> ThreadPage:
    posts = tuple(
        ForumPost(
            **{
                **post,
                "posted_at": datetime.fromisoformat(post["posted_at"]),
                "edited_at": datetime.fromisoformat(post["edited_at"])
                if post["edited_at"]
                else None,
            }
        )
        for post in data["posts"]
    )
    return ThreadPage(**{**data, "posts": posts})
