"""The thread: indexes over its posts, the memo of Readings, endorsements copied.

`Thread.reading(i)` reads post i against the posts before it (see its steps):
the line walk (lines.py), prose (placing.py) and settling (settle.py) read the
post's own text; the thread adds what needs the other posts: the window, the
author's earlier ballots, the post an endorsement or agreement copies (endorse.py
finds it in the text), and the text a post had when the vote closed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import takewhile

from . import budget, endorse, memo, social, xlines
from .bbcode import Doc, Quote, scan
from .found import MAX_BODY, Draft
from .index import PostIndex
from .lines import read_lines
from .placing import read_prose
from .prompts import Prompts
from .settle import account_for_rest, settle
from .text import bare
from .types import Answer, Flag, PostIn, PostKind, PromptKind, Reading, VoteSpec, XLine
from .xplans import NO_PLANS, PlanBook, PlanDef, XRead, definitions, plan_key, read_xlines

log = logging.getLogger(__name__)

MAX_CHAIN = 8  # endorsements of endorsements followed at most this deep
COUNTED_KINDS = {
    PostKind.BALLOT,
    PostKind.AMENDMENT,
    PostKind.REPLACEMENT,
    PostKind.ENDORSEMENT,
    PostKind.PROXY,
}


class Thread:
    """One thread read against one vote: its posts (index.py) and the memo of Readings.

    Each post is read once, against the posts before it; an endorsement reads the
    post it copies through the same memo (at most MAX_CHAIN deep).
    """

    def __init__(
        self,
        vote: VoteSpec,
        posts: Sequence[PostIn],
        *,
        one_post: bool = False,
        seconds: float = budget.READ_BUDGET_SECONDS,
    ):
        self.vote = vote
        self.seconds = seconds
        self.index = PostIndex(posts, one_post=one_post)
        self.posts, self.keys = self.index.posts, self.index.keys
        self.memo = memo.Memo()  # older Readings packed by a long kept thread (memo.py)
        self.memo_at: dict[tuple[int, str], Reading] = {}  # earlier texts of edited posts
        self.prompts = Prompts.of(vote)
        self.qm = vote.quest_master.casefold()
        # Plans defined in the window ([X] ballots, xplans.py): (post index, definition)
        # by plan key and by author, collected once, in post order, as far as asked.
        self.plan_defs: dict[str, list[tuple[int, PlanDef]]] = {}
        self.plans_by: dict[str, list[tuple[int, PlanDef]]] = {}
        self.plans_upto = 0

    def extend(self, posts: Sequence[PostIn]) -> None:
        """More posts after the last: what was read stays read (a post reads the posts
        before it, never after), so only the new posts are read when asked for."""
        self.index.extend(posts)

    # -- the window and the author ----------------------------------------

    def in_window(self, post: PostIn) -> str | None:
        """Why a post falls outside the vote's window, or None."""
        if self.vote.opens_at and post.posted_at < self.vote.opens_at:
            return "posted before the vote opened"
        if self.vote.closes_at and post.posted_at > self.vote.closes_at:
            return "posted after the vote closed"
        return None

    def has_earlier_ballot(self, i: int) -> bool:
        earlier = takewhile(lambda j: j < i, self.index.by_author(self.keys[i]))
        return any(self.holds_ballot(j) for j in earlier)

    # -- reading ---------------------------------------------------------

    def reading(self, i: int, chain: frozenset[int] = frozenset()) -> Reading:
        """Read post i against the posts before it.

        1. A post over 100 KB is held back whole, unread.
        2. The quest master's posts, tally posts and posts outside the window are
           not ballots; when their text has a ballot shape, `excluded` says why.
        3. The body is split into own text and quotes (bbcode.scan) and read
           line by line (read_lines): numbered answers, answers under quoted or
           restated prompts, write-ins, and the prose paragraphs left over.
        4. Prose is read (rule 6): explicit letters count, inferred answers are
           flags with a suggestion.
        5. A short agreement under a quote copies the quoted post's answers, as
           that post was read (recursively, memoised, at most MAX_CHAIN deep);
           a whole-line "[X] Name" is a proxy.
        6. Rule 11 checks: unknown shapes and edits after the close hold back.
        7. The kind follows from what was found and the author's earlier posts.
        """
        if (memoised := self.memo.get(i)) is not None:
            return memoised
        if chain:  # an endorsed post read for its endorser: the endorser's budget runs
            reading = self._read(i, self.index.post(i), chain)
        else:
            reading = self.read_in_budget(i, self.index.post(i))
        self.memo.put(i, reading)
        return reading

    def read_in_budget(self, i: int, post: PostIn) -> Reading:
        """_read with a deadline; a post that fails or runs over is held back, not lost.

        A recount reads every post of the window: one post must never stop it. Not
        memoised: ReadingContext.read_instead reads another text of post i here.
        """
        try:
            deadline = budget.start(self.seconds)
            try:
                return self._read(i, post, frozenset())
            finally:
                budget.stop(deadline)
        except budget.OutOfTime:
            reason = f"could not be read in time (over {self.seconds:g} s)"
        except Exception:  # a reader bug: the post waits for a moderator, the rest is read
            log.exception("reading post %s failed", post.id)
            reason = "could not be read (an error in the reader)"
        flag = Flag(None, f"{reason}; held back for a moderator")
        return Reading(post_id=post.id, author=post.author, kind=PostKind.NOT_BALLOT, flags=(flag,))

    def reading_at(self, j: int, at: datetime, chain: frozenset[int]) -> Reading:
        """Post j read as its text stood at `at` (rule 7: an endorsement is pinned).

        revisions[k].at is when revisions[k] was replaced, so the text at `at` is
        the first revision replaced after it, or the current body if none was.
        """
        target = self.posts[j]
        body = next((r.body for r in target.revisions if r.at > at), None)
        if body is None or body == self.index.body(j):
            return self.reading(j, chain)
        key = (j, body)
        if key not in self.memo_at:
            then = replace(target, body=body, edited_at=None, revisions=())
            self.memo_at[key] = self._read(j, then, chain)
        return self.memo_at[key]

    def _read(self, i: int, post: PostIn, chain: frozenset[int]) -> Reading:
        if len(post.body) > MAX_BODY:
            return Reading(
                post.id,
                post.author,
                kind=PostKind.NOT_BALLOT,
                flags=(Flag(None, "post is longer than 100 KB; held back unread"),),
            )
        doc = scan(post.body)
        reason = None
        kind = PostKind.NOT_BALLOT
        if self.keys[i] == self.qm:
            reason, kind = "quest master's post", PostKind.QUEST_MASTER
        elif social.is_tally(post.body, doc.text):
            reason, kind = "tally post", PostKind.TALLY
        else:
            reason = self.in_window(post)
        if reason is not None:
            shaped = kind is PostKind.TALLY or self._has_ballot_shape(doc)
            return Reading(post.id, post.author, kind, excluded=reason if shaped else None)
        return self._read_in_window(i, post, doc, chain)

    def _has_ballot_shape(self, doc: Doc) -> bool:
        if self.prompts.has_lines and xlines.scan_lines(doc, self.vote).blocks:
            return True
        draft = read_lines(doc, self.vote, self.prompts)
        return bool(draft.numbered or draft.unknown)

    def plans_before(self, i: int) -> PlanBook:
        """The plans defined in the window's posts before post i (docs/xballots.md)."""
        for j in range(self.plans_upto, i):
            body = "" if self.in_window(self.posts[j]) is not None else self.index.body(j)
            if "plan" not in body.lower():
                continue
            for d in definitions(scan(body[:MAX_BODY]), self.vote, self.posts[j].author):
                self.plan_defs.setdefault(plan_key(d.name), []).append((j, d))
                self.plans_by.setdefault(d.author, []).append((j, d))
        self.plans_upto = max(self.plans_upto, i)
        if not self.plan_defs:
            return NO_PLANS
        return PlanBook(
            lambda key: [d for j, d in self.plan_defs.get(key, ()) if j < i],
            lambda author: [d for j, d in self.plans_by.get(author, ()) if j < i],
        )

    def _read_xlines(self, i: int, doc: Doc) -> tuple[XRead, Doc]:
        """The [X] lines of a vote with `lines` prompts, and the text left for the other rules."""
        posters = self.index.posters_before(i)
        xread = read_xlines(doc, self.vote, self.posts[i].author, posters, self.plans_before(i))
        if not xread.consumed:
            return xread, doc
        # Read lines become spaces: every offset (and so every span) stays where it was.
        pieces, pos = [], 0
        for s, e in sorted(xread.consumed):
            pieces += [doc.text[pos:s], " " * (e - s)]
            pos = e
        pieces.append(doc.text[pos:])
        rest = Doc("".join(pieces), doc.quotes, doc._own_starts, doc._body_starts, doc.body)
        return xread, rest

    def _read_own(
        self, i: int, doc: Doc, chain: frozenset[int]
    ) -> tuple[list[Answer], list[Flag], int | None, tuple[str, bool] | None, XRead | None, Doc]:
        """The post's text read: [X] lines first (when the vote has `lines` prompts), then
        the other rules on what is left; the Doc returned is that rest."""
        if not self.prompts.has_lines:
            return (*self._read_body(i, doc, chain), None, doc)
        xread, doc = self._read_xlines(i, doc)
        if xread.proxy is not None:
            return [], [], None, xread.proxy, xread, doc
        answers, flags, endorses, proxy = self._read_body(i, doc, chain)
        answers, flags = _with_xlines(self.vote, xread, answers, flags)
        return answers, flags, endorses, proxy, xread, doc

    def _read_in_window(self, i: int, post: PostIn, doc: Doc, chain: frozenset[int]) -> Reading:
        answers, flags, endorses, proxy, xread, doc = self._read_own(i, doc, chain)
        answers, flags = self._edited_after_close(i, post, answers, flags, chain)
        mentions: tuple[str, ...] = ()
        if proxy is None and endorses is None:
            posters = self.index.posters_before(i)
            flags, mentions = account_for_rest(doc, self.vote, posters, answers, flags)
        if xread is not None and not answers and not flags:
            mentions += tuple(
                f"proposes {name} (a proposal is not a vote)" for name in xread.proposed
            )
        if proxy is not None:
            kind = PostKind.PROXY
        elif endorses is not None:
            kind = PostKind.ENDORSEMENT
        elif answers or flags:
            if not self.has_earlier_ballot(i):
                kind = PostKind.BALLOT
            elif social.says_replacement(doc.text):
                kind = PostKind.REPLACEMENT
            else:
                kind = PostKind.AMENDMENT
        else:
            kind = PostKind.NOT_BALLOT
        return Reading(
            post_id=post.id,
            author=post.author,
            kind=kind,
            answers=tuple(sorted(answers, key=lambda a: a.prompt)),
            flags=tuple(flags),
            endorses=endorses,
            proxy_of=proxy[0] if proxy else None,
            proxy_pinned=proxy[1] if proxy else False,
            mentions=mentions,
        )

    def _read_body(
        self, i: int, doc: Doc, chain: frozenset[int]
    ) -> tuple[list[Answer], list[Flag], int | None, tuple[str, bool] | None]:
        """The post's own text read: answers and flags, the post it copies, whom it proxies."""
        vote = self.vote
        draft = read_lines(doc, vote, self.prompts)
        posters = self.index.posters_before(i)
        proxy = endorse.proxy(doc, posters)
        if proxy is not None:
            return [], [], None, proxy
        endorsement = endorse.endorsement(doc, vote)
        agreement = (
            None if endorsement or doc.quotes else endorse.named_agreement(doc, vote, self, i)
        )
        no_shape = not draft.found and not draft.unknown and agreement is None
        if no_shape and not self.prompts.has_lines:
            nobody = _proxy_to_nobody(doc)
            if nobody is not None:
                return [], [nobody], None, None
        follows = endorsement or agreement
        extra = follows[2] if follows is not None else read_prose(draft, vote)
        answers, flags = settle(draft.found + extra + draft.mentions, doc, vote, posters)
        if draft.unknown:
            return [], [_unknown_shape(doc, draft)], None, None
        if endorsement is not None:
            quote, agree_span, _ = endorsement
            return self._copy_quoted(i, quote, doc.span(*agree_span), answers, flags, chain)
        if agreement is not None:
            target, agree_span, _ = agreement
            span = doc.span(*agree_span)
            if isinstance(target, str):  # why no ballot can be copied
                return [], [Flag(None, target, spans=(span,))], None, None
            return self._copy_ballot(i, target, span, answers, flags, chain)
        return answers, flags, None, None

    def _copy_quoted(
        self,
        i: int,
        quote: Quote,
        span: tuple[int, int],
        answers: list[Answer],
        flags: list[Flag],
        chain: frozenset[int],
    ) -> tuple[list[Answer], list[Flag], int | None, tuple[str, bool] | None]:
        """An endorsement: the quoted post's ballot, if the quote is found earlier."""
        j = self.index.quoted_post(quote, i)
        if j is None:
            where = f"post {quote.post_id}" if quote.post_id else "a quoted post"
            reason = f"agrees with {where}, not found earlier in this thread"
            return [], [Flag(None, reason, spans=(span,))], None, None
        return self._copy_ballot(i, j, span, answers, flags, chain, quote=quote)

    def _copy_ballot(
        self,
        i: int,
        j: int,
        span: tuple[int, int],
        answers: list[Answer],
        flags: list[Flag],
        chain: frozenset[int],
        quote: Quote | None = None,
    ) -> tuple[list[Answer], list[Flag], int | None, tuple[str, bool] | None]:
        """Post i agrees with post j: j's answers as post i saw them, under i's own changes."""
        target = self.posts[j]
        if j in chain or len(chain) >= MAX_CHAIN:
            reason = f"endorsement of post {target.id} goes round in a circle or too deep"
            return [], [Flag(None, reason, spans=(span,))], target.id, None
        quoted = self.reading_at(j, self.posts[i].posted_at, chain | {i})
        if quote is not None:
            quoted = self._as_quoted(j, quote, quoted, chain | {i}, self.posts[i].posted_at)
        not_a_ballot = quoted.excluded or quoted.kind in (PostKind.QUEST_MASTER, PostKind.TALLY)
        if (not_a_ballot or not (quoted.answers or quoted.flags)) and answers:
            # "Agreed, great chapter" under a quote of the chapter, then the post's own
            # ballot: the agreement is with the story, the answers are the vote.
            return answers, flags, None, None
        if not_a_ballot:
            why = quoted.excluded or "it is not a ballot"
            reason = f"agrees with post {target.id}, which is not counted ({why})"
            return [], [Flag(None, reason, spans=(span,))], target.id, None
        if quoted.proxy_of is not None and not answers and not flags:
            # "I second this" under "[X] Anya": the endorser follows Anya too.
            return [], [], None, (quoted.proxy_of, quoted.proxy_pinned)
        if not quoted.answers and not quoted.flags:
            reason = f"agrees with post {target.id}, which holds no ballot"
            return [], [Flag(None, reason, spans=(span,))], target.id, None
        own = {a.prompt for a in answers} | {f.prompt for f in flags}
        copied = [
            replace(a, spans=(span,), reason=f"copied from post {target.id}")
            for a in quoted.answers
            if a.prompt not in own
        ]
        copied_flags = [
            replace(f, reason=f"copied from post {target.id}: {f.reason}", spans=(span,))
            for f in quoted.flags
            if f.prompt not in own
        ]
        return copied + answers, copied_flags + flags, target.id, None

    def _as_quoted(
        self, j: int, quote: Quote, then: Reading, chain: frozenset[int], at: datetime
    ) -> Reading:
        """What the endorser saw: the quoted text itself, when it says otherwise (rule 7).

        The quoted text is read as post j. If it agrees with post j as it stood
        (`then`), post j's whole ballot is copied (a quote may be trimmed); if it
        differs (post j was edited since, and no revision says how it stood), the
        quoted text is what was endorsed; if it holds no ballot, nothing is copied.
        """
        target = self.posts[j]
        unedited = target.edited_at is None and not target.revisions
        if unedited and quote.text.strip() == self.index.body(j).strip():
            return then  # the whole post, never edited: the quoted text is what it said
        key = (j, "\x00quote\x00" + quote.text)
        if key not in self.memo_at:
            shown = replace(target, body=quote.text, edited_at=None, revisions=())
            self.memo_at[key] = self._read(j, shown, chain)
        seen = self.memo_at[key]
        if seen.excluded or seen.kind in (PostKind.QUEST_MASTER, PostKind.TALLY):
            return then
        if not seen.answers and not seen.flags:
            # A trimmed quote ("x") of a post as it stood: its ballot. Of a post edited
            # since, with no revision to say how it stood: nothing is known to copy.
            edited = self.posts[j].edited_at
            unknown = edited is not None and edited > at and not self.posts[j].revisions
            return seen if unknown else then
        agreed = {a.prompt: a for a in then.answers}
        if all(a.prompt in agreed and _same_answer(a, agreed[a.prompt]) for a in seen.answers):
            return then
        return seen

    def ballot_post_of(self, key: str, i: int) -> int | None:
        """The latest post before i by this case-folded name holding a ballot, else their last."""
        theirs = [j for j in self.index.by_author(key) if j < i]
        for j in reversed(theirs[-50:]):
            if self.holds_ballot(j):
                return j
        return theirs[-1] if theirs else None

    def holds_ballot(self, j: int) -> bool:
        return (self.memo.kind(j) or self.reading(j).kind) in COUNTED_KINDS

    def _edited_after_close(
        self, i: int, post: PostIn, answers: list[Answer], flags: list[Flag], chain: frozenset[int]
    ) -> tuple[list[Answer], list[Flag]]:
        """An edit after the close never moves the tally by itself (rule 11).

        With the text at closing time known (stored revisions), every answer it
        gave stands, and each prompt the edit changed or removed is held for a
        moderator with both answers shown and the edit as the suggestion. Without
        it, a post that now holds a ballot is held back whole.
        """
        closes = self.vote.closes_at
        if not closes or not post.edited_at or post.edited_at <= closes:
            return answers, flags
        at_close = next((r.body for r in post.revisions if r.at > closes), None)
        if at_close is None:
            if not answers and not flags:
                return answers, flags
            when = post.edited_at.strftime("%Y-%m-%d %H:%M")
            reason = (
                f"edited after the vote closed ({when}); the text at closing time is "
                "not known, so the whole post is held back"
            )
            return [], [Flag(None, reason)]
        old_answers, _, _, _ = self._read_body(i, scan(at_close[:MAX_BODY]), chain)
        old = {a.prompt: a for a in old_answers}
        now = {a.prompt: a for a in answers}
        kept, held = [], list(flags)
        for prompt in sorted(old.keys() | now.keys()):
            before, after = old.get(prompt), now.get(prompt)
            if before is not None:
                kept.append(before)  # the answer at closing time stands
            if before is not None and after is not None and _same_answer(before, after):
                continue
            was = _show(before) if before else "no answer"
            reason = (
                f"answer to prompt {prompt} changed after the vote closed: it read {was} "
                f"at closing time, now {_show(after) if after else 'no answer'}; the "
                "answer at closing time counts unless a moderator accepts the edit"
            )
            # The prompt is in old or now, so one of the two is there.
            spans = next(a.spans for a in (after, before) if a is not None)
            held.append(Flag(prompt, reason, suggestion=after, spans=spans))
        return kept, held


def _same_answer(a: Answer, b: Answer) -> bool:
    return a.letters == b.letters and bare(a.text or "") == bare(b.text or "")


def _show(a: Answer) -> str:
    if a.text is not None:
        return f"'{a.text[:40]}'"
    return "".join(a.letters) or "nothing"


def _with_xlines(
    vote: VoteSpec, xread: XRead, answers: list[Answer], flags: list[Flag]
) -> tuple[list[Answer], list[Flag]]:
    """The [X] lines' answers and flags, beside what the other rules read for other prompts.

    A `lines` prompt answered by a line with no [X] marker ("1. Scout the wreck") is held
    back with that line as the suggestion: it may be a vote, the reader cannot be sure.
    """
    xprompts = {a.prompt for a in xread.answers} | {f.prompt for f in xread.flags}
    lines_prompts = {p.number for p in vote.prompts if p.kind is PromptKind.LINES}
    kept: list[Answer] = []
    held: list[Flag] = [f for f in flags if f.prompt not in xprompts]
    for a in answers:
        if a.prompt in xprompts:
            continue
        if a.prompt in lines_prompts and not a.lines:
            line = Answer(a.prompt, spans=a.spans, reason=a.reason, lines=(XLine(a.text or ""),))
            why = "a line for an [X] prompt with no [X] marker; held back for a moderator"
            held.append(Flag(a.prompt, why, suggestion=line if a.text else None, spans=a.spans))
            continue
        kept.append(a)
    return kept + xread.answers, held + xread.flags


def _proxy_to_nobody(doc: Doc) -> Flag | None:
    """`[X] Name` or `Same as @Name` naming no earlier poster: held back whole (rule 8)."""
    named = endorse.proxy_to_nobody(doc)
    if named is None:
        return None
    mark = "@" if "@" in doc.text else "[X]"
    reason = f"{mark} names no poster in this thread (before this post): '{named[:60]}'"
    return Flag(None, reason, spans=(doc.span(0, len(doc.text)),))


def _unknown_shape(doc: Doc, draft: Draft) -> Flag:
    """Ballot-like text in a shape the reader does not know holds the post back (rule 11)."""
    s, e = draft.unknown[0]
    shape = doc.text[s:e].strip()[:60]
    spans = tuple(doc.span(s, e) for s, e in draft.unknown)
    reason = f"ballot-like text in a shape the reader does not know: '{shape}'"
    return Flag(None, reason, spans=spans)
