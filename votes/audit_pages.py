"""The audit a page at a time: which posts each tab lists, without building every post's view.

The audit page shows PER_PAGE posts of one tab, optionally only a voter's or
one post number. To know which posts, and how many each tab lists, it needs a
few facts per post of the window, never its text: its ref and author, what
its Reading says in brief (kind, why it is excluded, which prompts it holds
back, whether it mentions the vote), pulled out of the JSON by the database,
the latest tally's holds and exclusions, and the rulings in force on it.
Only the page's posts are then built in full (`audit.audit_posts(pks=...)`),
so a 10,000-post window costs a few narrow queries and PER_PAGE post views.

`tabs_of` decides a post's tabs the way `audit.PostAudit.in_tab` does
(tests/test_audit_pages.py checks the two agree on every kind of post).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models.fields.json import KT, KeyTransform

from chapters.models import Vote
from quest.models import Post
from votes import selectors
from votes.models import Decision, Reading, TallyRun
from votes.names import voter_names
from votes.reading.rulings import in_force
from votes.reading.types import PostKind

# A held-back post renders with its decision forms (about 4 ms each on this
# machine): 25 keep a page under the 300 ms aim at 10,000 posts (docs/benchmarks.md).
PER_PAGE = 25
SHOW = ("held", "all", "excluded", "mentions", "decided")
_COUNTING = frozenset({Decision.Action.SET, Decision.Action.PROXY})  # as audit._COUNTING
_POST_NUMBER = re.compile(r"#?\s*(\d+)")
_EMPTY = (None, "[]", "null")  # a list in a Reading's JSON, as text, with nothing in it
_ALL, _ALL_MENTIONS = frozenset({"all"}), frozenset({"all", "mentions"})


@dataclass(frozen=True, slots=True)
class PostFacts:
    pk: int
    ref: int
    author: str
    tabs: frozenset[str]


@dataclass(frozen=True, slots=True)
class Listing:
    counts: dict[str, int]  # posts per tab, in the whole window, whatever the filter
    page: Page  # of post pks, in thread order
    query: str  # the filter as given (a voter's name or a post number), stripped


def listing(
    vote: Vote, decisions: Sequence[Decision], *, show: str, query: str = "", page: Any = 1
) -> Listing:
    """The tab's posts matching `query`, page `page` of them, and every tab's count."""
    facts = post_facts(vote, decisions)
    counts = {tab: sum(1 for f in facts if tab in f.tabs) for tab in SHOW}
    query = query.strip()
    matches = _matcher(query)
    chosen = [f.pk for f in facts if show in f.tabs and matches(f)]
    return Listing(counts, Paginator(chosen, PER_PAGE).get_page(page), query)


def _matcher(query: str):
    """A post number ("1234", "#1234") matches that post; anything else a voter's name in part."""
    if not query:
        return lambda f: True
    number = _POST_NUMBER.fullmatch(query)
    if number:
        ref = int(number.group(1))
        return lambda f: f.ref == ref
    folded = query.casefold()
    return lambda f: folded in f.author.casefold()


def post_facts(vote: Vote, decisions: Sequence[Decision]) -> list[PostFacts]:
    """Every post of the vote's window, in thread order, with the audit tabs that list it.

    Four narrow queries whatever the window's size: the posts, their Readings'
    brief facts, the latest tally's holds and exclusions (and a quest from a
    forum's claimed names, votes/names.py); `decisions` (newest
    first, as `audit.decisions_for` gives them) come from the caller.
    """
    bounds = selectors.window_bounds(vote)
    if bounds is None:
        return []
    window = Post.objects.filter(quest_id=vote.chapter.quest_id).between(
        after_seq=bounds[0], before_seq=bounds[1]
    )
    posts = window.order_by("seq").values_list("pk", "ref", "author__username", "author_id")
    # Filtered by the name the tally gives the voter (votes/names.py).
    names = voter_names(vote.chapter.quest)
    # As text, not JSON: nearly every post holds nothing back and mentions nothing,
    # and parsing ten thousand empty lists would cost more than everything else.
    briefs = {
        post_id: (kind, excluded, json.loads(flags) if flags not in _EMPTY else [], mentions)
        for post_id, kind, excluded, flags, mentions in Reading.objects.filter(
            vote=vote, post__in=window.values("pk")
        ).values_list(
            "post_id",
            "kind",
            KT("data__excluded"),
            KT("data__flags"),
            KT("data__mentions"),
        )
    }
    held, dropped = _tally_facts(vote)
    by_post: dict[int, list[Decision]] = {}
    for d in decisions:
        by_post.setdefault(d.post_id, []).append(d)
    return [
        PostFacts(
            pk,
            ref,
            names.get(author_id, author),
            tabs_of(briefs.get(pk), held.get(ref, []), dropped.get(ref), by_post.get(pk, [])),
        )
        for pk, ref, author, author_id in posts
    ]


def latest_holds(vote: Vote) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The latest tally's `flagged` and `excluded` rows, without loading its voters and inputs."""
    latest = (
        TallyRun.objects.filter(vote=vote)
        .order_by("-created_at", "-pk")
        .values_list(KeyTransform("flagged", "data"), KeyTransform("excluded", "data"))
        .first()
    )
    flagged, excluded = latest or ([], [])
    return flagged or [], excluded or []


def _tally_facts(vote: Vote) -> tuple[dict[int, list[int | None]], dict[int, str]]:
    """From the latest tally: post ref -> prompts it holds back, post ref -> why it left it out."""
    flagged, excluded = latest_holds(vote)
    held: dict[int, list[int | None]] = {}
    for h in flagged:
        held.setdefault(h["post"], []).append(h.get("prompt"))
    return held, {e["post"]: e["reason"] for e in excluded}


def tabs_of(
    brief: tuple[str, str | None, list[Mapping[str, Any]], str | None] | None,
    holds: list[int | None],
    tally_excluded: str | None,
    decisions: list[Decision],
) -> frozenset[str]:
    """The tabs listing a post, from its Reading in brief (None: not read yet), as PostAudit says.

    `holds` are the prompts the tally holds it back on, `decisions` the
    decisions on it, newest first (undone ones and undos included).
    """
    kind, read_excluded, flags, mentions = brief or ("", None, [], None)
    if not (decisions or holds or flags or tally_excluded or read_excluded):
        # Most posts: nothing held, excluded or ruled on; listed under "all" and maybe "mentions".
        return _ALL_MENTIONS if kind == PostKind.NOT_BALLOT and mentions not in _EMPTY else _ALL
    latest = _in_force(decisions) if decisions else {}
    whole = latest.get(None)
    settles_all = whole if whole is not None and whole.action != Decision.Action.ACCEPT else None
    flagged = [f.get("prompt") for f in flags]
    # Held back by the reader, or by the tally alone (proxy loops, joins to nobody).
    waiting = [p for p in flagged] + [p for p in holds if p not in set(flagged)]
    tabs = {"all"}
    if any((latest.get(p) or settles_all) is None for p in waiting):
        tabs.add("held")
    overruled = any(d.action in _COUNTING for d in latest.values())
    if (None if overruled else read_excluded) or tally_excluded:
        tabs.add("excluded")
    if brief is not None and kind == PostKind.NOT_BALLOT and mentions not in _EMPTY:
        tabs.add("mentions")
    if latest:
        tabs.add("decided")
    return frozenset(tabs)


def _in_force(decisions: list[Decision]) -> dict[int | None, Decision]:
    """The rulings in force on a post, by prompt, from its decisions (newest first)."""
    undone = {d.reverts_id for d in decisions if d.reverts_id is not None}
    standing = [d for d in decisions if d.action != Decision.Action.UNDO and d.pk not in undone]
    return in_force(reversed(standing))
