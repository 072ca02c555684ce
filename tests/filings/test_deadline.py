"""One deadline, said once: the date that applies to a filing now (the window's close, an extension or the
correction due date), stated alike by the filer's pages, the review screen, the chasing page and the e-mails; none
once the filing is approved."""
import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from filings import services
from filings.models import Filing, ReportingYear
from filings.selectors import Deadline, filing_deadline
from review import services as review_services
from tests import factories

pytestmark = pytest.mark.django_db
S = Filing.Status
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}")


def shown(at):
    return f"{timezone.localtime(at):%Y年%-m月%-d日 %H:%M}"


def later(days):
    return timezone.now() + datetime.timedelta(days=days)


def overview(client, user, filing):
    client.force_login(user)
    return client.get(reverse("filings:overview", args=[filing.pk])).content.decode()


def returned(filing, filer, reviewer, *, due):
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    filing = services.start_review(filing, actor=reviewer)
    return review_services.return_for_correction(filing, actor=reviewer, expected_version=filing.version,
                                                 comment="请核对收入", due=due)


def test_in_the_open_window_the_deadline_is_the_windows_close(client, filer, filing):
    deadline = filing_deadline(filing)
    assert deadline == Deadline(filing.year.closes_at, Deadline.WINDOW) and deadline.label == "填报截止"
    body = overview(client, filer, filing)
    assert f"填报截止 {shown(filing.year.closes_at)}" in body


def test_an_extension_beyond_the_window_is_the_deadline(client, filer, filing, province_reviewer):
    until = filing.year.closes_at + datetime.timedelta(days=10)
    services.grant_extension(filing.institution, filing.year, actor=province_reviewer, until=until, reason="系统故障")
    assert filing_deadline(filing) == Deadline(until, Deadline.EXTENSION)
    body = overview(client, filer, filing)
    assert f"延期至 {shown(until)}" in body and shown(filing.year.closes_at) not in body


def test_a_returned_filing_states_its_correction_date_once_on_every_page_and_in_the_e_mail(
    client, filer, filing, province_reviewer, on_commit_immediately
):
    filer.email = "filer@example.cn"
    filer.save()
    due = filing.year.closes_at + datetime.timedelta(days=5)
    filing = returned(filing, filer, province_reviewer, due=due)
    assert filing_deadline(filing) == Deadline(due, Deadline.CORRECTION)

    body = overview(client, filer, filing)
    assert f"更正截止 {shown(due)}" in body
    assert DATE.findall(body.split('data-testid="steps"')[0]) == [shown(due)]  # the header says one date, once
    assert shown(filing.year.closes_at) not in body

    client.force_login(province_reviewer)
    assert f"更正截止 {shown(due)}" in client.get(reverse("review:detail", args=[filing.pk])).content.decode()
    chasing = client.get(reverse("review:chasing", args=[filing.institution_id]), {"year": filing.year.year})
    assert f"更正截止 {shown(due)}" in chasing.content.decode()

    letter = next(m for m in mail.outbox if "退回" in m.subject)
    assert f"{timezone.localtime(due):%Y年%m月%d日 %H:%M}" in letter.subject
    assert shown(due) in letter.body and shown(filing.year.closes_at) not in letter.body


def test_a_correction_date_before_the_windows_close_leaves_the_window_as_the_deadline(
    filer, filing, province_reviewer
):
    filing = returned(filing, filer, province_reviewer, due=later(3))
    # The filer may edit until the window closes anyway; the deadline stated is the one enforced.
    assert filing_deadline(filing) == Deadline(filing.year.closes_at, Deadline.WINDOW)


def test_an_approved_filing_has_no_deadline(client, filer, filing, province_reviewer):
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    filing = services.start_review(filing, actor=province_reviewer)
    filing = services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    assert filing_deadline(filing) is None
    # Even once the window has closed, the approved filing's pages state no deadline and no "截止" refusal.
    ReportingYear.objects.filter(pk=filing.year_id).update(closes_at=timezone.now() - datetime.timedelta(hours=1))
    filing.refresh_from_db()
    body = overview(client, filer, filing)
    assert 'data-testid="deadline"' not in body and "截止" not in body.split('data-testid="steps"')[0]
    client.force_login(province_reviewer)
    assert "已审核通过，不再有填报截止时间" in client.get(reverse("review:detail", args=[filing.pk])).content.decode()


def test_the_late_filer_list_and_its_reminder_state_each_institutions_own_deadline(
    client, filing, province_reviewer, on_commit_immediately
):
    until = filing.year.closes_at + datetime.timedelta(days=7)
    services.grant_extension(filing.institution, filing.year, actor=province_reviewer, until=until, reason="系统故障")
    filing.institution.contact_email = "lab@example.cn"
    filing.institution.save()
    officer = factories.CityOfficerFactory(region=filing.institution.city)
    client.force_login(officer)
    body = client.get(reverse("review:late_filers"), {"year": filing.year.year}).content.decode()
    assert f"延期至 {timezone.localtime(until):%m-%d %H:%M}" in body
    client.post(reverse("review:remind"), {"year": filing.year.year, "institution": [filing.institution_id]})
    letter = mail.outbox[-1]
    assert f"{timezone.localtime(until):%Y年%m月%d日}" in letter.subject
