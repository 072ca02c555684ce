import datetime

import pytest
from django.utils import timezone

from filings import services as filing_services
from institutions.models import ReviewingAuthority
from tests import factories


@pytest.fixture
def year(db):
    return factories.ReportingYearFactory()


@pytest.fixture
def province_reviewer(db):
    return factories.ProvincialReviewerFactory(first_name="省局审核员")


@pytest.fixture
def samr_reviewer(db):
    return factories.SamrReviewerFactory(first_name="总局审核员")


@pytest.fixture
def submit(year):
    """submit(city_code=..., authority=..., **institution fields) -> a submitted filing with its snapshot."""

    def make(city="430100", authority=ReviewingAuthority.PROVINCE, year=year, filer=None, stats=None,
             explanations=None, **fields):
        institution = filer.institution if filer else factories.filing_ready_institution(
            city=factories.region(city), reviewing_authority=authority, **fields
        )
        filer = filer or factories.FilerFactory(institution=institution, email="filer@example.cn")
        filing = factories.make_filing(institution, year=year, **(stats or {}))
        if explanations:
            filing = filing_services.save_explanations(filing, actor=filer, expected_version=filing.version,
                                                       explanations=explanations)
        return filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)

    return make


def due(days=10):
    return timezone.now() + datetime.timedelta(days=days)


def filer_of(filing):
    return filing.institution.users.get(role="filer")
