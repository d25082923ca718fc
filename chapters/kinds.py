"""The kinds of vote prompt: the one definition the models, forms, importers and reader use.

Pure Python (no Django), so that the reading core in `votes/reading/` can use it
and stay ORM-free.
"""

from enum import StrEnum


class PromptKind(StrEnum):
    SINGLE = "single"  # exactly one letter
    MULTI = "multi"  # any number of letters ("choose any")
    RANKED = "ranked"  # letters in order of preference
    WRITE_IN = "write_in"  # free text
    LINES = "lines"  # forum-style [X] ballots, one line per choice (issue 15)

    @property
    def label(self) -> str:
        """What a person reads: the prompt builder's menu, "(pick one)" beside a prompt."""
        return _LABELS[self]


_LABELS = {
    PromptKind.SINGLE: "Pick one",
    PromptKind.MULTI: "Choose any",
    PromptKind.RANKED: "Rank in order",
    PromptKind.WRITE_IN: "Write-in",
    PromptKind.LINES: "[X] lines",
}

# For the model field (`choices=`): every kind, so any stored prompt is valid.
CHOICES = [(kind.value, kind.label) for kind in PromptKind]

# The kinds a quest master can give a prompt (the prompt builder, a pasted vote
# block): those the app runs end to end, from the ballot form to the results.
# Every kind is one since issue 15 gave `lines` prompts their ballot form (a
# checklist of the quest master's "[ ]" lines, and free lines). A name of its own
# all the same: a kind added for imports before it runs end to end stays out of it.
BUILDER_KINDS = tuple(PromptKind)


class Partition(StrEnum):
    """What one vote of a `lines` prompt is (quest-thread/1 `partition`)."""

    POST = "post"  # every [X] line of a post together is one entry
    LINE = "line"  # every [X] line is an entry of its own
    BLOCK = "block"  # a top-level line with its sub-lines is one entry (the default)
    LINE_TASK = "line_task"  # every line its own entry, a sub-line taking its parent's task

    @property
    def label(self) -> str:
        return _PARTITION_LABELS[self]


_PARTITION_LABELS = {
    Partition.POST: "Whole post: a voter's lines are one entry",
    Partition.LINE: "By line: every [X] line is an entry",
    Partition.BLOCK: "By block: a line with its sub-lines is an entry",
    Partition.LINE_TASK: "By line, sub-lines keep their parent's task",
}
PARTITION_CHOICES = [(p.value, p.label) for p in Partition]


class Proxies(StrEnum):
    """What "[X] Username" does in a `lines` prompt (quest-thread/1 `proxies`)."""

    ON = "on"  # follows that voter's latest vote; "[X] ^Username" pins it as of the post
    OFF = "off"  # a line like any other: an entry named "Username"
    PINNED = "pinned"  # every proxy is pinned as of the post that names it

    @property
    def label(self) -> str:
        return _PROXY_LABELS[self]


_PROXY_LABELS = {
    Proxies.ON: "Proxies follow the named voter's latest vote",
    Proxies.OFF: "No proxies: a player's name is an ordinary line",
    Proxies.PINNED: "Proxies copy the named voter's vote as it stood",
}
PROXIES_CHOICES = [(p.value, p.label) for p in Proxies]


class Method(StrEnum):
    """How a `lines` prompt with ranked lines ([#1], [1]) is decided (quest-tally/1 `method`)."""

    SCHULZE = "schulze"  # the default: pairwise preferences, strongest paths
    RATED_RUNOFF = "rated_runoff"  # NetTally's rated instant runoff
    BORDA = "borda"  # n-1 points for a first place, n-2 for a second, ...

    @property
    def label(self) -> str:
        return _METHOD_LABELS[self]


_METHOD_LABELS = {
    Method.SCHULZE: "Schulze (pairwise)",
    Method.RATED_RUNOFF: "Rated instant runoff",
    Method.BORDA: "Borda count",
}
METHOD_CHOICES = [(m.value, m.label) for m in Method]


class PassRule(StrEnum):
    """How a "choose any" prompt decides which options pass (quest-tally/1 `pass_rule.kind`)."""

    TOP = "top"  # the option(s) with the most votes win
    VOTES = "votes"  # every option with at least N votes passes
    SHARE = "share"  # every option backed by at least a share of the prompt's voters passes

    @property
    def label(self) -> str:
        return _PASS_LABELS[self]


_PASS_LABELS = {
    PassRule.TOP: "The option with the most votes wins",
    PassRule.VOTES: "Every option with at least N votes passes",
    PassRule.SHARE: "Every option with at least N% of the prompt's voters passes",
}

PASS_RULE_CHOICES = [(rule.value, rule.label) for rule in PassRule]


def pass_rule_words(rule: PassRule | str, at_least: float | None) -> str:
    """What an option needs to pass, as a quest master says it: "at least 3 votes"."""
    if rule == PassRule.VOTES and at_least is not None:
        return f"at least {at_least:g} vote{'' if at_least == 1 else 's'}"
    if rule == PassRule.SHARE and at_least is not None:
        return f"at least {at_least * 100:.4g}% of voters"
    return "most votes"
