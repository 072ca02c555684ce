import datetime

import pytest

from reports.models import ReportNumberBatch
from reports.quarters import SHANGHAI


@pytest.fixture
def make_batch(db):
    """A finished upload with given counts, created at a Shanghai-local moment."""

    def make(institution, year, quarter, *, accepted=10, duplicate_existing=0, at=None, status="done", **extra):
        created = at or datetime.datetime(year + (quarter == 4), (quarter % 4) * 3 + 1, 5, tzinfo=SHANGHAI)
        from reports.quarters import Quarter

        return ReportNumberBatch.objects.create(
            institution=institution, year=year, quarter=quarter, status=status, accepted=accepted,
            duplicate_existing=duplicate_existing, created_at=created,
            is_late=Quarter(year, quarter).is_late_at(created), **extra,
        )

    return make
