"""`{% load tally_tags %}`: parts of the tally page kept rendered per run (votes/tally_cache.py)."""

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from chapters.models import Vote
from votes.models import TallyRun
from votes.movement import Figure
from votes.tally_cache import rendered_tally

register = template.Library()


@register.simple_tag
def movement_section(vote: Vote, run: TallyRun, movement: list[Figure]) -> SafeString:
    """ "How the vote moved", drawn once per stored run: a hundred points of every
    prompt, their dates and tables for screen readers, the page's slowest part.

    The same for every viewer but for the dates' time zone; the time axis runs
    from the vote's opening to its close, so those are in the key too.
    """
    variant = f"movement:{timezone.get_current_timezone_name()}:{vote.opens_at}:{vote.closed_at}"
    return rendered_tally(
        vote,
        run,
        variant,
        lambda: render_to_string("votes/_movement_section.html", {"movement": movement}),
    )
