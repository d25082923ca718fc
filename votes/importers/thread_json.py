"""Import whole quest threads in the `quest-thread/1` format (export.py writes it).

The import takes the header and the posts separately, and posts as an
iterable, so a reader that streams a large file can feed it post by post.
Importing the same file twice changes nothing: posts are keyed by their ids.
Every way in comes through here: a paste (paste.py) and saved forum pages
(xenforo_thread.py) are turned into this document first.

A thread from a forum may say where it came from (`quest.source_url`,
`quest.forum`; per post `source_url`, `forum_user_id`, `deleted`): those are
kept. Its names are then that forum's: each author is a forum identity, never
a local account of the same name (quest/identities.py says how names map);
a thread from no forum names local accounts. A post the file marks deleted is
marked so, never removed, and keeps its text when the file has none for it (a
forum shows a deleted post's placeholder).
"""

from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chapters.detect import detect_prompts
from chapters.kinds import Method, Partition, PromptKind, Proxies
from chapters.models import Chapter, Option, Prompt, Vote
from quest.identities import forum_author, forum_identity_get_or_create, forum_of
from quest.models import ForumIdentity, Post, Quest
from quest.post_imports import ImportedPost, imported_authors_get_or_create, posts_import
from quest.services import (
    imported_author_get_or_create,
    moderator_appoint,
    post_edit,
    post_forum_sync,
)
from votes.import_reading import import_readings_request

FORMAT = "quest-thread/1"
# Posts inserted per statement: big enough that a 10,000-post thread is a few
# INSERTs, small enough that memory does not grow with the thread.
BATCH = 1000


class ThreadFormatError(ValidationError):
    """The file cannot be imported; the message says where and why."""


@transaction.atomic
def thread_import(data: object) -> Quest:
    """Import a whole `quest-thread/1` document (parsed JSON, checked here); returns the quest."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ThreadFormatError(f"Not a {FORMAT} file: its 'format' must be {FORMAT!r}.")
    posts = data.get("posts")
    if not isinstance(posts, list):
        raise ThreadFormatError("The file has no 'posts' list.")
    return import_stream(header=data, posts=iter(posts))


def import_stream(*, header: dict, posts: Iterator[dict] | Iterable[dict]) -> Quest:
    with transaction.atomic():
        quest, authors = _quest(header.get("quest"))
        batches = _Batches(quest, authors)
        for i, raw in enumerate(posts):
            batches.add(_checked(raw, i))
        batches.store()
        chapters = header.get("chapters") or []
        by_ref = _chapter_posts(quest, chapters)
        for raw in chapters:
            _chapter(quest, raw, by_ref)
        for vote in Vote.objects.filter(chapter__quest=quest).select_related(
            "chapter__quest", "post"
        ):
            import_readings_request(vote=vote)
    return quest


class _Authors:
    """Who the file's names are: forum identities for a thread from a forum, else
    local accounts; each name looked up once per import."""

    def __init__(self, forum: str) -> None:
        self.forum = forum
        self.known: dict[tuple[str, int | None], tuple[User, ForumIdentity | None]] = {}

    def of(self, name: str, forum_user_id: int | None = None) -> tuple[User, ForumIdentity | None]:
        key = (name, forum_user_id)
        if key not in self.known:
            if self.forum:
                identity = forum_identity_get_or_create(
                    forum=self.forum, name=name, forum_user_id=forum_user_id
                )
                self.known[key] = (forum_author(identity), identity)
            else:
                self.known[key] = (imported_author_get_or_create(name=name), None)
        return self.known[key]

    def look_up(self, names: Iterable[tuple[str, int | None]]) -> None:
        """Resolve a batch's new names at once (local accounts: one SELECT, one INSERT);
        a forum's names are identities, made one by one as they are first seen."""
        fresh = [key for key in dict.fromkeys(names) if key not in self.known]
        if self.forum or not fresh:
            return
        users = imported_authors_get_or_create(names=[name for name, _ in fresh])
        self.known.update((key, (users[key[0]], None)) for key in fresh)


def _quest(raw) -> tuple[Quest, _Authors]:
    if not isinstance(raw, dict) or not raw.get("slug") or not raw.get("quest_master"):
        raise ThreadFormatError("'quest' must give at least 'slug' and 'quest_master'.")
    source_url = _address(raw.get("source_url"), "'quest' 'source_url'")
    forum = _text(raw.get("forum"), "'quest' 'forum'", 253)
    # A quest imported (or linked to its thread) before keeps the forum it has.
    existing = Quest.objects.filter(slug=str(raw["slug"])).first()
    known = forum_of(forum=existing.forum, source_url=existing.source_url) if existing else ""
    authors = _Authors(known or forum_of(forum=forum, source_url=source_url))
    qm, _ = authors.of(str(raw["quest_master"]))
    quest, _ = Quest.objects.get_or_create(
        slug=str(raw["slug"]),
        defaults={
            "title": str(raw.get("title") or raw["slug"]),
            "quest_master": qm,
            "last_activity_at": timezone.now(),
            "source_url": source_url,
            "forum": forum,
        },
    )
    for name in raw.get("moderators") or []:
        user, _ = authors.of(str(name))
        if user.pk != quest.quest_master_id:
            moderator_appoint(quest=quest, user=user, by=quest.quest_master)
    return quest, authors


@dataclass(frozen=True, slots=True)
class _Checked:
    """One post of the file, checked: what storing or updating it needs."""

    ref: int
    author: str
    body: str
    posted_at: datetime
    edited_at: datetime | None
    forum: "_ForumFields"


def _checked(raw: dict, index: int) -> _Checked:
    where = f"post {index + 1}"
    if not isinstance(raw, dict):
        raise ThreadFormatError(f"{where} is not an object.")
    try:
        ref = int(raw["id"])
        author = str(raw["author"]).strip()
        body = str(raw["body"])
    except (KeyError, TypeError, ValueError):
        raise ThreadFormatError(
            f"{where} needs an integer 'id', an 'author' and a 'body'."
        ) from None
    if not author:
        raise ThreadFormatError(f"{where} has an empty author.")
    posted_at = _time(raw.get("posted_at"), f"{where} 'posted_at'", required=True)
    assert posted_at is not None  # required
    edited_at = _time(raw.get("edited_at"), f"{where} 'edited_at'")
    return _Checked(ref, author, body, posted_at, edited_at, _forum_fields(raw, where))


class _Batches:
    """The file's posts stored BATCH at a time, so memory stays flat with the thread.

    A batch looks its refs up in one query: a post already in the thread (an
    import again, a followed thread's next read) is updated as before, one by
    one, and the new posts are inserted together in file order
    (quest.post_imports.posts_import), authors resolved once per name. A ref seen
    twice in one file closes the batch first, so its second copy is an update.
    """

    def __init__(self, quest: Quest, authors: _Authors) -> None:
        self.quest = quest
        self.authors = authors
        self.pending: dict[int, _Checked] = {}

    def add(self, post: _Checked) -> None:
        if post.ref in self.pending or len(self.pending) >= BATCH:
            self.store()
        self.pending[post.ref] = post

    def store(self) -> None:
        posts, self.pending = list(self.pending.values()), {}
        existing = Post.objects.filter(quest=self.quest, ref__in=[p.ref for p in posts])
        by_ref = {p.ref: p for p in existing}
        new: list[ImportedPost] = []
        self.authors.look_up(
            (p.author, p.forum["forum_user_id"]) for p in posts if p.ref not in by_ref
        )
        for post in posts:
            if post.ref in by_ref:
                _update(by_ref[post.ref], post)
                continue
            user, identity = self.authors.of(post.author, post.forum["forum_user_id"])
            new.append(
                ImportedPost(
                    ref=post.ref,
                    author_id=user.pk,
                    body=post.body,
                    posted_at=post.posted_at,
                    edited_at=post.edited_at,
                    forum_identity_id=identity.pk if identity is not None else None,
                    **post.forum,
                )
            )
        posts_import(quest=self.quest, posts=new)


def _update(existing: Post, post: _Checked) -> None:
    forum = post.forum
    # A deleted post's placeholder has no text: the post keeps the text it had.
    if existing.body != post.body and not (forum["deleted"] and not post.body):
        existing = post_edit(post=existing, body=post.body, by=existing.author, at=post.edited_at)
    if _forum_fields_differ(existing, forum):
        post_forum_sync(post=existing, **forum)


class _ForumFields(TypedDict):
    """What a forum says of a post, as `post_create` and `post_forum_sync` take it."""

    source_url: str
    forum_user_id: int | None
    deleted: bool


def _forum_fields(raw: dict, where: str) -> _ForumFields:
    """The optional fields of a post from a forum, checked."""
    user_id = raw.get("forum_user_id")
    if user_id is not None and (
        isinstance(user_id, bool) or not str(user_id).isdigit() or int(user_id) < 1
    ):
        raise ThreadFormatError(
            f"{where} 'forum_user_id' must be the forum's numeric id, not {user_id!r}."
        )
    deleted = raw.get("deleted", False)
    if not isinstance(deleted, bool):
        raise ThreadFormatError(f"{where} 'deleted' must be true or false, not {deleted!r}.")
    return {
        "source_url": _address(raw.get("source_url"), f"{where} 'source_url'"),
        "forum_user_id": int(user_id) if user_id is not None else None,
        "deleted": deleted,
    }


def _forum_fields_differ(post: Post, forum: _ForumFields) -> bool:
    # Importing the same file again must not lock and rewrite every post.
    return (
        post.deleted != forum["deleted"]
        or (bool(forum["source_url"]) and post.source_url != forum["source_url"])
        or (forum["forum_user_id"] is not None and post.forum_user_id != forum["forum_user_id"])
    )


def _address(value: object, where: str) -> str:
    text = _text(value, where, 500)
    if text and not text.lower().startswith(("http://", "https://")):
        raise ThreadFormatError(f"{where} must be an http(s) address, not {text!r}.")
    return text


def _text(value: object, where: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ThreadFormatError(f"{where} must be text, not {value!r}.")
    if len(value) > limit:
        raise ThreadFormatError(f"{where} is longer than {limit} characters.")
    return value.strip()


def _chapter_posts(quest: Quest, chapters: list) -> dict[int, Post]:
    """The posts the chapters name (their own and their votes'), by ref: one query."""
    refs: set[int] = set()
    for raw in chapters:
        if not isinstance(raw, dict):
            continue
        vote = raw.get("vote")
        named: list[Any] = [raw.get("post"), vote.get("post") if isinstance(vote, dict) else None]
        for value in named:
            # A value that is no ref: _chapter and _vote say what is wrong with it.
            with suppress(TypeError, ValueError):
                refs.add(int(value))
    return {p.ref: p for p in Post.objects.filter(quest=quest, ref__in=refs)}


def _chapter(quest: Quest, raw: dict, by_ref: dict[int, Post]) -> None:
    try:
        number = int(raw["number"])
        post = by_ref[int(raw["post"])]
    except (KeyError, TypeError, ValueError):
        raise ThreadFormatError(
            "Each chapter needs a 'number' and a 'post' that is one of the file's posts."
        ) from None
    chapter, _ = Chapter.objects.update_or_create(
        quest=quest,
        number=number,
        defaults={
            "title": str(raw.get("title") or f"Chapter {number}")[:200],
            "body": post.body,
            "status": Chapter.Status.PUBLISHED,
            "post": post,
            "published_at": post.posted_at,
        },
    )
    if raw.get("vote"):
        _vote(chapter, raw["vote"], by_ref)


def _vote(chapter: Chapter, raw: dict, by_ref: dict[int, Post]) -> None:
    where = f"chapter {chapter.number}'s vote"
    # Whatever the JSON holds (the chapter's own post when absent): int() refusing it is an error.
    ref: Any = raw.get("post", chapter.post.ref if chapter.post is not None else None)
    try:
        post = by_ref[int(ref)]
    except (KeyError, TypeError, ValueError):
        raise ThreadFormatError(f"{where}: 'post' is not one of the file's posts.") from None
    opens_at = _time(raw.get("opens_at"), f"{where} 'opens_at'") or post.posted_at
    closes_at = _time(raw.get("closes_at"), f"{where} 'closes_at'")
    status = Vote.Status.CLOSED if closes_at and closes_at <= timezone.now() else Vote.Status.OPEN
    vote, created = Vote.objects.get_or_create(
        chapter=chapter,
        defaults={
            "post": post,
            "opens_at": opens_at,
            "closes_at": closes_at,
            "status": status,
            "closed_at": closes_at if status == Vote.Status.CLOSED else None,
        },
    )
    if not created:
        return
    prompts = raw.get("prompts")
    if prompts is None:
        prompts = _detected(post.body, where)
    for p in prompts:
        _prompt(vote, p, where)


def _detected(body: str, where: str) -> list[dict]:
    found = detect_prompts(body)
    if not found.prompts:
        raise ThreadFormatError(f"{where}: no 'prompts' given and none found in the vote's post.")
    return [
        {
            "number": p.number,
            "kind": p.kind,
            "text": p.text,
            "options": [{"letter": o.letter, "text": o.text} for o in p.options],
        }
        for p in found.prompts
    ]


def _prompt(vote: Vote, raw: dict, where: str) -> None:
    kind = _kind(raw.get("kind", PromptKind.SINGLE), where)
    settings = _lines_settings(raw, where) if kind is PromptKind.LINES else {}
    try:
        prompt = Prompt.objects.create(
            vote=vote,
            number=int(raw["number"]),
            kind=kind,
            text=str(raw.get("text", "")),
            **settings,
        )
        Option.objects.bulk_create(
            Option(prompt=prompt, letter=str(o["letter"]).upper(), text=str(o.get("text", "")))
            for o in raw.get("options") or []
        )
    except (KeyError, TypeError, ValueError):
        raise ThreadFormatError(
            f"{where}: each prompt needs a 'number'; options a 'letter'."
        ) from None


def _kind(value: object, where: str) -> PromptKind:
    # Every kind the app knows, LINES too: a thread keeps its prompts as they were.
    try:
        return PromptKind(str(value))
    except ValueError:
        known = ", ".join(repr(kind.value) for kind in PromptKind)
        raise ThreadFormatError(f"{where}: prompt kind {value!r} is not one of {known}.") from None


# A `lines` prompt's optional settings (quest-thread/1), each with its default.
_LINES_SETTINGS = (
    ("partition", Partition, Partition.BLOCK),
    ("proxies", Proxies, Proxies.ON),
    ("method", Method, Method.SCHULZE),
)


def _lines_settings(raw: dict, where: str) -> dict[str, str]:
    """A `lines` prompt's partition, proxies and method, checked; defaults when absent."""
    settings = {}
    for name, enum, default in _LINES_SETTINGS:
        value = raw.get(name, default)
        if not isinstance(value, str) or value not in set(enum):
            known = ", ".join(repr(member.value) for member in enum)
            number = raw.get("number", "?")
            raise ThreadFormatError(
                f"{where}: prompt {number}'s {name} {value!r} is not one of {known}."
            )
        settings[name] = enum(value).value
    return settings


def _time(value, where: str, *, required: bool = False) -> datetime | None:
    if value in (None, ""):
        if required:
            raise ThreadFormatError(f"{where} is missing.")
        return None
    try:
        parsed = parse_datetime(str(value))
    except ValueError:  # well-formed but impossible, e.g. month 13
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ThreadFormatError(f"{where} must be an ISO 8601 time with a zone, not {value!r}.")
    return parsed
