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
# block): those the app runs end to end today, from the ballot form to the
# results. LINES prompts are read and tallied, but have no ballot form yet, so
# they come only from an imported thread until issue 15.
BUILDER_KINDS = tuple(kind for kind in PromptKind if kind is not PromptKind.LINES)


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
