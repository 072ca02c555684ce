"""City officers see the institutions of their cities that have not uploaded a quarter, and remind them."""
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.quarters import recent_quarters
from review.models import Reminder
from tests import factories

PREVIOUS = recent_quarters(1)[0]


def missing_page(client, quarter=PREVIOUS):
    return client.get(reverse("reports:missing"), {"quarter": quarter.code})


def test_city_officer_sees_only_missing_institutions_of_their_city(client, two_provinces, make_batch):
    inst = two_provinces["institutions"]
    make_batch(inst["changsha"], PREVIOUS.year, PREVIOUS.quarter)
    client.force_login(two_provinces["users"]["city_officer"])
    page = missing_page(client).content.decode()
    assert "长沙乙检测有限公司" in page
    assert "长沙甲检测有限公司" not in page and "株洲丙" not in page and "武汉丁" not in page


def test_filers_cannot_see_missing_uploads(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    assert missing_page(client).status_code == 403


def test_officer_reminds_selected_institutions(client, two_provinces, on_commit_immediately):
    inst = two_provinces["institutions"]
    inst["changsha"].contact_email = "a@example.cn"
    inst["changsha"].save()
    client.force_login(two_provinces["users"]["city_officer"])
    response = client.post(reverse("reports:remind"), {
        "quarter": PREVIOUS.code, "institution": [inst["changsha"].pk, inst["changsha2"].pk, inst["zhuzhou"].pk],
    }, follow=True)
    text = response.content.decode()
    assert "已向 1 家机构发送" in text and "1 家未登记电子邮箱" in text
    assert [m.to for m in mail.outbox] == [["a@example.cn"]] and PREVIOUS.label in mail.outbox[0].subject
    # Zhuzhou is outside the officer's city: silently not among the targets.
    uploads = Reminder.objects.filter(reason=Reminder.Reason.UPLOAD, key=PREVIOUS.code)
    assert set(uploads.values_list("institution__name", flat=True)) == {"长沙甲检测有限公司", "长沙乙检测有限公司"}
    assert "已提醒" not in text  # the page shows the time of the last reminder instead
    sent_at = timezone.localtime(uploads.get(status=Reminder.Status.SENT).sent_at)  # the page shows local time
    assert sent_at.strftime("%Y-%m-%d") in missing_page(client).content.decode()


def test_missing_page_issues_a_fixed_number_of_queries(client, two_provinces):
    client.force_login(two_provinces["users"]["city_officer"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert missing_page(client).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(10):
        factories.InstitutionFactory()
    assert count() == few


def test_city_officer_home_shows_missing_uploads_and_open_complaints(client, two_provinces, make_batch):
    from reports.models import Complaint

    inst = two_provinces["institutions"]
    make_batch(inst["changsha"], PREVIOUS.year, PREVIOUS.quarter)
    Complaint.objects.create(
        report_number="X-1", institution_text="x", city=inst["changsha"].city, description="d", contact="c"
    )
    client.force_login(two_provinces["users"]["city_officer"])
    page = client.get(reverse("home")).content.decode()
    summary = page.split('data-testid="report-number-summary"')[1].split("</div></div>")[0]
    assert "已上传 <strong>1</strong>" in summary and "未上传 <strong>1</strong>" in summary
    assert "编号投诉 <strong>1</strong>" in summary


def test_an_institution_gets_one_upload_reminder_a_day_whoever_presses_send(
    client, two_provinces, on_commit_immediately
):
    inst = two_provinces["institutions"]["changsha"]
    inst.contact_email = "a@example.cn"
    inst.save()
    for user in ("city_officer", "provincial_reviewer"):
        client.force_login(two_provinces["users"][user])
        response = client.post(reverse("reports:remind"), {"quarter": PREVIOUS.code, "institution": [inst.pk]},
                               follow=True)
    assert "1 家今天已提醒过，未重复发送" in response.content.decode()
    assert len(mail.outbox) == 1 and Reminder.objects.filter(reason=Reminder.Reason.UPLOAD).count() == 1
