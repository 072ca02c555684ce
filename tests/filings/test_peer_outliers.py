"""同行比较: ratios against the median of the year's approved filings of the same professional field and size band."""
import random
import statistics
from decimal import Decimal

import pytest
from django.urls import reverse

from filings import peers, services
from filings.checks import CHECK_CODES, run_checks
from filings.models import Filing
from institutions.models import ProfessionalField, ReviewingAuthority
from tests import factories

S = Filing.Status


@pytest.fixture
def fields(db):
    first, second = ProfessionalField.objects.order_by("order", "code")[:2]
    return first, second


def peer(year, field, *, status=S.APPROVED, name=None, **stats):
    institution = factories.filing_ready_institution(**({"name": name} if name else {}))
    institution.professional_fields.add(field)
    return factories.make_filing(institution, year=year, status=status, **stats)


def revenues(year, field, values, **kwargs):
    """Approved peers of 50 staff whose revenue per staff is each of `values` (万元/人)."""
    return [peer(year, field, revenue=Decimal(str(v * 50)), **kwargs) for v in values]


def revenue_per_staff(comparisons, pk):
    return next(c for c in comparisons.get(pk, []) if c.ratio.key == "revenue_per_staff")


def submitted_filer_filing(year, field, **stats):
    institution = factories.filing_ready_institution(reviewing_authority=ReviewingAuthority.PROVINCE)
    institution.professional_fields.add(field)
    filer = factories.FilerFactory(institution=institution)
    return filer, factories.make_filing(institution, year=year, **stats)


# --- the statistics ------------------------------------------------------------------------------------------------

def test_median_and_mad_match_a_hand_computed_example(year, fields):
    # 11 peers: sorted 10 11 12 13 14 15 16 17 18 19 40 → median 15; |x − 15|: 5 4 3 2 1 0 1 2 3 4 25 → MAD 3.
    revenues(year, fields[0], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 40])
    target = peer(year, fields[0], status=S.SUBMITTED, revenue=Decimal("1500"))  # 30 万元/人
    item = revenue_per_staff(peers.peer_comparisons(Filing.objects.filter(pk=target.pk)), target.pk)
    assert (item.median, item.mad, item.peers, item.value) == (15, 3, 11, 30)
    assert item.z == pytest.approx(15 / (1.4826 * 3))  # 3.37: within the threshold
    assert not item.is_outlier
    assert item.group == f"{fields[0].name}、50～99人"


def test_an_approved_filing_is_not_its_own_peer(year, fields):
    # With itself the 11 values would have median 15; without it the other 10 (10…19) have median 14.5, MAD 2.5.
    filings = revenues(year, fields[0], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    own = peer(year, fields[0], revenue=Decimal("2000"))  # 40 万元/人, approved
    comparisons = peers.peer_comparisons(Filing.objects.filter(pk__in=[own.pk, filings[0].pk]))
    item = revenue_per_staff(comparisons, own.pk)
    assert (item.median, item.mad, item.peers) == (14.5, 2.5, 10)
    assert item.is_outlier and item.arrow == "↑"
    # The lowest peer is compared with the 10 others, 40 included: 11…19 and 40 → median 15.5.
    lowest = revenue_per_staff(comparisons, filings[0].pk)
    assert (lowest.median, lowest.peers) == (15.5, 10)


@pytest.mark.parametrize("size", [10, 11, 14, 15])
def test_leaving_self_out_matches_a_direct_computation(year, fields, size):
    rng = random.Random(size)
    values = [rng.choice([5, 8, 8, 9, 12, 15, 20, 33, 70]) for _ in range(size)]  # ties included
    filings = revenues(year, fields[0], values)
    outsider = peer(year, fields[0], status=S.IN_REVIEW, revenue=Decimal("600"))
    comparisons = peers.peer_comparisons(Filing.objects.filter(year=year))
    for filing in [*filings, outsider]:
        others = [v for f, v in zip(filings, values, strict=True) if f.pk != filing.pk]
        median = statistics.median(others)
        mad = statistics.median(abs(v - median) for v in others)
        if len(others) < peers.MIN_PEERS:  # 10 values: each member has only 9 peers
            assert filing.pk not in comparisons
            continue
        item = revenue_per_staff(comparisons, filing.pk)
        assert (item.peers, item.median, item.mad) == (len(others), pytest.approx(median), pytest.approx(mad))


def test_only_approved_filings_of_the_same_year_field_and_band_are_peers(year, fields):
    revenues(year, fields[0], [10] * 5 + [12] * 5)
    revenues(year, fields[0], [100] * 3, status=S.SUBMITTED)  # not approved
    revenues(year, fields[1], [100] * 3)  # another field
    for _ in range(3):  # another band (10–49 staff), 100 万元/人
        peer(year, fields[0], staff_total=20, revenue=Decimal("2000"))
    other_year = factories.ReportingYearFactory(year=year.year - 1)
    revenues(other_year, fields[0], [100] * 3)
    target = peer(year, fields[0], status=S.SUBMITTED)
    item = revenue_per_staff(peers.peer_comparisons(Filing.objects.filter(pk=target.pk)), target.pk)
    assert (item.peers, item.median) == (10, 11)


def test_an_institution_of_two_fields_is_compared_in_each(year, fields):
    revenues(year, fields[0], [10] * 10)
    revenues(year, fields[1], [20] * 10)
    target = peer(year, fields[0], status=S.SUBMITTED)
    target.institution.professional_fields.add(fields[1])
    items = [c for c in peers.peer_comparisons(Filing.objects.filter(pk=target.pk))[target.pk]
             if c.ratio.key == "revenue_per_staff"]
    assert sorted((c.field, c.median) for c in items) == sorted([(fields[0].name, 10), (fields[1].name, 20)])


def test_fewer_than_the_minimum_peers_flag_nothing(year, fields):
    revenues(year, fields[0], [10, 11, 12, 13, 14, 15, 16, 17, 18])  # 9 peers
    target = peer(year, fields[0], status=S.SUBMITTED, revenue=Decimal("50000"))
    assert peers.peer_comparisons(Filing.objects.filter(pk=target.pk)) == {}
    revenues(year, fields[0], [19])  # the tenth
    assert revenue_per_staff(peers.peer_comparisons(Filing.objects.filter(pk=target.pk)), target.pk).is_outlier


def test_zero_staff_or_zero_reports_leave_the_ratio_out(year, fields):
    revenues(year, fields[0], [10] * 10, reports_total=0)  # no revenue per report among the peers
    peer(year, fields[0], staff_total=0)  # no band: not a peer
    zero_staff = peer(year, fields[0], status=S.SUBMITTED, staff_total=0)
    no_reports = peer(year, fields[0], status=S.SUBMITTED, reports_total=0)
    comparisons = peers.peer_comparisons(Filing.objects.filter(pk__in=[zero_staff.pk, no_reports.pk]))
    assert zero_staff.pk not in comparisons
    assert "revenue_per_report" not in {c.ratio.key for c in comparisons[no_reports.pk]}
    assert revenue_per_staff(comparisons, no_reports.pk).peers == 10


def test_no_professional_field_no_peer_group(year, fields):
    revenues(year, fields[0], [10] * 10)
    target = factories.make_filing(year=year, status=S.SUBMITTED)
    assert peers.peer_comparisons(Filing.objects.filter(pk=target.pk)) == {}


@pytest.mark.parametrize("value, outlier", [(3.5, False), (3.5001, True), (-3.5001, True), (-3.5, False)])
def test_the_rule_flags_beyond_the_threshold_only(value, outlier):
    mad = 2.0
    item = peers.PeerComparison(peers.RATIOS[0], "领域", peers.SIZE_BANDS[0], 10 + value * peers.MAD_SCALE * mad,
                                10, mad, 10)
    assert item.is_outlier is outlier


def test_no_spread_no_judgement():
    item = peers.PeerComparison(peers.RATIOS[0], "领域", peers.SIZE_BANDS[0], 1000, 10, 0, 10)
    assert item.z is None and not item.is_outlier


def test_size_bands_cover_every_staff_count_once():
    assert peers.size_band(0) is None and peers.size_band(None) is None
    for staff in [1, 9, 10, 49, 50, 99, 100, 499, 500, 100000]:
        band = peers.size_band(staff)
        assert band.lower <= staff and (band.upper is None or staff < band.upper)
    assert peers.size_band(99).code == "50-99" and peers.size_band(100).code == "100-499"


def test_the_statistics_take_a_fixed_number_of_queries(year, fields, django_assert_max_num_queries):
    revenues(year, fields[0], range(10, 40))
    revenues(year, fields[1], range(10, 40))
    two = list(Filing.objects.filter(year=year).values_list("pk", flat=True)[:2])
    with django_assert_max_num_queries(3):
        few = peers.peer_comparisons(Filing.objects.filter(pk__in=two))
    with django_assert_max_num_queries(3):
        every = peers.peer_comparisons(Filing.objects.filter(year=year))
    assert len(few) == 2 and len(every) == 60


def test_statistics_against_all_peers_are_cached_until_an_approved_filing_changes(year, fields,
                                                                                 django_assert_num_queries):
    revenues(year, fields[0], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    target = peer(year, fields[0], status=S.SUBMITTED)
    filings = Filing.objects.filter(pk=target.pk)
    first = peers.peer_comparisons(filings)
    with django_assert_num_queries(2):  # the filing, the approved filings' state; the statistics from the cache
        assert peers.peer_comparisons(filings) == first
    revenues(year, fields[0], [100])  # approved since
    assert revenue_per_staff(peers.peer_comparisons(filings), target.pk).peers == 11


# --- the filer's warning -------------------------------------------------------------------------------------------

def test_the_filer_explains_a_ratio_far_from_its_peers_before_submitting(year, fields):
    revenues(year, fields[0], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    filer, filing = submitted_filer_filing(year, fields[0], revenue=Decimal("5000"))  # 100 万元/人
    warning = next(f for f in run_checks(filing) if f.code == "W221")
    assert not warning.is_error and warning.field == "statistics.revenue"
    assert "100.00 万元/人" in warning.message and "同领域同规模机构中位数为 14.50 万元/人" in warning.message
    assert f"{fields[0].name}、50～99人，10 家" in warning.message
    with pytest.raises(services.TransitionRefused, match="W221"):
        services.submit_filing(filing, actor=filer, expected_version=filing.version)
    filing = services.save_explanations(filing, actor=filer, expected_version=filing.version,
                                        explanations={"W221": "本年承接大型项目。", "W223": "同上。"})
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    warnings = filing.snapshots.get().data["warnings"]
    assert {"W221", "W223"} <= {w["code"] for w in warnings}


@pytest.mark.parametrize("code, field", [("W221", "revenue"), ("W222", "reports_total"), ("W223", "revenue"),
                                         ("W224", "instrument_value_total")])
def test_each_ratio_far_from_its_peers_warns_with_its_code(year, fields, code, field):
    base = factories.COMPLETE_STATISTICS[field]
    for step in range(10):
        peer(year, fields[0], **{field: base * (10 + step) // 10})
    _filer, filing = submitted_filer_filing(year, fields[0], **{field: base * 10})
    assert code in {f.code for f in run_checks(filing)}
    _filer, usual = submitted_filer_filing(year, fields[0])  # within its peers
    assert code not in {f.code for f in run_checks(usual)}


def test_every_peer_warning_is_documented_on_the_help_page(client, db):
    for ratio in peers.RATIOS:
        assert ratio.code in CHECK_CODES
    page = client.get(reverse("help:checks")).content.decode()
    assert "W221" in page and "同行比较" in page and f"大于 {peers.THRESHOLD}" in page
    assert f"不少于 {peers.MIN_PEERS} 家" in page


# --- the reviewer's queue and screen, the workbook ------------------------------------------------------------------

@pytest.fixture
def straying(year, fields):
    """Ten approved peers (10…19 万元/人) and two submitted filings: one at 100 万元/人 (explained), one at 15."""
    revenues(year, fields[0], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    filer, outlier = submitted_filer_filing(year, fields[0], revenue=Decimal("5000"))
    outlier.institution.name = "偏离同行检测有限公司"
    outlier.institution.save()
    outlier = services.save_explanations(outlier, actor=filer, expected_version=outlier.version,
                                         explanations={"W221": "承接大型项目。", "W223": "同上。"})
    outlier = services.submit_filing(outlier, actor=filer, expected_version=outlier.version)
    filer, usual = submitted_filer_filing(year, fields[0], revenue=Decimal("750"))
    usual.institution.name = "寻常检测有限公司"
    usual.institution.save()
    usual = services.submit_filing(usual, actor=filer, expected_version=usual.version)
    return outlier, usual


def queue_page(client, **params):
    return client.get(reverse("review:queue"), params).content.decode()


def test_the_queue_flags_and_filters_filings_straying_from_peers(client, straying):
    client.force_login(factories.ProvincialReviewerFactory())
    page = queue_page(client)
    assert "偏离同行：人均收入↑" in page and "寻常检测有限公司" in page
    filtered = queue_page(client, peers="outliers")
    assert "偏离同行检测有限公司" in filtered and "寻常检测有限公司" not in filtered
    assert "<option value=\"outliers\" selected>偏离同行</option>" in filtered


def test_the_review_screen_shows_the_peer_median_beside_the_value(client, straying):
    outlier, usual = straying
    client.force_login(factories.ProvincialReviewerFactory())
    page = client.get(reverse("review:detail", args=[outlier.pk])).content.decode()
    assert "同行比较（同领域同规模机构中位数）" in page
    row = page.split('data-testid="peer-outlier"')[1].split("</tr>")[0]
    assert "人均营业收入" in row and "100.00" in row and "14.50" in row and "偏离同行↑" in row
    assert 'data-testid="peer-outlier"' not in client.get(reverse("review:detail", args=[usual.pk])).content.decode()


def test_the_queue_and_the_screen_take_a_fixed_number_of_queries(client, year, fields, straying,
                                                                 django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    outlier, _ = straying
    client.force_login(factories.ProvincialReviewerFactory())
    with CaptureQueriesContext(connection) as queue_queries:
        queue_page(client, peers="outliers")
    with CaptureQueriesContext(connection) as screen_queries:
        client.get(reverse("review:detail", args=[outlier.pk]), {"next": reverse("review:queue") + "?peers=outliers"})
    revenues(year, fields[0], range(20, 40))  # more peers
    revenues(year, fields[1], range(20, 40))  # and another group
    for value in (30, 200, 400):
        filer, filing = submitted_filer_filing(year, fields[0], revenue=Decimal(value * 50))
        filing = services.save_explanations(filing, actor=filer, expected_version=filing.version,
                                            explanations={"W221": "说明。", "W223": "说明。"})
        services.submit_filing(filing, actor=filer, expected_version=filing.version)
    with django_assert_max_num_queries(len(queue_queries)):
        assert queue_page(client, peers="outliers").count('data-testid="peer-flag"') == 3
    with django_assert_max_num_queries(len(screen_queries)):
        client.get(reverse("review:detail", args=[outlier.pk]), {"next": reverse("review:queue") + "?peers=outliers"})


def test_bulk_approval_of_all_takes_explained_peer_warnings_like_other_warnings(straying):
    from review.selectors import bulk_approvable, review_queue, unexplained_warning_ids

    outlier, usual = straying
    rows = review_queue(factories.ProvincialReviewerFactory())
    assert {w["code"] for w in outlier.snapshots.get().data["warnings"]} >= {"W221"}
    assert not unexplained_warning_ids(rows)  # explained before submission, as year-on-year warnings are
    assert set(bulk_approvable(rows).values_list("pk", flat=True)) == {outlier.pk, usual.pk}


def test_the_workbook_detail_sheet_names_the_straying_ratios(year, fields, on_commit_immediately, settings,
                                                              tmp_path):
    from tests.summaries.conftest import build, table

    settings.MEDIA_ROOT = tmp_path
    revenues(year, fields[0], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    outlier = peer(year, fields[0], revenue=Decimal("5000"), name="偏离同行检测有限公司")
    _notes, header, rows = table(build(factories.ProvincialReviewerFactory()), "机构明细")
    column = header.index("偏离同行")
    assert rows[outlier.institution.name][column] == "人均收入↑、单份报告收入↑"
    assert sum(1 for row in rows.values() if row[column]) == 1
