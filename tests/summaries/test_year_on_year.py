"""Year-on-year compares like with like: by default the institutions counted in both years (同口径), with the
comparison of every counted institution (全部机构) beside it and labelled; the dashboard and the workbook's 总体情况
show the same numbers, written with thousands separators and whole numbers without “.00”."""
from decimal import Decimal

import pytest
from django.urls import reverse

from summaries import aggregates
from summaries.figures import format_change, format_figure
from summaries.scopes import institutions_in
from tests import factories
from tests.summaries.conftest import build, table

pytestmark = pytest.mark.django_db

# An unfinished 2025 against a finished 2024: (name, 2024 status and revenue, 2025 status and revenue).
FILINGS = [
    ("P", ("approved", Decimal("1000.00")), ("approved", Decimal("1100.00"))),
    ("Q", ("approved", Decimal("500.50")), ("approved", Decimal("450.25"))),
    ("R", ("approved", Decimal("3000.00")), ("draft", Decimal("3100.00"))),  # not yet handed in this year
    ("T", None, ("approved", Decimal("200.00"))),  # new this year
    ("U", ("approved", Decimal("700.00")), ("submitted", Decimal("800.00"))),  # awaiting review this year
]


@pytest.fixture
def unfinished_year(db, on_commit_immediately, media):
    years = {2024: factories.ReportingYearFactory(year=2024), 2025: factories.ReportingYearFactory(year=2025)}
    for name, *filings in FILINGS:
        institution = factories.InstitutionFactory(name=f"4301机构{name}", city=factories.region("430100"))
        for year, filing in zip((2024, 2025), filings, strict=True):
            if filing:
                status, revenue = filing
                factories.make_filing(institution, year=years[year], status=status, revenue=revenue)


def comparison(include_submitted=False):
    reviewer = factories.ProvincialReviewerFactory()
    rows = aggregates.year_on_year(institutions_in(reviewer, factories.region("430000")), 2025,
                                   include_submitted=include_submitted)
    return {row["key"]: row for row in rows}


def test_same_institutions_are_compared_by_default_with_every_institution_beside(unfinished_year):
    rows = comparison()
    # 同口径: P and Q, approved in both years.
    assert (rows["institutions"]["same_current"], rows["institutions"]["same_previous"]) == (2, 2)
    revenue = rows["revenue"]
    assert (revenue["same_current"], revenue["same_previous"]) == (Decimal("1550.25"), Decimal("1500.50"))
    assert revenue["same_change"] == pytest.approx(49.75 / 1500.50)  # +3.3 %
    # 全部机构: P, Q and T this year against P, Q, R and U last year (−66.3 %, the unfinished year's artefact).
    assert (revenue["current"], revenue["previous"]) == (Decimal("1750.25"), Decimal("5200.50"))
    assert revenue["change"] == pytest.approx((1750.25 - 5200.50) / 5200.50)
    assert (rows["institutions"]["current"], rows["institutions"]["previous"]) == (3, 4)


def test_including_submitted_filings_widens_both_comparisons_alike(unfinished_year):
    rows = comparison(include_submitted=True)
    assert rows["institutions"]["same_current"] == 3  # U too
    assert (rows["revenue"]["same_current"], rows["revenue"]["same_previous"]) == (
        Decimal("2350.25"), Decimal("2200.50"))
    assert rows["revenue"]["current"] == Decimal("2550.25")


def test_the_dashboard_and_the_overview_sheet_show_the_same_comparison(client, unfinished_year):
    reviewer = factories.ProvincialReviewerFactory()
    client.force_login(reviewer)
    body = client.get(reverse("summaries:dashboard"), {"year": 2025}).content.decode()
    workbook = build(reviewer)
    notes, _header, sheet = table(workbook, "总体情况")
    revenue = sheet["营业收入"]
    assert revenue[2:] == pytest.approx((1550.25, 1500.5, 49.75, 49.75 / 1500.5, 1750.25, 5200.5,
                                         (1750.25 - 5200.5) / 5200.5))
    assert any("都计入汇总的 2 家机构" in note for note in notes)
    assert "都计入汇总的 2 家机构" in body
    # The page writes the sheet's numbers by the one rule: separators, two decimals unless whole, signed changes.
    revenue_row = body.split('data-key="revenue"')[1].split("</tr>")[0]
    for shown in ("1,550.25", "1,500.50", "+3.3%", "1,750.25", "5,200.50", "−66.3%"):
        assert shown in revenue_row
    assert "同口径" in body and "全部机构" in body
    counted = body.split('data-testid="figure-revenue-same"')[1].split("</div>")[0]
    assert "+3.3%" in counted and "text-success" not in counted  # the class comes before the test id
    assert "text-success" in body.split('data-testid="figure-revenue-same"')[0].rsplit("<div", 1)[1]


def test_figures_have_separators_and_whole_numbers_no_decimals():
    assert format_figure(12345) == "12,345"
    assert format_figure(Decimal("2200.00")) == "2,200"
    assert format_figure(1099.5) == "1,099.50"
    assert format_figure(Decimal("1234567.891")) == "1,234,567.89"
    assert format_figure(None) == "—"
    assert (format_change(0.125), format_change(-0.6), format_change(0), format_change(None)) == (
        "+12.5%", "−60.0%", "0.0%", "—")
