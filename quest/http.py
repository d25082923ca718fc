"""The request types views are annotated with.

`HtmxMiddleware` sets `request.htmx` on every request at runtime, which
`HttpRequest` does not declare; django-htmx's documentation has views say so
with this subclass. Behind `@login_required` the user is signed in, so those
views take `AuthenticatedHttpRequest` (django-stubs' pattern) and can hand
`request.user` to a service as a `User`. Neither class is ever instantiated.
"""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: User
