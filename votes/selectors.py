"""Reads for the votes app: the pure reader's inputs, reading a post, stored tallies and results."""

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, JSONField, Min, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.urls import reverse

from chapters.kinds import PassRule
from chapters.models import Chapter, Prompt, Vote, VoteEvent
from quest.models import Post, PostRevision, Quest
from votes.line_words import answer_lines
from votes.merging import Merge
from votes.models import Ballot, Decision, EntryMerge, Outcome, RecountState, TallyRun
from votes.models import Reading as ReadingRow
from votes.movement import MAX_POINTS, Figure, figures, thin
from votes.names import name_of, voter_name, voter_names
from votes.reading import line_suggestions, read_post
from votes.reading.types import (
    RULES_VERSION,
    Answer,
    DecisionAction,
    Method,
    OptionSpec,
    Partition,
    PostIn,
    PostKind,
    PromptKind,
    PromptSpec,
    Proxies,
    Reading,
    Revision,
    VoteSpec,
)
from votes.reading.types import Decision as DecisionIn
from votes.tally import (
    Call,
    PassRuleTally,
    PromptResult,
    Tally,
    decided_tally,
    results_bbcode,
    to_bbcode,
)
from votes.tally import results as tally_results

_POST_FIELDS = ("pk", "seq", "ref", "author__username", "body", "posted_at", "edited_at")


def vote_spec(vote: Vote) -> VoteSpec:
    prompts = tuple(
        PromptSpec(
            number=p.number,
            kind=PromptKind(p.kind),
            text=p.text,
            options=tuple(OptionSpec(o.letter, o.text) for o in p.options.all()),
            partition=Partition(p.partition),
            proxies=Proxies(p.proxies),
            method=Method(p.method),
        )
        for p in _prompts_with_options(vote)
    )
    quest = vote.chapter.quest
    return VoteSpec(
        prompts=prompts,
        quest_master=voter_name(quest, quest.quest_master),
        post_id=vote.post.ref if vote.post is not None else None,
        opens_at=vote.opens_at,
        closes_at=vote.closes_at,
    )


def _prompts_with_options(vote: Vote) -> Iterable[Prompt]:
    # The votes pages load them with the vote (`views.access.vote_for_reader`):
    # a request that builds the spec more than once queries them once.
    if "prompts" in getattr(vote, "_prefetched_objects_cache", {}):
        return vote.prompts.all()
    return vote.prompts.prefetch_related("options")


def pass_rules(vote: Vote) -> dict[int, PassRuleTally]:
    """Prompt number -> pass rule of the vote's "choose any" prompts (quest-tally/1 `pass_rule`)."""
    rules: dict[int, PassRuleTally] = {}
    for p in vote.prompts.all():
        if p.kind != PromptKind.MULTI:
            continue
        rule: PassRuleTally = {"kind": p.pass_rule}
        if p.pass_rule != PassRule.TOP and p.pass_at_least is not None:
            at_least = p.pass_at_least
            rule["at_least"] = int(at_least) if p.pass_rule == PassRule.VOTES else float(at_least)
        rules[p.number] = rule
    return rules


def window_bounds(vote: Vote) -> tuple[int, int | None] | None:
    """(after_seq, before_seq) of the posts a vote reads; None before it is posted.

    The window runs from the vote's post to the next chapter's post.
    """
    if vote.post is None:
        return None
    start = vote.post.seq
    nxt = (
        Chapter.objects.filter(quest_id=vote.chapter.quest_id, post__seq__gt=start)
        .aggregate(seq=Min("post__seq"))
        .get("seq")
    )
    return start, nxt


def vote_for_post(post: Post) -> Vote | None:
    """The vote whose window holds this post, if any."""
    vote_post = (
        Post.objects.filter(quest_id=post.quest_id, seq__lt=post.seq, vote__isnull=False)
        .order_by("-seq")
        # What reading against the vote needs (its window, its spec's quest master) comes along.
        .select_related("vote__chapter__quest__quest_master")
        .first()
    )
    if vote_post is None:
        return None
    vote = vote_post.vote
    bounds = window_bounds(vote)
    if bounds is None or (bounds[1] is not None and post.seq >= bounds[1]):
        return None
    return vote


def reply_vote(quest: Quest) -> Vote | None:
    """The vote a post written now is read against: the latest published chapter's, if open."""
    latest = Chapter.objects.filter(quest=quest, status=Chapter.Status.PUBLISHED).order_by(
        "-number"
    )
    return (
        Vote.objects.open()
        .filter(chapter=Subquery(latest.values("pk")[:1]))
        .exclude(post=None)
        .select_related("chapter")
        .first()
    )


def post_readings(posts: list[Post]) -> dict[int, dict]:
    """post pk -> its stored Reading's JSON, for a page of posts in one query (newest wins)."""
    if not posts:
        return {}
    rows = ReadingRow.objects.filter(post__in=[p.pk for p in posts]).order_by("read_at", "pk")
    return dict(rows.values_list("post_id", "data"))


def window_index(
    vote: Vote, *, bounds: tuple[int, int | None] | None = None
) -> list[tuple[int, int, int]]:
    """(pk, ref, version) of the window's posts in thread order: enough to find stale readings.

    `bounds`: the vote's `window_bounds`, when the caller has them.
    """
    bounds = bounds or window_bounds(vote)
    if bounds is None:
        return []
    return list(
        Post.objects.filter(quest_id=vote.chapter.quest_id)
        .between(after_seq=bounds[0], before_seq=bounds[1])
        .order_by("seq")
        .values_list("pk", "ref", "version")
    )


def window_shape(vote: Vote, *, bounds: tuple[int, int | None] | None) -> tuple[int, int, int]:
    """(posts, sum of versions, sum of ids) of the window: moved by any post added,
    removed or edited, and counted in the index without loading a row (`window_index`
    gives the same from the rows it loads)."""
    if bounds is None:
        return (0, 0, 0)
    shape = (
        Post.objects.filter(quest_id=vote.chapter.quest_id)
        .between(after_seq=bounds[0], before_seq=bounds[1])
        .aggregate(posts=Count("pk"), versions=Sum("version"), ids=Sum("pk"))
    )
    return (shape["posts"], shape["versions"] or 0, shape["ids"] or 0)


def context_posts(vote: Vote, *, upto_seq: int | None = None) -> list[Post]:
    """The thread from the previous chapter up to (not including) `upto_seq`.

    The reader needs the posts before a post for quotes, endorsements and
    proxy names; discussion rarely reaches further back than one chapter.
    """
    bounds = window_bounds(vote)
    if bounds is None:
        return []
    quest_id = vote.chapter.quest_id
    qs = Post.objects.filter(quest_id=quest_id, seq__gte=context_start(vote, window=bounds))
    if upto_seq is not None:
        qs = qs.filter(seq__lt=upto_seq)
    elif bounds[1] is not None:
        qs = qs.filter(seq__lt=bounds[1])
    return list(qs.select_related("author").prefetch_related("revisions").order_by("seq"))


def context_start(vote: Vote, *, window: tuple[int, int | None]) -> int:
    """The seq the posts a vote's posts are read with start at: the previous chapter's post."""
    prev_chapter_seq = (
        Chapter.objects.filter(quest_id=vote.chapter.quest_id, post__seq__lt=window[0])
        .order_by("-post__seq")
        .values_list("post__seq", flat=True)
        .first()
    )
    return prev_chapter_seq or 0


def reading_context(vote: Vote, *, before_seq: int | None = None) -> list[PostIn]:
    """The posts a post is read with: the thread before `before_seq` (None: the window so far)."""
    bounds = window_bounds(vote)
    if bounds is None:
        return []
    end = before_seq if before_seq is not None else bounds[1]
    rows = thread_posts_in(
        quest_id=vote.chapter.quest_id,
        after_seq=context_start(vote, window=bounds) - 1,
        upto_seq=end - 1 if end is not None else None,
        names=voter_names(vote.chapter.quest),
    )
    return [row.post for row in rows]


class ThreadPost(NamedTuple):
    seq: int
    post: PostIn
    deleted: bool  # on the forum: read like any post, its reading replaced (deleted_reading)


# What `post_in` reads of a post, and whether it is deleted; pk and seq first.
_THREAD_POST_FIELDS = (
    "pk",
    "seq",
    "ref",
    "author__username",
    "author_id",
    "body",
    "posted_at",
    "edited_at",
    "imported",
    "version",
    "deleted",
)


def thread_posts_in(
    *,
    quest_id: int,
    after_seq: int,
    upto_seq: int | None,
    names: Mapping[int, str] | None = None,
) -> list[ThreadPost]:
    """The thread's posts after `after_seq` up to `upto_seq` (None: the end), as `post_in` has them.

    Rows, not Post instances: building 10,000 Posts and prefetching their
    revisions one by one was most of the time of loading a long window.
    Authors are voter names (votes/names.py): `names` as `voter_names` gave
    them for the quest, loaded here when not given.
    """
    if names is None:
        names = voter_names(Quest.objects.only("forum", "source_url").get(pk=quest_id))
    posts = Post.objects.filter(quest_id=quest_id, seq__gt=after_seq)
    if upto_seq is not None:
        posts = posts.filter(seq__lte=upto_seq)
    rows = list(posts.order_by("seq").values_list(*_THREAD_POST_FIELDS))
    # Only an edited post made in the app has revisions the reader looks at.
    edited = [pk for pk, *_, imported, version, _ in rows if not imported and version > 1]
    revisions = _revisions_of(edited)
    return [
        ThreadPost(
            seq=seq,
            post=PostIn(
                id=ref,
                author=names.get(author_id, author),
                posted_at=posted_at,
                body=body,
                edited_at=edited_at,
                revisions=revisions_in(revisions.get(pk, [])),
            ),
            deleted=deleted,
        )
        for pk, seq, ref, author, author_id, body, posted_at, edited_at, _, _, deleted in rows
    ]


def _revisions_of(post_pks: list[int]) -> dict[int, list[tuple[str, datetime]]]:
    """Post pk -> its revisions' (body, created_at) in version order, 1,000 posts a query."""
    out: dict[int, list[tuple[str, datetime]]] = {}
    for start in range(0, len(post_pks), 1000):
        rows = (
            PostRevision.objects.filter(post_id__in=post_pks[start : start + 1000])
            .order_by("post_id", "version")
            .values_list("post_id", "body", "created_at")
        )
        for post_id, body, created_at in rows:
            out.setdefault(post_id, []).append((body, created_at))
    return out


def reading_of(
    *, vote: Vote, post: PostIn, earlier: Sequence[PostIn], deleted: bool = False
) -> Reading:
    """How `post` reads against `vote`, standing in the thread right after `earlier`.

    How the previews under the reply and edit boxes read a post, with
    `earlier` from `reading_context`. The worker storing its Reading
    (`services.post_reading_refresh`) and the recount read through the vote's
    thread kept in memory (votes/contexts.py), which reads each post as this
    does, so a preview shows what will be stored (tests/test_preview_matches_stored.py).
    A post `deleted` on the forum reads as `deleted_reading` says.
    """
    reading = read_post(post, vote_spec(vote), earlier)
    return deleted_reading(reading) if deleted else reading


# A post that disappeared from the forum stays in the thread, and in the tally's
# `excluded` list with this reason, so that the audit says why it is not counted.
DELETED_ON_FORUM = "deleted on the forum"


def deleted_reading(reading: Reading) -> Reading:
    """A post deleted on the forum counts for nothing, whatever it says.

    The pure reader knows no deletions: it reads the post like any other (so
    a post quoting it still finds it), and this replaces what it read. A
    moderator may still count something from it, as from any excluded post.
    """
    return Reading(
        post_id=reading.post_id,
        author=reading.author,
        kind=PostKind.NOT_BALLOT,
        excluded=DELETED_ON_FORUM,
    )


def deleted_at(vote: Vote, named: Sequence[tuple[int, int]]) -> set[int]:
    """The refs of the (ref, version) pairs whose version was a deleted post's."""
    wanted = set(named)
    rows = PostRevision.objects.filter(
        post__quest_id=vote.chapter.quest_id,
        post__ref__in={ref for ref, _ in named},
        deleted=True,
    ).values_list("post__ref", "version")
    return {ref for ref, version in rows if (ref, version) in wanted}


def post_in(post: Post, *, names: Mapping[int, str] | None = None) -> PostIn:
    """A post as the reader sees it; revisions only where the app stored them.

    Its author is their voter name: from `names` (`voter_names` of the quest)
    when given, else looked up (no query in a quest from no forum).
    """
    revisions: tuple[Revision, ...] = ()
    if not post.imported and post.version > 1:
        revs = sorted(post.revisions.all(), key=lambda r: r.version)
        revisions = revisions_in([(r.body, r.created_at) for r in revs])
    return PostIn(
        id=post.ref,
        author=name_of(names, post.author) if names is not None else post_voter(post),
        posted_at=post.posted_at,
        body=post.body,
        edited_at=post.edited_at,
        revisions=revisions,
    )


def post_voter(post: Post) -> str:
    """The voter name of `post`'s author in its quest."""
    return voter_name(post.quest, post.author)


def revisions_in(revisions: Sequence[tuple[str, datetime]]) -> tuple[Revision, ...]:
    """A post's stored revisions, (body, created_at) in version order, as the reader takes them."""
    # The reader's revisions[i].at is when revisions[i] was replaced by the next one.
    return tuple(
        Revision(body=body, at=nxt_at)
        for (body, _), (_, nxt_at) in zip(revisions, revisions[1:], strict=False)
    )


def decision_in(d: Decision) -> DecisionIn:
    """A stored Decision as the fold takes it (its post loaded: the fold names posts by ref)."""
    return DecisionIn(
        post_id=d.post.ref,
        prompt=d.prompt,
        action=DecisionAction(d.action),
        answer=Answer.from_json(d.answer) if d.answer else None,
        proxy_of=d.proxy_of or None,
    )


# --- Stored tallies -------------------------------------------------------------


def latest_tally(vote: Vote) -> TallyRun | None:
    return TallyRun.objects.filter(vote=vote).order_by("-created_at", "-pk").first()


def latest_held(vote: Vote) -> dict[str, Any]:
    """The latest run's `flagged` and `excluded` parts ({} before any run): what a recount
    compares its own with, without loading every voter of the run."""
    row = (
        TallyRun.objects.filter(vote=vote)
        .order_by("-created_at", "-pk")
        .values_list("data__flagged", "data__excluded")
        .first()
    )
    return {"flagged": row[0], "excluded": row[1]} if row is not None else {}


def final_tally(vote: Vote) -> TallyRun | None:
    return TallyRun.objects.filter(vote=vote, is_final=True).first()


def recount_state(vote: Vote) -> RecountState | None:
    """The vote's RecountState, None before its first recount request.

    The votes pages load it with the vote (`views.access.vote_for_reader`), so
    this costs no query there.
    """
    try:
        return vote.recount_state
    except RecountState.DoesNotExist:
        return None


def tally_is_behind(vote: Vote, run: TallyRun | None) -> bool:
    """Whether the stored tally `run` may miss something: there is none, or a recount is wanted."""
    if run is None:
        return True
    state = recount_state(vote)
    return state is not None and state.is_behind


def tally_title(vote: Vote) -> str:
    chapter = vote.chapter
    return f"{chapter.quest.title}: {chapter.title} - vote tally"


def answer_posts(
    vote: Vote, *, voters: Collection[str] | None = None
) -> dict[tuple[str, int], int]:
    """(voter, prompt number) -> ref of the post that gave the counted answer.

    Of every voter, or of `voters` only: a page naming a few of a thousand
    voters loads their ballots alone (the current-ballot index has the name).
    """
    links: dict[tuple[str, int], int] = {}
    ballots = Ballot.objects.filter(vote=vote, is_current=True)
    if voters is not None:
        ballots = ballots.filter(voter__in=list(voters))
    for voter, answers in ballots.values_list("voter", "answers"):
        for number, answer in answers.items():
            if answer.get("post") is not None:
                links[(voter, int(number))] = answer["post"]
    return links


def tally_bbcode(vote: Vote, *, base_url: str, run: TallyRun | None = None) -> str:
    """A stored tally (the latest by default) as forum BBCode, voters linked to their posts."""
    stored = run or latest_tally(vote)
    if stored is None:
        raise ValueError(f"{vote} has no stored tally yet")
    slug = vote.chapter.quest.slug
    links = {
        key: base_url.rstrip("/") + reverse("post-permalink", args=[slug, ref])
        for key, ref in answer_posts(vote).items()
    }
    return to_bbcode(
        stored.data,
        title=tally_title(vote),
        links=links,
        calls=calls(vote) if stored.data.get("status") == Vote.Status.CLOSED else {},
        as_of=tally_as_of(vote, stored),
    )


def has_ballot(vote: Vote, user) -> bool:
    return (
        user.is_authenticated
        and Ballot.objects.filter(
            vote=vote, voter=voter_name(vote.chapter.quest, user), is_current=True
        ).exists()
    )


# What a post read as when it is no ballot: posts of other kinds count or change one.
_NOT_BALLOTS = (PostKind.NOT_BALLOT, PostKind.QUEST_MASTER, PostKind.TALLY)


def may_have_ballot(*, vote: Vote, user) -> bool:
    """Whether `user` may have a ballot in `vote` already: a post of theirs in its window
    read as one, or not read yet (or read from an older text or prompts), so maybe one.

    One indexed query over the user's own posts and their stored Readings: it
    never reads the window, so it costs the same in a thread of any length.
    Written in SQL with the window's end (the next chapter's post) as a
    subquery, as _waiting is: built with the ORM it cost a ballot POST two
    queries, then one costing more CPU than the rest of the check.
    """
    if vote.post is None:
        return False
    posts, chapters = Post._meta.db_table, Chapter._meta.db_table
    readings = ReadingRow._meta.db_table
    sql = f"""
        SELECT EXISTS (
          SELECT 1 FROM {posts} p
          WHERE p.quest_id = %(quest)s AND p.author_id = %(user)s AND p.seq > %(start)s
            AND p.seq < COALESCE((
              SELECT MIN(cp.seq) FROM {chapters} c JOIN {posts} cp ON cp.id = c.post_id
              WHERE c.quest_id = %(quest)s AND cp.seq > %(start)s
            ), 2147483647)
            AND NOT EXISTS (
              SELECT 1 FROM {readings} r
              WHERE r.vote_id = %(vote)s AND r.post_id = p.id AND r.post_version = p.version
                AND r.spec_version = %(spec)s AND r.rules_version = %(rules)s
                AND r.kind IN (%(not_ballot)s, %(quest_master)s, %(tally)s)
            )
        )
    """
    params = {
        "quest": vote.chapter.quest_id,
        "user": user.pk,
        "start": vote.post.seq,
        "vote": vote.pk,
        "spec": vote.spec_version,
        "rules": RULES_VERSION,
        **{kind.name.lower(): kind.value for kind in _NOT_BALLOTS},
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (found,) = cursor.fetchone()
    return bool(found)


# --- Results: what the closed vote decided ---------------------------------------


def calls(vote: Vote) -> dict[int, Call]:
    """Prompt number -> the quest master's call on it: a tie's pick, adopted write-ins.

    The reason is the one given with the latest pick (the vote's record keeps every one).
    """
    picks = (VoteEvent.Kind.OUTCOME_PICKED, VoteEvent.Kind.OUTCOME_CHANGED)
    reasons = {
        data.get("prompt"): reason
        for data, reason in VoteEvent.objects.filter(vote=vote, kind__in=picks)
        .order_by("at", "pk")
        .values_list("data", "reason")
    }
    return {
        o.prompt: Call(
            letters=tuple(o.letters),
            write_ins=tuple(o.write_ins),
            by=o.by.get_username(),
            reason=reasons.get(o.prompt, "") if o.letters else "",
        )
        for o in Outcome.objects.filter(vote=vote).select_related("by")
    }


def calls_digest(vote: Vote) -> str:
    """A digest of the quest master's calls on the vote: it changes whenever one is made."""
    rows = Outcome.objects.filter(vote=vote).order_by("prompt")
    made = [
        [p, letters, write_ins, str(at)]
        for p, letters, write_ins, at in rows.values_list("prompt", "letters", "write_ins", "at")
    ]
    return hashlib.sha256(json.dumps(made).encode()).hexdigest()[:16]


def results(vote: Vote) -> list[PromptResult]:
    """Per prompt of the final tally: what was decided and how (votes.tally.results)."""
    run = final_tally(vote)
    if run is None:
        return []
    return tally_results(run.data, calls(vote))


def suggestions(vote: Vote, spec: VoteSpec) -> dict[int, list[str]]:
    """The quest master's `[ ]` lines in the vote's post, per `lines` prompt: the tally
    lists them as suggestions, never counted (docs/xballots.md)."""
    if vote.post is None or not any(p.kind is PromptKind.LINES for p in spec.prompts):
        return {}
    return line_suggestions(vote.post.body, spec)


def standing_merges(vote: Vote) -> list[EntryMerge]:
    """The moderators' merges of write-in entries every recount applies, oldest first."""
    return list(EntryMerge.objects.filter(vote=vote).standing())


def merges_in(rows: Sequence[EntryMerge]) -> dict[int, list[Merge]]:
    """Stored merges as the pure tally takes them: prompt number -> merges, in the given order."""
    out: dict[int, list[Merge]] = {}
    for row in rows:
        out.setdefault(row.prompt, []).append(Merge(merged=row.merged, kept=row.kept))
    return out


def merges_digest(vote: Vote) -> str:
    """A digest of the vote's merges: it changes whenever one is made or undone."""
    made = [
        [pk, str(undone_at)]
        for pk, undone_at in EntryMerge.objects.filter(vote=vote)
        .order_by("pk")
        .values_list("pk", "undone_at")
    ]
    return hashlib.sha256(json.dumps(made).encode()).hexdigest()[:16]


def tally_document(vote: Vote, run: TallyRun) -> Tally:
    """A stored tally as served: a closed vote's with the quest master's calls applied."""
    if run.data.get("status") != Vote.Status.CLOSED:
        return run.data
    return decided_tally(run.data, calls(vote))


def tally_as_of(vote: Vote, run: TallyRun) -> int | None:
    """The ref of the last post a stored tally counts up to: "tally as of post #N".

    The last post of the window it read; for a closed vote, the last one
    posted before it closed (later posts are read only to be excluded).
    """
    refs = [int(ref) for ref, _ in run.inputs.get("posts", [])]
    if not refs:
        return None
    if run.data.get("status") != Vote.Status.CLOSED or vote.closes_at is None:
        return refs[-1]
    return (
        Post.objects.filter(
            quest_id=vote.chapter.quest_id, ref__in=refs, posted_at__lte=vote.closes_at
        )
        .order_by("-seq")
        .values_list("ref", flat=True)
        .first()
    )


def results_block(vote: Vote) -> str:
    """The results as BBCode for the top of the next chapter."""
    return results_bbcode(results(vote), title=vote.chapter.title)


# --- How the vote moved ------------------------------------------------------------


def tally_movement(vote: Vote, *, limit: int = MAX_POINTS) -> list[Figure]:
    """Each prompt's counts over the vote's time, from its stored tally runs.

    Bounded: the runs' times are loaded, at most `limit` runs spread over time
    are kept (votes.movement.thin), and only those are loaded whole. The time
    axis runs from the vote's opening (or its first run) to its closing (or
    its latest run).
    """
    stamps = list(
        TallyRun.objects.filter(vote=vote)
        .order_by("created_at", "pk")
        .values_list("pk", "created_at")
    )
    if not stamps:
        return []
    kept = [stamps[i][0] for i in thin([at for _, at in stamps], limit)]
    runs = list(
        TallyRun.objects.filter(pk__in=kept)
        .order_by("created_at", "pk")
        .values_list("created_at", _counts_only())
    )
    start, end = runs[0][0], runs[-1][0]
    if vote.opens_at is not None:
        start = min(start, vote.opens_at)
    if vote.is_closed and vote.closed_at is not None:
        end = max(end, vote.closed_at)
    return figures(runs, start=start, end=end)


def _counts_only() -> RawSQL | str:
    """What the chart reads of a stored run: each prompt's counts, without the voters' names.

    A run of a 1,000-voter vote is mostly names, and the chart loads a hundred
    runs: PostgreSQL cuts them out (in order, `passed` and other nulls dropped);
    elsewhere (SQLite, the embedded default) the run is loaded whole.
    """
    if connection.vendor != "postgresql":
        return "data"
    return RawSQL(
        """jsonb_build_object('prompts', (
            SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                'number', p -> 'number',
                'text', p -> 'text',
                'options', (SELECT jsonb_agg(o - 'voters' ORDER BY i)
                            FROM jsonb_array_elements(p -> 'options') WITH ORDINALITY AS os(o, i)),
                'entries', (SELECT jsonb_agg(e - 'voters' ORDER BY i)
                            FROM jsonb_array_elements(p -> 'entries') WITH ORDINALITY AS es(e, i))
            )) ORDER BY n), '[]'::jsonb)
            FROM jsonb_array_elements("votes_tallyrun"."data" -> 'prompts')
                WITH ORDINALITY AS ps(p, n)))""",
        (),
        output_field=JSONField(),
    )


# --- A player's own ballot ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PanelPrompt:
    """One prompt of the "Your ballot" panel: what is counted for the player, and what waits."""

    number: int
    text: str
    # {"options": [{"letter", "text"}], "ranked", "text", "joins", "lines": [entries]}
    counted: dict[str, Any] | None
    post: int | None  # the ref of the post it is counted from
    # Whose ballot it comes from, when through a proxy ({"voter": name}) or an
    # endorsement ({"post": ref}); None when the player wrote it.
    follows: dict[str, Any] | None = None
    held: list[dict[str, Any]] = field(default_factory=list)  # [{"post": ref, "reason": ...}]


@dataclass(frozen=True, slots=True)
class BallotPanel:
    prompts: list[PanelPrompt]
    held: list[dict[str, Any]]  # whole posts held for a moderator: [{"post": ref, "reason": ...}]
    not_counted: list[dict[str, Any]]  # the player's posts left out of the tally, and why
    # Refs of the player's posts in the window not read yet: the tally may not count them.
    waiting: tuple[int, ...] = ()

    @property
    def recounting(self) -> bool:
        """A post of the player's is not in the tally yet: what is shown may change."""
        return bool(self.waiting)

    @property
    def counts_anything(self) -> bool:
        return any(p.counted for p in self.prompts)

    @property
    def following(self) -> list[str]:
        """The voters whose ballots the player's follows (by a proxy), in prompt order."""
        names = [p.follows["voter"] for p in self.prompts if p.follows and "voter" in p.follows]
        return list(dict.fromkeys(names))


def ballot_version(*, vote: Vote, user: Any) -> str:
    """What changes whenever the player's panel does, beside the tally run (the poll's ETag)."""
    if not user.is_authenticated:
        return ""
    rows = Ballot.objects.filter(
        vote=vote, voter=voter_name(vote.chapter.quest, user), is_current=True
    )
    return f"{user.pk}:{rows.values_list('pk', flat=True).first()}"


def ballot_panel(*, vote: Vote, user: Any) -> BallotPanel | None:
    """What the tally counts for `user` on `vote`, per prompt, and what it holds back and why.

    From the stored rows the tally was made from: the player's current Ballot
    (what is counted, and from which post), the latest tally run (what is held
    for a moderator, what is left out), the Readings and proxy rulings of the
    posts counted (whether a prompt follows someone else's ballot), the
    player's posts in the window not read yet (what may be missing from it),
    and the prompts (none when loaded with the vote). Five queries whatever
    the number of prompts, voters or posts. None for someone who cannot vote here.
    """
    if not user.is_authenticated or user.pk == vote.chapter.quest.quest_master_id:
        return None
    name = voter_name(vote.chapter.quest, user)
    answers: Mapping[str, Any] = (
        Ballot.objects.filter(vote=vote, voter=name, is_current=True)
        .values_list("answers", flat=True)
        .first()
        or {}
    )
    # Only the parts of the run the panel shows: the whole run of a 1,000-voter
    # vote lists every voter, and decoding it cost more than the rest of the panel.
    run = (
        TallyRun.objects.filter(vote=vote)
        .order_by("-created_at", "-pk")
        .values_list("data__flagged", "data__excluded")
        .first()
    )
    flagged, excluded = run if run is not None else ([], [])
    held = [f for f in flagged or [] if f["author"] == name]
    follows = _followed(vote, {a["post"] for a in answers.values() if a.get("post") is not None})
    prompts = []
    for spec in _prompt_specs(vote):
        answer = answers.get(str(spec.number))
        ref = answer.get("post") if answer else None
        prompts.append(
            PanelPrompt(
                number=spec.number,
                text=spec.text,
                counted=_answer_words(answer, spec) if answer else None,
                post=ref,
                follows=follows.get(ref) if ref is not None else None,
                held=[_held(f) for f in held if f["prompt"] == spec.number],
            )
        )
    return BallotPanel(
        prompts=prompts,
        held=[_held(f) for f in held if f["prompt"] is None],
        not_counted=[_held(e) for e in excluded or [] if e["author"] == name],
        waiting=_waiting(vote, user),
    )


def _waiting(vote: Vote, user: Any) -> tuple[int, ...]:
    """Refs of `user`'s posts in the vote's window not read at their current text yet: the
    recount reads them (or the worker just before it).

    One indexed query, the window's bounds as subqueries (from the vote's post
    to the next chapter's), in SQL: built with the ORM's subqueries it cost
    more CPU than the rest of the panel (~6 ms of a poll's ~20).
    """
    if vote.post_id is None:
        return ()  # not posted: no window
    posts, chapters = Post._meta.db_table, Chapter._meta.db_table
    readings = ReadingRow._meta.db_table
    sql = f"""
        SELECT p.ref FROM {posts} p
        WHERE p.quest_id = %(quest)s AND p.author_id = %(user)s
          AND p.seq > (SELECT seq FROM {posts} WHERE id = %(post)s)
          AND p.seq < COALESCE((
            SELECT MIN(cp.seq) FROM {chapters} c JOIN {posts} cp ON cp.id = c.post_id
            WHERE c.quest_id = %(quest)s
              AND cp.seq > (SELECT seq FROM {posts} WHERE id = %(post)s)
          ), 2147483647)
          AND NOT EXISTS (
            SELECT 1 FROM {readings} r
            WHERE r.vote_id = %(vote)s AND r.post_id = p.id AND r.post_version = p.version
          )
        ORDER BY p.seq
    """
    quest = vote.chapter.quest_id
    params = {"quest": quest, "user": user.pk, "post": vote.post_id, "vote": vote.pk}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(ref for (ref,) in cursor.fetchall())


def _prompt_specs(vote: Vote) -> list[PromptSpec]:
    """The vote's prompts, from those the page loaded with it when it did (no query then);
    else two queries, the prompts and all their options (not one a prompt)."""
    loaded = "prompts" in getattr(vote, "_prefetched_objects_cache", {})
    prompts = vote.prompts.all() if loaded else vote.prompts.prefetch_related("options")
    return [
        PromptSpec(
            number=p.number,
            kind=PromptKind(p.kind),
            text=p.text,
            options=tuple(OptionSpec(o.letter, o.text) for o in p.options.all()),
            partition=Partition(p.partition),
            proxies=Proxies(p.proxies),
            method=Method(p.method),
        )
        for p in prompts
    ]


def _held(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"post": entry["post"], "reason": entry["reason"]}


def _answer_words(answer: Mapping[str, Any], spec: PromptSpec) -> dict[str, Any]:
    """A stored answer as the panel words it: options with their text, a write-in as written,
    a `lines` prompt's entries (votes/line_words.py)."""
    options = []
    for letter in answer.get("letters") or []:
        option = spec.option(letter)
        options.append({"letter": letter, "text": option.text if option else ""})
    return {
        "options": options,
        "ranked": spec.kind is PromptKind.RANKED,
        "text": answer.get("text"),
        "joins": answer.get("joins"),
        "lines": answer_lines(answer),
    }


def _followed(vote: Vote, refs: set[int]) -> dict[int, dict[str, Any]]:
    """Post ref -> whose ballot it follows, for the posts among `refs` that follow one.

    A proxy post ("[X] alice") follows a voter, as does any post a moderator
    ruled a proxy; an endorsement copies the answers of the post it quotes.
    """
    if not refs:
        return {}
    out: dict[int, dict[str, Any]] = {}
    rows = ReadingRow.objects.filter(vote=vote, post__ref__in=refs).values_list(
        "post__ref", "kind", "data"
    )
    for ref, kind, data in rows:
        if kind == PostKind.PROXY and data.get("proxy_of"):
            out[ref] = {"voter": data["proxy_of"]}
        elif kind == PostKind.ENDORSEMENT and data.get("endorses") is not None:
            out[ref] = {"post": data["endorses"]}
    # A moderator's ruling on the whole post overrides how it was read: the latest is in force.
    rulings = (
        Decision.objects.filter(vote=vote, post__ref__in=refs, prompt=None)
        .order_by("at", "pk")
        .values_list("post__ref", "action", "proxy_of")
    )
    for ref, action, proxy_of in rulings:
        if action == Decision.Action.PROXY:
            out[ref] = {"voter": proxy_of}
        else:
            out.pop(ref, None)
    return out
