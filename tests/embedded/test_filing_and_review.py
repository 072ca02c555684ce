"""The filer's journey and a reviewer's decisions on the embedded default, through the real views: the demo filer
fills this year's parts and submits, prints the receipt; a reviewer approves one filing and returns another, and
the filers' e-mails go out in-process."""
import datetime

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing, ReportingYear
from institutions.models import ReviewingAuthority
from tests.factories import COMPLETE_ANNUAL_REPORT, COMPLETE_STATISTICS


def _form_data(response, values):
    """The page's form as the browser would post it, with `values` typed into the fields that take them."""
    form = response.context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update({name: value for name, value in values.items() if name in form.fields})
    data = {name: value for name, value in data.items() if name in form.fields}
    return {**data, "version": form.initial.get("version", data.get("version"))}


def test_the_demo_filer_fills_every_part_and_submits(login):
    client = login("filer")
    response = client.get(reverse("filings:home"))
    assert response.status_code == 302
    filing = Filing.objects.get(institution__users__username="filer", year=ReportingYear.objects.current())
    assert filing.status == Filing.Status.DRAFT

    statistics_url = reverse("filings:statistics", args=[filing.pk])
    form_page = client.get(statistics_url)
    response = client.post(statistics_url, {**_form_data(form_page, COMPLETE_STATISTICS), "save_next": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]

    report_url = reverse("filings:annual_report", args=[filing.pk])
    form_page = client.get(report_url)
    response = client.post(report_url, {**_form_data(form_page, COMPLETE_ANNUAL_REPORT), "save_next": "1"})
    assert response.status_code == 302, response.content.decode()[:3000]

    submit_url = reverse("filings:submit", args=[filing.pk])
    page = client.get(submit_url)
    assert not page.context["errors"], [f"{f.code} {f.message}" for f in page.context["errors"]]
    explanations = {f"explain_{finding.code}": "演示：已核实。" for finding in page.context["warnings"]}
    filing.refresh_from_db()
    response = client.post(submit_url, {"version": filing.version, "submit": "1", **explanations}, follow=True)
    assert "已提交" in response.content.decode()
    filing.refresh_from_db()
    assert filing.status == Filing.Status.SUBMITTED

    receipt = client.get(reverse("filings:pdf", args=[filing.pk, "receipt"]))
    assert receipt.status_code == 200 and b"".join(receipt.streaming_content if receipt.streaming
                                                   else [receipt.content]).startswith(b"%PDF")


def _awaiting(authority):
    return (
        Filing.objects.filter(year=ReportingYear.objects.current(), status__in=["submitted", "in_review"],
                              institution__reviewing_authority=authority)
        .select_related("institution").order_by("pk")
    )


def _open_for_review(client, filing):
    assert client.get(reverse("review:detail", args=[filing.pk])).status_code == 200
    filing.refresh_from_db()
    if filing.status == Filing.Status.SUBMITTED:  # opening the screen does not start the review by itself
        client.post(reverse("review:start_review", args=[filing.pk]), {"version": filing.version})
        filing.refresh_from_db()
    return filing


def test_a_reviewer_approves_one_filing_and_returns_another(login):
    authority = ReviewingAuthority.PROVINCE if _awaiting(ReviewingAuthority.PROVINCE).count() >= 2 else \
        ReviewingAuthority.SAMR
    client = login("province" if authority == ReviewingAuthority.PROVINCE else "samr")
    first, second = list(_awaiting(authority)[:2])
    for institution in (first.institution, second.institution):
        if not institution.contact_email:
            institution.contact_email = "contact@example.cn"
            institution.save(update_fields=["contact_email"])
    assert client.get(reverse("review:queue")).status_code == 200

    first = _open_for_review(client, first)
    response = client.post(
        reverse("review:approve", args=[first.pk]), {"version": first.version, "comment": "数据完整。"}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == Filing.Status.APPROVED

    second = _open_for_review(client, second)
    due = (timezone.localtime() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("review:return", args=[second.pk]), {
        "version": second.version, "comment": "请核对营业收入。", "due": due,
        "field_1": "statistics.revenue", "field_comment_1": "营业收入与报告数不符。",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    second.refresh_from_db()
    assert second.status == Filing.Status.RETURNED and second.correction_due > timezone.now()
    assert "已退回" in client.get(reverse("review:detail", args=[second.pk])).content.decode()
    # Each decision's e-mail went out in-process, once the decision was committed.
    for filing in (first, second):
        assert any(filing.institution.contact_email in message.to for message in mail.outbox), filing.institution
