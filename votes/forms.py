"""The players' ballot form (one field, or one rank per option, for each prompt of a vote)
and the import page's form."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator

from chapters.kinds import PromptKind
from chapters.models import Prompt, Vote
from quest.forms import PostingForm, TextField
from quest.outbound import OutboundRefused, check_outbound_url
from votes.importers.sources import Source, SourceError, source_read, too_large
from votes.reading.types import Answer

WRITE_IN_MAX_CHARS = 20_000
NOTHING_CHOSEN = "Choose at least one answer."
_ORDINALS = ["1st", "2nd", "3rd"]


def _ordinal(n: int) -> str:
    return _ORDINALS[n - 1] if n <= len(_ORDINALS) else f"{n}th"


class BallotForm(PostingForm):
    """Fields are named after the prompt: `p1` (single, multi, write-in), `p5_A` (a rank).

    Built from a vote whose prompts and options are loaded; `answers()` gives
    the reader's Answers for the prompts the player answered. Its `submission`
    token posts the ballot once however often the form is sent (PostingForm).
    """

    def __init__(self, *args, vote: Vote, initial_answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.prompts = list(vote.prompts.all())
        initial_answers = initial_answers or {}
        for prompt in self.prompts:
            self._add_fields(prompt, initial_answers.get(str(prompt.number)) or {})

    def _add_fields(self, prompt: Prompt, initial: dict) -> None:
        name, letters = f"p{prompt.number}", initial.get("letters") or []
        options = [(o.letter, o.text) for o in prompt.options.all()]
        # Letters shown as in the thread, so the form teaches the "1-B" shape.
        choices = [(letter, f"{letter}) {text}") for letter, text in options]
        label = f"{prompt.number}. {prompt.text}"
        match prompt.kind:
            case PromptKind.SINGLE:
                self.fields[name] = forms.ChoiceField(
                    label=label, choices=choices, required=False, widget=forms.RadioSelect
                )
                self.initial[name] = letters[0] if letters else None
            case PromptKind.MULTI:
                self.fields[name] = forms.MultipleChoiceField(
                    label=label,
                    choices=choices,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                )
                self.initial[name] = letters
            case PromptKind.RANKED:
                ranks = [("", "—")] + [(str(n), _ordinal(n)) for n in range(1, len(options) + 1)]
                for letter, text in options:
                    field = f"{name}_{letter}"
                    self.fields[field] = forms.TypedChoiceField(
                        label=f"{letter}) {text}",
                        choices=ranks,
                        coerce=int,
                        empty_value=None,
                        required=False,
                    )
                    if letter in letters:
                        self.initial[field] = letters.index(letter) + 1
            case _:
                self.fields[name] = TextField(
                    label=label,
                    required=False,
                    max_length=WRITE_IN_MAX_CHARS,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
                self.initial[name] = initial.get("text") or ""

    def prompt_fields(self) -> list[dict]:
        """The template's view: each prompt with its bound field(s)."""
        rows = []
        for prompt in self.prompts:
            name = f"p{prompt.number}"
            if prompt.kind == PromptKind.RANKED:
                ranks = [self[f"{name}_{o.letter}"] for o in prompt.options.all()]
                rows.append({"prompt": prompt, "ranks": ranks, "errors": self.errors.get(name)})
            else:
                rows.append({"prompt": prompt, "field": self[name]})
        return rows

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what super().clean() returns (its stub adds None)
        for prompt in self.prompts:
            if prompt.kind == PromptKind.RANKED:
                self._check_ranks(prompt, cleaned)
        if not self.errors and not self.answers():
            raise ValidationError(NOTHING_CHOSEN, code="empty")
        return cleaned

    def _check_ranks(self, prompt: Prompt, cleaned: dict[str, Any]) -> None:
        ranks = self._ranks(prompt, cleaned)
        given = sorted(ranks.values())
        if len(set(given)) != len(given):
            self.add_error(None, f"Prompt {prompt.number}: give each rank to one option only.")
        elif given != list(range(1, len(given) + 1)):
            self.add_error(None, f"Prompt {prompt.number}: rank from 1st without skipping a place.")

    def _ranks(self, prompt: Prompt, cleaned: dict) -> dict[str, int]:
        name = f"p{prompt.number}"
        ranks = {o.letter: cleaned.get(f"{name}_{o.letter}") for o in prompt.options.all()}
        return {letter: rank for letter, rank in ranks.items() if rank is not None}

    def answers(self) -> list[Answer]:
        """The answered prompts as the reader's Answers, in prompt order."""
        out = []
        for prompt in self.prompts:
            value = self.cleaned_data.get(f"p{prompt.number}")
            match prompt.kind:
                case PromptKind.SINGLE if value:
                    out.append(Answer(prompt=prompt.number, letters=(value,)))
                case PromptKind.MULTI if value:
                    out.append(Answer(prompt=prompt.number, letters=tuple(sorted(value))))
                case PromptKind.RANKED:
                    ranks = self._ranks(prompt, self.cleaned_data)
                    if ranks:
                        order = tuple(sorted(ranks, key=ranks.__getitem__))
                        out.append(Answer(prompt=prompt.number, letters=order))
                case PromptKind.WRITE_IN if value and value.strip():
                    # TextField made browsers' CRLF plain newlines, as the reader sees them.
                    out.append(Answer(prompt=prompt.number, text=value.strip()))
        return out


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    """Several files in one field: the pages of one thread, in order."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(_MultipleFileField, self).clean(f, initial) for f in files]


IMPORT_GIVE_ONE = "Give the thread one way: files, pasted text or a forum address."
PASTED = "the pasted text"


class ImportForm(forms.Form):
    """A thread to import: uploaded files (pages in order), pasted text, or a forum address.

    `sources()` gives the files or text as importer Sources, each checked for
    size, emptiness and encoding; the address is checked against FORUM_HOSTS.
    """

    FORMAT_CHOICES = [
        ("", "Guess from the content"),
        ("xenforo", "XenForo thread pages (.html)"),
        ("text", "Text copied from a thread"),
        ("json", "quest-thread/1 JSON"),
    ]

    uploads = _MultipleFileField(
        required=False,
        allow_empty_file=True,  # refused by source_read, with the file's name
        label="Files",
        help_text="Saved forum pages, in page order, or one quest-thread/1 JSON file.",
    )
    text = TextField(
        required=False,
        max_length=settings.IMPORT_MAX_BYTES,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Or paste the thread's text",
        help_text="One or more pages copied from the forum.",
    )
    url = TextField(
        required=False,
        max_length=500,
        label="Or give the thread's address",
        help_text="A thread on one of the forums this site may fetch from.",
    )
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        given = [
            bool(data.get("uploads")),
            bool((data.get("text") or "").strip()),
            bool(data.get("url")),
        ]
        if sum(given) != 1 and not self.errors:
            raise ValidationError(IMPORT_GIVE_ONE)
        if data.get("url"):
            try:
                check_outbound_url(data["url"].strip(), allowed_hosts=settings.FORUM_HOSTS)
            except OutboundRefused as e:
                self.add_error("url", str(e))
        return data

    @property
    def kind(self) -> str:
        data = self.cleaned_data
        return "files" if data.get("uploads") else "url" if data.get("url") else "text"

    def sources(self) -> list[Source]:
        """The files or the text, read and checked; ValidationError naming the one refused."""
        data = self.cleaned_data
        if not data.get("uploads"):
            return [_checked(PASTED, data["text"].encode())] if data.get("text") else []
        return [_checked(f.name, _read(f)) for f in data["uploads"]]


def _read(upload) -> bytes:
    # One byte past the limit is enough to refuse it; never read a huge file whole.
    if upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(too_large(upload.name))
    return upload.read(settings.IMPORT_MAX_BYTES + 1)


def _checked(name: str, raw: bytes) -> Source:
    try:
        return source_read(name, raw)
    except SourceError as e:
        raise ValidationError(str(e)) from None


class FollowForm(forms.Form):
    """The quest master's link to the quest's forum thread, and how often to read it."""

    # Checked by the service (a XenForo thread's address on a forum in FORUM_HOSTS).
    url = TextField(
        label="Forum thread address",
        max_length=500,
        help_text="The thread's address on the forum: https://forum.example/threads/my-quest.123/",
    )
    refresh_minutes = forms.IntegerField(
        label="Read it every … minutes",
        max_value=24 * 60,
        help_text="New and edited posts reach the tally this often; “Refresh now” reads at once.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read when the form is made, so a test (or a deployment) can change it.
        field = self.fields["refresh_minutes"]
        assert isinstance(field, forms.IntegerField)  # declared just above
        field.min_value = settings.FOLLOW_MIN_REFRESH_MINUTES
        field.validators.append(MinValueValidator(settings.FOLLOW_MIN_REFRESH_MINUTES))
        field.widget.attrs["min"] = settings.FOLLOW_MIN_REFRESH_MINUTES
        self.initial.setdefault("refresh_minutes", settings.FOLLOW_REFRESH_MINUTES)
