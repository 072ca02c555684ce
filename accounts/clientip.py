"""The client's address, decided in one place for login throttling (django-axes), the public rate limits and the
complaint record.

Behind `TRUSTED_PROXY_COUNT` reverse proxies (environment `QTS_TRUSTED_PROXY_COUNT`), each proxy appends the address it
received the request from to `X-Forwarded-For`. Only those right-most entries were written by our proxies; anything
left of them came from the client and may be forged. So the client is the entry that many places from the right, and
with no proxy (0) the header is never read at all.
"""
import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The address of the client that sent `request`, or None when there is no valid one.

    Also django-axes' `AXES_CLIENT_IP_CALLABLE`, so that a lockout is per real client, not per proxy."""
    remote = _normalised(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        # The request did not pass through every proxy (or one forgot the header): the nearest address is the only
        # one we can vouch for.
        return remote
    return _normalised(forwarded[-proxies]) or remote


def _normalised(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None
