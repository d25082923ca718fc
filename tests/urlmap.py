"""The URL conf as a list of routes, and each route filled with a test's objects.

Tests that must reach every page (GET never writes, no internal names on any
page) walk the URL conf instead of listing pages, so a page is covered as soon
as it exists; a route whose arguments a test cannot fill fails it rather than
being skipped.
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import product

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Route prefixes not requested, each with the reason.
EXCLUDED = {
    # Django's own admin: staff only, and its arguments (app labels, object
    # ids of any model) name no quest objects; it is not part of the app.
    "admin/": "Django admin",
}

_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")


def routes(patterns=None, prefix: str = "") -> Iterator[str]:
    """Every route of the URL conf, includes followed, as one string ("q/<slug:slug>/…")."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if any(route.startswith(excluded) for excluded in EXCLUDED):
            continue
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        else:
            assert isinstance(pattern, URLPattern), pattern
            yield route


def urls(
    route: str,
    values: Mapping[str, Sequence[object]],
    tokens: Mapping[str, Sequence[object]] | None = None,
) -> list[str]:
    """The route filled in every way `values` (argument name -> values) allows.

    `<token>` names two things (a quest's invitation link, a password reset
    link), so its values come from `tokens`, keyed by how the route ends. Fails
    the test on an argument it has no values for.
    """
    if route.startswith("^") or "(?P<" in route:
        pytest.fail(f"{route!r} is a regex route: teach this test to fill it", pytrace=False)
    names = _ARGUMENT.findall(route)
    choices = []
    for name in names:
        if name == "token":
            found = next((v for end, v in (tokens or {}).items() if route.endswith(end)), None)
        else:
            found = values.get(name)
        if not found:
            pytest.fail(
                f"cannot fill <{name}> in {route!r}: add its values to the test's objects",
                pytrace=False,
            )
        choices.append(found)
    return [fill(route, dict(zip(names, chosen, strict=True))) for chosen in product(*choices)]


def fill(route: str, arguments: Mapping[str, object]) -> str:
    return "/" + _ARGUMENT.sub(lambda m: str(arguments[m.group(1)]), route)
