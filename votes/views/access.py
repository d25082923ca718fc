"""Who may see or act on a vote: one helper per role, shared by the votes pages.

Each view's first line calls one of these, so its access rule is in plain sight.
The quest is let in as on every page (quest/access.py); who sees results is
votes/permissions.py.
"""

import logging
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from redis.exceptions import RedisError

from chapters.models import Chapter, Option, Prompt, Vote
from quest.access import quest_for_reader
from quest.middleware import shows_quest
from quest.permissions import can_manage, can_moderate, can_post, can_read


def vote_for_reader(
    request: HttpRequest, slug: str, number: int, *, with_prompts: bool = False
) -> Vote:
    """A published chapter's vote that is in the thread; private quests stay hidden.

    The quest is let in as `quest_for_reader` lets it in (can_read, then
    shows_quest), on the quest joined to the vote: one query for both. Without
    a vote the quest is looked up alone, so that a private quest's missing
    vote says no more than a missing quest.
    """
    votes = Vote.objects.select_related("chapter__quest__quest_master", "post")
    if not with_prompts:
        # The tally pages: the recount state (is the tally behind?) and the thread
        # the quest follows on a forum (their "as of forum post #N"). The ballot
        # side (with_prompts: the form, the panel, previews) shows neither, and its
        # every request is cheaper without the two joins.
        votes = votes.select_related("chapter__quest__followed_thread", "recount_state")
    vote = (
        votes.filter(
            chapter__quest__slug=slug,
            chapter__number=number,
            chapter__status=Chapter.Status.PUBLISHED,
        )
        .exclude(post=None)
        .first()
    )
    if vote is None:
        quest_for_reader(request, slug)  # Http404 for a missing or hidden quest
        raise Http404("This chapter has no vote.")
    quest = vote.chapter.quest
    if not can_read(request.user, quest):
        raise Http404("No such quest.")  # as quest_for_reader: it does not reveal it exists
    shows_quest(request, quest)
    if with_prompts:
        _prompts_loaded(vote)
    return vote


logger = logging.getLogger(__name__)

# How long a vote's prompts are kept. Every change of them through the services
# moves the vote's spec version, so a kept copy is never stale for that; the
# limit is for edits made around the services (the admin).
PROMPTS_CACHE_SECONDS = 60 * 60


def _prompts_loaded(vote: Vote) -> None:
    """The vote's prompts and their options, as `prefetch_related("prompts__options")`
    loads them, from the cache when they were loaded at this spec version before.

    A ballot form's GET and POST both need them, for every player: two queries
    (and the ORM's work building them) each time, for rows that change only with
    the spec version. With the cache unreachable they come from the database.
    """
    key = f"vote-prompts:{vote.pk}:{vote.spec_version}"
    try:
        kept = cache.get(key)
    except RedisError as e:
        logger.warning("Prompts read from the database, cache unavailable: %s", e)
        kept = None
    if kept is not None:
        _prefetched(vote, kept)
        return
    prefetch_related_objects([vote], "prompts__options")
    rows = [(_values(p), [_values(o) for o in p.options.all()]) for p in vote.prompts.all()]
    try:
        cache.set(key, rows, PROMPTS_CACHE_SECONDS)
    except RedisError as e:
        logger.warning("Prompts not cached, cache unavailable: %s", e)


def _values(row: models.Model) -> list[Any]:
    return [getattr(row, f.attname) for f in row._meta.concrete_fields]


def _prefetched(vote: Vote, rows: list[tuple[list[Any], list[list[Any]]]]) -> None:
    """Set kept prompts and options on `vote` where prefetch_related puts them."""
    prompt_fields = [f.attname for f in Prompt._meta.concrete_fields]
    option_fields = [f.attname for f in Option._meta.concrete_fields]
    prompts = []
    for prompt_values, options_values in rows:
        prompt = Prompt.from_db(vote._state.db, prompt_fields, prompt_values)
        Prompt.vote.field.set_cached_value(prompt, vote)
        options = [Option.from_db(vote._state.db, option_fields, v) for v in options_values]
        for option in options:
            Option.prompt.field.set_cached_value(option, prompt)
        _set_prefetched(prompt, "options", prompt.options.all(), options)
        prompts.append(prompt)
    _set_prefetched(vote, "prompts", vote.prompts.all(), prompts)


def _set_prefetched(row: models.Model, name: str, related: Any, found: list[Any]) -> None:
    # What prefetch_related leaves (django/db/models/query.py, prefetch_one_level):
    # the related manager's queryset, already evaluated, under the relation's name.
    related._result_cache = found
    related._prefetch_done = True
    row.__dict__.setdefault("_prefetched_objects_cache", {})[name] = related


def vote_for_player(
    request: HttpRequest, slug: str, number: int, *, with_prompts: bool = False
) -> Vote:
    vote = vote_for_reader(request, slug, number, with_prompts=with_prompts)
    if not can_post(request.user, vote.chapter.quest):
        raise PermissionDenied("You cannot post in this quest.")
    return vote


def vote_for_moderator(request: HttpRequest, slug: str, number: int) -> Vote:
    vote = vote_for_reader(request, slug, number)
    if not can_moderate(request.user, vote.chapter.quest):
        raise PermissionDenied("Only the quest master and this quest's moderators audit votes.")
    return vote


def vote_for_quest_master(request: HttpRequest, slug: str, number: int) -> Vote:
    vote = vote_for_reader(request, slug, number)
    if not can_manage(request.user, vote.chapter.quest):
        raise PermissionDenied("Only the quest master can do this.")
    return vote
