import pytest

from tests import factories


@pytest.fixture
def year(db):
    return factories.ReportingYearFactory()


@pytest.fixture
def filer(db):
    return factories.FilerFactory(institution=factories.filing_ready_institution(name="长沙市湘江检测有限公司"))


@pytest.fixture
def filing(filer, year):
    return factories.make_filing(filer.institution, year=year)


@pytest.fixture
def province_reviewer(db):
    return factories.ProvincialReviewerFactory()
