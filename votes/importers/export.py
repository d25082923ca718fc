"""Export a whole quest thread as a `quest-thread/1` document (thread_json.py reads it back).

Authors are names: a thread from a forum names each author as the forum does
(the identity that wrote a post, also once a player claimed the name, and the
forum name a player claimed for their posts in the app), so importing the
export anywhere gives the same voters; any other thread names usernames.
"""

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User

from chapters.kinds import PromptKind
from chapters.models import Chapter
from quest.identities import forum_name_of, forum_of
from quest.models import Membership, Post, Quest
from votes.importers.thread_json import FORMAT


def thread_export(quest: Quest) -> dict[str, Any]:
    """The quest as a `quest-thread/1` document: every post, chapter, vote and prompt."""
    moderators = (
        Membership.objects.filter(quest=quest, role=Membership.Role.MODERATOR)
        .select_related("user")
        .order_by("user__username")
    )
    chapters = (
        Chapter.objects.filter(quest=quest, status=Chapter.Status.PUBLISHED)
        .select_related("post", "vote__post")
        .order_by("number")
    )
    posts = (
        Post.objects.filter(quest=quest)
        .select_related("author__forum_identity", "forum_identity")
        .order_by("seq")
    )
    name = _Names(forum_of(forum=quest.forum, source_url=quest.source_url))
    header: dict[str, Any] = {
        "slug": quest.slug,
        "title": quest.title,
        "quest_master": name(quest.quest_master),
        "moderators": [name(m.user) for m in moderators],
    }
    # A thread from a forum says where it came from; a thread begun here says nothing.
    if quest.source_url:
        header["source_url"] = quest.source_url
    if quest.forum:
        header["forum"] = quest.forum
    return {
        "format": FORMAT,
        "quest": header,
        "chapters": [_chapter_json(c) for c in chapters],
        "posts": [_post_json(p, name) for p in posts],
    }


class _Names:
    """An account's name in the thread: on a forum's thread, its forum name; one query each."""

    def __init__(self, forum: str) -> None:
        self.forum = forum
        self.known: dict[int, str] = {}

    def __call__(self, user: User) -> str:
        if not self.forum:
            return user.get_username()
        if user.pk not in self.known:
            self.known[user.pk] = forum_name_of(user, forum=self.forum)
        return self.known[user.pk]


def _post_json(post: Post, name: _Names) -> dict[str, Any]:
    identity = post.forum_identity
    out: dict[str, Any] = {
        "id": post.ref,
        "author": identity.name if identity is not None else name(post.author),
        "posted_at": _iso(post.posted_at),
        "edited_at": _iso(post.edited_at),
        "body": post.body,
    }
    if post.source_url:
        out["source_url"] = post.source_url
    if post.forum_user_id is not None:
        out["forum_user_id"] = post.forum_user_id
    if post.deleted:
        out["deleted"] = True
    return out


def _chapter_json(chapter: Chapter) -> dict[str, Any]:
    assert chapter.post is not None  # publishing a chapter posts it in the thread
    out: dict[str, Any] = {
        "number": chapter.number,
        "title": chapter.title,
        "post": chapter.post.ref,
    }
    vote = getattr(chapter, "vote", None)
    if vote is not None and vote.post_id:
        out["vote"] = {
            "post": vote.post.ref,
            "opens_at": _iso(vote.opens_at),
            "closes_at": _iso(vote.closes_at),
            "prompts": [
                {
                    "number": p.number,
                    "kind": p.kind,
                    "text": p.text,
                    **(
                        {"options": [{"letter": o.letter, "text": o.text} for o in p.options.all()]}
                        if p.kind != PromptKind.WRITE_IN
                        else {}
                    ),
                    **(
                        {"partition": p.partition, "proxies": p.proxies, "method": p.method}
                        if p.kind == PromptKind.LINES
                        else {}
                    ),
                }
                for p in vote.prompts.prefetch_related("options")
            ],
        }
    return out


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None
