"""The players' ballot form (one field, or one rank per option, for each prompt of a vote)
and the import page's form."""

import hashlib
import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from chapters.kinds import PromptKind
from chapters.models import Prompt, Vote
from quest.bbcode import strip_tags
from quest.forms import PostingForm, TextField
from quest.outbound import OutboundRefused, check_outbound_url
from votes.importers.sources import Source, SourceError, source_read, too_large
from votes.reading import line_suggestions
from votes.reading.text import bare
from votes.reading.types import Answer, PromptSpec, VoteSpec, XLine

WRITE_IN_MAX_CHARS = 20_000
NOTHING_CHOSEN = "Choose at least one answer."
NOTHING_TICKED = "Choose at least one answer: tick a line, or write one of your own."
MAX_LINES = 100  # lines of one's own in a `lines` prompt: room for a long plan, a bound on a post
_ORDINALS = ["1st", "2nd", "3rd"]


def _ordinal(n: int) -> str:
    return _ORDINALS[n - 1] if n <= len(_ORDINALS) else f"{n}th"


# --- The ballot form's widgets, written out in Python ------------------------------
#
# Django renders each widget, and each option of a radio or checkbox list, through
# its form templates: a third of a ballot form request's CPU time, for a form with
# two short prompts. These widgets write the very same HTML as those templates
# (django/forms/templates/django/forms/widgets/, newlines included), from the
# same context Django builds (attributes, ids, what is checked), in plain Python.
# tests/test_ballot_form.py compares the two.

_W = "django/forms/widgets/"


def _attrs(attrs: dict[str, Any]) -> str:  # attrs.html
    return "".join(
        f" {conditional_escape(name)}"
        + ("" if value is True else f'="{conditional_escape(str(value))}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(w: dict[str, Any]) -> str:  # input.html
    value = "" if w["value"] is None else f' value="{conditional_escape(str(w["value"]))}"'
    return (
        f'<input type="{conditional_escape(w["type"])}" name="{conditional_escape(w["name"])}"'
        f"{value}{_attrs(w['attrs'])}>\n"
    )


def _input_option(w: dict[str, Any]) -> str:  # input_option.html, radio_option.html
    if not w.get("wrap_label"):
        return _input(w) + "\n\n"
    id_ = w["attrs"].get("id")
    label_for = f' for="{conditional_escape(id_)}"' if id_ else ""
    return f"<label{label_for}>{_input(w)} {conditional_escape(w['label'])}</label>\n\n"


def _multiple_input(w: dict[str, Any]) -> str:  # multiple_input.html
    id_, class_ = w["attrs"].get("id"), w["attrs"].get("class")
    out = ["<div", f' id="{conditional_escape(id_)}"' if id_ else ""]
    out.append(f' class="{conditional_escape(class_)}"' if class_ else "")
    out.append(">")
    for group, options, _ in w["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{conditional_escape(group)}</label>")
        out.extend(f"<div>\n    {_input_option(option)}</div>" for option in options)
        if group:
            out.append("\n  </div>")
    out.append("\n</div>\n")
    return "".join(out)


def _select(w: dict[str, Any]) -> str:  # select.html, select_option.html
    out = [f'<select name="{conditional_escape(w["name"])}"{_attrs(w["attrs"])}>']
    for group, options, _ in w["optgroups"]:
        if group:
            out.append(f'\n  <optgroup label="{conditional_escape(group)}">')
        out.extend(
            f'\n  <option value="{conditional_escape(str(o["value"]))}"{_attrs(o["attrs"])}>'
            f"{conditional_escape(o['label'])}</option>\n"
            for o in options
        )
        if group:
            out.append("\n  </optgroup>")
    out.append("\n</select>\n")
    return "".join(out)


def _textarea(w: dict[str, Any]) -> str:  # textarea.html
    name, value = conditional_escape(w["name"]), conditional_escape(w["value"] or "")
    return f'<textarea name="{name}"{_attrs(w["attrs"])}>\n{value}</textarea>\n'


_HTML = {
    _W + "radio.html": _multiple_input,
    _W + "checkbox_select.html": _multiple_input,
    _W + "radio_option.html": _input_option,
    _W + "checkbox_option.html": _input_option,
    _W + "select.html": _select,
    _W + "textarea.html": _textarea,
}


class _WrittenOut:
    """A widget whose templates are written out in Python (above)."""

    def _render(self, template_name: str, context: dict[str, Any], renderer: Any = None) -> str:
        write = _HTML.get(template_name)
        if write is None:
            return super()._render(template_name, context, renderer)  # type: ignore[misc]  # a mixin's super()
        # Stripped, as Django's renderer strips what a template renders.
        return mark_safe(write(context["widget"]).strip())


class _RadioSelect(_WrittenOut, forms.RadioSelect):
    pass


class _CheckboxSelectMultiple(_WrittenOut, forms.CheckboxSelectMultiple):
    pass


class _Select(_WrittenOut, forms.Select):
    pass


class _Textarea(_WrittenOut, forms.Textarea):
    pass


class BallotForm(PostingForm):
    """Fields are named after the prompt: `p1` (single, multi, write-in), `p5_A` (a rank).

    A `lines` prompt (forum-style [X] ballots) has `p2`, a checklist of the quest
    master's "[ ]" lines in the vote's post, and `p2_free`, lines of one's own.

    Built from a vote whose prompts and options are loaded; `answers()` gives
    the reader's Answers for the prompts the player answered. Its `submission`
    token posts the ballot once however often the form is sent (PostingForm).
    """

    def __init__(self, *args, vote: Vote, initial_answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.prompts = list(vote.prompts.all())
        self.has_lines = any(p.kind == PromptKind.LINES for p in self.prompts)
        # Prompt number -> the quest master's "[ ]" lines, as the tally lists them.
        self.suggestions = _suggestions(vote, self.prompts) if self.has_lines else {}
        self.nothing_chosen = NOTHING_TICKED if self.has_lines else NOTHING_CHOSEN
        initial_answers = initial_answers or {}
        for prompt in self.prompts:
            self._add_fields(prompt, initial_answers.get(str(prompt.number)) or {})

    def _add_fields(self, prompt: Prompt, initial: dict) -> None:
        if prompt.kind == PromptKind.LINES:
            self._add_lines_fields(prompt, initial)
            return
        name, letters = f"p{prompt.number}", initial.get("letters") or []
        options = [(o.letter, o.text) for o in prompt.options.all()]
        # Letters shown as in the thread, so the form teaches the "1-B" shape.
        choices = [(letter, f"{letter}) {text}") for letter, text in options]
        label = f"{prompt.number}. {prompt.text}"
        match prompt.kind:
            case PromptKind.SINGLE:
                self.fields[name] = forms.ChoiceField(
                    label=label, choices=choices, required=False, widget=_RadioSelect
                )
                self.initial[name] = letters[0] if letters else None
            case PromptKind.MULTI:
                self.fields[name] = forms.MultipleChoiceField(
                    label=label,
                    choices=choices,
                    required=False,
                    widget=_CheckboxSelectMultiple,
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
                        widget=_Select,
                    )
                    if letter in letters:
                        self.initial[field] = letters.index(letter) + 1
            case _:
                self.fields[name] = TextField(
                    label=label,
                    required=False,
                    max_length=WRITE_IN_MAX_CHARS,
                    widget=_Textarea(attrs={"rows": 3}),
                )
                self.initial[name] = initial.get("text") or ""

    def _add_lines_fields(self, prompt: Prompt, initial: dict) -> None:
        """The checklist of suggestions and the box of one's own lines, filled in from
        the entries of the current ballot: a suggestion's entry ticks it, any other
        entry is written in the box as it reads ("Repair\n-With spare parts")."""
        name, suggestions = f"p{prompt.number}", self.suggestions.get(prompt.number, [])
        keys = {bare(s): _choice_value(s) for s in suggestions}
        ticked, own = [], []
        for entry in initial.get("lines") or []:
            text = entry.get("text", "") if isinstance(entry, dict) else str(entry)
            task = entry.get("task") if isinstance(entry, dict) else None
            written = f"[{task}] {text}" if task else text
            if bare(written) in keys:
                ticked.append(keys[bare(written)])
            else:
                own.append(written)
        self.fields[name] = forms.MultipleChoiceField(
            label=f"{prompt.number}. {prompt.text}",
            choices=[(_choice_value(s), s) for s in suggestions],
            required=False,
            widget=_CheckboxSelectMultiple,
            error_messages={
                "invalid_choice": "The quest master changed the suggestions: tick them again."
            },
        )
        self.initial[name] = ticked
        self.fields[f"{name}_free"] = TextField(
            label="Lines of your own",
            required=False,
            max_length=WRITE_IN_MAX_CHARS,
            widget=_Textarea(attrs={"rows": 3}),
            help_text='One per line. Start a line with "-" to put it under the line above.',
        )
        self.initial[f"{name}_free"] = "\n".join(own)

    def prompt_fields(self) -> list[dict]:
        """The template's view: each prompt with its bound field(s)."""
        rows = []
        for prompt in self.prompts:
            name = f"p{prompt.number}"
            if prompt.kind == PromptKind.LINES:
                rows.append({"prompt": prompt, "field": self[name], "free": self[f"{name}_free"]})
            elif prompt.kind == PromptKind.RANKED:
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
            elif prompt.kind == PromptKind.LINES:
                self._check_lines(prompt, cleaned)
        if not self.errors and not self.answers():
            raise ValidationError(self.nothing_chosen, code="empty")
        return cleaned

    def _check_lines(self, prompt: Prompt, cleaned: dict[str, Any]) -> None:
        own = _own_lines(cleaned.get(f"p{prompt.number}_free") or "")
        if len(own) > MAX_LINES:
            self.add_error(
                f"p{prompt.number}_free",
                f"Write at most {MAX_LINES} lines of your own ({len(own)} here).",
            )

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
                case PromptKind.LINES:
                    lines = self._lines(prompt, value or [])
                    if lines:
                        out.append(Answer(prompt=prompt.number, lines=lines))
        return out

    def _lines(self, prompt: Prompt, ticked: list[str]) -> tuple[XLine, ...]:
        """The ticked suggestions in the post's order, then the player's own lines.

        Each entry is one XLine, its sub-lines behind dashes as the reader writes an
        entry ("Repair the reactor\n-With spare parts"); canonical_text writes every
        line of it as an "[X]" line. A dashed line of one's own goes under the line
        above it, a ticked suggestion's too.
        """
        suggestions = self.suggestions.get(prompt.number, [])
        entries = [s for s in suggestions if _choice_value(s) in set(ticked)]
        for line in _own_lines(self.cleaned_data.get(f"p{prompt.number}_free") or ""):
            if _nesting(line) and entries:
                entries[-1] += "\n" + line
            else:
                entries.append(line.lstrip("-"))
        return tuple(_entry(text) for text in entries)


# --- `lines` prompts: the quest master's "[ ]" lines and the player's own -----------

# What a player may type before a line of their own: a tick or an empty box, as on the forum.
_MARKER = re.compile(r"^\[[ \t]*[xX✓✔☒☑]?[ \t]*\][ \t]*")
_DASHES = re.compile(r"^(?:[-–—][ \t]*)+")
# "[Ship] Repair": a task tag, kept as written for the reader to group by.
_TASK = re.compile(r"^\[(?P<task>[^\[\]\n]{1,40})\][ \t]*")


def _suggestions(vote: Vote, prompts: list[Prompt]) -> dict[int, list[str]]:
    """The quest master's "[ ]" lines in the vote's post, per `lines` prompt, read
    as the reader reads them for the tally's suggestions (outside quotes, sub-lines
    under their line with their dashes, task tags dropped)."""
    if vote.post is None:
        return {}
    specs = tuple(
        PromptSpec(p.number, PromptKind(p.kind), p.text)
        for p in prompts
        if p.kind == PromptKind.LINES
    )
    return line_suggestions(vote.post.body, VoteSpec(prompts=specs, quest_master=""))


def _choice_value(suggestion: str) -> str:
    """A suggestion's checkbox value: its digest, so that a suggestion edited since the
    form was shown is refused instead of another one counted in its place."""
    return hashlib.sha256(suggestion.encode()).hexdigest()[:16]


def _own_lines(typed: str) -> list[str]:
    """The player's own lines, cleaned: a typed marker ("[X] ") and BBCode dropped,
    nesting kept as dashes ("-With spare parts"), empty lines skipped."""
    out = []
    for raw in typed.split("\n"):
        line = strip_tags(raw).strip()
        dashes = _DASHES.match(line)
        depth = _depth(dashes.group()) if dashes else 0
        line = _MARKER.sub("", line[dashes.end() :] if dashes else line, count=1)
        line = " ".join(line.split())
        if line:
            out.append("-" * depth + line)
    return out


def _entry(text: str) -> XLine:
    """An entry with its task tag, if its first line starts with one, taken apart."""
    first, _, rest = text.partition("\n")
    task = _TASK.match(first)
    if task is None:
        return XLine(text)
    return XLine("\n".join(filter(None, [first[task.end() :], rest])), task=task["task"].strip())


def _depth(dashes: str) -> int:
    return sum(1 for ch in dashes if ch in "-–—")


def _nesting(line: str) -> int:
    """How deep a line of an entry's text is: its leading dashes ("--Quickly" is 2)."""
    return len(line) - len(line.lstrip("-"))


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
