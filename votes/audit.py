"""Moderators audit how posts were read: decisions on held-back answers, and tally checks.

Three parts:
1. `decision_record` writes a moderator's ruling on any post of the window
   (an append-only Decision row) and asks for a recount, so the ruling takes
   effect; `decision_undo` takes one back the same way (an UNDO row with its
   own reason); `decisions_for` is the record, newest first.
2. `audit_posts` gathers what the audit page shows for each post of a vote's
   window: its Reading, the text with the counted answers marked, the
   decisions on it, why the last tally held it back, and each suggested
   reading set against what the post wrote (`suggestion_check`); `tab_counts`
   counts the page's tabs.
3. `tally_verify` recomputes a stored TallyRun from the post revisions and
   decisions it names, ignoring stored Readings and caches, and compares hashes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from chapters.models import Vote
from quest.models import Post, PostRevision
from quest.permissions import can_moderate
from votes import audit_pages, selectors
from votes.line_words import lines_from_text
from votes.models import Decision, EntryMerge, Reading, TallyRun
from votes.names import name_of, voter_names
from votes.poll import tally_changed
from votes.reading import read_thread
from votes.reading.fold import fold
from votes.reading.rulings import in_force
from votes.reading.types import (
    RULES_VERSION,
    Answer,
    Flag,
    PostIn,
    PostKind,
    PromptKind,
    PromptSpec,
    Revision,
    VoteSpec,
)
from votes.reading.types import Reading as ReadingOut
from votes.services import vote_recount_request
from votes.tally import tally_json, tally_sha256

REASON_MAX = 2_000
ACCEPTED_REASON = "Accepted the suggested reading"
_LETTER_KINDS = frozenset({PromptKind.SINGLE, PromptKind.MULTI, PromptKind.RANKED})
_COUNTING = frozenset({Decision.Action.SET, Decision.Action.PROXY})  # count whatever was read


# --- 1. Decisions -------------------------------------------------------------


def decision_record(
    *,
    vote: Vote,
    post: Post,
    prompt: int | None,
    action: str,
    answer: dict | None,
    reason: str,
    by,
    proxy_of: str = "",
) -> Decision:
    """Record a moderator's ruling on (post, prompt) and ask for a recount.

    Any post of the window may be ruled on, whatever it was read as (held
    back, counted, chatter), except the quest master's. `prompt=None` rules on
    the whole post. ACCEPT counts the suggestion of the post's current flag
    (stored on the row, so the record says what was accepted); SET counts
    `answer` ({"letters": [...]} or {"text": "..."}, whose lines are the entries
    for a `lines` prompt; and "prompt" when ruling on the whole post); REJECT
    counts nothing; PROXY (whole post only) makes the
    post's author follow `proxy_of`, a poster of the quest, as `[X] Name` would.
    Nothing is written unless every check passes.
    """
    if not can_moderate(by, vote.chapter.quest):
        raise PermissionDenied("Only the quest master and this quest's moderators decide.")
    reason = (reason or "").strip()
    spec = selectors.vote_spec(vote)
    problems = _decision_problems(vote, post, spec, prompt, reason)
    stored, target = None, ""
    if not problems:
        try:
            stored = _decided_answer(vote, post, spec, prompt, action, answer)
            if action == Decision.Action.PROXY:
                target = _proxy_target(vote, post, prompt, proxy_of)
        except ValidationError as e:
            problems += e.messages
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        decision = Decision.objects.create(
            vote=vote,
            post=post,
            prompt=prompt,
            action=action,
            answer=stored,
            proxy_of=target,
            reason=reason,
            by=by,
        )
        tally_changed(vote=vote)  # "held back" and the ruled post's voter's panel
        vote_recount_request(vote=vote)
    return decision


def _decision_problems(
    vote: Vote, post: Post, spec: VoteSpec, prompt: int | None, reason: str
) -> list[str]:
    """What stops any ruling on (post, prompt), whatever its action."""
    problems = _reason_problems(reason)
    if not _in_window(vote, post):
        problems.append("That post is not in this vote's window.")
    elif post.author_id == vote.chapter.quest.quest_master_id:
        problems.append("The quest master's posts are never counted as ballots.")
    if prompt is not None and spec.prompt(prompt) is None:
        problems.append(f"The vote has no prompt {prompt}.")
    return problems


def _reason_problems(reason: str) -> list[str]:
    if not reason:
        return ["Give a reason: it is kept with the decision."]
    if len(reason) > REASON_MAX:
        return [f"Keep the reason under {REASON_MAX:,} characters."]
    return []


def _proxy_target(vote: Vote, post: Post, prompt: int | None, name: str) -> str:
    """The poster the author is to follow, as the fold resolves `[X] Name`; or ValidationError."""
    if prompt is not None:
        raise ValidationError("Following another voter is decided on the whole post.")
    name = (name or "").strip().removeprefix("@").strip()
    if not name:
        raise ValidationError("Name the voter this post's author follows.")
    quest = vote.chapter.quest
    # By voter name: a player who claimed a forum name is that name here (votes/names.py).
    names = voter_names(quest)
    claimed = [pk for pk, voter in names.items() if voter.casefold() == name.casefold()]
    posters = [
        (pk, names.get(pk, username))
        for pk, username in get_user_model()
        .objects.filter(Q(username__iexact=name) | Q(pk__in=claimed), posts__quest=quest)
        .distinct()
        .values_list("pk", "username")
    ]
    posters = [p for p in posters if p[1].casefold() == name.casefold()]
    if not posters:
        raise ValidationError(f"No one named {name} has posted in this quest.")
    pk, username = min(posters, key=lambda p: p[1] != name)  # the exact spelling first
    if pk == post.author_id:
        raise ValidationError("A voter cannot follow themself.")
    if pk == quest.quest_master_id:
        raise ValidationError("The quest master does not vote: no one can follow them.")
    return username


def _in_window(vote: Vote, post: Post) -> bool:
    bounds = selectors.window_bounds(vote)
    if bounds is None or post.quest_id != vote.chapter.quest_id:
        return False
    after, before = bounds
    return post.seq > after and (before is None or post.seq < before)


def _decided_answer(
    vote: Vote, post: Post, spec: VoteSpec, prompt: int | None, action: str, answer: dict | None
) -> dict | None:
    """The answer JSON the Decision row keeps for this action, or ValidationError."""
    if action == Decision.Action.REJECT:
        return None
    if action == Decision.Action.ACCEPT:
        flag = _current_flag(vote, post, prompt)
        return flag.suggestion.to_json() if flag.suggestion else None
    if action == Decision.Action.SET:
        return _set_answer(spec, prompt, answer or {}).to_json()
    if action == Decision.Action.PROXY:
        return None  # the name is kept in its own field
    if action == Decision.Action.UNDO:
        raise ValidationError("Undo a decision from its own Undo button.")
    raise ValidationError(f"Unknown action {action!r}: accept, set, reject or proxy.")


def _current_flag(vote: Vote, post: Post, prompt: int | None) -> Flag:
    """The flag on (post, prompt) in the post's current Reading, which ACCEPT needs."""
    row = Reading.objects.filter(vote=vote, post=post).first()
    if row is None or row.is_stale(post, vote):
        raise ValidationError("This post has not been read as it stands yet; try again shortly.")
    flags = [f for f in ReadingOut.from_json(row.data).flags if f.prompt == prompt]
    if prompt is None and flags:
        # A whole post held back (e.g. edited after the vote closed) has no single
        # suggestion: accepting it counts the post as it was read.
        return flags[0]
    flag = next((f for f in flags if f.suggestion is not None), None)
    if flag is None:
        where = "the post" if prompt is None else f"prompt {prompt}"
        raise ValidationError(
            f"Nothing to accept: {where} has no held-back answer with a suggested reading."
        )
    return flag


def _set_answer(spec: VoteSpec, prompt: int | None, answer: dict) -> Answer:
    """The moderator's own answer, checked against the prompt it answers."""
    number = prompt if prompt is not None else answer.get("prompt")
    target = spec.prompt(number) if isinstance(number, int) else None
    if target is None:
        raise ValidationError("Say which prompt the answer is for.")
    if target.kind in _LETTER_KINDS:
        letters = _checked_letters(target, answer.get("letters") or [])
        return Answer(prompt=target.number, letters=letters, reason="set by a moderator")
    if target.kind == PromptKind.LINES:
        try:  # the box's lines, as votes/line_words.py reads them
            lines = lines_from_text(answer.get("text") or "")
        except ValueError as e:
            raise ValidationError(f"Prompt {target.number} takes [X] lines: {e}") from None
        return Answer(prompt=target.number, lines=lines, reason="set by a moderator")
    text = (answer.get("text") or "").strip()
    if not text:
        raise ValidationError(f"Write the answer to prompt {target.number}: it is a write-in.")
    return Answer(prompt=target.number, text=text, reason="set by a moderator")


def _checked_letters(prompt: PromptSpec, given: list[str]) -> tuple[str, ...]:
    letters = [str(x).strip().upper() for x in given if str(x).strip()]
    if not letters:
        raise ValidationError(f"Give the option letter(s) to count for prompt {prompt.number}.")
    unknown = [x for x in letters if prompt.option(x) is None]
    if unknown:
        have = ", ".join(o.letter for o in prompt.options)
        raise ValidationError(
            f"Prompt {prompt.number} has no option {', '.join(unknown)} (it has {have})."
        )
    if len(set(letters)) != len(letters):
        raise ValidationError("Give each option once.")
    if prompt.kind == PromptKind.SINGLE and len(letters) != 1:
        raise ValidationError(f"Prompt {prompt.number} takes exactly one option.")
    # Multi: the reader keeps letters sorted; ranked: the order is the preference.
    return tuple(sorted(letters)) if prompt.kind == PromptKind.MULTI else tuple(letters)


def decision_undo(*, decision: Decision, reason: str, by) -> Decision:
    """Take back `decision` with a reason of its own: an UNDO row, then a recount.

    The undone ruling stays on record; the fold leaves it out from then on
    (`Decision.objects.standing()`), so whatever it decided is back as it was
    before it (held back again, or the ruling it had overruled in force again).
    An undo is not undone: a moderator decides again instead.
    """
    vote = decision.vote
    if not can_moderate(by, vote.chapter.quest):
        raise PermissionDenied("Only the quest master and this quest's moderators decide.")
    reason = (reason or "").strip()
    problems = _reason_problems(reason)
    if decision.action == Decision.Action.UNDO:
        problems.append("An undo is not undone: decide the post again instead.")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        # Locked, so two moderators undoing at once make one undo, and the second is told.
        target = Decision.objects.select_for_update().get(pk=decision.pk)
        if Decision.objects.filter(reverts=target).exists():
            raise ValidationError("That decision was already undone.")
        undo = Decision.objects.create(
            vote=vote,
            post_id=target.post_id,
            prompt=target.prompt,
            action=Decision.Action.UNDO,
            reverts=target,
            reason=reason,
            by=by,
        )
        tally_changed(vote=vote)
        vote_recount_request(vote=vote)
    return undo


def decisions_for(vote: Vote) -> list[Decision]:
    """Every decision on the vote, undos and undone ones included, newest first.

    Each comes with who made it and, for an undo, the decision it took back.
    """
    return list(
        Decision.objects.filter(vote=vote)
        .select_related("by", "post", "reverts__by")
        .order_by("-at", "-pk")
    )


def undone_ids(decisions: list[Decision]) -> set[int]:
    """The ids of the decisions among these that an undo among them took back."""
    return {d.reverts_id for d in decisions if d.reverts_id is not None}


def standing(decisions: list[Decision]) -> list[Decision]:
    """The decisions the fold applies, in the given order (as `Decision.objects.standing()`)."""
    undone = undone_ids(decisions)
    return [d for d in decisions if d.action != Decision.Action.UNDO and d.pk not in undone]


# --- 2. What the audit page shows -----------------------------------------------

# The page's tabs; votes/audit_pages.py lists a tab's posts a page at a time.
SHOW = ("held", "all", "excluded", "mentions", "decided")


@dataclass(frozen=True)
class SuggestionCheck:
    """A suggested answer set against what the post wrote for that prompt.

    The reader may suggest fewer options than the post gave ("2-A, C maybe"
    suggested as A): the moderator must see that accepting drops C, and be
    offered the answer as written.
    """

    written: str  # the post's line(s) the held-back answer was read from
    given: tuple[str, ...]  # the option letters written there, in the order written
    kept: tuple[str, ...]  # suggested and written
    dropped: tuple[str, ...]  # written, not in the suggestion
    added: tuple[str, ...]  # suggested, not written
    full: tuple[str, ...] | None  # every letter given, as the prompt counts it; None: it cannot


@dataclass
class FlagView:
    flag: Flag
    kind: str  # the prompt's kind ("" for a whole post): which answer fields to offer
    decision: Decision | None  # the ruling in force on (post, flag.prompt)
    check: SuggestionCheck | None = None  # the suggestion against the text, for letters


@dataclass
class AnswerView:
    answer: Answer
    kind: str
    decision: Decision | None  # a ruling that overrides the answer as read


@dataclass
class PostAudit:
    post: Post
    reading: ReadingOut | None  # None: not read yet
    stale: bool  # read at an older version of the post or vote
    text: SafeString  # the post's text, escaped, counted answers marked
    answers: list[AnswerView] = field(default_factory=list)
    flags: list[FlagView] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)  # newest first
    tally_holds: list[dict] = field(default_factory=list)  # the last tally's `flagged` rows
    # Why the last tally did not count the post when the Reading alone does not say
    # (superseded by the voter's later posts, ruled out by a moderator).
    tally_excluded: str | None = None
    by_quest_master: bool = False  # never a ballot: no decision is offered
    rulings: list[Decision] = field(default_factory=list)  # in force, shown by no answer or flag
    overruled: bool = False  # a ruling in force counts something from it, whatever was read
    ruled: bool = False  # some ruling on it is in force (the "Decided" tab)

    @property
    def is_held(self) -> bool:
        return bool(self.flags or self.tally_holds)

    @property
    def is_awaiting(self) -> bool:
        """Something here is held back and no moderator has ruled on it yet."""
        return any(f.decision is None for f in self.flags) or any(
            h["decision"] is None for h in self.tally_holds
        )

    @property
    def excluded(self) -> str | None:
        """Why the post is not counted, as read or as last tallied; None when it counts."""
        read = self.reading.excluded if self.reading else None
        # As the fold does: a moderator's ruling that counts something lets the post in.
        return (None if self.overruled else read) or self.tally_excluded

    @property
    def is_excluded(self) -> bool:
        return self.excluded is not None

    @property
    def is_mention(self) -> bool:
        """Read as chatter, yet it says something about the vote: worth a moderator's look."""
        reading = self.reading
        return (
            reading is not None and reading.kind == PostKind.NOT_BALLOT and bool(reading.mentions)
        )

    def in_tab(self, show: str) -> bool:
        """Whether the audit's tab `show` lists this post ("held": still awaiting a ruling)."""
        if show == "held":
            return self.is_awaiting
        if show == "excluded":
            return self.is_excluded
        if show == "mentions":
            return self.is_mention
        if show == "decided":
            return self.ruled
        return True


def tab_counts(items: list[PostAudit]) -> dict[str, int]:
    """How many of the window's posts (all of them, `items`) each tab lists."""
    return {show: sum(1 for i in items if i.in_tab(show)) for show in SHOW}


def audit_posts(
    vote: Vote,
    *,
    spec: VoteSpec,
    decisions: list[Decision],
    show: str = "held",
    ref: int | None = None,
    pks: Collection[int] | None = None,
    tally_holds: audit_pages.Holds | None = None,
) -> list[PostAudit]:
    """The window's posts (or the one with `ref`, or those with `pks`) as the audit page shows them.

    A fixed number of queries whatever the number of posts: posts, Readings,
    and the latest tally's holds (unless the caller has them: `tally_holds`); `spec`
    and `decisions` come from the caller, which shows them too.
    """
    if pks is not None and not pks:
        return []  # an empty page of a tab
    bounds = selectors.window_bounds(vote)
    if bounds is None:
        return []
    posts = Post.objects.filter(quest_id=vote.chapter.quest_id).between(
        after_seq=bounds[0], before_seq=bounds[1]
    )
    if ref is not None:
        posts = posts.filter(ref=ref)
    if pks is not None:
        posts = posts.filter(pk__in=list(pks))  # a page of a tab (votes/audit_pages.py)
    posts = list(posts.select_related("author").order_by("seq"))
    rows = {
        r.post_id: r for r in Reading.objects.filter(vote=vote, post_id__in=[p.pk for p in posts])
    }
    # Not the run's voters and inputs: its holds and exclusions only.
    flagged, excluded = tally_holds or audit_pages.latest_holds(vote)
    holds: dict[int, list[dict]] = {}
    for h in flagged:
        holds.setdefault(h["post"], []).append(h)
    dropped = {e["post"]: e["reason"] for e in excluded}
    by_post: dict[int, list[Decision]] = {}
    for d in decisions:
        by_post.setdefault(d.post_id, []).append(d)
    items = [
        _post_audit(vote, post, rows.get(post.pk), by_post.get(post.pk, []), holds, spec)
        for post in posts
    ]
    for item in items:
        item.tally_excluded = dropped.get(item.post.ref)
        item.by_quest_master = item.post.author_id == vote.chapter.quest.quest_master_id
    return [i for i in items if i.in_tab(show)]


def _post_audit(
    vote: Vote,
    post: Post,
    row: Reading | None,
    decisions: list[Decision],
    holds: dict,
    spec: VoteSpec,
) -> PostAudit:
    kinds = {p.number: str(p.kind) for p in spec.prompts}
    reading = ReadingOut.from_json(row.data) if row is not None else None
    stale = row is not None and row.is_stale(post, vote)
    latest = in_force(reversed(standing(decisions)))  # decisions come newest first
    # A ruling that replaces the whole post settles every prompt of it too.
    whole = latest.get(None)
    settles_all = whole if whole is not None and whole.action != Decision.Action.ACCEPT else None
    same_version = row is not None and row.post_version == post.version
    if reading is None or not same_version:
        text = highlight(post.body, [], [])  # spans point into another version
    else:
        text = highlight(
            post.body,
            [s for a in reading.answers for s in a.spans],
            [s for f in reading.flags for s in f.spans],
        )
    answers, flags = [], []
    if reading is not None:
        answers = [
            AnswerView(a, kinds.get(a.prompt, ""), latest.get(a.prompt)) for a in reading.answers
        ]
        body = post.body if same_version else None  # spans point into this version only
        flags = [
            FlagView(
                f,
                _kind(kinds, f.prompt),
                latest.get(f.prompt) or settles_all,
                suggestion_check(f, spec, body) if body is not None else None,
            )
            for f in reading.flags
        ]
    # The tally also holds back what only folding finds (proxy loops, joins to nobody).
    flagged_prompts = {f.prompt for f in reading.flags} if reading else set()
    extra = [
        {
            **h,
            "kind": kinds.get(h.get("prompt"), ""),
            "decision": latest.get(h.get("prompt")) or settles_all,
        }
        for h in holds.get(post.ref, [])
        if h.get("prompt") not in flagged_prompts
    ]
    item = PostAudit(post, reading, stale, text, answers, flags, decisions, extra)
    # Rulings shown by no answer or flag above: on chatter, or on prompts it did not answer.
    shown = {a.answer.prompt for a in answers} | {f.flag.prompt for f in flags}
    shown |= {h.get("prompt") for h in extra}
    item.rulings = [d for prompt, d in latest.items() if prompt not in shown]
    item.overruled = any(d.action in _COUNTING for d in latest.values())
    item.ruled = bool(latest)
    return item


def _kind(kinds: dict[int, str], prompt: int | None) -> str:
    """A prompt's kind, "" for a whole post (prompt None) or a prompt the vote lacks."""
    return kinds.get(prompt, "") if prompt is not None else ""


def suggestion_check(flag: Flag, spec: VoteSpec, body: str) -> SuggestionCheck | None:
    """The flag's suggested letters against the letters its line(s) of `body` give.

    1. Take the lines of the post the flag (or its suggestion) was read from.
    2. Find the prompt's number there ("2-", "2.", "2)", "2 ") and read what
       follows up to the next numbered answer: a first word made only of
       option letters ("AC", "a, c") and every later one-letter word that is
       an option ("A and maybe C", "A (C maybe)", "C > A").
    3. Compare with the suggestion. Errs towards seeing letters: a moderator
       reads the text beside it, and a letter shown as dropped is a question,
       where a letter silently dropped is a lost vote.
    None when there is nothing to compare: no letters suggested, or a write-in.
    """
    suggestion = flag.suggestion
    if suggestion is None or not suggestion.letters:
        return None
    prompt = spec.prompt(suggestion.prompt)
    if prompt is None or prompt.kind not in _LETTER_KINDS:
        return None
    written = _lines_of(body, (*flag.spans, *suggestion.spans))
    given = _letters_given(written, prompt)
    if not given:
        return None
    kept = tuple(x for x in suggestion.letters if x in given)
    dropped = tuple(x for x in given if x not in suggestion.letters)
    added = tuple(x for x in suggestion.letters if x not in given)
    full: tuple[str, ...] | None = None  # a single-choice prompt cannot take two
    if prompt.kind == PromptKind.MULTI:
        full = tuple(sorted(given))
    elif prompt.kind == PromptKind.RANKED or len(given) == 1:
        full = given  # the order written is the preference
    return SuggestionCheck(written, given, kept, dropped, added, full)


def _lines_of(body: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The whole lines of `body` that the spans touch, joined by " / "."""
    lines, start = [], 0
    for line in body.splitlines(keepends=True):
        end = start + len(line)
        if any(a < end and b > start for a, b in spans):
            lines.append(line.strip())
        start = end
    return " / ".join(x for x in lines if x)


_NEXT_ANSWER = re.compile(r"(?<![\w.])\d+\s*[-–—:.)]")


def _letters_given(text: str, prompt: PromptSpec) -> tuple[str, ...]:
    """The option letters `text` gives for `prompt`, in the order written, each once."""
    label = re.search(rf"(?<![\w.]){prompt.number}(?!\d)\s*[-–—:.)]?\s*(?=[A-Za-z])", text)
    if label is None:
        return ()
    tail = text[label.end() :]
    other = _NEXT_ANSWER.search(tail)
    words = re.findall(r"[A-Za-z]+", tail[: other.start()] if other else tail)
    options = {o.letter for o in prompt.options}
    letters: list[str] = []
    lower = False  # a voter who wrote "a, c" writes later letters in lower case too
    if words and all(c in options for c in words[0].upper()):
        letters += words[0].upper()
        lower = words[0].islower()
        words = words[1:]
    letters += [w.upper() for w in words if len(w) == 1 and (w.isupper() or lower)]
    return tuple(x for x in dict.fromkeys(letters) if x in options)


def highlight(
    body: str, answer_spans: list[tuple[int, int]], flag_spans: list[tuple[int, int]]
) -> SafeString:
    """The body as safe HTML: every segment escaped, `<mark>` around the spans.

    Spans are character offsets into `body`; they may overlap or be out of
    order. A character in an answer span is marked as counted; one only in a
    flag's span as held back. Line breaks become `<br>`.
    """
    n = len(body)

    def clamp(spans):
        return [(max(0, a), min(n, b)) for a, b in spans if min(n, b) > max(0, a)]

    answers, flags = clamp(answer_spans), clamp(flag_spans)
    cuts = sorted({0, n, *(x for s in answers + flags for x in s)})
    # One sweep over the cut points, counting how many spans of each kind are
    # open: linear in the spans (after the sort), however many a post has.
    at = {x: i for i, x in enumerate(cuts)}
    opened = [[0, 0] for _ in cuts]  # per cut: [answer spans, flag spans] starting minus ending
    for kind, spans in ((0, answers), (1, flags)):
        for a, b in spans:
            opened[at[a]][kind] += 1
            opened[at[b]][kind] -= 1
    runs: list[tuple[str, int, int]] = []  # (mark class or "", start, end), neighbours merged
    depth = [0, 0]
    for i, (start, end) in enumerate(zip(cuts, cuts[1:], strict=False)):
        depth[0] += opened[i][0]
        depth[1] += opened[i][1]
        mark = "counted" if depth[0] else "held" if depth[1] else ""
        if runs and runs[-1][0] == mark:
            runs[-1] = (mark, runs[-1][1], end)
        else:
            runs.append((mark, start, end))
    out = [
        f'<mark class="{mark}">{escape(body[a:b])}</mark>' if mark else escape(body[a:b])
        for mark, a, b in runs
    ]
    html = "".join(out).replace("\r\n", "\n").replace("\n", "<br>\n")
    # Safe: every piece of the post's text went through escape() above.
    return mark_safe(html)


# --- 3. Verifying a stored tally ----------------------------------------------


def tally_verify(*, run: TallyRun) -> dict:
    """Recompute a stored tally from scratch and compare it with what was stored.

    1. Take each post the run names, at the version it names, from its
       revisions (an imported post's only revision is its body), and the
       thread before the window as it stood when the run was made.
    2. Read them all afresh with the reader (no stored Readings, no caches).
    3. Fold with exactly the decisions the run names, build the tally with the
       run's status, the vote's ranked method and the entry merges the run
       names, and compare SHA-256 digests:
       the recount's with the stored one, and the stored one with the stored
       data's (a row edited after it was computed no longer matches its digest).
    A different reading-rules or vote-spec version explains a mismatch.
    """
    vote = Vote.objects.select_related("chapter__quest__quest_master", "post").get(pk=run.vote_id)
    spec = selectors.vote_spec(vote)
    named = [(int(ref), int(version)) for ref, version in run.inputs.get("posts", [])]
    context, window, missing = _thread_as_of(vote, run, named)
    readings = read_thread(spec, [*context, *window])[len(context) :]
    deleted = selectors.deleted_at(vote, named)
    readings = [selectors.deleted_reading(r) if r.post_id in deleted else r for r in readings]
    ids = list(run.inputs.get("decisions", []))
    decisions = list(
        Decision.objects.filter(pk__in=ids).select_related("post").order_by("at", "pk")
    )
    folded = fold(spec, readings, [selectors.decision_in(d) for d in decisions])
    # The write-in merges standing at the run, whether undone since or not.
    merges = EntryMerge.objects.filter(pk__in=run.inputs.get("merges", [])).order_by("at", "pk")
    tally = tally_json(
        vote=spec,
        folded=folded,
        quest=vote.chapter.quest.slug,
        chapter=vote.chapter.number,
        status=run.data.get("status", vote.status),
        method=vote.ranked_method,
        pass_rules=selectors.pass_rules(vote),
        merges=selectors.merges_in(list(merges)),
        suggestions=selectors.suggestions(vote, spec),
    )
    sha = tally_sha256(tally)
    notes = list(missing)
    # The digest was taken when the run was stored; data edited since no longer hashes to it.
    intact = tally_sha256(run.data) == run.sha256
    if not intact:
        notes.append(
            "The stored tally's data does not hash to its stored SHA-256: "
            "the row was changed after it was computed."
        )
    if len(decisions) != len(ids):
        notes.append(f"{len(ids) - len(decisions)} decision(s) named by the run no longer exist.")
    if run.rules_version != RULES_VERSION:
        notes.append(
            f"The run was read with reading rules version {run.rules_version}, these are "
            f"version {RULES_VERSION}: differences are expected, not a fault."
        )
    spec_version = run.inputs.get("spec_version")
    if spec_version is not None and spec_version != vote.spec_version:
        notes.append(
            f"The vote's prompts or window changed since the run (version {spec_version}, "
            f"now {vote.spec_version}): differences are expected, not a fault."
        )
    match = intact and sha == run.sha256
    return {
        "match": match,
        "sha256": sha,
        "stored": run.sha256,
        "posts": len(window),
        "decisions": len(decisions),
        "rules_version": run.rules_version,
        "notes": notes,
        "differences": [] if match else tally_differences(run.data, tally),
    }


def _thread_as_of(
    vote: Vote, run: TallyRun, named: list[tuple[int, int]]
) -> tuple[list[PostIn], list[PostIn], list[str]]:
    """The posts before the window as they stood at the run, and the window's named versions."""
    bounds = selectors.window_bounds(vote)
    before = selectors.context_posts(vote, upto_seq=bounds[0] + 1) if bounds else []
    by_ref = {
        p.ref: p
        for p in Post.objects.filter(
            quest_id=vote.chapter.quest_id, ref__in=[ref for ref, _ in named]
        ).select_related("author")
    }
    revisions: dict[int, list[PostRevision]] = {}
    for r in PostRevision.objects.filter(post__in=[*before, *by_ref.values()]).order_by("version"):
        revisions.setdefault(r.post_id, []).append(r)
    names = voter_names(vote.chapter.quest)
    context = []
    for post in before:
        revs = revisions.get(post.pk, [])
        version = max((r.version for r in revs if r.created_at <= run.created_at), default=1)
        context.append(_post_at(post, revs, version, names))
    window, missing = [], []
    for ref, version in named:
        stored = by_ref.get(ref)
        revs = revisions.get(stored.pk, []) if stored is not None else []
        if stored is None or not any(r.version == version for r in revs):
            missing.append(f"Post {ref} version {version} is no longer stored.")
            continue
        window.append(_post_at(stored, revs, version, names))
    return context, window, missing


def _post_at(
    post: Post, revs: list[PostRevision], version: int, names: Mapping[int, str]
) -> PostIn:
    """The post as the reader saw it at `version` (cf. selectors.post_in for the current one)."""
    upto = [r for r in revs if r.version <= version]
    author = name_of(names, post.author)
    if not upto:  # no revision rows at all: only the current body is known
        if version == post.version:
            return selectors.post_in(post, names=names)
        return PostIn(post.ref, author, post.posted_at, post.body, post.edited_at)
    body = upto[-1].body
    if post.imported:
        # Imported posts only know their last edit time, not their revisions.
        edited_at = post.edited_at if version == 1 else upto[-1].created_at
        return PostIn(post.ref, author, post.posted_at, body, edited_at)
    history = tuple(
        Revision(body=r.body, at=nxt.created_at) for r, nxt in zip(upto, upto[1:], strict=False)
    )
    edited_at = upto[-1].created_at if version > 1 else None
    return PostIn(post.ref, author, post.posted_at, body, edited_at, history)


def tally_differences(stored: Mapping[str, Any], recomputed: Mapping[str, Any]) -> list[str]:
    """What differs between two quest-tally/1 documents, in sentences, per prompt and voter."""
    out = []
    for key in ("status", "ballots"):
        if stored.get(key) != recomputed.get(key):
            was, now = stored.get(key), recomputed.get(key)
            out.append(f"{key.title()}: stored {was}, recomputed {now}.")
    theirs = {p["number"]: p for p in stored.get("prompts", [])}
    ours = {p["number"]: p for p in recomputed.get("prompts", [])}
    for number in sorted(theirs.keys() | ours.keys()):
        if number not in ours or number not in theirs:
            where = "the stored tally" if number in theirs else "the recount"
            out.append(f"Prompt {number} is only in {where}.")
        elif theirs[number] != ours[number]:
            out += _prompt_differences(number, theirs[number], ours[number])
    for key, label in (("flagged", "held back"), ("excluded", "excluded")):
        a = {_row_key(r) for r in stored.get(key, [])}
        b = {_row_key(r) for r in recomputed.get(key, [])}
        out += [f"Stored tally has {label}: {r}; the recount does not." for r in sorted(a - b)]
        out += [f"The recount has {label}: {r}; the stored tally does not." for r in sorted(b - a)]
    if not out:
        out.append("The documents differ in a detail not listed here: compare the JSON.")
    return out


def _row_key(row: dict) -> str:
    prompt = f", prompt {row['prompt']}" if row.get("prompt") is not None else ""
    return f"post {row.get('post')} by {row.get('author')}{prompt} ({row.get('reason')})"


def _prompt_differences(number: int, stored: dict, ours: dict) -> list[str]:
    out = []
    rows = "options" if "options" in stored or "options" in ours else "entries"
    label = "option" if rows == "options" else "entry"
    a = {r.get("letter") or r.get("text"): r for r in stored.get(rows) or []}
    b = {r.get("letter") or r.get("text"): r for r in ours.get(rows) or []}
    for name in sorted(a.keys() | b.keys()):
        x, y = a.get(name, {}), b.get(name, {})
        shown = f"Prompt {number}, {label} {_short(name)}"
        for voter in sorted(set(x.get("voters", [])) - set(y.get("voters", []))):
            out.append(f"{shown}: the stored tally counts {voter}; the recount does not.")
        for voter in sorted(set(y.get("voters", [])) - set(x.get("voters", []))):
            out.append(f"{shown}: the recount counts {voter}; the stored tally does not.")
        if x.get("votes") != y.get("votes"):
            out.append(f"{shown}: {x.get('votes', 0)} votes stored, {y.get('votes', 0)} recounted.")
    for key in ("leaders", "winner", "method"):
        if stored.get(key) != ours.get(key):
            was, now = stored.get(key), ours.get(key)
            out.append(f"Prompt {number}, {key}: stored {was}, recomputed {now}.")
    if not out:
        out.append(f"Prompt {number} differs in detail (ranks, texts or order): compare the JSON.")
    return out


def _short(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= 40 else text[:39] + "…"
