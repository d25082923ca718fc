"""`{% load chapter_tags %}`: chapters and prompts named as chapters/labels.py says, once."""

from typing import Any

from django import template

from chapters import labels

register = template.Library()


@register.simple_tag
def chapter_heading(number: int | None, title: str | None) -> str:
    """For a chapter known by its number and title only (the home page's annotations);
    a Chapter has `chapter.heading`."""
    return labels.heading(number, title)


@register.filter
def kind_note(prompt: Any) -> str:
    """`{{ prompt|kind_note }}`: "(choose any)", or "" when the prompt's text says it already.

    Takes a Prompt, a detected prompt or a ballot form's prompt: anything with `kind` and `text`.
    """
    return labels.kind_note(str(prompt.kind), prompt.text or "")
