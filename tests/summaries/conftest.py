"""A small population for the summary workbook and the dashboard: a few filings in every state, two years."""
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from institutions.models import Institution, ProfessionalField
from summaries import services
from summaries.models import ExportJob
from tests import factories

# (key, city code, status this year, statistics this year, status last year, fields ticked)
POPULATION = [
    ("a", "430100", "approved", dict(revenue=Decimal("1200.00"), staff_total=150), "approved",
     ["食品及食品接触材料", "水质"]),
    ("b", "430100", "submitted", dict(revenue=Decimal("99.50"), staff_total=20), None, ["食品及食品接触材料"]),
    ("c", "430100", "in_review", dict(revenue=Decimal("3000.00"), staff_total=99), None, []),
    ("d", "430200", "approved", dict(revenue=Decimal("1000.00"), staff_total=100, lab_area=Decimal("10.25")),
     "approved", ["水质"]),
    ("e", "430200", "draft", dict(revenue=Decimal("5000.00")), None, ["水质"]),
    ("f", "430200", "returned", dict(revenue=Decimal("7000.00")), "approved", ["环境监测"]),
    ("g", "420100", "approved", dict(revenue=Decimal("9000.00")), None, ["水质"]),  # another province
    ("h", "430100", None, None, None, []),  # registered, never filed
]
LAST_YEAR_STATS = dict(revenue=Decimal("800.00"), staff_total=40)


def statistics_of(key):
    spec = next(spec for spec in POPULATION if spec[0] == key)
    return {**factories.COMPLETE_STATISTICS, **spec[3]}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def population(db, on_commit_immediately, media):
    return make_population()


def make_population():
    year, last_year = factories.ReportingYearFactory(year=2025), factories.ReportingYearFactory(year=2024)
    factories.CityFactory(code="420100", name="武汉市")
    institutions = {}
    for key, city, status, stats, last_status, fields in POPULATION:
        institution = factories.InstitutionFactory(name=f"{city[:4]}机构{key}", city=factories.region(city))
        institution.professional_fields.set(ProfessionalField.objects.filter(name__in=fields))
        if status:
            factories.make_filing(institution, year=year, status=status, **stats)
        if last_status:
            factories.make_filing(institution, year=last_year, status=last_status, **LAST_YEAR_STATS)
        institutions[key] = institution
    Institution.objects.filter(pk=institutions["d"].pk).update(
        nature=Institution.Nature.PUBLIC_INSTITUTION, ownership=Institution.Ownership.STATE
    )
    return institutions


def build(user, region_code="430000", *, year=2025, include_submitted=False):
    job = services.start_export(
        actor=user, kind="summary", region=factories.region(region_code), year=year,
        include_submitted=include_submitted,
    )
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    return load_workbook(job.file.path)


def table(workbook, title):
    """(notes, header, {first cell: row}) of a sheet: the notes above the header row, which holds the first header."""
    rows = list(workbook[title].iter_rows(values_only=True))
    header_index = next(i for i, row in enumerate(rows) if row[1] is not None)
    notes = [row[0] for row in rows[:header_index]]
    return notes, rows[header_index], {row[0]: row for row in rows[header_index + 1:]}
