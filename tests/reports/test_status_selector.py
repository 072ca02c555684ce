"""upload_status_by_quarter: the per-quarter figures the summaries workbook and the status pages use."""
import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from institutions.models import Institution
from reports.quarters import SHANGHAI
from reports.selectors import upload_status_by_quarter
from tests import factories


def test_status_counts_uploaded_on_time_late_missing_and_numbers(two_provinces, make_batch):
    inst = two_provinces["institutions"]
    make_batch(inst["changsha"], 2023, 1, accepted=100)  # 2023-04-05: on time
    make_batch(inst["changsha"], 2023, 1, accepted=5)  # a second upload of the same quarter
    make_batch(inst["changsha2"], 2023, 1, accepted=7, at=datetime.datetime(2023, 5, 1, tzinfo=SHANGHAI))  # late
    make_batch(inst["zhuzhou"], 2023, 1, accepted=0, duplicate_existing=0)  # nothing valid: not an upload
    make_batch(inst["zhuzhou"], 2023, 2, accepted=3, status="failed")  # failed: not an upload
    make_batch(inst["wuhan"], 2023, 1, accepted=999)  # outside the scoped queryset

    hunan = Institution.objects.filter(city__parent__code="430000")
    rows = upload_status_by_quarter(hunan, 2023)

    assert [row["quarter_code"] for row in rows] == ["2023Q1", "2023Q2", "2023Q3", "2023Q4"]
    assert rows[0] == {
        "quarter": "2023年第1季度", "quarter_code": "2023Q1", "institutions": 3, "uploaded": 2, "on_time": 1,
        "late": 1, "missing": 1, "numbers": 112,
    }
    assert rows[1] == {
        "quarter": "2023年第2季度", "quarter_code": "2023Q2", "institutions": 3, "uploaded": 0, "on_time": 0,
        "late": 0, "missing": 3, "numbers": 0,
    }


def test_institution_with_an_on_time_and_a_late_upload_counts_as_on_time(two_provinces, make_batch):
    changsha = two_provinces["institutions"]["changsha"]
    make_batch(changsha, 2023, 4, accepted=1, at=datetime.datetime(2024, 1, 31, 23, 59, tzinfo=SHANGHAI))
    make_batch(changsha, 2023, 4, accepted=1, at=datetime.datetime(2024, 2, 1, 0, 0, tzinfo=SHANGHAI))
    row = upload_status_by_quarter(Institution.objects.filter(pk=changsha.pk), 2023)[3]
    assert (row["uploaded"], row["on_time"], row["late"], row["numbers"]) == (1, 1, 0, 2)


def test_status_issues_the_same_queries_for_few_and_many_institutions(two_provinces, make_batch):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            upload_status_by_quarter(Institution.objects.all(), 2023)
        return len(ctx.captured_queries)

    few = count()
    for _ in range(15):
        make_batch(factories.InstitutionFactory(), 2023, 2, accepted=2)
    assert count() == few == 2
