"""同行比较 on the embedded default: SQLite has no percentile_cont, and the window-function medians of filings.peers
give the same statistics there (issue 14 §9)."""
import statistics
from decimal import Decimal

from django.urls import reverse

from filings import peers
from filings.models import Filing
from filings.selectors import current_year
from institutions.models import ProfessionalField
from tests import factories


def test_peer_statistics_and_the_queue_filter_work_on_sqlite(login):
    year = current_year()
    field = ProfessionalField.objects.order_by("-order", "-code").first()
    values = [10, 11, 12, 12, 13, 15, 16, 17, 18, 19, 40]
    approved = []
    for value in values:
        institution = factories.filing_ready_institution()
        institution.professional_fields.add(field)
        approved.append(factories.make_filing(institution, year=year, status="approved",
                                              revenue=Decimal(value * 50)))
    comparisons = peers.peer_comparisons(Filing.objects.filter(pk__in=[f.pk for f in approved]))
    for filing in approved:
        others = [v for f, v in zip(approved, values, strict=True) if f.pk != filing.pk]
        median = statistics.median(others)
        item = next(c for c in comparisons[filing.pk] if c.ratio.key == "revenue_per_staff" and c.field == field.name)
        assert (item.peers, item.median) == (10, median)
        assert item.mad == statistics.median(abs(v - median) for v in others)
    assert next(c for c in comparisons[approved[-1].pk] if c.ratio.key == "revenue_per_staff").is_outlier

    response = login("province").get(reverse("review:queue"), {"peers": "outliers"})
    assert response.status_code == 200 and "偏离同行" in response.content.decode()
