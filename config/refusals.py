"""The one family of refusals: what a service will not do, with a Chinese message for the user.

A service (or a model helper, a file guard) that refuses a request raises a subclass of `DomainRefusal` named for
what it refuses (`TransitionRefused`, `ExtensionRefused`, `UploadRefused`, `TokenRefused`, …). The refusal carries
the message (`str(refusal)`, `refusal.message`) and the HTTP status that fits it: 400 bad input, 401 no valid API
token, 403 not allowed, 404 not found or not in the user's scope, 409 a stale edit or a concurrent decision.

Views turn refusals into responses only here:
- `refusal_as_message(request)` around a service call: the refusal becomes an error message and the view carries on
  as it would after any refused POST (renders its form again, or redirects where it always does);
- `RefusalMiddleware` for a refusal a view lets through: a JSON body {"error": "…"} with the refusal's status for
  views marked `@refusals_as_json` (the LIMS API), the 404 page for `NotFoundRefusal`, otherwise an error message
  and a redirect back to the page of this site the request came from.
Services never raise `Http404`; the web layer decides what a refusal looks like.
"""
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


class DomainRefusal(Exception):
    """A request the domain refuses; `message` is for the user, `status` for the web layer."""

    status = 400

    def __init__(self, message, *, status: int | None = None):
        self.message = str(message)
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def __str__(self):
        return self.message


class NotFoundRefusal(DomainRefusal):
    """The object does not exist or lies outside the user's scope (the two are not told apart)."""

    status = 404


@dataclass
class Outcome:
    refusal: DomainRefusal | None = None


@contextmanager
def refusal_as_message(request, prefix: str = ""):
    """Run the block; a refusal raised in it becomes an error message (after `prefix`) and is recorded on the
    yielded outcome, so that the view can answer it as it needs (e.g. re-render with 409)."""
    outcome = Outcome()
    try:
        yield outcome
    except DomainRefusal as refusal:
        outcome.refusal = refusal
        messages.error(request, f"{prefix}{refusal.message}")


def refusals_as_json(view):
    """Mark an API view: a refusal it lets through is answered as JSON {"error": "…"} with the refusal's status."""
    view.refusals_as_json = True
    return view


def json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})


def _back(request) -> str:
    """The page of this site the request came from, else the home page."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
        return referer
    return "/"


class RefusalMiddleware:
    """Turns a refusal that a view did not answer itself into a response (the one place; see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainRefusal):
            return None
        match = getattr(request, "resolver_match", None)
        if match is not None and getattr(match.func, "refusals_as_json", False):
            return json_error(exception.message, exception.status)
        if isinstance(exception, NotFoundRefusal):
            # Django answers Http404 raised by middleware with the site's 404 page.
            raise Http404(exception.message)
        messages.error(request, exception.message)
        return redirect(_back(request))
