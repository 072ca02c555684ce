"""Reads of filings, always through the scoping helper."""
from django.utils import timezone

from accounts.scoping import visible_to

from .models import Extension, Filing, FilingStatistics, ReportingYear


def filings_visible_to(user):
    return visible_to(user, Filing).select_related("institution__city", "year")


def filing_for(user, pk):
    """The filing with this id if the user may see it (else Filing.DoesNotExist)."""
    return filings_visible_to(user).get(pk=pk)


def current_year(now=None):
    return ReportingYear.objects.current(now)


def latest_extension(institution_id, year_id):
    return Extension.objects.filter(institution_id=institution_id, year_id=year_id).order_by("-until").first()


def previous_approved_statistics(filing):
    """Last year's approved statistics of the same institution, for the year-on-year warnings."""
    return (
        FilingStatistics.objects.filter(
            filing__institution_id=filing.institution_id,
            filing__year__year=filing.year.year - 1,
            filing__status=Filing.Status.APPROVED,
        )
        .first()
    )


def days_left(filing_or_year, now=None) -> int | None:
    """Whole days until the filer's deadline (negative once past); None before the window opens."""
    from .workflow import editing_deadline

    now = now or timezone.now()
    deadline = editing_deadline(filing_or_year, now) if isinstance(filing_or_year, Filing) else filing_or_year.closes_at
    return (timezone.localtime(deadline).date() - timezone.localtime(now).date()).days
