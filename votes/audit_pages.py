"""The audit a page at a time: which posts each tab lists, without building every post's view.

The audit page shows PER_PAGE posts of one tab, optionally only a voter's or
one post number. Which posts, and how many each tab lists, follow from a few
facts per post: what its Reading says in brief (kind, why it is excluded,
what it holds back, whether it mentions the vote: columns of the Reading row,
never its JSON), the latest tally's holds and exclusions, and the rulings in
force on it. Every tab becomes a condition on the window's posts and their
Reading's columns, so the counts are one query and a page another, whatever
the window's size; only the page's posts are then built in full
(`audit.audit_posts(pks=...)`).

`tabs_of` decides a post's tabs the way `audit.PostAudit.in_tab` does
(tests/test_audit_pages.py checks the two agree on every kind of post).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Count, FilteredRelation, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTransform

from chapters.models import Vote
from quest.models import Post
from votes import selectors
from votes.models import Decision, TallyRun
from votes.names import voter_names
from votes.reading.rulings import in_force
from votes.reading.types import PostKind

# A held-back post renders with its decision forms (about 4 ms each on this
# machine): 25 keep a page under the 300 ms aim at 10,000 posts (docs/benchmarks.md).
PER_PAGE = 25
SHOW = ("held", "all", "excluded", "mentions", "decided")
_COUNTING = frozenset({Decision.Action.SET, Decision.Action.PROXY})  # as audit._COUNTING
_POST_NUMBER = re.compile(r"#?\s*(\d+)")
_ALL, _ALL_MENTIONS = frozenset({"all"}), frozenset({"all", "mentions"})

# A post's Reading in brief: kind, why it was read as excluded ("" if not), the
# prompts it holds back (None: the whole post), whether it mentions the vote.
type Brief = tuple[str, str, list[int | None], bool]
# The latest tally's `flagged` and `excluded` rows (quest-tally/1).
type Holds = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Listing:
    counts: dict[str, int]  # posts per tab, in the whole window, whatever the filter
    page: Page  # of post pks, in thread order
    query: str  # the filter as given (a voter's name or a post number), stripped
    holds: Holds  # the latest tally's, which building the page's posts needs again


def listing(
    vote: Vote, decisions: Sequence[Decision], *, show: str, query: str = "", page: Any = 1
) -> Listing:
    """The tab's posts matching `query`, page `page` of them, and every tab's count.

    Five queries whatever the window's size: its bounds, the latest tally's
    holds, the posts it holds back or a moderator ruled on (`tab_conditions`;
    none when there are none), every tab's count with the filtered tab's, and
    the page. `decisions` (newest first, as `audit.decisions_for` gives them)
    come from the caller.
    """
    query = query.strip()
    window = _window(vote)
    if window is None:
        empty = Paginator[int]([], PER_PAGE).get_page(page)
        return Listing(dict.fromkeys(SHOW, 0), empty, query, ([], []))
    holds = latest_holds(vote)
    tabs = tab_conditions(window, decisions, holds)
    chosen = tabs[show] & _matching(vote, query)
    counts = window.aggregate(
        **{tab: _count(condition) for tab, condition in tabs.items()}, chosen=_count(chosen)
    )
    rows = _Counted(
        window.filter(chosen).order_by("seq").values_list("pk", flat=True), counts.pop("chosen")
    )
    return Listing(counts, Paginator(rows, PER_PAGE).get_page(page), query, holds)


def _window(vote: Vote) -> QuerySet[Post] | None:
    """The vote's posts, each with its Reading for the vote as `r` (none if not read yet)."""
    bounds = selectors.window_bounds(vote)
    if bounds is None:
        return None
    return (
        Post.objects.filter(quest_id=vote.chapter.quest_id)
        .between(after_seq=bounds[0], before_seq=bounds[1])
        .annotate(r=FilteredRelation("readings", condition=Q(readings__vote=vote)))
    )


def tab_conditions(
    window: QuerySet[Post], decisions: Sequence[Decision], holds: Holds
) -> dict[str, Q]:
    """Which posts of `window` each tab lists, as conditions on a post and its Reading's columns.

    1. A post that the latest tally holds back nothing of and no moderator
       ruled on is listed by its Reading alone (`tabs_of` with no holds and no
       decisions): held back if it holds something back, excluded if read so
       or left out by the latest tally (a superseded ballot), a mention if it
       is chatter naming the vote. Nearly every post is one of these.
    2. The others, a few, are loaded (one query) and decided one by one by
       `tabs_of`, then named by pk.
    """
    flagged, excluded = holds
    held: dict[int, list[int | None]] = {}
    for h in flagged:
        held.setdefault(h["post"], []).append(h.get("prompt"))
    dropped = {e["post"]: e["reason"] for e in excluded}
    by_post: dict[int, list[Decision]] = {}
    for d in decisions:
        by_post.setdefault(d.post_id, []).append(d)
    ruled = window.filter(Q(pk__in=list(by_post)) | Q(ref__in=list(held))).values_list(
        "pk", "ref", "r__kind", "r__excluded", "r__held_prompts", "r__mentions"
    )  # type: ignore[misc]  # `r`, the FilteredRelation, is unknown to django-stubs
    special = {
        pk: tabs_of(
            (kind, read_excluded, prompts, mentions) if kind is not None else None,
            held.get(ref, []),
            dropped.get(ref),
            by_post.get(pk, []),
        )
        for pk, ref, kind, read_excluded, prompts, mentions in ruled
    }

    def listed(tab: str, alone: Q) -> Q:
        return (alone & ~Q(pk__in=list(special))) | Q(
            pk__in=[pk for pk, tabs in special.items() if tab in tabs]
        )

    return {
        "held": listed("held", Q(r__held=True)),
        "all": Q(),
        "excluded": listed("excluded", Q(r__excluded__gt="") | _ref_among(list(dropped))),
        "mentions": listed("mentions", Q(r__kind=PostKind.NOT_BALLOT, r__mentions=True)),
        "decided": Q(pk__in=[pk for pk, tabs in special.items() if "decided" in tabs]),
    }


def _ref_among(refs: list[int]) -> Q:
    """`ref IN refs` as one parameter: Django takes longer to build and hash an IN
    of the thousands of posts a tally leaves out (superseded ballots) than the
    database takes to run the query."""
    if connection.vendor == "postgresql":
        # An array literal: psycopg adapting a list item by item costs as much again.
        listed = ",".join(map(str, refs))
        sql, param = '"quest_post"."ref" = ANY(%s::bigint[])', f"{{{listed}}}"
    else:
        sql, param = '"quest_post"."ref" IN (SELECT value FROM json_each(%s))', json.dumps(refs)
    return Q(RawSQL(sql, (param,), output_field=BooleanField()))


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition) if condition else Count("pk")


def _matching(vote: Vote, query: str) -> Q:
    """A post number ("1234", "#1234") matches that post; anything else a voter's name in part."""
    if not query:
        return Q()
    number = _POST_NUMBER.fullmatch(query)
    if number:
        return Q(ref=int(number.group(1)))
    # The name the tally gives the voter (votes/names.py): a claimed forum name, else the username.
    names = voter_names(vote.chapter.quest)
    folded = query.casefold()
    claimed = [pk for pk, name in names.items() if folded in name.casefold()]
    return Q(author_id__in=claimed) | (
        Q(author__username__icontains=query) & ~Q(author_id__in=list(names))
    )


class _Counted(Sequence[int]):
    """A query's rows, their number known already (counted with the tabs): Paginator asks none."""

    def __init__(self, rows: QuerySet[Any, int], count: int) -> None:
        self._rows, self._count = rows, count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        return self._rows[index] if isinstance(index, int) else list(self._rows[index])


def latest_holds(vote: Vote) -> Holds:
    """The latest tally's `flagged` and `excluded` rows, without loading its voters and inputs."""
    # The latest run chosen first, by its pk: ordering the rows with the two keys
    # in the select list would pull them out of every stored run's document.
    latest_pk = TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").values("pk")[:1]
    latest = (
        TallyRun.objects.filter(pk=Subquery(latest_pk))
        .values_list(KeyTransform("flagged", "data"), KeyTransform("excluded", "data"))
        .first()
    )
    flagged, excluded = latest or ([], [])
    return flagged or [], excluded or []


def tabs_of(
    brief: Brief | None,
    holds: list[int | None],
    tally_excluded: str | None,
    decisions: list[Decision],
) -> frozenset[str]:
    """The tabs listing a post, from its Reading in brief (None: not read yet), as PostAudit says.

    `holds` are the prompts the tally holds it back on, `decisions` the
    decisions on it, newest first (undone ones and undos included).
    """
    kind, read_excluded, flagged, mentions = brief or ("", "", [], False)
    if not (decisions or holds or flagged or tally_excluded or read_excluded):
        # Most posts: nothing held, excluded or ruled on; listed under "all" and maybe "mentions".
        return _ALL_MENTIONS if kind == PostKind.NOT_BALLOT and mentions else _ALL
    latest = _in_force(decisions) if decisions else {}
    whole = latest.get(None)
    settles_all = whole if whole is not None and whole.action != Decision.Action.ACCEPT else None
    # Held back by the reader, or by the tally alone (proxy loops, joins to nobody).
    waiting = [p for p in flagged] + [p for p in holds if p not in set(flagged)]
    tabs = {"all"}
    if any((latest.get(p) or settles_all) is None for p in waiting):
        tabs.add("held")
    overruled = any(d.action in _COUNTING for d in latest.values())
    if (None if overruled else read_excluded) or tally_excluded:
        tabs.add("excluded")
    if brief is not None and kind == PostKind.NOT_BALLOT and mentions:
        tabs.add("mentions")
    if latest:
        tabs.add("decided")
    return frozenset(tabs)


def _in_force(decisions: list[Decision]) -> dict[int | None, Decision]:
    """The rulings in force on a post, by prompt, from its decisions (newest first)."""
    undone = {d.reverts_id for d in decisions if d.reverts_id is not None}
    standing = [d for d in decisions if d.action != Decision.Action.UNDO and d.pk not in undone]
    return in_force(reversed(standing))
