"""{% load certificates %}: `certificate|expired_on:day`, the one rule for marking a CMA certificate 已过期 (used by
templates/institutions/_certificate_expired.html wherever certificates are listed)."""
import datetime

from django import template
from django.utils import timezone

register = template.Library()


def _day(value) -> datetime.date:
    if value in (None, ""):
        return timezone.localdate()
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value) if "T" in value else datetime.date.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


@register.filter
def expired_on(certificate, day=None) -> bool:
    """Whether the certificate (a CmaCertificate or a submission snapshot's dict) had expired on `day` (a date, a
    datetime or an ISO string; today when not given): its validity ended before that day."""
    expiry = certificate["expiry_date"] if isinstance(certificate, dict) else certificate.expiry_date
    if not expiry:
        return False
    return _day(expiry) < _day(day)
