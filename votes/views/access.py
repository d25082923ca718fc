"""Who may see or act on a vote: one helper per role, shared by the votes pages.

Each view's first line calls one of these, so its access rule is in plain sight.
The quest is let in as on every page (quest/access.py); who sees results is
votes/permissions.py.
"""

import functools
import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from redis.exceptions import RedisError

from chapters.models import Chapter, Option, Prompt, Vote
from quest.access import quest_for_reader
from quest.middleware import shows_quest
from quest.models import Membership, Post, Quest
from quest.permissions import can_manage, can_moderate, can_post, can_read, role_loaded


def vote_for_reader(
    request: HttpRequest, slug: str, number: int, *, with_prompts: bool = False
) -> Vote:
    """A published chapter's vote that is in the thread; private quests stay hidden.

    The quest is let in as `quest_for_reader` lets it in (can_read, then
    shows_quest), on the quest joined to the vote: one query for both. Without
    a vote the quest is looked up alone, so that a private quest's missing
    vote says no more than a missing quest.
    """
    if with_prompts:
        # The ballot side (the form, the panel, previews): neither of the tally
        # pages' joins below, and the query built once (_ballot_side_vote).
        vote = _ballot_side_vote(slug, number, request.user)
    else:
        # The tally pages: the recount state too (is the tally behind?), and the
        # thread the quest follows on a forum (their "as of forum post #N").
        votes = Vote.objects.select_related(
            "chapter__quest__quest_master",
            "chapter__quest__followed_thread",
            "post",
            "recount_state",
        )
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


# The ballot side's vote and what comes with it: (model, alias, join), in SELECT order.
_JOINED: tuple[tuple[type[models.Model], str, str], ...] = (
    (Vote, "v", ""),
    (Chapter, "c", "c.id = v.chapter_id"),
    (Quest, "q", "q.id = c.quest_id"),
    (User, "u", "u.id = q.quest_master_id"),
    (Post, "p", "p.id = v.post_id"),
)


def _ballot_side_vote(slug: str, number: int, user: User | AnonymousUser) -> Vote | None:
    """The published chapter's vote with its chapter, quest, quest master and post, as
    `select_related("chapter__quest__quest_master", "post")` loads them, or None;
    and the user's membership role in the quest, which every ballot-side view
    asks (can_read, can_manage): one query for both.

    Every ballot form's GET and POST and every panel poll asks for it: the ORM
    spent ~2.8 ms of CPU building this one query each time, and ~1 ms more on
    its rows, for a statement PostgreSQL answers in a tenth of that. The SQL
    is built once (_ballot_side_sql); rows become models through `from_db`
    with the fields' own converters, as the ORM's do.
    """
    sql, fields = _ballot_side_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, slug, number, Chapter.Status.PUBLISHED.value])
        row = cursor.fetchone()
    if row is None:
        return None
    *row, membership_role = row
    db = connection.alias
    loaded: list[Any] = []
    start = 0
    for (model, _, _), (names, converters) in zip(_JOINED, fields, strict=True):
        values = list(row[start : start + len(names)])
        start += len(names)
        for i, field_converters in converters:
            for convert in field_converters:
                values[i] = convert(values[i], None, connection)
        loaded.append(model.from_db(db, names, values))
    vote, chapter, quest, quest_master, post = loaded
    Quest.quest_master.field.set_cached_value(quest, quest_master)
    Chapter.quest.field.set_cached_value(chapter, quest)
    # One-to-ones both ways, as select_related sets them: chapter.vote, post.vote.
    Vote.chapter.field.set_cached_value(vote, chapter)
    Vote.chapter.field.remote_field.set_cached_value(chapter, vote)
    Vote.post.field.set_cached_value(vote, post)
    Vote.post.field.remote_field.set_cached_value(post, vote)
    role_loaded(user, quest, membership_role)
    return vote


@functools.cache
def _ballot_side_sql() -> tuple[str, list[tuple[list[str], list[tuple[int, list[Any]]]]]]:
    """_ballot_side_vote's SQL, and per model its fields' names and DB converters."""
    quote = connection.ops.quote_name
    columns, joins, fields = [], [], []
    for model, alias, on in _JOINED:
        concrete = model._meta.concrete_fields
        columns += [f"{alias}.{quote(f.column)}" for f in concrete if f.column]
        table = f"{quote(model._meta.db_table)} {alias}"
        joins.append(f"JOIN {table} ON {on}" if on else table)
        converters = []
        for i, f in enumerate(concrete):
            col = f.get_col(alias)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                converters.append((i, found))
        fields.append(([f.attname for f in concrete], converters))
    members = quote(Membership._meta.db_table)
    role = (  # role_in's query
        f"(SELECT m.role FROM {members} m WHERE m.quest_id = q.id AND m.user_id = %s "
        "ORDER BY m.id LIMIT 1)"
    )
    sql = (
        f"SELECT {', '.join(columns)}, {role} FROM {' '.join(joins)} "
        "WHERE q.slug = %s AND c.number = %s AND c.status = %s ORDER BY v.id LIMIT 1"
    )
    return sql, fields


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
