"""Fold a vote's Readings into one counted ballot per voter.

`fold` is the only public function. It is pure: the same Readings and
Decisions always give the same Folded, and it runs in time linear in the
number of Readings (proxy chains are resolved once each, never walked in a loop).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from votes.reading.types import (
    Answer,
    Counted,
    Decision,
    DecisionAction,
    Excluded,
    Flag,
    Folded,
    HeldBack,
    PostKind,
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


def fold(vote: VoteSpec, readings: Sequence[Reading], decisions: Sequence[Decision] = ()) -> Folded:
    """Fold Readings (in post order) into one counted ballot per voter.

    1. An excluded Reading goes to `excluded` and changes nothing.
    2. A flag on the whole post holds the post back: it changes nothing until a
       moderator decides (accept: the post counts as read, plus the flag's
       suggestion; set: the moderator's answer counts instead; reject: nothing).
    3. A full replacement clears the voter's earlier ballot (and proxy) first.
    4. A proxy moves the voter's own answers aside (they stand again if the
       proxy is held back); a pinned proxy takes the target's ballot now.
    5. Each answer of the post replaces the voter's earlier answer to that
       prompt. A flag on a prompt holds it back and the earlier answer stands,
       unless a decision for (post, prompt) says otherwise. An endorsement is
       no different: the reader already copied the endorsed answers into it.
    6. A write-in that joins another poster takes that poster's counted
       write-in as it stands at this post, or is held back with a suggestion.
    7. After the last post, tracking proxies follow their target's final
       ballot; own answers posted after the proxy override it prompt by prompt.
       A proxy to nobody with a counted ballot, to the quest master, or round a
       cycle is held back, and what the voter had before it stands.
    """
    folder = _Folder(vote, decisions)
    excluded: list[Excluded] = []
    for reading in readings:
        if reading.excluded is not None:
            excluded.append(Excluded(reading.post_id, reading.author, reading.excluded))
        else:
            folder.apply(reading)
    return folder.result(excluded)


class _Folder:
    def __init__(self, vote: VoteSpec, decisions: Sequence[Decision]) -> None:
        self.vote = vote
        # Letters match options as the reader wrote them: upper case.
        self.prompts = {p.number: (p, frozenset(o.letter for o in p.options)) for p in vote.prompts}
        self.voters: dict[str, _Voter] = {}
        self.names: dict[str, str] = {}  # casefolded name -> name as posted
        self.position: dict[int, int] = {}  # post id -> place in post order
        # Later decisions on the same flag overrule earlier ones.
        self.rulings: dict[int, dict[int | None, Decision]] = {}
        for decision in decisions:
            self.rulings.setdefault(decision.post_id, {})[decision.prompt] = decision

    def apply(self, reading: Reading) -> None:
        self.position.setdefault(reading.post_id, len(self.position))
        voter = self._voter(reading.author)
        rulings = self.rulings.get(reading.post_id, {})
        answers = {a.prompt: a for a in reading.answers}
        flags: dict[int | None, list[Flag]] = {}
        for flag in reading.flags:
            flags.setdefault(flag.prompt, []).append(flag)
        proxy_of = reading.proxy_of

        whole = rulings.get(None)
        if whole is None and None in flags:
            for flag in flags[None]:
                voter.own.hold(self._held(reading, None, flag.reason, flag.suggestion))
            return
        if whole is not None and whole.action == DecisionAction.REJECT:
            return
        if whole is not None and whole.action == DecisionAction.SET:
            answers = {whole.answer.prompt: whole.answer} if whole.answer else {}
            flags, proxy_of = {}, None
        elif whole is not None:  # accepted: counted as read, with what was suggested
            for extra in (*(f.suggestion for f in flags.get(None, ())), whole.answer):
                if extra is not None:
                    answers[extra.prompt] = extra

        if reading.kind == PostKind.REPLACEMENT:
            voter.own, voter.proxy = _Ballot(), None
        if proxy_of is not None:
            self._proxy(voter, reading, proxy_of)

        prompts = {p for p in (*answers, *flags, *rulings) if p is not None}
        for prompt in sorted(prompts):
            self._answer(voter, reading, prompt, answers.get(prompt), flags.get(prompt, ()))

    def _answer(
        self,
        voter: _Voter,
        reading: Reading,
        prompt: int,
        answer: Answer | None,
        flags: Sequence[Flag],
    ) -> None:
        ruling = self.rulings.get(reading.post_id, {}).get(prompt)
        if ruling is None and flags:
            for flag in flags:
                voter.own.hold(self._held(reading, prompt, flag.reason, flag.suggestion))
            return
        if ruling is not None:
            if ruling.action == DecisionAction.REJECT:
                return
            suggested = next((f.suggestion for f in flags if f.suggestion), None)
            if ruling.action == DecisionAction.SET:
                answer = ruling.answer
            else:
                answer = ruling.answer or suggested or answer
        if answer is None:
            return
        answer = answer if answer.prompt == prompt else replace(answer, prompt=prompt)
        problem = _invalid(self.prompts, answer)
        if problem is None and answer.joins is not None:
            answer, problem = self._join(answer, decided=ruling is not None)
        if problem is not None:
            voter.own.hold(self._held(reading, prompt, problem, answer))
            return
        voter.own.count(prompt, Counted(answer, reading.post_id))

    def _join(self, answer: Answer, *, decided: bool) -> tuple[Answer, str | None]:
        name = self._name(answer.joins or "")
        theirs = self._resolver().ballot(name).answers.get(answer.prompt) if name else None
        if theirs is not None and theirs.answer.text:
            return replace(answer, text=theirs.answer.text), None
        if decided:  # a moderator accepted it as written
            return answer, None
        return answer, f"joins {answer.joins}'s write-in, but {answer.joins} has none counted"

    def _proxy(self, voter: _Voter, reading: Reading, target: str) -> None:
        proxy = _Proxy(target, reading.post_id, reading.proxy_pinned, before=voter.own)
        if proxy.pinned:
            resolver = self._resolver()
            name, proxy.refused = resolver.refusal(reading.author, target)
            if proxy.refused is None:
                proxy.snapshot = resolver.ballot(name).copy()
                if not proxy.snapshot.answers:
                    proxy.refused = f"proxy to {target}, who has no counted ballot"
        voter.own, voter.proxy = _Ballot(), proxy

    def result(self, excluded: list[Excluded]) -> Folded:
        resolver = self._resolver()
        folded = Folded(excluded=excluded)
        held: list[HeldBack] = []
        for name in sorted(self.voters):
            ballot = resolver.ballot(name)
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
        return folded

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

    def __init__(self, voters: Mapping[str, _Voter], name_of, quest_master: str) -> None:
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
        for prompt, held in theirs.held.items():
            reason = f"follows {target}, whose answer is held back: {held[0].reason}"
            ballot.hold(HeldBack(proxy.post_id, name, prompt, reason, held[0].suggestion))
        ballot.overlay(voter.own)
        return ballot

    def _held(self, name: str, reason: str) -> _Ballot:
        voter = self.voters[name]
        assert voter.proxy is not None
        ballot = voter.proxy.before.copy()
        ballot.hold(HeldBack(voter.proxy.post_id, name, None, reason))
        ballot.overlay(voter.own)
        return ballot


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
    return None
