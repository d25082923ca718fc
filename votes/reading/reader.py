"""Read posts into Readings: the main algorithm of the reading package."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from operator import attrgetter

from . import agree, budget, declared, grammar, marks, prose, revise, signals, social
from .bbcode import QUOTE_MARK, Doc, Quote, scan
from .text import bare, collapse_spaces, match_option
from .types import Answer, Flag, PostIn, PostKind, PromptKind, PromptSpec, Reading, VoteSpec

log = logging.getLogger(__name__)

MAX_BODY = 100_000
MAX_CHAIN = 8  # endorsements of endorsements followed at most this deep
_LINE = re.compile(r"[^\n]*")
_DIGIT = re.compile(r"\d")
_ASCII_DIGIT = grammar.ASCII_DIGIT  # \d in ASCII text, scanned for much faster
_NOTHING = grammar.LineRead((), "")
_NUMBER_PREFIX = re.compile(r"[ \t]*(?:\d{1,2}[ \t]*[-.):\u2013\u2014]?[ \t]*)?")
_AUTHOR = attrgetter("author")
_ID = attrgetter("id")
_COUNTED_KINDS = {
    PostKind.BALLOT,
    PostKind.AMENDMENT,
    PostKind.REPLACEMENT,
    PostKind.ENDORSEMENT,
    PostKind.PROXY,
}


@dataclass(slots=True)
class _Found:
    prompt: int
    start: int  # own-text offsets
    end: int
    letters: tuple[str, ...] = ()
    text: str | None = None
    problem: str | None = None
    suggestion: tuple[str, ...] = ()
    how: str = ""
    discussed: bool = False  # mentioned, not voted: yields to any other answer to the prompt
    revises: bool = False  # "EDIT: changed to 1-B": replaces this post's earlier answers to it


@dataclass(slots=True)
class _Draft:
    """What the lines of one body say, before the thread is consulted."""

    doc: Doc
    found: list[_Found] = field(default_factory=list)
    prose_paragraphs: list[tuple[int, int, int | None]] = field(default_factory=list)
    unknown: list[tuple[int, int]] = field(default_factory=list)
    mentions: list[_Found] = field(default_factory=list)  # "I think 1-B is best"
    block_quoted: bool = False
    numbered: bool = False  # answers in a numbered or quoted-prompt shape were found


class _Thread:
    """Indexes over one thread, and the memo of Readings.

    The indexes are built when first needed: `read_post` reads one new post with
    the whole window as `earlier`, and most posts need none of them (a quote by
    post id needs the id index; a proxy or a "Same as X" the first-post index).
    Positions by author come from one C-level pass over the case-folded names:
    all at once for a whole thread, one author at a time for a single post.
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
        self.posts = posts if isinstance(posts, list) else list(posts)
        self.keys = list(map(str.casefold, map(_AUTHOR, self.posts)))
        self._index: dict[int, int] | None = None
        self._first_seen: dict[str, int] | None = None
        self._by_author: dict[str, list[int]] = {}
        if not one_post:
            for i, key in enumerate(self.keys):
                self._by_author.setdefault(key, []).append(i)
        self._one_post = one_post
        self.memo: dict[int, Reading] = {}
        self.memo_at: dict[tuple[int, str], Reading] = {}  # earlier texts of edited posts
        self.bare_bodies: dict[int, str] = {}
        self.prompts = _Prompts.of(vote)
        self.qm = vote.quest_master.casefold()

    # -- lookups ---------------------------------------------------------

    def position_of(self, post_id: int) -> int | None:
        """Position of the first post with this id."""
        if self._index is None:
            n = len(self.posts)
            # Reversed, so the first position of a repeated id is the one kept.
            ids = reversed(list(map(_ID, self.posts)))
            self._index = dict(zip(ids, range(n - 1, -1, -1), strict=True))
        return self._index.get(post_id)

    def first_seen(self, key: str) -> tuple[int, str] | None:
        """The first post by a case-folded name: (position, the name as written)."""
        if self._first_seen is None:
            n = len(self.keys)
            self._first_seen = dict(zip(reversed(self.keys), range(n - 1, -1, -1), strict=True))
        i = self._first_seen.get(key)
        return None if i is None else (i, self.posts[i].author)

    def by_author(self, key: str) -> list[int]:
        """Positions of the posts by a case-folded name, in order."""
        found = self._by_author.get(key)
        if found is None:
            found = []
            if self._one_post:  # list.index scans in C, far faster than a loop here
                keys, j = self.keys, -1
                try:
                    while True:
                        j = keys.index(key, j + 1)
                        found.append(j)
                except ValueError:
                    pass
            self._by_author[key] = found
        return found

    def posters_before(self, i: int) -> dict[str, str]:
        return _PostersView(self, i, self.keys[i])

    def in_window(self, post: PostIn) -> str | None:
        """Why a post falls outside the vote's window, or None."""
        if self.vote.opens_at and post.posted_at < self.vote.opens_at:
            return "posted before the vote opened"
        if self.vote.closes_at and post.posted_at > self.vote.closes_at:
            return "posted after the vote closed"
        return None

    def quoted_post(self, quote: Quote, i: int) -> int | None:
        if quote.post_id is not None:
            j = self.position_of(quote.post_id)
            return j if j is not None and j < i else None
        wanted = bare(quote.text)
        if not wanted:
            return None
        candidates = self.by_author(quote.author.casefold()) if quote.author else range(i)
        checked = 0
        for j in reversed(candidates):
            if j >= i:
                continue
            checked += 1
            if checked > 200:  # bounded: an old post is not worth a long search
                break
            if wanted in self._bare_body(j) or any(
                wanted in bare(scan(r.body[:MAX_BODY]).text) for r in self.posts[j].revisions
            ):
                return j  # quoted as it stands, or as it stood before an edit
        if quote.author:
            # Edited since the quote, with no revisions to match against: the author's
            # latest post edited after this one was written is what was quoted.
            after = self.posts[i].posted_at
            edited = [j for j in candidates if j < i and (self.posts[j].edited_at or after) > after]
            return edited[-1] if edited else None
        return None

    def _bare_body(self, j: int) -> str:
        if j not in self.bare_bodies:
            self.bare_bodies[j] = bare(scan(self.posts[j].body[:MAX_BODY]).text)
        return self.bare_bodies[j]

    def has_earlier_ballot(self, i: int) -> bool:
        for j in self.by_author(self.keys[i]):
            if j >= i:
                return False
            if self.reading(j).kind in _COUNTED_KINDS:
                return True
        return False

    # -- reading ---------------------------------------------------------

    def reading(self, i: int, chain: frozenset[int] = frozenset()) -> Reading:
        """Read post i against the posts before it.

        1. A post over 100 KB is held back whole, unread.
        2. The quest master's posts, tally posts and posts outside the window are
           not ballots; when their text has a ballot shape, `excluded` says why.
        3. The body is split into own text and quotes (bbcode.scan) and read
           line by line (_read_lines): numbered answers, answers under quoted or
           restated prompts, write-ins, and the prose paragraphs left over.
        4. Prose is read (rule 6): explicit letters count, inferred answers are
           flags with a suggestion.
        5. A short agreement under a quote copies the quoted post's answers, as
           that post was read (recursively, memoised, at most MAX_CHAIN deep);
           a whole-line "[X] Name" is a proxy.
        6. Rule 11 checks: unknown shapes and edits after the close hold back.
        7. The kind follows from what was found and the author's earlier posts.
        """
        if i in self.memo:
            return self.memo[i]
        if chain:  # an endorsed post read for its endorser: the endorser's budget runs
            reading = self._read(i, self.posts[i], chain)
        else:
            reading = self._read_in_budget(i, self.posts[i])
        self.memo[i] = reading
        return reading

    def _read_in_budget(self, i: int, post: PostIn) -> Reading:
        """_read with a deadline; a post that fails or runs over is held back, not lost.

        A recount reads every post of the window: one post must never stop it.
        """
        try:
            with budget.limit(self.seconds):
                return self._read(i, post, frozenset())
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
        if body is None or body == target.body:
            return self.reading(j, chain)
        key = (j, body)
        if key not in self.memo_at:
            then = replace(target, body=body, edited_at=None, revisions=())
            self.memo_at[key] = self._read(j, then, chain)
        return self.memo_at[key]

    def _read(self, i: int, post: PostIn, chain: frozenset[int]) -> Reading:
        base = {"post_id": post.id, "author": post.author}
        if len(post.body) > MAX_BODY:
            return Reading(
                **base,
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
            return Reading(**base, kind=kind, excluded=reason if shaped else None)
        return self._read_in_window(i, post, doc, chain)

    def _has_ballot_shape(self, doc: Doc) -> bool:
        draft = _read_lines(doc, self.vote, self.prompts)
        return bool(draft.numbered or draft.unknown)

    def _read_in_window(self, i: int, post: PostIn, doc: Doc, chain: frozenset[int]) -> Reading:
        answers, flags, endorses, proxy = self._read_body(i, doc, chain)
        answers, flags = self._edited_after_close(i, post, answers, flags, chain)
        mentions: tuple[str, ...] = ()
        if proxy is None and endorses is None:
            flags, mentions = self._account_for_rest(i, doc, answers, flags)
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

    def _account_for_rest(
        self, i: int, doc: Doc, answers: list[Answer], flags: list[Flag]
    ) -> tuple[list[Flag], tuple[str, ...]]:
        """Every part of a post is accounted for: what addresses the vote is never dropped.

        1. A post with nothing read whose own text addresses the vote (strong
           signals: signals.py) is held back whole with what was found, suggesting
           a reading where exactly one prompt was named.
        2. A post with answers whose other text gives a prompt it did not answer
           (`1-A` and, further on, `2bd`) has that prompt held back too.
        3. Weak signals on a post left as chatter become its `mentions`.
        """
        posters = self.posters_before(i)
        found = signals.vote_signals(
            doc.text, self.vote, named=lambda key: posters.get(key) is not None
        )
        if not answers and not flags:
            if not found.strong:
                return flags, tuple(dict.fromkeys(found.weak))
            if found.suggestion:  # the prompts are named: hold those, suggesting the letters
                return _held_prompts(found, doc), ()
            spans = tuple(doc.span(s, e) for s, e, _ in found.strong[:10])
            what = "; ".join(dict.fromkeys(why for _, _, why in found.strong[:3]))
            reason = f"addresses the vote in a way the reader cannot read: {what}"
            suggestion = None
            likely = found.suggestion or found.guess
            if len(likely) == 1:
                [(number, letters)] = likely.items()
                suggestion = Answer(number, letters=letters, spans=spans)
            return [Flag(None, reason, suggestion=suggestion, spans=spans)], ()
        given = {a.prompt for a in answers} | {f.prompt for f in flags}
        open_prompts = {p.number for p in self.vote.prompts} - given
        rest = _unread_lines(doc, [*answers, *flags])
        likely = {**signals.prose_choices(rest, self.vote, open_prompts), **found.suggestion}
        extra = []
        for number, letters in sorted(likely.items()):
            if number in given:
                continue
            shown = ", ".join(letters)
            reason = f"the post also seems to give prompt {number} option(s) {shown}"
            extra.append(Flag(number, reason, suggestion=Answer(number, letters=letters)))
        return flags + extra, ()

    def _read_body(
        self, i: int, doc: Doc, chain: frozenset[int]
    ) -> tuple[list[Answer], list[Flag], int | None, tuple[str, bool] | None]:
        vote = self.vote
        draft = _read_lines(doc, vote, self.prompts)
        posters = self.posters_before(i)
        proxy = _proxy(doc, posters)
        if proxy is not None:
            return [], [], None, proxy
        endorsement = _endorsement(doc, vote)
        agreement = None if endorsement or doc.quotes else _named_agreement(doc, vote, self, i)
        no_shape = not draft.found and not draft.unknown and agreement is None
        if no_shape and not self.prompts.has_lines:
            named = _proxy_to_nobody(doc)
            if named is not None:
                mark = "@" if "@" in doc.text else "[X]"
                reason = f"{mark} names no poster in this thread (before this post): '{named[:60]}'"
                spans = (doc.span(0, len(doc.text)),)
                return [], [Flag(None, reason, spans=spans)], None, None
        if endorsement is not None:
            extra = endorsement[2]
        elif agreement is not None:
            extra = agreement[2]
        else:
            extra = _read_prose(draft, vote)
        found = draft.found + extra + draft.mentions
        answers, flags = _settle(found, doc, vote, posters)
        if draft.unknown:
            s, e = draft.unknown[0]
            shape = doc.text[s:e].strip()[:60]
            spans = tuple(doc.span(s, e) for s, e in draft.unknown)
            reason = f"ballot-like text in a shape the reader does not know: '{shape}'"
            return [], [Flag(None, reason, spans=spans)], None, None
        if endorsement is not None:
            quote, agree_span, _ = endorsement
            span = doc.span(*agree_span)
            j = self.quoted_post(quote, i)
            if j is None:
                where = f"post {quote.post_id}" if quote.post_id else "a quoted post"
                reason = f"agrees with {where}, not found earlier in this thread"
                return [], [Flag(None, reason, spans=(span,))], None, None
            return self._copy_ballot(i, j, span, answers, flags, chain, quote=quote)
        if agreement is not None:
            target, agree_span, _ = agreement
            span = doc.span(*agree_span)
            if isinstance(target, str):  # why no ballot can be copied
                return [], [Flag(None, target, spans=(span,))], None, None
            return self._copy_ballot(i, target, span, answers, flags, chain)
        return answers, flags, None, None

    def _copy_ballot(
        self,
        i: int,
        j: int,
        span: tuple[int, int],
        answers: list[Answer],
        flags: list[Flag],
        chain: frozenset[int],
        quote: Quote | None = None,
    ) -> tuple[list[Answer], list[Flag], int | None, None]:
        """Post i agrees with post j: j's answers as post i saw them, under i's own changes."""
        target = self.posts[j]
        if j in chain or len(chain) >= MAX_CHAIN:
            reason = f"endorsement of post {target.id} goes round in a circle or too deep"
            return [], [Flag(None, reason, spans=(span,))], target.id, None
        quoted = self.reading_at(j, self.posts[i].posted_at, chain | {i})
        if quote is not None:
            quoted = self._as_quoted(j, quote, quoted, chain | {i}, self.posts[i].posted_at)
        if quoted.excluded or quoted.kind in (PostKind.QUEST_MASTER, PostKind.TALLY):
            why = quoted.excluded or "it is not a ballot"
            reason = f"agrees with post {target.id}, which is not counted ({why})"
            return [], [Flag(None, reason, spans=(span,))], target.id, None
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
        key = (j, "\x00quote\x00" + quote.text)
        if key not in self.memo_at:
            target = self.posts[j]
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
        theirs = [j for j in self.by_author(key) if j < i]
        for j in reversed(theirs[-50:]):
            if self.reading(j).kind in _COUNTED_KINDS:
                return j
        return theirs[-1] if theirs else None

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
            spans = (after or before).spans
            held.append(Flag(prompt, reason, suggestion=after, spans=spans))
        return kept, held


class _PostersView(dict):
    """Posters who wrote before post i (other than its author), by case-folded name."""

    def __init__(self, thread: _Thread, i: int, me: str):
        super().__init__()
        self._thread, self._i, self._me = thread, i, me

    def get(self, key, default=None):  # type: ignore[override]
        seen = self._thread.first_seen(key)
        if seen is None or seen[0] >= self._i or key == self._me:
            return default
        return seen[1]


def _same_answer(a: Answer, b: Answer) -> bool:
    return a.letters == b.letters and bare(a.text or "") == bare(b.text or "")


def _show(a: Answer) -> str:
    if a.text is not None:
        return f"'{a.text[:40]}'"
    return "".join(a.letters) or "nothing"


# -- lines ---------------------------------------------------------------


class _Prompts:
    """The vote's prompts prepared for line reading, once per vote."""

    _made: dict[VoteSpec, _Prompts] = {}

    @classmethod
    def of(cls, vote: VoteSpec) -> _Prompts:
        # Keyed by value: the worker builds a new, equal VoteSpec for every post it
        # reads, and the line cache is worth keeping between those calls.
        made = cls._made.get(vote)
        if made is None:
            if len(cls._made) >= 64:
                cls._made.clear()
            made = cls._made[vote] = cls(vote)
        return made

    def __init__(self, vote: VoteSpec):
        self.bares = [(p, bare(p.text)) for p in vote.prompts]
        self.longest = max((len(p.text) for p in vote.prompts), default=0)
        # A restated prompt's bare text shares its first 12 characters with some
        # prompt's (see _restated_prompt). For ASCII lines, bare() is only lower
        # case minus non-word characters, so this pattern tests that prefix
        # without normalising the line: most lines fail on their first letter.
        heads = [
            r"[\W_]*".join(re.escape(c) for c in pb[:12]) for _, pb in self.bares if len(pb) >= 12
        ]
        self.head = re.compile(r"(?i)[\W_]*(?:" + "|".join(heads) + ")") if heads else None
        # The same prefixes anywhere in lower-cased ASCII text, each alternative led by
        # a literal so the engine skips ahead: a quote holding a prompt contains one.
        heads = [
            "[^a-z0-9]*".join(re.escape(c) for c in pb[:12])
            for _, pb in self.bares
            if len(pb) >= 12
        ]
        self.head_anywhere = re.compile("|".join(heads)) if heads else None
        self.heads_cover_all = all(len(pb) >= 12 for _, pb in self.bares if pb)
        self.has_lines = any(p.kind is PromptKind.LINES for p in vote.prompts)
        self.restated_max = 2 * self.longest + 20  # longer lines are prose, not a prompt
        # (grammar.read_line, UNKNOWN_SHAPE matches) of short lines: nothing else decides them.
        self.line_reads: dict[str, tuple[grammar.LineRead, bool]] = {}

    def has_head(self, lower_ascii: str) -> bool:
        return self.head_anywhere is not None and self.head_anywhere.search(lower_ascii) is not None


_WORD_THEN_SPACE = re.compile(r"[^ \t]{1,20}[ \t]+")


def _restated_prompt(line: str, prompts: _Prompts) -> PromptSpec | None:
    if len(line) > prompts.restated_max or prompts.head is None:
        return None  # far longer than any prompt: prose, and not worth normalising
    start = grammar.strip_markers(line)
    start = grammar.vote_phrase_end(line, start)  # "my vote: Decide the fate ..."
    rest = line[_NUMBER_PREFIX.match(line, start).end() :]
    if rest.isascii() and prompts.head.match(rest) is None:
        # "Voting Decide the fate ...": a few words before the restated prompt.
        ends = [m.end() for m in islice(_WORD_THEN_SPACE.finditer(rest), 4)]
        at = next((x for x in ends if prompts.head.match(rest, x)), None)
        if at is None:
            return None
        rest = rest[at:]
    b = bare(rest)
    if len(b) < 12:
        return None
    for prompt, pb in prompts.bares:
        if b == pb or (len(b) >= 24 and pb.startswith(b)):
            return prompt
        if len(pb) >= 24 and b.startswith(pb) and len(b) - len(pb) <= 3:
            return prompt
    return None


def _quoted_prompts(quote: Quote, prompts: _Prompts) -> list[PromptSpec]:
    text = quote.text
    # pb[:60] in bare(text) needs pb[:12] there: for ASCII text, these letters in
    # order with only non-alphanumerics between. Most quotes hold no prompt.
    if prompts.heads_cover_all and text.isascii() and not prompts.has_head(text.lower()):
        return []
    qb = bare(text)
    return [p for p, pb in prompts.bares if pb and pb[:60] in qb]


def _may_restate(text: str, prompts: _Prompts) -> bool:
    """Whether some line of the text could restate a prompt (see _quoted_prompts)."""
    return not (prompts.heads_cover_all and text.isascii() and not prompts.has_head(text.lower()))


def _paragraphs_only(doc: Doc) -> _Draft:
    """_read_lines for text with no quote, no digit and no prompt: only prose paragraphs.

    With no digit no line is an answer, a bare number or an unknown shape, and with
    no quote or restated prompt no context opens, so every non-blank line is prose.
    """
    draft = _Draft(doc)
    start, end, e = -1, 0, -1
    for line in doc.text.split("\n"):
        s = e + 1
        e = s + len(line)
        if line.strip():
            if start < 0:
                start = s
            end = e
        elif start >= 0:
            draft.prose_paragraphs.append((start, end, None))
            start = -1
    if start >= 0:
        draft.prose_paragraphs.append((start, end, None))
    return draft


def _read_lines(doc: Doc, vote: VoteSpec, prompts: _Prompts) -> _Draft:
    """Walk the own text line by line (rules 2-5): the state machine of the reader.

    1. A quote line that holds one prompt, a restated prompt line, or a line
       holding only "3." opens that prompt's context: what follows answers it.
    2. A numbered answer line closes any context; a numbered write-in runs to
       the first blank line, a context write-in to the next prompt or answer.
    3. Under a choice prompt, `A) text` answers it, unless every option is
       restated word for word (a copied prompt block, not a vote).
    4. Lines left over are prose, grouped into paragraphs for the prose rules;
       ballot-like lines in unknown shapes are set aside for rule 11.
    """
    text = doc.text
    may_restate = None  # worked out when first needed: it costs a pass over the text
    if not doc.quotes and not grammar.has_digit(text):
        may_restate = _may_restate(text, prompts)
        if not may_restate:
            return _paragraphs_only(doc)
    return _walk_lines(doc, vote, prompts, may_restate=may_restate)


def _walk_lines(
    doc: Doc, vote: VoteSpec, prompts: _Prompts, *, may_restate: bool | None = None
) -> _Draft:
    """_read_lines for any text: the state machine itself.

    may_restate=False (no line can restate a prompt) skips that check on every
    line; None works it out at the first line long enough to be a prompt.
    """
    text = doc.text
    draft = _Draft(doc)
    found = draft.found
    ctx: PromptSpec | None = None
    ctx_how = ""
    ctx_marks: frozenset[str] = frozenset()  # marks on the restated prompt's own line
    # Option lines under ctx: (what the line answers, restated word for word, its marks).
    pending: list[tuple[_Found, bool, frozenset[str]]] = []
    writein: list[int] | None = None  # [prompt, start, end, numbered]
    quote_no = 0
    restated = 0
    paragraph: list[int] | None = None  # [start, end, placed]
    line_reads = prompts.line_reads

    def close_writein() -> None:
        nonlocal writein
        if writein is not None:
            body = collapse_spaces(text[writein[1] : writein[2]])
            if body:
                how = "numbered write-in" if writein[3] else f"write-in under {ctx_how} prompt"
                found.append(_Found(writein[0], writein[1], writein[2], text=body, how=how))
                draft.numbered = True
        writein = None

    def close_context() -> None:
        nonlocal ctx
        chosen = _chosen_under(ctx, pending, ctx_marks)
        if chosen is not None:
            found.append(chosen)
            draft.numbered = True
        pending.clear()
        ctx = None

    def close_paragraph() -> None:
        nonlocal paragraph
        if paragraph is not None:
            draft.prose_paragraphs.append((paragraph[0], paragraph[1], paragraph[2]))
        paragraph = None

    e = -1
    for line in text.split("\n"):
        budget.check()
        s = e + 1
        e = s + len(line)
        stripped = line.strip()
        if stripped == QUOTE_MARK:
            close_writein()
            close_context()
            close_paragraph()
            quote = doc.quotes[quote_no] if quote_no < len(doc.quotes) else None
            quote_no += 1
            quoted = _quoted_prompts(quote, prompts) if quote else []
            if len(quoted) == 1:
                ctx, ctx_how, ctx_marks = quoted[0], "quoted", frozenset()
                if ctx.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
                    writein = [ctx.number, e, e, 0]
            elif len(quoted) > 1:
                draft.block_quoted = True
            continue
        if not stripped:
            if paragraph is not None:
                close_paragraph()
            if writein is not None and writein[3]:
                close_writein()
            continue
        prompt = None
        if may_restate is not False and len(stripped) > 14 and len(line) <= prompts.restated_max:
            if may_restate is None:
                may_restate = _may_restate(text, prompts)
            if may_restate:
                prompt = _restated_prompt(line, prompts)
        if prompt is not None:
            close_writein()
            close_context()
            close_paragraph()
            ctx, ctx_how = prompt, "restated"
            ctx_marks = marks.line_marks(doc, s, e)
            restated += 1
            draft.block_quoted = draft.block_quoted or restated > 1
            if prompt.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
                writein = [prompt.number, e, e, 0]
            elif (q := line.rfind("?")) >= 0 and line[q + 1 :].strip():
                # "Should USSR end the ongoing conflict in Korea? Yes": the answer follows
                # the restated prompt on its own line.
                got = _answer_under(line[q + 1 :], s + q + 1, prompt, "restated")
                if got is not None:
                    found.append(got[1] if isinstance(got, tuple) else got)
                    draft.numbered = True
                    ctx = None
            continue
        known = line_reads.get(line) if len(line) <= 64 else None
        if known is None:
            if (_ASCII_DIGIT if line.isascii() else _DIGIT).search(line) is None:
                # Every answer, bare number and unknown shape starts with a digit; a
                # change of mind to a lone letter ("actually no, B") is the exception.
                letter = revise.lone_letter(line) if len(line) <= 64 else None
                retracts = letter is None and revise.retracts(line)
                known = (grammar.LineRead((), "", revised_letter=letter, retracts=retracts), False)
            else:
                read = declared.declared(grammar.read_line(line, vote), line, vote)
                read = revise.doubted(revise.with_revisions(read, line, vote), line, vote)
                known = (read, bool(grammar.UNKNOWN_SHAPE.match(line)))
            if len(line) <= 64:  # short ballot lines ("1-B", "[X] 2. A") recur across posts
                if len(line_reads) >= 4096:
                    line_reads.clear()
                line_reads[line] = known
        read, unknown_shape = known
        if read.hits:
            # Guarded: this is the common line of a ballot, and each close is a call.
            if writein is not None:
                close_writein()
            if ctx is not None or pending:
                close_context()
            if paragraph is not None:
                close_paragraph()
            for hit in read.hits:
                if hit.text is not None:
                    writein = [hit.prompt, s + hit.text_at, e, 1]
                else:
                    found.append(
                        _Found(
                            hit.prompt, s + hit.start, s + hit.end, hit.letters, None,
                            hit.problem, hit.suggestion, hit.how, hit.discussed, hit.revises,
                        )
                    )  # fmt: skip
            draft.numbered = True
            continue
        if read.retracts and found:
            last = found[-1]
            why = "withdrawn ('scratch that') with no answer in its place; a moderator must decide"
            found.append(_Found(last.prompt, s, e, problem=why, suggestion=(), revises=True))
            continue
        if read.revised_letter is not None and found:
            found.append(_revised_letter(found[-1].prompt, read.revised_letter, s, e, vote))
            continue
        if read.mentions:
            draft.mentions.extend(
                _Found(h.prompt, s + h.start, s + h.end, (), None, h.problem, h.suggestion,
                       h.how, True)
                for h in read.mentions
            )  # fmt: skip
        if read.bare_number is not None and grammar.prompt_of(vote, read.bare_number) is not None:
            close_writein()
            close_context()
            close_paragraph()
            ctx, ctx_how = grammar.prompt_of(vote, read.bare_number), "numbered"
            if ctx.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
                writein = [ctx.number, e, e, 0]
            continue
        if writein is not None:
            if writein[2] == writein[1]:
                writein[1] = s
            writein[2] = e
            continue
        if ctx is not None:
            got = _answer_under(line, s, ctx, ctx_how)
            if isinstance(got, tuple):
                # A lone restated option is the answer; among several, the marked one.
                pending.append((got[1], True, marks.line_marks(doc, s, e)))
                continue
            if got is not None and got.letters and not got.problem and _option_like(line, ctx):
                # "B) Shipyards" then "D) Farms": every option line waits for the block's end.
                pending.append((got, False, marks.line_marks(doc, s, e)))
                continue
            if got is not None:
                pending.clear()
                found.append(got)
                draft.numbered = True
                ctx = None
                continue
        if ctx is None and "[1]" in stripped[:40]:  # "[1] C [2] A", maybe after "my vote:"
            got = _ranking_without_number(line, s, vote)
            if got is not None:
                close_paragraph()
                found.append(got)
                draft.numbered = True
                continue
        if unknown_shape:
            close_paragraph()
            draft.unknown.append((s, e))
            continue
        placed = ctx.number if ctx is not None else None
        if paragraph is None or paragraph[2] != placed:
            close_paragraph()
            paragraph = [s, e, placed]
        paragraph[1] = e
    close_writein()
    close_context()
    close_paragraph()
    return draft


_MANY = (PromptKind.MULTI, PromptKind.RANKED)
_SENTENCE_END = re.compile(rf"[.;!?(]|{grammar.REASON}")
_OPTION_MARKS = re.compile(r"(?:^|[,;&/]|\band\b)[ \t]*\(?([A-Za-z])\)[ \t]*(?=\w)")


def _chosen_under(
    ctx: PromptSpec | None,
    pending: list[tuple[_Found, bool, frozenset[str]]],
    ctx_marks: frozenset[str] = frozenset(),
) -> _Found | None:
    """What the option lines under a prompt answer (rule 3).

    1. Lines the poster marked (bold, colour, a ticked box, an arrow) among
       unmarked siblings are the answer: one for a single prompt (two marks hold
       it back), all of them for a choose-any or ranked prompt.
    2. Otherwise one line is the answer; for a choose-any or ranked prompt every
       line is, unless they restate every option (a copy of the block).
    """
    if ctx is None or not pending:
        return None
    marked = marks.marked([m for *_, m in pending], ctx_marks)
    chosen = [f for (f, _, _), hit in zip(pending, marked, strict=True) if hit]
    if chosen and (len(chosen) < len(pending) or "formatted" not in ctx_marks):
        if ctx.kind not in _MANY and len(chosen) > 1:
            first, last = chosen[0], chosen[-1]
            problem = f"marks {len(chosen)} options of prompt {ctx.number}, which takes one"
            return _Found(ctx.number, first.start, last.end, problem=problem)
        return _merged(ctx, chosen, "marked in a copied vote block")
    if len(pending) == 1:
        return pending[0][0]
    changed = [f for f, restated, _ in pending if not restated]
    if ctx.kind not in _MANY and len(changed) == 1:
        return changed[0]  # the one option line the poster wrote on, the rest copied
    in_order = [f.letters for f, _, _ in pending] == [(o.letter,) for o in ctx.options]
    copied = all(restated for _, restated, _ in pending) and len(pending) >= len(ctx.options)
    if ctx.kind not in _MANY or (copied and (in_order or ctx.kind is not PromptKind.RANKED)):
        return None  # the block copied as posted; a ranking reorders it
    return _merged(ctx, [f for f, _, _ in pending], pending[0][0].how)


def _option_like(line: str, ctx: PromptSpec) -> bool:
    """`A) text`, `[ ] B) text`: a line of the copied block, not a sentence answering it."""
    return grammar.option_line(line[grammar.strip_markers(line) :], ctx) is not None


def _merged(ctx: PromptSpec, items: list[_Found], how: str) -> _Found:
    letters = tuple(x for f in items for x in f.letters)
    hit = grammar.check_letters(grammar.Hit(ctx.number, 0, 0, letters=letters), ctx)
    first, last = items[0], items[-1]
    return _Found(ctx.number, first.start, last.end, hit.letters, None, hit.problem, (), how)


def _revised_letter(prompt_no: int, letter: str, s: int, e: int, vote: VoteSpec) -> _Found:
    """`actually no, B` after `1-A`: the new letter for the prompt answered last."""
    how = "revised answer to the prompt answered above"
    prompt = grammar.prompt_of(vote, prompt_no)
    if prompt is None:
        return _Found(prompt_no, s, e, problem="a changed answer with no prompt to answer")
    hit = grammar.check_letters(grammar.Hit(prompt_no, 0, 0, letters=(letter,), how=how), prompt)
    return _Found(prompt_no, s, e, hit.letters, None, hit.problem, (), how, revises=True)


def _answer_under(
    line: str, s: int, ctx: PromptSpec, how: str
) -> _Found | tuple[str, _Found] | None:
    """A line directly under a quoted or restated choice prompt (rules 3 and 4)."""
    where = f"answer under {how} prompt {ctx.number}"
    marks = _OPTION_MARKS.findall(line) if ctx.kind in _MANY else []
    if len(marks) > 1 and all(ctx.option(x) for x in marks):
        # "B) The barn and D) the radio shack": several options on one line.
        letters = tuple(x.upper() for x in marks)
        hit = grammar._check_letters(grammar.Hit(ctx.number, 0, 0, letters=letters), ctx)
        start = s + grammar.strip_markers(line)
        return _Found(ctx.number, start, s + len(line.rstrip()), hit.letters, None, hit.problem,
                      (), where)  # fmt: skip
    skip = grammar.strip_markers(line)
    option = grammar.option_line(line[skip:], ctx)
    start = s + skip
    if option is not None:
        spec, restated, _ = option
        found = _Found(ctx.number, start, s + len(line.rstrip()), (spec.letter,), how=where)
        return ("restated", found) if restated else found
    letters = grammar._read_letters(line, grammar.strip_markers(line), ctx)
    if letters is not None and grammar.ends_answer(line, letters[1]):
        hit = grammar._check_letters(
            grammar.Hit(ctx.number, 0, letters[1], letters=letters[0], how=where), ctx
        )
        return _Found(ctx.number, start, s + letters[1], hit.letters, None, hit.problem, (), where)
    sentence = _SENTENCE_END.split(line, maxsplit=1)[0]
    kind, spec = match_option(sentence, ctx)
    if spec is None:
        return None
    end = s + len(sentence)
    if kind == "loose":
        problem = (
            f"'{sentence.strip()[:60]}' under prompt {ctx.number} reads like "
            f"{spec.letter}) {spec.text}, but not word for word"
        )
        return _Found(ctx.number, start, end, problem=problem, suggestion=(spec.letter,), how=where)
    return _Found(ctx.number, start, end, (spec.letter,), how=f"{where}: option text")


def _ranking_without_number(line: str, s: int, vote: VoteSpec) -> _Found | None:
    """`[1] C [2] A` on a line of its own answers the vote's one ranked prompt (rule 2)."""
    ranked = [p for p in vote.prompts if p.kind is PromptKind.RANKED]
    if not ranked:
        return None  # "[1]" is a footnote here
    at = line.find("[1]", 0, 40)  # at the start, or after a few words ("my vote: [1] C")
    if at < 0 or grammar.has_digit(line[:at]):
        return None
    letters = grammar._read_letters(line, at, ranked[0])
    if letters is None or not grammar.ends_answer(line, letters[1]):
        return None
    start, end = s + at, s + letters[1]
    if len(ranked) > 1:
        problem = "a ranking with no prompt number, and this vote has several ranked prompts"
        return _Found(0, start, end, problem=problem)
    prompt = ranked[0]
    where = "ranking with no prompt number (the vote's one ranked prompt)"
    hit = grammar._check_letters(
        grammar.Hit(prompt.number, 0, 0, letters=letters[0], how=where), prompt
    )
    return _Found(prompt.number, start, end, hit.letters, None, hit.problem, (), where)


# -- prose, endorsements, proxies ------------------------------------------


def _read_prose(draft: _Draft, vote: VoteSpec) -> list[_Found]:
    """Rule 6 over the paragraphs the line walk left over."""
    text = draft.doc.text
    out: list[_Found] = []
    answered = {f.prompt for f in draft.found}
    placed: int | None = None
    placed_by = ""
    writein: _Found | None = None
    loose: list[tuple[int, int]] = []
    for start, end, ctx in draft.prose_paragraphs:
        budget.check()
        para = text[start:end]
        where = ctx
        if where is None and draft.block_quoted and not draft.numbered:
            addressed = prose.addressed_prompt(para, vote)
            if addressed is not None:
                placed, placed_by = addressed
                writein = None
            elif placed is not None and writein is not None:
                writein.end = end
                writein.text = collapse_spaces(text[writein.start : end])
                continue
            where = placed if addressed is not None else None
        if where is None:
            for ans in prose.explicit_letters(para, vote, None):
                if ans.prompt is not None:
                    out.append(_prose_found(ans, start, vote))
                elif not draft.found:
                    out.append(
                        _Found(0, start + ans.start, start + ans.end,
                               problem=f"{ans.why} does not say which prompt it answers")
                    )  # fmt: skip
            loose.append((start, end))
            continue
        prompt = grammar.prompt_of(vote, where)
        if prompt.kind in (PromptKind.WRITE_IN, PromptKind.LINES):
            if where in answered:
                continue
            how = f"prose placed under prompt {where}"
            how += f" by '{placed_by}'" if ctx is None else ""
            writein = _Found(where, start, end, text=collapse_spaces(para), how=how)
            out.append(writein)
            answered.add(where)
            continue
        explicit = [a for a in prose.explicit_letters(para, vote, where) if a.prompt == where]
        if explicit:
            out.append(_prose_found(explicit[0], start, vote))
            answered.add(where)
            continue
        if where in answered:
            continue
        guesses = prose.inferred(para, vote, {where}, where)
        letter = guesses[0].letter if guesses else None
        snippet = para.strip()[:80]
        if letter:
            verdict = f"reads as {letter}; a moderator must confirm"
        else:
            verdict = "gives no clear answer; a moderator must decide"
        problem = f"prose under prompt {where} ('{snippet}') {verdict}"

        out.append(
            _Found(where, start, end, problem=problem, suggestion=(letter,) if letter else ())
        )
        answered.add(where)
    answered |= {f.prompt for f in out}
    open_prompts = {p.number for p in vote.prompts} - answered
    if open_prompts and loose:
        for start, end in loose:
            budget.check()
            for guess in prose.inferred(text[start:end], vote, open_prompts, None):
                if guess.letter is None:
                    continue
                problem = (
                    f"reads as {guess.letter} on prompt {guess.prompt} from prose "
                    f"('{guess.why}'); a moderator must confirm"
                )
                out.append(
                    _Found(guess.prompt, start + guess.start, start + guess.end,
                           problem=problem, suggestion=(guess.letter,))
                )  # fmt: skip
                open_prompts.discard(guess.prompt)
    return out


def _prose_found(ans: prose.ProseAnswer, offset: int, vote: VoteSpec) -> _Found:
    """An explicit letter of a voting statement, checked as a numbered answer is (rule 11)."""
    start, end = offset + ans.start, offset + ans.end
    prompt = grammar.prompt_of(vote, ans.prompt)
    if prompt is None:
        problem = f"{ans.why} names prompt {ans.prompt}, which this vote does not have"
        return _Found(ans.prompt, start, end, problem=problem)
    if not ans.firm:
        problem = (
            f"{ans.why} is not the text of an option of prompt {ans.prompt}; "
            f"it reads as {', '.join(ans.letters or (ans.letter,))}; a moderator must decide"
        )
        suggestion = ans.letters or (ans.letter,)
        return _Found(ans.prompt, start, end, problem=problem, suggestion=suggestion)
    letters = ans.letters or (ans.letter,)
    hit = grammar._check_letters(grammar.Hit(ans.prompt, 0, 0, letters=letters), prompt)
    return _Found(ans.prompt, start, end, hit.letters, None, hit.problem, (), "voting statement")


def _own_lines(doc: Doc) -> list[tuple[int, int]]:
    return [m.span() for m in _LINE.finditer(doc.text) if m.group(0).strip()]


def _proxy_to_nobody(doc: Doc) -> str | None:
    """The name of a one-line `[X] Name` post whose name is no earlier poster's (rule 8)."""
    lines = [x for x in doc.text.split("\n") if x.strip() and x.strip() != QUOTE_MARK]
    return social.proxy_named(lines[0]) if len(lines) == 1 else None


def _proxy(doc: Doc, posters: dict[str, str]) -> tuple[str, bool] | None:
    """A post whose own text is one line naming a poster; stops at a second line."""
    text = doc.text
    if not doc.quotes:
        stripped = text.strip()
        if not stripped or "\n" in stripped:
            return None  # nothing, or a first and a last line that are both not blank
    only = None
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped == QUOTE_MARK:
            continue
        if only is not None:
            return None
        only = line
    return social.proxy(only, posters) if only is not None else None


# Commentary an endorsement may carry ("I second this. Grain is life."); a longer
# post under a quote is a post of its own, read as such.
_ENDORSEMENT_COMMENT_MAX = 400
# After the agreement: a new sentence or clause, so what follows is commentary.
_COMMENT_START = re.compile(r"[ \t]*(?:[.!,;:\u2013\u2014-]|[ \t][A-Z0-9]|$)")
_AMENDS = re.compile(r"(?i)\b(?:except|but|apart[ \t]+from)\b")


def _endorsement_changes(line: str, s: int, end: int, vote: VoteSpec) -> list[_Found] | None:
    """What follows the agreement on its line: changes, commentary, or (None) not an endorsement.

    `Agreed, except 2-B` changes the copy; `I second this. Grain is life.` is
    commentary; `Agreed, but not on the navy` changes it in words the reader
    cannot read, so the post is held back whole; `I agree with the tanks part`
    is not an agreement with the quoted ballot at all.
    """
    rest = line[end:]
    skip = len(rest) - len(rest.lstrip(" ,;:-\t"))
    at = s + end + skip
    changes = grammar.read_line(rest[skip:], vote).hits if rest.strip() else ()
    if changes and all(h.text is None for h in changes):
        return [
            _Found(h.prompt, at + h.start, at + h.end, h.letters, None, h.problem,
                   h.suggestion, f"change to the endorsed ballot: {h.how}")
            for h in changes
        ]  # fmt: skip
    if not rest.strip():
        return []
    if _AMENDS.search(line, 0, end):
        shown = rest.strip()[:60]
        problem = f"agrees with the quoted ballot with changes the reader cannot read: '{shown}'"
        return [_Found(0, at, s + len(line), problem=problem)]
    if _COMMENT_START.match(rest) or (rest[:1].isupper() and line[end - 1 : end].isspace()):
        return []
    return None


def _endorsement(doc: Doc, vote: VoteSpec) -> tuple[Quote, tuple[int, int], list[_Found]] | None:
    """A short agreement next to a quote: (the quote, the agreement's own-text span)."""
    if not doc.quotes:
        return None
    lines = _own_lines(doc)
    quotes_before = 0
    agree = None
    prose_chars = 0
    for s, e in lines:
        line = doc.text[s:e]
        if line.strip() == QUOTE_MARK:
            quotes_before += 1
            continue
        if agree is None:
            end = social.agreement(line)
            if end is None:
                return None
            overrides = _endorsement_changes(line, s, end, vote)
            if overrides is None:
                return None
            agree = (s, s + end, quotes_before)
            continue
        if not grammar.read_line(line, vote).hits:
            prose_chars += len(line.strip())
    if agree is None or prose_chars > _ENDORSEMENT_COMMENT_MAX:
        return None
    index = agree[2] - 1 if agree[2] > 0 else 0
    return doc.quotes[index], (agree[0], agree[1]), overrides


_SENTENCE = re.compile(r"[^.!?;\n]+")


def _unread_lines(doc: Doc, read: list[Answer] | list[Answer | Flag]) -> str:
    """The own-text sentences no answer or flag was read from, one per line."""
    spans = [span for item in read for span in item.spans]
    kept = []
    for m in _SENTENCE.finditer(doc.text):
        if not m.group(0).strip():
            continue
        start, end = doc.span(*m.span())
        if not any(a < end and start < b for a, b in spans):
            kept.append(m.group(0))
    return "\n".join(kept)


def _held_prompts(found: signals.Signals, doc: Doc) -> list[Flag]:
    spans = tuple(doc.span(s, e) for s, e, _ in found.strong[:10])
    what = "; ".join(dict.fromkeys(why for _, _, why in found.strong[:3]))
    reason = f"addresses the vote in a way the reader cannot read: {what}"
    return [
        Flag(number, reason, suggestion=Answer(number, letters=letters, spans=spans), spans=spans)
        for number, letters in sorted(found.suggestion.items())
    ]


def _named_agreement(
    doc: Doc, vote: VoteSpec, thread: _Thread, i: int
) -> tuple[int | str, tuple[int, int], list[_Found]] | None:
    """`what Anya said but 2-B`, `^ this`: (post to copy, or why none; span; amendments)."""
    first = next(((s, e) for s, e in _own_lines(doc)), None)
    if first is None:
        return None
    s, e = first
    line = doc.text[s:e]
    posters = sorted(set(thread.keys[:i]) - {thread.keys[i], thread.qm}, key=len, reverse=True)
    found = agree.read_agreement(line, posters[:5000])
    if found is None:
        return None
    overrides: list[_Found] = []
    if found.amends_at is not None:
        at = s + found.amends_at
        for h in grammar.read_line(doc.text[at:e], vote).hits:
            overrides.append(
                _Found(h.prompt, at + h.start, at + h.end, h.letters, h.text, h.problem,
                       h.suggestion, f"change to the agreed ballot: {h.how}")
            )  # fmt: skip
    span = (s, s + found.end)
    who = "the post above" if found.target == agree.ABOVE else f"'{found.target}'"
    if found.hedged:
        return f"agrees with {who} only in part or with doubt; a moderator must decide", span, []
    if found.amends_at is not None and not overrides:
        return f"agrees with {who} with changes the reader cannot read", span, []
    if found.target == agree.ABOVE:
        if i == 0:
            return "agrees with the post above, and there is none", span, []
        return i - 1, span, overrides
    if not found.known:
        near = [p for p in posters if p.startswith(found.target[:5])][:5]
        hint = f" (did they mean {', '.join(near)}?)" if near else ""
        return f"agrees with {who}, who has not posted in this thread{hint}", span, []
    j = thread.ballot_post_of(found.target, i)
    if j is None:
        return f"agrees with {who}, who has not posted in this thread", span, []
    return j, span, overrides


def _settle(
    found: list[_Found], doc: Doc, vote: VoteSpec, posters: dict[str, str]
) -> tuple[list[Answer], list[Flag]]:
    """One answer per prompt, or flags where the post contradicts itself (rule 11)."""
    if not found:
        return [], []
    by_prompt: dict[int, list[_Found]] = {}
    for f in found:
        by_prompt.setdefault(f.prompt, []).append(f)
    answers: list[Answer] = []
    flags: list[Flag] = []
    for number, items in sorted(by_prompt.items()):
        # Rule 6: an answer only mentioned in a sentence never outweighs one given.
        items = [f for f in items if not f.discussed] or items
        # "EDIT: changed to 1-B" below "1-A": the post's own last word on the prompt.
        revised = [f for f in items if f.revises]
        if revised:
            items = revised[-1:]
        spans = tuple([doc.span(f.start, f.end) for f in items])
        prompt_no = number if grammar.prompt_of(vote, number) else None
        problems = [f for f in items if f.problem]
        if problems:
            first = problems[0]
            suggestion = None
            if first.suggestion and len(items) == 1 and prompt_no is not None:
                suggestion = Answer(prompt_no, letters=first.suggestion, spans=spans)
            flags.append(Flag(prompt_no, first.problem, suggestion=suggestion, spans=spans))
            continue
        if len(items) > 1 and len({(f.letters, bare(f.text or "")) for f in items}) > 1:
            shown = " and ".join(f"'{doc.text[f.start : f.end].strip()[:40]}'" for f in items[:3])
            flags.append(
                Flag(prompt_no, f"two different answers to prompt {number} in one post: {shown}",
                     spans=spans)
            )  # fmt: skip
            continue
        f = items[0]
        snippet = doc.text[f.start : f.end].strip()
        reason = f"{f.how} '{snippet[:40]}{'…' if len(snippet) > 40 else ''}'"
        joins = social.joins(f.text, posters) if f.text is not None else None
        answers.append(
            Answer(number, letters=f.letters, text=f.text, joins=joins, spans=spans, reason=reason)
        )
    return answers, flags


# -- public entry points ---------------------------------------------------


def read_post(
    post: PostIn,
    vote: VoteSpec,
    earlier: Sequence[PostIn] = (),
    *,
    seconds: float = budget.READ_BUDGET_SECONDS,
) -> Reading:
    """Read one post against the vote, with the thread before it (in order).

    A post that takes longer than `seconds` to read is held back, not waited for.
    """
    thread = _Thread(vote, [*earlier, post], one_post=True, seconds=seconds)
    return thread.reading(len(thread.posts) - 1)


def read_thread(
    vote: VoteSpec, posts: Sequence[PostIn], *, seconds: float = budget.READ_BUDGET_SECONDS
) -> list[Reading]:
    """Read every post of a thread, each with the posts before it, each within `seconds`."""
    thread = _Thread(vote, posts, seconds=seconds)
    return [thread.reading(i) for i in range(len(thread.posts))]
