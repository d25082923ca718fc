import logging
import zoneinfo

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

logger = logging.getLogger(__name__)


class TimezoneMiddleware:
    """Show times in the reader's zone.

    The browser reports its zone in a `tz` cookie (set by static/js/app.js);
    an unknown or missing zone falls back to UTC rather than failing the page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get("tz", "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Send the `Permissions-Policy` header built from settings.PERMISSIONS_POLICY.

    Django has a setting for CSP but none for this header. A feature mapped to
    [] is off (`camera=()`); a list names who may use it (`fullscreen=(self)`).
    A header a view set itself is left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allowed)})"
            for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


def shows_quest(request, quest) -> None:
    """Note that the response to `request` shows `quest` (see PrivateQuestCacheMiddleware).

    Called by the views' access helpers once they have let the reader in.
    """
    if not quest.is_public:
        request.shows_private_quest = True


class PrivateQuestCacheMiddleware:
    """Send `Cache-Control: private` with anything that shows a private quest.

    Its pages are for its members: a shared cache (a proxy, a CDN) must never
    keep one and hand it to someone else. Marked where access is decided
    (`shows_quest`), so a 304 from a view's ETag check is marked too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "shows_private_quest", False):
            patch_cache_control(response, private=True)
        return response


class FormEncodingMiddleware:
    """Read a form body that is not UTF-8 the way a percent-encoded one is read.

    Django decodes `%ff` in a form as U+FFFD, which the forms refuse with a
    message ("not valid UTF-8"), but falls back to ISO-8859-1 for a whole body
    holding raw bytes that are not UTF-8, which would be stored as mojibake.
    Replacing those bytes with U+FFFD sends both cases down the same path.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == _URLENCODED:
            _replace_undecodable_bytes(request)
        return self.get_response(request)


_URLENCODED = "application/x-www-form-urlencoded"


def _replace_undecodable_bytes(request) -> None:
    if request.encoding and request.encoding.lower() not in ("utf-8", "utf8"):
        return  # Django refuses any other charset for a form with a 400
    try:
        body = request.body
    except (RequestDataTooBig, OSError):
        return  # answered as before, where the form is read (a 400; a dropped client)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        request._body = body.decode("utf-8", errors="replace").encode("utf-8")


class DatabaseUnavailableMiddleware:
    """Answer a 503 with a retry hint while the database cannot be reached.

    A view that meets a lost or refused database connection gets a clean page
    (a fragment for htmx, whose polling then simply tries again) instead of a
    500. Nothing needs restarting afterwards: CONN_HEALTH_CHECKS makes each
    request replace a connection the outage broke.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable, answered 503: %s", exception)
        return database_unavailable(request)


RETRY_AFTER_SECONDS = 5


def database_unavailable(request) -> HttpResponse:
    """The 503 page, or its `retry` fragment for htmx, rendered without the database.

    No request context: the session, the user and messages all live in the
    database, so the page is the one a signed-out visitor sees.
    """
    context = {
        "retry_after": RETRY_AFTER_SECONDS,
        "reloads": request.method in ("GET", "HEAD"),
        "was_sent": request.method not in ("GET", "HEAD", "OPTIONS"),
    }
    htmx = request.headers.get("HX-Request") == "true"
    template = "503.html#retry" if htmx else "503.html"
    response = HttpResponse(render_to_string(template, context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if htmx:
        # Inside the element that asked (static/js/app.js swaps it in), not over
        # it: a polling tally keeps its trigger and replaces the notice itself
        # once the database answers again.
        response["HX-Reswap"] = "innerHTML"
    patch_vary_headers(response, ["HX-Request"])
    return response
