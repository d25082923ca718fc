import zoneinfo

from django.utils import timezone


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
