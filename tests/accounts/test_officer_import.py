"""Officer accounts in bulk: admins import any region's, provincial reviewers only their province's; every row is
checked and each problem reported by row and column; one bad row and nothing is written."""
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.models import User
from tests import factories

HEADER = ["用户名", "姓名", "电子邮箱", "角色", "所属区划"]


def _xlsx(rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("officers.xlsx", buffer.getvalue(),
                             content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


GOOD = [["cs_wangwu", "王五", "wangwu@example.gov.cn", "市州局人员", "长沙市"],
        ["hn_zhaoliu", "赵六", "zhaoliu@example.gov.cn", "省局审核人员", "430000"]]


@pytest.fixture
def province(db):
    return factories.ProvincialReviewerFactory(region=factories.region("430000"))


def _upload(client, capture, rows, **kwargs):
    with capture(execute=True):
        return client.post(reverse("officer_import"), {"file": _xlsx(rows, **kwargs)})


def test_the_template_has_the_columns(client, province):
    client.force_login(province)
    response = client.get(reverse("officer_import_template"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == HEADER


def test_a_provincial_reviewer_imports_officers_of_the_province(client, province, django_capture_on_commit_callbacks):
    client.force_login(province)
    response = _upload(client, django_capture_on_commit_callbacks, GOOD)
    assert response.status_code == 302
    city_officer = User.objects.get(username="cs_wangwu")
    assert city_officer.region.code == "430100" and city_officer.get_role_display() == "市州局人员"
    assert User.objects.get(username="hn_zhaoliu").region.code == "430000"
    assert not city_officer.is_active and not city_officer.has_usable_password()
    assert sorted(message.to[0] for message in mail.outbox) == ["wangwu@example.gov.cn", "zhaoliu@example.gov.cn"]
    assert "/accounts/welcome/" in mail.outbox[0].body


def test_one_bad_row_writes_nothing_and_each_problem_is_named(client, province, django_capture_on_commit_callbacks):
    client.force_login(province)
    rows = [*GOOD, ["cs_bad", "", "not-an-address", "处长", "火星市"],
            ["cs_wangwu", "重复", "dup@example.gov.cn", "市州局人员", "长沙市"],
            ["cs_level", "错级", "level@example.gov.cn", "省局审核人员", "长沙市"]]
    response = _upload(client, django_capture_on_commit_callbacks, rows)
    assert response.status_code == 400
    errors = {(e["row"], e["column"]) for e in response.context["outcome"].errors}
    assert {(4, "姓名"), (4, "电子邮箱"), (4, "角色"), (4, "所属区划"), (5, "用户名"), (6, "所属区划")} <= errors
    assert "未创建任何账号" in response.content.decode()
    assert not User.objects.filter(username__in=["cs_wangwu", "hn_zhaoliu"]).exists() and not mail.outbox


def test_a_provincial_reviewer_cannot_import_officers_of_another_province(
        client, province, django_capture_on_commit_callbacks):
    client.force_login(province)
    rows = [*GOOD, ["wh_sunqi", "孙七", "sunqi@example.gov.cn", "市州局人员", "武汉市"],
            ["hb_zhou", "周八", "zhou@example.gov.cn", "省局审核人员", "湖北省"]]
    response = _upload(client, django_capture_on_commit_callbacks, rows)
    errors = response.context["outcome"].errors
    assert [(e["row"], e["column"]) for e in errors] == [(4, "所属区划"), (5, "所属区划")]
    assert "不在您的辖区内" in errors[0]["message"]
    assert User.objects.filter(username__in=["cs_wangwu", "wh_sunqi", "hb_zhou"]).count() == 0


def test_an_admin_imports_any_province(client, db, django_capture_on_commit_callbacks):
    client.force_login(factories.AdminFactory())
    response = _upload(client, django_capture_on_commit_callbacks,
                       [["hb_zhou", "周八", "zhou@example.gov.cn", "省局审核人员", "湖北省"]])
    assert response.status_code == 302 and User.objects.get(username="hb_zhou").region.code == "420000"


@pytest.mark.parametrize("username", ["ｃｓ_ｍａｉｎ", "cs_\u200bmain", "CS_MAIN"])
def test_a_username_impersonating_an_existing_one_is_refused(
        client, province, username, django_capture_on_commit_callbacks):
    factories.CityOfficerFactory(username="cs_main")
    client.force_login(province)
    response = _upload(client, django_capture_on_commit_callbacks,
                       [[username, "冒名", "x@example.gov.cn", "市州局人员", "长沙市"]])
    assert [e["column"] for e in response.context["outcome"].errors] == ["用户名"]
    assert User.objects.count() == 2


def test_a_file_that_is_not_a_workbook_is_refused(client, province):
    client.force_login(province)
    fake = SimpleUploadedFile("officers.xlsx", b"username,name\n", content_type="text/csv")
    response = client.post(reverse("officer_import"), {"file": fake})
    assert response.status_code == 400 and response.context["outcome"].errors[0]["column"] == "文件"
    missing = client.post(reverse("officer_import"), {"file": _xlsx(GOOD, header=HEADER[:3])})
    assert "缺少列" in missing.context["outcome"].errors[0]["message"]


def test_city_officers_and_filers_cannot_import(client, db):
    for user in (factories.CityOfficerFactory(), factories.FilerFactory(), factories.SamrReviewerFactory()):
        client.force_login(user)
        assert client.get(reverse("officer_import")).status_code == 403
        assert client.get(reverse("officer_import_template")).status_code == 403
