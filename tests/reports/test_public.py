"""Public verification (no login): exact lookup found / not found, nothing else revealed, rate-limited per address;
complaints reach the officers of the institution's city, who mark them handled."""
import pytest
from django.core import mail
from django.urls import reverse

from reports.models import Complaint, ReportNumber
from tests import factories


@pytest.fixture
def stored(two_provinces, make_batch):
    changsha = two_provinces["institutions"]["changsha"]
    batch = make_batch(changsha, 2023, 4)
    ReportNumber.objects.create(institution=changsha, year=2023, quarter=4, batch=batch, number="CS-2023-0001")
    return changsha


def verify(client, number, institution="", **extra):
    return client.get(reverse("reports:verify"), {"number": number, "institution": institution}, **extra)


def test_anonymous_visitor_finds_an_uploaded_number_with_institution_city_and_quarter(client, stored):
    response = verify(client, "CS-2023-0001")
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="verify-found"' in page
    assert "长沙甲检测有限公司（长沙市），2023年第4季度出具" in page
    assert stored.credit_code not in page  # nothing else revealed


def test_the_institution_hint_narrows_by_name_or_credit_code(client, stored):
    assert 'verify-found' in verify(client, "CS-2023-0001", stored.credit_code).content.decode()
    assert 'verify-found' in verify(client, "CS-2023-0001", "长沙甲检测有限公司").content.decode()
    page = verify(client, "CS-2023-0001", "长沙乙检测有限公司").content.decode()
    assert 'verify-not-found' in page and "长沙甲" not in page


@pytest.mark.parametrize("number", ["CS-2023-000", "cs-2023-0001", "CS-2023-0001 ", "CS-2023"])
def test_only_the_exact_number_is_found(client, stored, number):
    page = verify(client, number).content.decode()
    if number.strip() == "CS-2023-0001":  # surrounding spaces are trimmed
        assert "verify-found" in page
    else:
        assert "verify-not-found" in page and "长沙甲" not in page
        assert "提交投诉" in page and "尚未上传" in page  # advice


def test_a_malformed_number_gets_a_message_and_no_lookup(client, stored, django_assert_num_queries):
    with django_assert_num_queries(0):
        page = verify(client, "CS%").content.decode()
    assert "报告编号格式不正确" in page


def test_lookups_are_rate_limited_per_client_address(client, stored, settings):
    settings.REPORTS_VERIFY_PER_MINUTE = 3
    for _ in range(3):
        assert verify(client, "CS-2023-0001").status_code == 200
    refused = verify(client, "CS-2023-0001")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "查询过于频繁" in page and "长沙甲" not in page
    assert verify(client, "CS-2023-0001", REMOTE_ADDR="10.0.0.9").status_code == 200  # another address


def test_lookups_still_answer_and_stay_limited_while_redis_is_down(client, stored, settings, monkeypatch):
    import redis

    from accounts import ratelimit

    class DownRedis:
        def incr(self, key):
            raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(ratelimit, "_redis_client", lambda: DownRedis())
    monkeypatch.setattr(ratelimit, "_local_counts", {})
    settings.REPORTS_VERIFY_PER_MINUTE = 3
    for _ in range(3):
        assert 'verify-found' in verify(client, "CS-2023-0001").content.decode()
    refused = verify(client, "CS-2023-0001")  # the limit holds, counted in the process (fail safe)
    assert refused.status_code == 429 and "查询过于频繁" in refused.content.decode()


@pytest.mark.django_db  # the login page lists the public notices
def test_the_login_page_links_to_verification(client):
    page = client.get(reverse("login")).content.decode()
    assert reverse("reports:verify") in page


def complain(client, institution, city="", number="CS-2023-0001"):
    return client.post(reverse("reports:complain"), {
        "report_number": number, "institution": institution, "city": city,
        "description": "报告上的机构说没出过这份报告", "contact": "13800000000",
    })


def test_a_complaint_reaches_the_officers_of_the_institutions_city_only(client, two_provinces, on_commit_immediately):
    users = two_provinces["users"]
    users["city_officer"].email = "cs@example.cn"
    users["city_officer"].save()
    zhuzhou_officer = factories.CityOfficerFactory(region=factories.region("430200"), email="zz@example.cn")
    response = complain(client, two_provinces["institutions"]["changsha"].credit_code)
    assert "已转交长沙市" in response.content.decode()
    complaint = Complaint.objects.get()
    assert complaint.city.code == "430100" and complaint.institution == two_provinces["institutions"]["changsha"]
    assert [m.to for m in mail.outbox] == [["cs@example.cn"]]

    client.force_login(users["city_officer"])
    assert "CS-2023-0001" in client.get(reverse("reports:complaints")).content.decode()
    client.force_login(zhuzhou_officer)
    assert "CS-2023-0001" not in client.get(reverse("reports:complaints")).content.decode()
    assert client.get(reverse("reports:complaint", args=[complaint.pk])).status_code == 404
    client.force_login(users["filer"])
    assert client.get(reverse("reports:complaints")).status_code == 403


def test_a_complaint_about_an_unknown_institution_needs_a_city(client, two_provinces):
    response = complain(client, "不存在的检测公司")
    assert "未在名录中找到该机构" in response.content.decode()
    assert not Complaint.objects.exists()
    complain(client, "不存在的检测公司", city=factories.region("430200").pk)
    assert Complaint.objects.get().city.code == "430200"


def test_the_city_officer_marks_a_complaint_handled(client, two_provinces):
    complain(client, "长沙甲检测有限公司")
    complaint = Complaint.objects.get()
    url = reverse("reports:complaint", args=[complaint.pk])
    client.force_login(two_provinces["users"]["provincial_reviewer"])  # sees it, may not handle it
    assert "标记已处理" not in client.get(url).content.decode()
    client.post(url, {"note": "x"})
    assert Complaint.objects.get().status == "open"
    client.force_login(two_provinces["users"]["city_officer"])
    client.post(url, {"note": "已约谈机构，报告系伪造，已立案"})
    complaint.refresh_from_db()
    assert complaint.status == "handled" and complaint.handled_by == two_provinces["users"]["city_officer"]


def test_complaints_are_rate_limited(client, two_provinces, settings):
    settings.REPORTS_COMPLAINTS_PER_HOUR = 1
    complain(client, "长沙甲检测有限公司")
    response = complain(client, "长沙甲检测有限公司")
    assert response.status_code == 429 and "提交过于频繁" in response.content.decode()
    assert Complaint.objects.count() == 1


def test_complaint_list_issues_a_fixed_number_of_queries(client, two_provinces, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.REPORTS_COMPLAINTS_PER_HOUR = 100
    officer = two_provinces["users"]["city_officer"]
    client.force_login(officer)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("reports:complaints"))
        return len(ctx.captured_queries)

    complain(client, "长沙甲检测有限公司")
    few = count()
    for _ in range(6):
        complain(client, "长沙乙检测有限公司")
        client.logout()
    client.force_login(officer)
    assert Complaint.objects.count() == 7 and count() == few


@pytest.mark.parametrize("number, institution, message", [
    ("", "", "请输入报告编号"), ("X" * 65, "", "不超过 64 个字符"), ("CS-1", "甲" * 201, "过长"),
])
def test_bad_lookup_input_gets_a_message(client, stored, number, institution, message):
    page = verify(client, number, institution).content.decode()
    assert message in page and "verify-found" not in page and "verify-not-found" not in page
