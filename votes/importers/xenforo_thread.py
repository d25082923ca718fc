"""Saved XenForo 2 thread pages to one `quest-thread/1` document.

Pure: pages as `xenforo.parse_page` reads them in, a document out; no Django, no
database. `import_thread --format xenforo` gives the document to the same
importer as a JSON file (thread_json.py), so there is one way into the app.

A forum thread says its posts, authors, times and quotes; this module finds
what it does not say outright:

- The quest master is the thread starter: their posts are never ballots.
- Chapters are the quest master's threadmarked posts, numbered from their
  titles as a paste's chapters are (`paste.number_chapters`). A thread without
  threadmarks has its chapters found from the first lines of the quest
  master's posts, as in a paste.
- A chapter's vote is the first post of the quest master, from the chapter's
  post to the next chapter's, whose own words (quotes left out) end in prompts
  (`paste.vote_prompts`). It opens at that post and closes at the next
  chapter's post; the last chapter's vote stays open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from quest.bbcode import strip_quote_blocks, strip_tags
from votes.importers.paste import number_chapters, slug_of, vote_prompts
from votes.importers.thread_json import FORMAT
from votes.importers.xenforo import ForumPost, ThreadPage, XenForoFormatError

__all__ = ["thread_from_pages"]

SLUG_CHARS = 80  # quest.Quest.slug's max_length


def thread_from_pages(pages: Sequence[ThreadPage], *, slug: str | None = None) -> dict[str, Any]:
    """One `quest-thread/1` document from pages of one thread.

    1. The pages must be of one thread (one address, or one title where a page
       does not say its address); they are taken in page order.
    2. Each post once (`_posts`), in the order the pages show them.
    3. The quest: the thread's title, its address and forum, the starter as
       quest master; the slug, unless given, from the thread's address.
    4. Chapters and their votes, as the module docstring says.

    Raises XenForoFormatError when the pages are of several threads, or no
    page says who started the thread.
    """
    if not pages:
        raise XenForoFormatError("There is no page to read.")
    for page in pages[1:]:
        _check_same_thread(pages[0], page)
    ordered = sorted(pages, key=lambda page: page.page)
    first = ordered[0]
    posts = _posts(ordered)
    starter = next((page.starter for page in ordered if page.starter), None)
    if starter is None:
        raise XenForoFormatError(
            "No page says who started the thread (its quest master): include its first page."
        )
    header: dict[str, Any] = {
        "slug": slug or _slug(first),
        "title": first.title,
        "quest_master": starter,
        "moderators": [],
    }
    if first.thread_url:
        header["source_url"] = first.thread_url
        header["forum"] = first.forum
    return {
        "format": FORMAT,
        "quest": header,
        "chapters": _chapters(posts, starter),
        "posts": [post.as_thread_post() for post in posts],
    }


def _check_same_thread(first: ThreadPage, page: ThreadPage) -> None:
    if first.thread_url and page.thread_url:
        if page.thread_url != first.thread_url:
            raise XenForoFormatError(
                f"Page {page.page} is of the thread {page.thread_url}, not of "
                f"{first.thread_url} as the first page given: give pages of one thread."
            )
    elif page.title != first.title:
        raise XenForoFormatError(
            f"Page {page.page} is of the thread {page.title!r}, not of {first.title!r} "
            "as the first page given: give pages of one thread."
        )


def _posts(pages: Sequence[ThreadPage]) -> list[ForumPost]:
    """Every post once, where it first appears.

    A post on two pages (a page saved twice, or saved again after the thread
    grew) is taken from the later page. A deleted post's placeholder has no
    text: the post keeps the text an earlier copy had, marked deleted.
    """
    by_id: dict[int, ForumPost] = {}
    for page in pages:
        for post in page.posts:
            earlier = by_id.get(post.id)
            if earlier is not None and post.deleted and not post.body and earlier.body:
                post = replace(earlier, deleted=True)
            by_id[post.id] = post
    return list(by_id.values())  # a dict keeps the order in which ids first came


def _slug(page: ThreadPage) -> str:
    """From the thread's address (`/threads/<name>.<id>/`), so that two threads of
    one title are two quests; from the title when the page gives no address."""
    if page.thread_url:
        name = urlsplit(page.thread_url).path.rstrip("/").rsplit("/", 1)[-1]
        words, _, thread_id = name.rpartition(".")
        if thread_id.isdigit():
            words = slug_of(words, limit=SLUG_CHARS - len(thread_id) - 1)
            return f"{words}-{thread_id}" if words else f"thread-{thread_id}"
        if slug_of(name):
            return slug_of(name, limit=SLUG_CHARS)
    slug = slug_of(page.title, limit=SLUG_CHARS)
    if not slug:
        raise XenForoFormatError("The thread's title has no letters to make a slug of: give one.")
    return slug


# Chapters and votes


def _chapters(posts: list[ForumPost], starter: str) -> list[dict[str, Any]]:
    own = [i for i, post in enumerate(posts) if post.author == starter and not post.deleted]
    marked = [i for i in own if posts[i].threadmark]
    if marked:
        titles = [posts[i].threadmark or "" for i in marked]
        numbers = number_chapters(titles, any_title=True)
    else:  # no threadmarks: a chapter is a post of the quest master's that starts like one
        marked = own
        titles = [next(iter(_plain_lines(posts[i])), "") for i in own]
        numbers = number_chapters(titles)
    found = [
        (i, title, number)
        for i, title, number in zip(marked, titles, numbers, strict=True)
        if number is not None
    ]
    chapters = []
    for k, (i, title, number) in enumerate(found):
        end = found[k + 1][0] if k + 1 < len(found) else len(posts)
        chapter: dict[str, Any] = {"number": number, "title": title.strip(), "post": posts[i].id}
        chapter["vote"] = _vote(posts, i, end, starter)
        chapters.append(chapter)
    return chapters


def _vote(posts: list[ForumPost], start: int, end: int, starter: str) -> dict[str, Any] | None:
    for post in posts[start:end]:
        if post.author != starter or post.deleted:
            continue
        prompts = vote_prompts(_plain_lines(post), in_chapter_post=post is posts[start])
        if prompts:
            return {
                "post": post.id,
                "opens_at": _iso(post.posted_at),
                "closes_at": _iso(posts[end].posted_at) if end < len(posts) else None,
                "prompts": prompts,
            }
    return None


def _plain_lines(post: ForumPost) -> list[str]:
    """The post's own words (quotes left out), without BBCode, line by line."""
    text = strip_tags(strip_quote_blocks(post.body))
    return [line.strip() for line in text.strip().splitlines()]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
