"""Hooks: how a lower app gets something a higher app owns without importing it.

Apps depend one way, quest <- chapters <- votes (the import contract in
pyproject.toml fails `bin/check` otherwise). Yet the thread (quest) shows how
each post was read, and a new post must be read (votes); a vote's changed
window (chapters) means its posts must be read again (votes). So the lower app
calls a hook declared here, and the higher app fills it in its
`AppConfig.ready()` (chapters/apps.py, votes/apps.py). A hook nobody filled
returns its default, so a lower app still runs, and its tests still pass,
without the apps above it.

Hooks rather than Django signals (the house style avoids signals): a hook has
exactly one provider and returns its answer, and the call names the need where
it arises, so reading the caller and then the one `fill` in an apps.py is the
whole story.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from quest.models import Post, Quest


class Hook[**P, R]:
    """One need of a lower app, filled by at most one provider in a higher app."""

    def __init__(self, default: Callable[P, R]) -> None:
        self.name = default.__name__.lstrip("_")
        self.__doc__ = default.__doc__
        self._default = default
        self._provider: Callable[P, R] | None = None

    def fill(self, provider: Callable[P, R]) -> None:
        # Two providers would make the answer depend on the order of INSTALLED_APPS.
        # The same one again is fine: Django may run ready() twice (tests re-populating apps).
        if self._provider is not None and self._provider is not provider:
            raise ImproperlyConfigured(
                f"The hook {self.name!r} is already filled by {self._provider!r}."
            )
        self._provider = provider

    @property
    def filled(self) -> bool:
        return self._provider is not None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return (self._provider or self._default)(*args, **kwargs)


# Each hook's default states its signature and what it is for; the provider
# named in brackets fills it.

# --- Asked by quest -----------------------------------------------------------------------


def _post_needs_reading(*, post: Post) -> None:
    """A post was written or edited: read it after commit (votes: reading_request)."""


def _read_as_lines(posts: list[Post]) -> dict[int, Any]:
    """Post pk -> the thread's "Read as" line for each post of a page, in one query
    (votes: previews.read_as_lines). A post with no line is left out."""
    return {}


def _quests_with_chapters(quests: QuerySet[Quest]) -> QuerySet[Quest]:
    """The home page's quests annotated with their latest chapter and open vote
    (chapters: selectors.quests_with_chapters)."""
    return quests


def _thread_open_vote(quest: Quest) -> Any | None:
    """The quest's open vote, for the banner over the thread (chapters: selectors.open_vote)."""
    return None


def _thread_closed_vote(quest: Quest) -> Any | None:
    """The vote that closed last, announced over the thread with its results
    (chapters: selectors.last_closed_vote)."""
    return None


def _quest_has_chapters(quest: Quest) -> bool:
    """Whether the quest has a chapter yet; the thread asks its quest master for the first
    (chapters: selectors.has_chapters)."""
    return False


def _reply_vote(quest: Quest) -> Any | None:
    """The vote a reply written now is read against, for the reply box's reading preview
    (votes: selectors.reply_vote)."""
    return None


def _post_vote(post: Post) -> Any | None:
    """The vote whose window holds the post, for the edit box's reading preview
    (votes: selectors.vote_for_post)."""
    return None


def _edit_preview(*, vote: Any, post: Post, body: str) -> Any | None:
    """How `post` will read against `vote` once its text is `body`
    (votes: previews.edit_preview)."""
    return None


post_needs_reading = Hook(_post_needs_reading)
read_as_lines = Hook(_read_as_lines)
quests_with_chapters = Hook(_quests_with_chapters)
thread_open_vote = Hook(_thread_open_vote)
thread_closed_vote = Hook(_thread_closed_vote)
quest_has_chapters = Hook(_quest_has_chapters)
reply_vote = Hook(_reply_vote)
post_vote = Hook(_post_vote)
edit_preview = Hook(_edit_preview)


# --- Asked by chapters ---------------------------------------------------------------------


def _vote_changed(*, vote: Any) -> None:
    """What the vote's posts are read against changed (prompts, window, status): read
    them again (votes: vote_reread_request)."""


def _vote_reopened(*, vote: Any) -> None:
    """A closed vote opened again: its final tally is final no more (votes: tally_unfreeze)."""


def _ballot_panel(*, vote: Any, user: Any) -> Any | None:
    """What the tally counts for `user` on `vote`, and what it holds back and why, for the
    chapter page's "Your ballot" panel; None for someone who cannot vote there
    (votes: selectors.ballot_panel)."""
    return None


vote_changed = Hook(_vote_changed)
vote_reopened = Hook(_vote_reopened)
ballot_panel = Hook(_ballot_panel)
