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
