"""Forms for writing chapters and running votes.

The prompt builder is not a Django formset: prompts hold a variable number of
options, and a nested formset's management forms make "add option" and
"move up" fiddly. `PromptsForm` reads flat, numbered field names
(`p-0-text`, `p-0-o-1-letter`) back into rows, applies the button that was
pressed (add, remove, move), and turns the rows into `PromptData` for
`vote_prompts_set`, which checks them with the same rules a pasted block gets.
"""

import re
import string
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from chapters.detect import MAX_CHARS, Detection
from chapters.kinds import (
    BUILDER_KINDS,
    METHOD_CHOICES,
    PARTITION_CHOICES,
    PROXIES_CHOICES,
    Method,
    Partition,
    PassRule,
    PromptKind,
    Proxies,
)
from chapters.models import Chapter, Vote
from chapters.prompts import OptionData, PromptData
from quest.forms import TextField

REASON_REQUIRED = "Say why: the reason is shown to players and kept on record."


class ChapterPreviewForm(forms.Form):
    """The body alone, for the live preview: a missing title is the saving form's business."""

    # The thread's text field: unreadable (not UTF-8) text and NUL characters are
    # refused with the reply box's messages, and line breaks stored as "\n".
    body = TextField(
        required=False,
        strip=False,
        max_length=settings.CHAPTER_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text="BBCode, as on the forum. The vote's prompts are added below it when published.",
        error_messages={
            "max_length": (
                f"A chapter can be at most {settings.CHAPTER_MAX_CHARS:,} characters long "
                "(this one has %(show_value)s). Split it across two chapters."
            ),
        },
    )

    def __init__(self, *args, quest, **kwargs):
        super().__init__(*args, **kwargs)
        # Live preview: the `body` field rendered as BBCode, within the chapter's limit.
        self.fields["body"].widget.attrs.update(
            {
                "hx-post": reverse("chapter-preview", args=[quest.slug]),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#chapter-preview",
                "hx-swap": "innerHTML",
            }
        )


class ChapterForm(ChapterPreviewForm):
    """A chapter's title and body, for writing and editing it."""

    title = TextField(
        max_length=Chapter._meta.get_field("title").max_length,
        error_messages={"required": "A chapter needs a title."},
    )
    field_order = ["title", "body"]

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("A chapter needs a title.")
        return title


class _LocalDateTimeInput(forms.DateTimeInput):
    """`<input type=datetime-local>`: the browser sends wall-clock time with no zone.

    Django's DateTimeField reads a naive value in the current time zone, which
    the TimezoneMiddleware sets from the reader's `tz` cookie.
    """

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class VoteSettingsForm(forms.Form):
    closes_at = forms.DateTimeField(
        required=False,
        widget=_LocalDateTimeInput(),
        label="Closes at",
        help_text="In your time zone. Leave empty to keep the vote open until you close it.",
    )
    opens_at = forms.DateTimeField(
        required=False,
        widget=_LocalDateTimeInput(),
        label="Opens at",
        help_text="Optional. Empty: the vote opens when the chapter is published.",
    )
    results_visibility = forms.ChoiceField(
        choices=Vote.Visibility.choices,
        initial=Vote.Visibility.ALWAYS,
        label="Players see the results",
    )
    ranked_method = forms.ChoiceField(
        required=False,  # older forms and API clients leave it out: Schulze
        choices=Vote.RankedMethod.choices,
        initial=Vote.RankedMethod.SCHULZE,
        label="Ranked prompts are decided by",
        help_text="Schulze finds the option preferred to every other; instant runoff "
        "drops the last-placed option round by round.",
    )

    @classmethod
    def for_vote(cls, vote: Vote | None, data=None) -> "VoteSettingsForm":
        if vote is None:
            return cls(data)
        initial = {
            "closes_at": vote.closes_at,
            "opens_at": vote.opens_at,
            "results_visibility": vote.results_visibility,
            "ranked_method": vote.ranked_method,
        }
        return cls(data, initial=initial)


class VotePasteForm(forms.Form):
    text = TextField(
        max_length=MAX_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        label="Vote block",
        help_text='Paste the prompts as you would post them: "1. …" lines with "A) …" options, '
        'or "[ ] …" lines for a vote with [X] lines.',
        error_messages={"required": "Paste the vote block first."},
    )


class VoteCloseForm(forms.Form):
    reason = TextField(required=False, max_length=500, label="Reason (optional)")


class VoteWindowForm(forms.Form):
    """A new closing time for extending or reopening a vote, and why."""

    closes_at = forms.DateTimeField(
        required=False, widget=_LocalDateTimeInput(), label="New closing time"
    )
    until_closed = forms.BooleanField(required=False, label="Until I close it by hand")
    reason = TextField(max_length=500, error_messages={"required": REASON_REQUIRED}, label="Reason")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what super().clean() returns (its stub adds None)
        if not data.get("until_closed") and data.get("closes_at") is None:
            if "closes_at" not in self.errors:
                self.add_error("closes_at", "Give a new closing time, or keep it open by hand.")
        elif data.get("until_closed"):
            data["closes_at"] = None
        return data


# --- The prompt builder -------------------------------------------------------

_FIELD = re.compile(
    r"^p-(?P<p>\d+)-(?:o-(?P<o>\d+)-)?"
    r"(?P<name>number|kind|text|letter|pass_rule|pass_at|partition|proxies|method)$"
)
_PROMPT_FIELDS = (
    "number",
    "kind",
    "text",
    "pass_rule",
    "pass_at",
    "partition",
    "proxies",
    "method",
)
_MAX_ROWS = 60  # well past MAX_PROMPTS/MAX_OPTIONS; bounds what a request can make us build


@dataclass
class OptionRow:
    letter: str = ""
    text: str = ""
    prefix: str = ""

    @property
    def is_blank(self) -> bool:
        # New rows come with their letter filled in: without text they are unused.
        return not self.text.strip()


@dataclass
class PromptRow:
    number: str = ""
    kind: str = PromptKind.SINGLE
    text: str = ""
    options: list[OptionRow] = field(default_factory=list)
    prefix: str = ""
    # "Choose any" prompts: what passes, and the threshold as typed (votes, or a percentage).
    pass_rule: str = PassRule.TOP
    pass_at: str = ""
    # `lines` prompts: what one vote is, what "[X] Username" does, how ranked lines win.
    partition: str = Partition.BLOCK
    proxies: str = Proxies.ON
    method: str = Method.SCHULZE

    @property
    def is_blank(self) -> bool:
        return not self.text.strip() and all(o.is_blank for o in self.options)

    @property
    def takes_options(self) -> bool:
        """Lettered kinds only: a write-in has none, a `lines` prompt has the "[ ]"
        lines the quest master writes in the chapter instead."""
        return self.kind not in (PromptKind.WRITE_IN, PromptKind.LINES)


class PromptsForm:
    """The prompts as rows of raw strings, so whatever was typed is shown back."""

    kinds = [(kind.value, kind.label) for kind in BUILDER_KINDS]
    pass_rules = [
        (PassRule.TOP.value, "The option(s) with the most votes"),
        (PassRule.VOTES.value, "Every option with at least N votes"),
        (PassRule.SHARE.value, "Every option with at least N% of the prompt's voters"),
    ]
    partitions = PARTITION_CHOICES
    proxy_choices = PROXIES_CHOICES
    methods = METHOD_CHOICES

    def __init__(self, rows: list[PromptRow]):
        self.rows = rows
        self.errors: list[str] = []
        self._renumber_prefixes()

    # Building ----------------------------------------------------------------

    @classmethod
    def from_prompts(cls, prompts: list[PromptData]) -> "PromptsForm":
        rows = [
            PromptRow(
                number=str(p.number),
                kind=p.kind,
                text=p.text,
                options=[OptionRow(letter=o.letter, text=o.text) for o in p.options],
                pass_rule=p.pass_rule,
                pass_at=_threshold_shown(p.pass_rule, p.pass_at_least),
                partition=p.partition,
                proxies=p.proxies,
                method=p.method,
            )
            for p in prompts
        ]
        return cls(rows or [_new_prompt(1)])

    @classmethod
    def from_detection(cls, detection: Detection) -> "PromptsForm":
        return cls.from_prompts(detection_prompts(detection))

    @classmethod
    def from_post(cls, data) -> "PromptsForm":
        prompts: dict[int, PromptRow] = {}
        options: dict[tuple[int, int], OptionRow] = {}
        for key in data:
            match = _FIELD.match(key)
            if not match:
                continue
            p, name = int(match["p"]), match["name"]
            if p >= _MAX_ROWS:
                continue
            row = prompts.setdefault(p, PromptRow(kind=""))
            value = data.get(key, "")
            if match["o"] is None:
                if name in _PROMPT_FIELDS:
                    setattr(row, name, value)
                continue
            o = int(match["o"])
            if o >= _MAX_ROWS:
                continue
            option = options.setdefault((p, o), OptionRow())
            if name in ("letter", "text"):
                setattr(option, name, value)
        for (p, _o), option in sorted(options.items()):
            prompts[p].options.append(option)
        return cls([prompts[p] for p in sorted(prompts)])

    # Buttons -----------------------------------------------------------------

    def apply(self, op: str) -> None:
        """Do what the pressed button says: `add-prompt`, `add-option-0`, `up-1`, …"""
        name, *args = op.split(":")
        try:
            indexes = [int(a) for a in args]
            handler = getattr(self, f"_op_{name.replace('-', '_')}")
            handler(*indexes)
        except (AttributeError, ValueError, IndexError, TypeError):
            pass  # a stale or forged button: show the form as it is
        self._renumber_prefixes()

    def _op_refresh(self) -> None:
        """Show the rows again, e.g. the pass rule once a prompt's kind became "choose any".

        A `lines` prompt shows no option rows, so a prompt turned back into a
        lettered kind gets two empty ones again.
        """
        for row in self.rows:
            if row.takes_options and not row.options:
                row.options = _new_prompt(1).options

    def _op_add_prompt(self) -> None:
        numbers = [int(r.number) for r in self.rows if r.number.strip().isdigit()]
        self.rows.append(_new_prompt(max(numbers, default=0) + 1))

    def _op_remove_prompt(self, p: int) -> None:
        del self.rows[p]
        if not self.rows:
            self.rows.append(_new_prompt(1))

    def _op_up(self, p: int) -> None:
        if p > 0:
            _swap(self.rows, p - 1, p, "number")

    def _op_down(self, p: int) -> None:
        if p + 1 < len(self.rows):
            _swap(self.rows, p, p + 1, "number")

    def _op_add_option(self, p: int) -> None:
        options = self.rows[p].options
        used = {o.letter.strip().upper() for o in options}
        letter = next((c for c in string.ascii_uppercase if c not in used), "")
        options.append(OptionRow(letter=letter))

    def _op_remove_option(self, p: int, o: int) -> None:
        del self.rows[p].options[o]

    def _op_option_up(self, p: int, o: int) -> None:
        if o > 0:
            _swap(self.rows[p].options, o - 1, o, "letter")

    def _op_option_down(self, p: int, o: int) -> None:
        options = self.rows[p].options
        if o + 1 < len(options):
            _swap(options, o, o + 1, "letter")

    # Saving ------------------------------------------------------------------

    def prompts(self) -> list[PromptData] | None:
        """The rows as PromptData, or None with `errors` set when a row cannot be read.

        Blank rows (an added prompt or option left empty) are skipped; the
        rules about what makes a valid vote are `prompts_problems`'s, applied
        by the service.
        """
        self.errors = []
        prompts = []
        for row in self.rows:
            if row.is_blank:
                continue
            number = row.number.strip()
            if not number.isdigit():
                self.errors.append(f"Prompt number {number!r} is not a whole number.")
                continue
            kind = PromptKind(row.kind) if row.kind in BUILDER_KINDS else PromptKind.SINGLE
            options = [
                OptionData(letter=o.letter.strip().upper(), text=o.text)
                for o in row.options
                if not o.is_blank
            ]
            self.errors += _refused_text(row.text, f"Prompt {number}")
            for o in options:
                self.errors += _refused_text(o.text, f"Prompt {number}: option {o.letter}")
            rule, at_least = self._pass_rule(row, kind, number)
            prompts.append(
                PromptData(
                    number=int(number),
                    kind=kind,
                    text=row.text,
                    options=options,
                    pass_rule=rule,
                    pass_at_least=at_least,
                    **_lines_settings(row, kind),
                )
            )
        if not prompts and not self.errors:
            self.errors.append("Add at least one prompt.")
        return None if self.errors else prompts

    def _pass_rule(
        self, row: PromptRow, kind: PromptKind, number: str
    ) -> tuple[PassRule, Decimal | None]:
        """The row's pass rule and threshold (a share as a fraction); only a multi prompt has one.

        Whether the threshold is in range is `prompts_problems`'s to say.
        """
        if kind != PromptKind.MULTI or row.pass_rule not in set(PassRule) - {PassRule.TOP}:
            return PassRule.TOP, None
        rule = PassRule(row.pass_rule)
        typed = row.pass_at.strip().removesuffix("%").strip()
        if not typed:
            return rule, None
        try:
            at_least = Decimal(typed)
        except InvalidOperation:
            self.errors.append(f"Prompt {number}: the threshold {row.pass_at!r} is not a number.")
            return rule, None
        if not at_least.is_finite():
            self.errors.append(f"Prompt {number}: the threshold {row.pass_at!r} is not a number.")
            return rule, None
        return rule, at_least / 100 if rule == PassRule.SHARE else at_least

    def _renumber_prefixes(self) -> None:
        for p, row in enumerate(self.rows):
            row.prefix = f"p-{p}"
            row.kind = row.kind or PromptKind.SINGLE
            for o, option in enumerate(row.options):
                option.prefix = f"p-{p}-o-{o}"


# The builder's texts are not a Django form's fields, but are refused as those are.
_BUILDER_TEXT = TextField(required=False, strip=False)


def _refused_text(text: str, label: str) -> list[str]:
    """Why the forms' text field refuses `text` (not valid UTF-8, a NUL character), if it does."""
    try:
        _BUILDER_TEXT.clean(text)
    except ValidationError as e:
        return [f"{label}: {message}" for message in e.messages]
    return []


def detection_prompts(detection: Detection) -> list[PromptData]:
    """What `detect_prompts` found, in the shape `vote_prompts_set` takes."""
    return [
        PromptData(
            number=p.number,
            kind=p.kind,
            text=p.text,
            options=[OptionData(letter=o.letter, text=o.text) for o in p.options],
        )
        for p in detection.prompts
    ]


def _lines_settings(row: PromptRow, kind: PromptKind) -> dict[str, str]:
    """A `lines` row's partition, proxies and method as typed (prompts_problems checks
    them); any other kind keeps the defaults, whatever a stale form still sends."""
    if kind != PromptKind.LINES:
        return {}
    return {"partition": row.partition, "proxies": row.proxies, "method": row.method}


def _threshold_shown(rule: PassRule | str, at_least: Decimal | None) -> str:
    """A stored threshold as the quest master typed it: votes, or a share as a percentage."""
    if at_least is None:
        return ""
    shown = at_least * 100 if rule == PassRule.SHARE else at_least
    return f"{shown:f}".rstrip("0").rstrip(".") if "." in f"{shown:f}" else f"{shown:f}"


def _new_prompt(number: int) -> PromptRow:
    return PromptRow(number=str(number), options=[OptionRow(letter="A"), OptionRow(letter="B")])


def _swap(rows: list, i: int, j: int, label: str) -> None:
    """Swap two rows but keep their labels in place: moving "2." up makes it "1."."""
    a, b = getattr(rows[i], label), getattr(rows[j], label)
    rows[i], rows[j] = rows[j], rows[i]
    setattr(rows[i], label, a)
    setattr(rows[j], label, b)
