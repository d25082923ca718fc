"""Fold a vote's Readings into one counted ballot per voter.

`fold` is the public function, and `Folding` the same fold taken in parts. It
is pure: the same Readings and Decisions always give the same Folded, and it
runs in time linear in the number of Readings (proxy chains are resolved once
each, never walked in a loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from votes.reading import xfold
from votes.reading.rulings import Given, in_force, nothing_read, ruled_answer
from votes.reading.types import (
    Answer,
    Counted,
    Decision,
    DecisionAction,
    Excluded,
    Flag,
    Folded,
    HeldBack,
    PromptKind,
    PromptSpec,
    Reading,
    VoteSpec,
)

_LETTER_KINDS = frozenset({PromptKind.SINGLE, PromptKind.MULTI, PromptKind.RANKED})


@dataclass(slots=True)
class _Ballot:
    """What one voter has at some moment: counted answers and held-back ones."""

    answers: dict[int, Counted] = field(default_factory=dict)
    # prompt (None: a whole post) -> answers held back for a moderator
    held: dict[int | None, list[HeldBack]] = field(default_factory=dict)

    def copy(self) -> _Ballot:
        return _Ballot(dict(self.answers), {k: list(v) for k, v in self.held.items()})

    def hold(self, held: HeldBack) -> None:
        self.held.setdefault(held.prompt, []).append(held)

    def count(self, prompt: int, counted: Counted) -> None:
        self.answers[prompt] = counted
        # The voter's own later answer settles what an earlier held-back one asked.
        self.held.pop(prompt, None)

    def overlay(self, own: _Ballot) -> None:
        for prompt, counted in own.answers.items():
            self.count(prompt, counted)
        for held in own.held.values():
            for one in held:
                self.hold(one)


@dataclass(slots=True)
class _Proxy:
    target: str
    post_id: int
    pinned: bool
    # What stands when the proxy is held back: a held-back answer changes nothing.
    before: _Ballot
    snapshot: _Ballot | None = None  # pinned: the target's ballot as of the proxy post
    refused: str | None = None  # pinned: why the snapshot could not be taken


@dataclass(slots=True)
class _Voter:
    own: _Ballot = field(default_factory=_Ballot)  # answers given in own posts
    proxy: _Proxy | None = None


def fold(vote: VoteSpec, readings: Iterable[Reading], decisions: Sequence[Decision] = ()) -> Folded:
    """Fold Readings (in post order) into one counted ballot per voter.

    `readings` is iterated once and no Reading is kept (only what it counts):
    a recount feeds it a long window's stored rows a chunk at a time (issue 14).

    1. An excluded Reading goes to `excluded` and changes nothing, unless a
       moderator counted something from it (set, proxy): then only what the
       moderator decided counts, as from a post at that place.
    2. A flag on the whole post holds the post back: nothing read from it
       counts until a moderator decides on the whole post (accept: the post
       counts as read, plus the flag's suggestion; set: the moderator's answer
       counts instead; proxy: the author follows the voter named; reject:
       nothing). Any post may be ruled on so, chatter included: set, proxy and
       reject replace what was read, and rulings on single prompts (made after
       those) apply, held post or not.
    3. A full replacement clears the voter's earlier ballot (and proxy) first.
    4. A proxy moves the voter's own answers aside (they stand again if the
       proxy is held back); a pinned proxy takes the target's ballot now.
    5. Each answer of the post replaces the voter's earlier answer to that
       prompt. A flag on a prompt holds it back and the earlier answer stands
       (or the answer read beside the flag, such as the one standing at the
       close), unless a decision for (post, prompt) says otherwise. An
       endorsement is no different: the reader already copied the endorsed
       answers into it.
    6. A write-in that joins another poster takes that poster's counted
       write-in as it stands at this post, or is held back with a suggestion.
    7. After the last post, tracking proxies follow their target's final
       ballot; own answers posted after the proxy override it prompt by prompt.
       A proxy to nobody with a counted ballot, to the quest master, or round a
       cycle is held back, and what the voter had before it stands.
    8. A post that gave answers of which none counts in the end (every one
       replaced by the voter's later posts, or ruled out by a moderator) is
       listed in `excluded` with why, beside the excluded Readings.
    """
    folding = Folding(vote, decisions)
    folding.add(readings)
    return folding.result()


class Folding:
    """A fold that takes its Readings in parts: `fold` in steps.

    `add` takes the next Readings in post order; `result` is what `fold` of every
    Reading added so far gives, and changes nothing, so more can be added after
    it. A live vote's recount after new posts at the end of its window adds only
    those to the last recount's Folding (votes/services.py) instead of folding
    every post again (issue 14).
    """

    def __init__(self, vote: VoteSpec, decisions: Sequence[Decision] = ()) -> None:
        self._folder = _Folder(vote, decisions)
        self._excluded: list[Excluded] = []

    def add(self, readings: Iterable[Reading]) -> None:
        folder = self._folder
        for reading in readings:
            folder.position.setdefault(reading.post_id, len(folder.position))
            if reading.excluded is None:
                folder.apply(reading)
            elif folder.overruled(reading.post_id):
                folder.was_excluded[reading.post_id] = reading.excluded
                folder.apply(nothing_read(reading))
            else:
                self._excluded.append(Excluded(reading.post_id, reading.author, reading.excluded))

    def result(self) -> Folded:
        return self._folder.result(self._excluded)


class _Folder:
    def __init__(self, vote: VoteSpec, decisions: Sequence[Decision]) -> None:
        self.vote = vote
        # Letters match options as the reader wrote them: upper case.
        self.prompts = {p.number: (p, frozenset(o.letter for o in p.options)) for p in vote.prompts}
        self.voters: dict[str, _Voter] = {}
        self.names: dict[str, str] = {}  # casefolded name -> name as posted
        self.position: dict[int, int] = {}  # post id -> place in post order
        by_post: dict[int, list[Decision]] = {}
        for decision in decisions:
            if decision.prompt is None or decision.action != DecisionAction.PROXY:
                by_post.setdefault(decision.post_id, []).append(decision)
        self.rulings = {post_id: in_force(ds) for post_id, ds in by_post.items()}
        # Posts that gave answers (or a proxy, or held-back ones): each must end
        # up counted, held back, or listed in `excluded` with why.
        self.shaped: dict[int, str] = {}  # post id -> author
        self.lost: dict[int, set[int]] = {}  # post id -> later posts that took its place
        self.rejected: set[int] = set()  # posts a moderator ruled something out of
        # Excluded posts a moderator counted something from: why they were excluded.
        self.was_excluded: dict[int, str] = {}

    def overruled(self, post_id: int) -> bool:
        """Whether a moderator counted something from this post, whatever it was read as."""
        counting = (DecisionAction.SET, DecisionAction.PROXY)
        return any(r.action in counting for r in self.rulings.get(post_id, {}).values())

    def apply(self, reading: Reading) -> None:
        voter = self._voter(reading.author)
        rulings = self.rulings.get(reading.post_id, {})
        given = Given.read(reading)
        whole = rulings.get(None)
        if given.gives:
            self.shaped[reading.post_id] = reading.author
        if whole is None and None in given.flags:
            for flag in given.flags[None]:
                voter.own.hold(self._held(reading, None, flag.reason, flag.suggestion))
            given = Given()  # nothing read counts while it waits; rulings on prompts do
        elif whole is not None:
            given = given.ruled(whole)
            if whole.action == DecisionAction.REJECT:
                self.rejected.add(reading.post_id)
            if given.gives:  # what the moderator counted must end somewhere too
                self.shaped[reading.post_id] = reading.author
        if given.replaces:
            self._lose_all(voter, reading.post_id)
            voter.own, voter.proxy = _Ballot(), None
        if given.proxy_of is not None:
            self._proxy(voter, reading, given.proxy_of, pinned=given.pinned)

        prompts = {p for p in (*given.answers, *given.flags, *rulings) if p is not None}
        for prompt in sorted(prompts):
            self._answer(
                voter, reading, prompt, given.answers.get(prompt), given.flags.get(prompt, ())
            )

    def _answer(
        self,
        voter: _Voter,
        reading: Reading,
        prompt: int,
        answer: Answer | None,
        flags: Sequence[Flag],
    ) -> None:
        ruling = self.rulings.get(reading.post_id, {}).get(prompt)
        if ruling is not None and ruling.action == DecisionAction.REJECT:
            self.rejected.add(reading.post_id)
        answer = ruled_answer(ruling, answer, flags)
        if answer is not None:
            self._count(voter, reading, prompt, answer, decided=ruling is not None)
        # Held after counting, so the answer counted beside a flag does not settle it.
        for flag in flags if ruling is None else ():
            voter.own.hold(self._held(reading, prompt, flag.reason, flag.suggestion))

    def _count(
        self, voter: _Voter, reading: Reading, prompt: int, answer: Answer, *, decided: bool
    ) -> None:
        self.shaped[reading.post_id] = reading.author
        answer = answer if answer.prompt == prompt else replace(answer, prompt=prompt)
        problem = _invalid(self.prompts, answer)
        if problem is None and answer.joins is not None:
            answer, problem = self._join(answer, decided=decided)
        if problem is None and xfold.has_refs(answer, pinned=True):  # "[X] ^Anya": as it is now
            answer, problem = xfold.pin(answer, self._counted_now)
        if problem is not None:
            voter.own.hold(self._held(reading, prompt, problem, answer))
            return
        self._lose(_answered_by(voter, prompt), reading.post_id)
        voter.own.count(prompt, Counted(answer, reading.post_id))

    def _lose(self, post_ids: Iterable[int], by: int) -> None:
        for post_id in post_ids:
            if post_id != by:
                self.lost.setdefault(post_id, set()).add(by)

    def _lose_all(self, voter: _Voter, by: int) -> None:
        """Everything the voter has so far gives way to post `by` (a replacement, a proxy)."""
        own = voter.own
        self._lose((c.post_id for c in own.answers.values()), by)
        self._lose((h.post_id for held in own.held.values() for h in held), by)
        if voter.proxy is not None:
            self._lose([voter.proxy.post_id], by)

    def _join(self, answer: Answer, *, decided: bool) -> tuple[Answer, str | None]:
        name = self._name(answer.joins or "")
        theirs = self._resolver().ballot(name).answers.get(answer.prompt) if name else None
        if theirs is not None and theirs.answer.text:
            return replace(answer, text=theirs.answer.text), None
        if decided:  # a moderator accepted it as written
            return answer, None
        return answer, f"joins {answer.joins}'s write-in, but {answer.joins} has none counted"

    def _counted_now(self, who: str, prompt: int) -> Answer | None:
        name = self._name(who)
        counted = self._resolver().ballot(name).answers.get(prompt) if name else None
        return counted.answer if counted is not None else None

    def _proxy(self, voter: _Voter, reading: Reading, target: str, *, pinned: bool) -> None:
        self.shaped[reading.post_id] = reading.author
        self._lose_all(voter, reading.post_id)
        proxy = _Proxy(target, reading.post_id, pinned, before=voter.own)
        if proxy.pinned:
            resolver = self._resolver()
            name, proxy.refused = resolver.refusal(reading.author, target)
            if proxy.refused is None:
                proxy.snapshot = resolver.ballot(name).copy()
                if not proxy.snapshot.answers:
                    proxy.refused = f"proxy to {target}, who has no counted ballot"
        voter.own, voter.proxy = _Ballot(), proxy

    def result(self, excluded: list[Excluded]) -> Folded:
        # Changes nothing of the folder (the resolver works on copies of the ballots):
        # a Folding asks for it between one part of the Readings and the next.
        resolver = self._resolver()
        folded = Folded()
        held: list[HeldBack] = []
        ballots = {name: resolver.ballot(name) for name in sorted(self.voters)}
        _expand_line_proxies(ballots, self._name)
        for name, ballot in ballots.items():
            if ballot.answers:
                folded.ballots[name] = dict(sorted(ballot.answers.items()))
            for one in ballot.held.values():
                held.extend(one)
        last = len(self.position)
        folded.flagged = sorted(
            held,
            key=lambda h: (
                self.position.get(h.post_id, last),
                h.prompt is not None,
                h.prompt or 0,
                h.author,
            ),
        )
        excluded = [*excluded, *self._uncounted(folded)]
        folded.excluded = sorted(excluded, key=lambda e: self.position.get(e.post_id, last))
        return folded

    def _uncounted(self, folded: Folded) -> list[Excluded]:
        """Posts that gave answers of which nothing counts or waits for a moderator now."""
        standing = {c.post_id for ballot in folded.ballots.values() for c in ballot.values()}
        standing |= {h.post_id for h in folded.flagged}
        return [
            Excluded(post_id, author, self._why_uncounted(post_id))
            for post_id, author in self.shaped.items()
            if post_id not in standing
        ]

    def _why_uncounted(self, post_id: int) -> str:
        later = sorted(self.lost.get(post_id, ()), key=lambda p: self.position.get(p, p))
        if len(later) == 1:
            return f"superseded by post {later[0]}"
        if later:
            return f"superseded by posts {', '.join(map(str, later[:-1]))} and {later[-1]}"
        if post_id in self.rejected:
            return "a moderator decided to count nothing from it"
        if post_id in self.was_excluded:
            return f"{self.was_excluded[post_id]}; what a moderator counted from it was ruled out"
        return "nothing from it is counted"

    def _voter(self, name: str) -> _Voter:
        if name not in self.voters:
            self.voters[name] = _Voter()
            self.names.setdefault(name.casefold(), name)
        return self.voters[name]

    def _name(self, name: str) -> str | None:
        return name if name in self.voters else self.names.get(name.casefold())

    def _resolver(self) -> _Resolver:
        return _Resolver(self.voters, self._name, self.vote.quest_master)

    def _held(
        self, reading: Reading, prompt: int | None, reason: str, suggestion: Answer | None
    ) -> HeldBack:
        return HeldBack(reading.post_id, reading.author, prompt, reason, suggestion)


class _Resolver:
    """Counted ballots of voters as their posts stand now, proxies followed.

    Each voter is resolved once; chains are walked with an explicit path so a
    cycle is found instead of followed, and long chains cannot overflow the stack.
    """

    def __init__(
        self, voters: Mapping[str, _Voter], name_of: Callable[[str], str | None], quest_master: str
    ) -> None:
        self.voters = voters
        self.name_of = name_of
        self.quest_master = quest_master.casefold()
        self.done: dict[str, _Ballot] = {}

    def refusal(self, voter: str, target: str) -> tuple[str, str | None]:
        """The target's voter name, and why a proxy to it cannot be followed."""
        if target.casefold() == self.quest_master:
            return target, f"proxy to the quest master {target}"
        name = self.name_of(target)
        if name is None:
            return target, f"proxy to {target}, who has no counted ballot"
        if name == voter:
            return name, "proxy to themself"
        return name, None

    def ballot(self, start: str) -> _Ballot:
        path: list[str] = []
        on_path: dict[str, int] = {}
        targets: dict[str, str] = {}
        name = start
        while name not in self.done:
            proxy = self.voters[name].proxy
            if proxy is None or proxy.pinned:
                self.done[name] = self._settle(name, proxy)
                break
            if name in on_path:
                cycle = path[on_path[name] :]
                loop = " → ".join([*cycle, name])
                for member in cycle:
                    self.done[member] = self._held(member, f"proxy loop: {loop}")
                break
            target, refused = self.refusal(name, proxy.target)
            if refused is not None:
                self.done[name] = self._held(name, refused)
                break
            on_path[name] = len(path)
            path.append(name)
            targets[name] = target
            name = target
        for name in reversed(path):
            if name not in self.done:
                self.done[name] = self._follow(name, targets[name], self.done[targets[name]])
        return self.done[start]

    def _settle(self, name: str, proxy: _Proxy | None) -> _Ballot:
        """A voter with no proxy, or a pinned one: nothing further to follow."""
        if proxy is None:
            return self.voters[name].own.copy()
        if proxy.snapshot is None:
            return self._held(name, proxy.refused or f"proxy to {proxy.target} not followed")
        return self._follow(name, proxy.target, proxy.snapshot)

    def _follow(self, name: str, target: str, theirs: _Ballot) -> _Ballot:
        voter = self.voters[name]
        proxy = voter.proxy
        assert proxy is not None
        if not theirs.answers:
            return self._held(name, f"proxy to {target}, who has no counted ballot")
        ballot = _Ballot()
        for prompt, counted in theirs.answers.items():
            answer = replace(counted.answer, spans=(), reason=f"follows {target}")
            ballot.answers[prompt] = Counted(answer, proxy.post_id)
        for number, held in theirs.held.items():
            reason = f"follows {target}, whose answer is held back: {held[0].reason}"
            ballot.hold(HeldBack(proxy.post_id, name, number, reason, held[0].suggestion))
        ballot.overlay(voter.own)
        return ballot

    def _held(self, name: str, reason: str) -> _Ballot:
        voter = self.voters[name]
        assert voter.proxy is not None
        ballot = voter.proxy.before.copy()
        ballot.hold(HeldBack(voter.proxy.post_id, name, None, reason))
        ballot.overlay(voter.own)
        return ballot


def _expand_line_proxies(ballots: dict[str, _Ballot], name_of: Callable[[str], str | None]) -> None:
    """ "[X] Anya" lines beside others take Anya's final lines (xfold.expand); a loop holds."""
    answers = {name: ballot.answers for name, ballot in ballots.items()}
    done, problems = xfold.expand(answers, name_of)
    for (name, prompt), answer in done.items():
        counted = ballots[name].answers[prompt]
        ballots[name].answers[prompt] = Counted(answer, counted.post_id)
    for (name, prompt), reason in problems.items():
        counted = ballots[name].answers.pop(prompt)
        ballots[name].hold(HeldBack(counted.post_id, name, prompt, reason, counted.answer))


def _answered_by(voter: _Voter, prompt: int) -> list[int]:
    """The posts whose answer (or held-back one) to `prompt` a new answer of the voter replaces."""
    ballots = [voter.own]
    posts = []
    if voter.proxy is not None:  # the proxy, and what stands if it is held back
        ballots.append(voter.proxy.before)
        posts.append(voter.proxy.post_id)
    for ballot in ballots:
        earlier = ballot.answers.get(prompt)
        posts += [earlier.post_id] if earlier is not None else []
        posts += [h.post_id for h in ballot.held.get(prompt, ())]
    return posts


def _invalid(
    prompts: Mapping[int, tuple[PromptSpec, frozenset[str]]], answer: Answer
) -> str | None:
    """Why an answer cannot be counted as it stands, or None."""
    if answer.prompt not in prompts:
        return f"prompt {answer.prompt} is not in this vote"
    prompt, letters = prompts[answer.prompt]
    if prompt.kind in _LETTER_KINDS:
        if not answer.letters:
            return f"no option given for prompt {prompt.number}"
        unknown = [x for x in answer.letters if letters and x not in letters]
        if unknown:
            return f"option {unknown[0]} does not exist in prompt {prompt.number}"
        if prompt.kind == PromptKind.SINGLE and len(set(answer.letters)) > 1:
            return f"prompt {prompt.number} takes one option, got {', '.join(answer.letters)}"
    elif prompt.kind == PromptKind.WRITE_IN and not (answer.text or answer.joins):
        return f"empty write-in for prompt {prompt.number}"
    elif prompt.kind == PromptKind.LINES and not answer.lines:
        return f"no [X] line given for prompt {prompt.number}"
    return None
