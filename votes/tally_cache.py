"""The tally page's HTML rendered once per stored tally run, and kept in the cache.

A TallyRun never changes once stored, so what is drawn from it (and from the
few other things a caller names in `variant`) is the same HTML until the next
run is stored: rendered by the first request after it, then taken from the
cache (Redis when it is configured) by every other. The key holds the run's
pk and hash, so a new run is a new key and nothing needs to be deleted.

The one function here is meant for every part of the tally page that is worth
keeping, the page and its poll alike: each caller says what else its HTML
depends on in `variant` (the viewer's time zone for dates, whether results are
shown, the vote's state...). Never keep HTML holding a viewer's own forms (a
CSRF token) or name in a variant shared between viewers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from redis.exceptions import RedisError

from chapters.models import Vote
from votes.models import TallyRun

# Longer than most votes' quiet spells; a new run is a new key anyway.
KEEP_SECONDS = 6 * 3600


def rendered_tally(
    vote: Vote, run: TallyRun, variant: str, render: Callable[[], str]
) -> SafeString:
    """`render()`'s HTML for `run` of `vote` as `variant` says, rendered at most once per run.

    With the cache out of reach (Redis down) it is rendered every time: the
    page is slower, never wrong.
    """
    named = hashlib.sha256(variant.encode()).hexdigest()[:16]
    key = f"votes:tally-run:{vote.pk}:{run.pk}:{run.sha256[:16]}:{named}"
    with suppress(RedisError):
        kept = cache.get(key)
        if kept is not None:
            return mark_safe(kept)  # rendered (and escaped) by `render` below
    html = render()
    with suppress(RedisError):
        cache.set(key, str(html), KEEP_SECONDS)
    return mark_safe(html)  # `render` returns a rendered template
