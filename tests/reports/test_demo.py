import random

from institutions.models import Institution
from reports.demo import seed_report_numbers
from reports.models import ReportNumber, ReportNumberBatch
from reports.selectors import upload_status_by_quarter
from tests import factories


def _seed(institutions, seed):
    summary = seed_report_numbers(random.Random(seed), institutions)
    numbers = sorted(ReportNumber.objects.values_list("institution_id", "year", "quarter", "number"))
    return summary, numbers


def test_demo_numbers_are_realistic_deterministic_and_counted_as_uploads(db):
    institutions = [factories.InstitutionFactory() for _ in range(30)]
    summary, first = _seed(institutions, 7)
    assert "个编号" in summary and first
    ReportNumber.objects.all().delete()
    ReportNumberBatch.objects.all().delete()
    assert _seed(institutions, 7)[1] == first
    status = upload_status_by_quarter(Institution.objects.all(), 2023)
    assert all(row["uploaded"] >= 1 and row["missing"] >= 1 for row in status)
    assert sum(row["numbers"] for row in status) <= len(first)
