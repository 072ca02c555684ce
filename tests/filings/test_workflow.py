"""Every transition of the filing state machine, allowed and refused, by role; history and snapshots."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from filings import services, snapshots, workflow
from filings.models import Filing, FilingSnapshot, FilingTransition
from filings.workflow import TransitionRefused
from institutions.models import ReviewingAuthority
from tests import factories

pytestmark = pytest.mark.django_db
S = Filing.Status


def due():
    return timezone.now() + datetime.timedelta(days=10)


def submitted(filing, filer):
    return services.submit_filing(filing, actor=filer, expected_version=filing.version)


def test_submit_records_transition_and_snapshot(filing, filer):
    filing = submitted(filing, filer)
    assert filing.status == S.SUBMITTED and filing.submitted_at
    transition = FilingTransition.objects.get(filing=filing)
    assert (transition.action, transition.from_status, transition.to_status, transition.actor) == (
        "submit", S.DRAFT, S.SUBMITTED, filer)
    snapshot = FilingSnapshot.objects.get(filing=filing)
    assert snapshot.number == 1 and len(snapshot.fingerprint) == 64
    assert snapshot.data["institution"]["name"] == "长沙市湘江检测有限公司"


def test_submit_refused_with_errors_or_unexplained_warnings(filing, filer):
    filing.statistics.staff_master = 99
    filing.statistics.save()
    with pytest.raises(TransitionRefused, match="E102"):
        submitted(filing, filer)
    filing.statistics.staff_master = 8
    filing.statistics.revenue = 0
    filing.statistics.save()
    with pytest.raises(TransitionRefused, match="W211"):
        submitted(filing, filer)
    filing = services.save_explanations(filing, actor=filer, expected_version=filing.version,
                                        explanations={"W211": "本年度为内部质控检测，不收费。"})
    assert submitted(filing, filer).status == S.SUBMITTED
    assert FilingSnapshot.objects.get(filing=filing).data["warnings"][0]["explanation"].startswith("本年度")
    assert not FilingTransition.objects.filter(filing=filing, action="submit").count() > 1


def test_only_the_institutions_own_filer_may_submit(filing, province_reviewer):
    other_filer = factories.FilerFactory()
    for actor in (other_filer, province_reviewer, factories.AdminFactory()):
        with pytest.raises(TransitionRefused, match="无权"):
            submitted(filing, actor)
    assert Filing.objects.get(pk=filing.pk).status == S.DRAFT


def test_withdraw_before_review_starts_but_not_after(filing, filer, province_reviewer):
    filing = submitted(filing, filer)
    filing = services.withdraw_filing(filing, actor=filer, expected_version=filing.version)
    assert filing.status == S.DRAFT
    filing = submitted(filing, filer)
    services.start_review(filing, actor=province_reviewer)
    filing.refresh_from_db()
    with pytest.raises(TransitionRefused, match="审核中"):
        services.withdraw_filing(filing, actor=filer, expected_version=filing.version)
    assert Filing.objects.get(pk=filing.pk).status == S.IN_REVIEW
    assert FilingSnapshot.objects.filter(filing=filing).count() == 2


def test_province_reviews_its_own_provinces_filings_only(filing, filer, province_reviewer):
    filing = submitted(filing, filer)
    hubei = factories.ProvincialReviewerFactory(region=factories.region("420000"))
    samr = factories.SamrReviewerFactory()
    city = factories.CityOfficerFactory()
    for outsider in (hubei, samr, city, filer):
        with pytest.raises(TransitionRefused, match="无权"):
            services.start_review(filing, actor=outsider)
    filing = services.start_review(filing, actor=province_reviewer)
    filing = services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    assert filing.status == S.APPROVED and filing.decided_at


def test_samr_reviews_filings_whose_authority_is_samr(filing, filer, province_reviewer):
    type(filing.institution).objects.filter(pk=filing.institution_id).update(
        reviewing_authority=ReviewingAuthority.SAMR)
    filing = submitted(Filing.objects.get(pk=filing.pk), filer)
    with pytest.raises(TransitionRefused):
        services.start_review(filing, actor=province_reviewer)
    samr = factories.SamrReviewerFactory()
    filing = services.start_review(filing, actor=samr)
    assert filing.status == S.IN_REVIEW


def test_return_needs_comment_and_future_due_then_filer_corrects(filing, filer, province_reviewer):
    filing = services.start_review(submitted(filing, filer), actor=province_reviewer)
    with pytest.raises(TransitionRefused, match="意见"):
        services.return_filing(filing, actor=province_reviewer, expected_version=filing.version, comment=" ", due=due())
    with pytest.raises(TransitionRefused, match="更正截止"):
        services.return_filing(filing, actor=province_reviewer, expected_version=filing.version, comment="请核对",
                               due=timezone.now() - datetime.timedelta(minutes=1))
    filing = services.return_filing(filing, actor=province_reviewer, expected_version=filing.version,
                                    comment="营业收入与报告数量不匹配，请核对。", due=due())
    assert filing.status == S.RETURNED and filing.correction_due
    assert FilingTransition.objects.filter(filing=filing).last().comment.startswith("营业收入")
    filing = submitted(filing, filer)
    assert filing.status == S.SUBMITTED


def test_approve_is_refused_before_review_is_opened(filing, filer, province_reviewer):
    filing = submitted(filing, filer)
    with pytest.raises(TransitionRefused, match="已提交"):
        services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)


def test_quality_return_by_samr_of_an_approved_filing_of_any_province(filing, filer, province_reviewer):
    filing = services.start_review(submitted(filing, filer), actor=province_reviewer)
    filing = services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    with pytest.raises(TransitionRefused):
        services.quality_return_filing(filing, actor=province_reviewer, expected_version=filing.version,
                                       comment="x", due=due())
    samr = factories.SamrReviewerFactory()
    filing = services.quality_return_filing(filing, actor=samr, expected_version=filing.version,
                                            comment="质量审查：仪器原值异常。", due=due())
    assert filing.status == S.RETURNED


def test_decisions_are_refused_after_the_review_close_date(filing, filer, province_reviewer):
    filing = submitted(filing, filer)
    filing.year.review_closes_at = timezone.now() - datetime.timedelta(seconds=1)
    filing.year.save()
    with pytest.raises(TransitionRefused, match="审核已于"):
        services.start_review(Filing.objects.get(pk=filing.pk), actor=province_reviewer)


def test_two_reviewers_cannot_both_decide(filing, filer, province_reviewer):
    filing = services.start_review(submitted(filing, filer), actor=province_reviewer)
    colleague = factories.ProvincialReviewerFactory()
    seen_version = filing.version
    services.approve_filing(filing, actor=province_reviewer, expected_version=seen_version)
    with pytest.raises(TransitionRefused, match="刷新"):
        services.return_filing(filing, actor=colleague, expected_version=seen_version, comment="退回", due=due())
    assert Filing.objects.get(pk=filing.pk).status == S.APPROVED


def test_allowed_transitions_lists_the_buttons(filing, filer, province_reviewer):
    assert [t.name for t in workflow.allowed_transitions(filing, filer)] == ["submit"]
    filing = submitted(filing, filer)
    assert [t.name for t in workflow.allowed_transitions(filing, filer)] == ["withdraw"]
    assert [t.name for t in workflow.allowed_transitions(filing, province_reviewer)] == ["start_review"]


def test_snapshots_are_immutable(filing, filer):
    filing = submitted(filing, filer)
    snapshot = FilingSnapshot.objects.get(filing=filing)
    snapshot.data["institution"]["name"] = "篡改"
    with pytest.raises(ValidationError):
        snapshot.save()
    with pytest.raises(ValidationError):
        snapshot.delete()
    # Later edits of the filing do not change what was submitted.
    filing = services.withdraw_filing(filing, actor=filer, expected_version=filing.version)
    services.save_part(filing, filing.statistics, actor=filer, expected_version=filing.version,
                       data={"revenue": 999})
    stored = FilingSnapshot.objects.get(pk=snapshot.pk)
    assert stored.fingerprint == FilingSnapshot.fingerprint_of(stored.data)
    assert next(i for i in stored.data["statistics"] if i["name"] == "revenue")["value"] == "860.50"


def test_snapshot_numbers_are_written_in_fixed_point(filing, filer):
    filing.statistics.lab_area = Decimal("2600.00")
    filing.statistics.revenue = Decimal("860.50")
    filing.statistics.save()
    values = snapshots.values(submitted(filing, filer).snapshots.get().data["statistics"])
    assert (values["lab_area"], values["revenue"], values["staff_total"]) == ("2600", "860.50", 50)
