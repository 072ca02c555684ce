"""Identity fields (name, legal representative, credit code, city) change only through a request the reviewing
authority confirms (or the admin): the filer cannot change them directly, nobody else can decide, duplicates are
refused, the public report-number lookup shows only the registered name, and the history keeps every change."""
import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from institutions import services
from institutions.models import IdentityChangeRequest, Institution, ReviewingAuthority
from tests import factories

pytestmark = pytest.mark.django_db
S = IdentityChangeRequest.Status


@pytest.fixture
def lab(two_provinces):
    institution = two_provinces["institutions"]["changsha"]
    Institution.objects.filter(pk=institution.pk).update(legal_representative="王伟")
    institution.refresh_from_db()
    return institution


@pytest.fixture
def filer(two_provinces):
    return two_provinces["users"]["filer"]


def ask(client, filer, institution, **overrides):
    client.force_login(filer)
    data = {"name": institution.name, "legal_representative": institution.legal_representative,
            "credit_code": institution.credit_code, "city": str(institution.city_id), "reason": "营业执照已变更。"}
    data.update(overrides)
    return client.post(reverse("institutions:identity_change", args=[institution.pk]), data)


def decide(client, user, change, decision="confirm", comment=""):
    client.force_login(user)
    return client.post(reverse("institutions:identity_change_decide", args=[change.pk]),
                       {"decision": decision, "comment": comment})


def test_the_profile_form_ignores_identity_fields_posted_by_a_filer(client, lab, filer):
    client.force_login(filer)
    other_city = factories.region("430200")
    response = client.post(reverse("institutions:edit", args=[lab.pk]), {
        "registered_address": "湖南省长沙市岳麓区麓谷大道1号", "established_year": "2010", "nature": "enterprise",
        "legal_status": "independent", "ownership": "private", "professional_fields": ["1"],
        "contact_person": "李娜", "contact_phone": "0731-88880000", "version": services.version_of(lab),
        # A hostile filer adds the identity fields and the authority to the POST.
        "name": "国家权威检测中心", "legal_representative": "冒名", "credit_code": factories.make_credit_code(9),
        "city": str(other_city.pk), "reviewing_authority": "samr", "reviewing_authority_chosen": "on",
    })
    assert response.status_code == 302
    stored = Institution.objects.get(pk=lab.pk)
    assert (stored.name, stored.legal_representative, stored.credit_code, stored.city_id) == (
        lab.name, "王伟", lab.credit_code, lab.city_id)
    assert stored.reviewing_authority == ReviewingAuthority.PROVINCE and not stored.reviewing_authority_chosen
    assert stored.contact_person == "李娜"


def test_a_request_changes_nothing_until_confirmed_and_the_public_lookup_shows_the_registered_name(client, lab, filer):
    from reports.models import ReportNumber, ReportNumberBatch

    batch = ReportNumberBatch.objects.create(institution=lab, year=2023, quarter=4, status="done", accepted=1)
    ReportNumber.objects.create(institution=lab, year=2023, quarter=4, batch=batch, number="CS-2023-0001")
    response = ask(client, filer, lab, name="长沙甲检测集团有限公司")
    assert response.status_code == 302
    change = IdentityChangeRequest.objects.get()
    assert change.status == S.PENDING and change.requested_by == filer
    assert change.changes == [("机构名称", "长沙甲检测有限公司", "长沙甲检测集团有限公司")]
    assert Institution.objects.get(pk=lab.pk).name == "长沙甲检测有限公司"

    client.logout()
    page = client.get(reverse("reports:verify"), {"number": "CS-2023-0001"}).content.decode()
    assert "长沙甲检测有限公司（长沙市）" in page and "集团" not in page
    page = client.get(reverse("reports:verify"), {"number": "CS-2023-0001", "institution": "长沙甲检测集团有限公司"})
    assert "verify-not-found" in page.content.decode()


def test_the_province_confirms_and_the_register_history_and_public_page_follow(client, two_provinces, lab, filer):
    ask(client, filer, lab, name="长沙甲检测集团有限公司", legal_representative="赵强")
    reviewer = two_provinces["users"]["provincial_reviewer"]
    client.force_login(reviewer)
    listing = client.get(reverse("institutions:identity_changes"))
    assert listing.status_code == 200 and "长沙甲检测集团有限公司" in listing.content.decode()
    change = IdentityChangeRequest.objects.get()
    assert decide(client, reviewer, change).status_code == 302
    stored = Institution.objects.get(pk=lab.pk)
    assert stored.name == "长沙甲检测集团有限公司" and stored.legal_representative == "赵强"
    change.refresh_from_db()
    assert change.status == S.CONFIRMED and change.decided_by == reviewer
    record = stored.history.first()
    assert record.history_user == reviewer and "信息变更申请确认" in record.history_change_reason
    page = client.get(reverse("institutions:detail", args=[lab.pk])).content.decode()
    assert "机构名称：长沙甲检测有限公司 → 长沙甲检测集团有限公司" in page
    # The filer hears of it on the home page.
    client.force_login(filer)
    assert "信息变更申请已于" in client.get(reverse("home")).content.decode()


def test_a_refusal_needs_a_comment_and_the_filer_reads_it_at_home(client, two_provinces, lab, filer):
    ask(client, filer, lab, legal_representative="赵强")
    change = IdentityChangeRequest.objects.get()
    reviewer = two_provinces["users"]["provincial_reviewer"]
    response = decide(client, reviewer, change, "refuse")
    assert response.status_code == 302
    assert IdentityChangeRequest.objects.get().status == S.PENDING
    assert "请填写意见" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    decide(client, reviewer, change, "refuse", "请上传新的营业执照后再申请。")
    assert IdentityChangeRequest.objects.get().status == S.REFUSED
    assert Institution.objects.get(pk=lab.pk).legal_representative == "王伟"
    client.force_login(filer)
    assert "请上传新的营业执照后再申请。" in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("who, status", [
    ("city_officer", 403), ("hubei_reviewer", 404), ("filer", 403), ("samr_reviewer", 403),
])
def test_only_the_reviewing_authority_or_an_admin_decides(client, two_provinces, lab, filer, who, status):
    ask(client, filer, lab, name="长沙甲检测集团有限公司")
    change = IdentityChangeRequest.objects.get()
    assert decide(client, two_provinces["users"][who], change).status_code == status
    assert IdentityChangeRequest.objects.get().status == S.PENDING
    assert Institution.objects.get(pk=lab.pk).name == "长沙甲检测有限公司"


def test_samr_decides_for_samr_reviewed_institutions_and_the_province_does_not(client, two_provinces, lab, filer):
    Institution.objects.filter(pk=lab.pk).update(reviewing_authority=ReviewingAuthority.SAMR)
    ask(client, filer, lab, name="长沙甲检测集团有限公司")
    change = IdentityChangeRequest.objects.get()
    province = two_provinces["users"]["provincial_reviewer"]
    client.force_login(province)
    assert "长沙甲检测集团有限公司" not in client.get(reverse("institutions:identity_changes")).content.decode()
    assert decide(client, province, change).status_code == 403
    assert decide(client, two_provinces["users"]["samr_reviewer"], change).status_code == 302
    assert Institution.objects.get(pk=lab.pk).name == "长沙甲检测集团有限公司"


def test_an_admin_may_decide_any_request(client, two_provinces, lab, filer):
    ask(client, filer, lab, legal_representative="赵强")
    decide(client, two_provinces["users"]["admin"], IdentityChangeRequest.objects.get())
    assert Institution.objects.get(pk=lab.pk).legal_representative == "赵强"


def test_another_institutions_name_or_credit_code_is_refused(client, two_provinces, lab, filer):
    other = two_provinces["institutions"]["changsha2"]
    response = ask(client, filer, lab, name=other.name)
    assert "其他机构的登记名称" in response.content.decode()
    response = ask(client, filer, lab, credit_code=other.credit_code)
    assert f"已登记为“{other.name}”" in response.content.decode()
    assert not IdentityChangeRequest.objects.exists()


@pytest.mark.parametrize("look_alike", [
    "湖南(长沙)检测有限公司",        # half-width brackets for full-width ones
    "湖南（长沙） 检测有限公司",      # a space
    "湖南（长沙）检\u200b测有限公司",  # a zero-width space, refused as invisible before the comparison
    "湖南（长沙）检测有限公司\u3000",  # an ideographic space at the end
])
def test_a_name_that_only_looks_like_another_institutions_is_refused(client, two_provinces, lab, filer, look_alike):
    factories.InstitutionFactory(name="湖南（长沙）检测有限公司", city=lab.city)
    response = ask(client, filer, lab, name=look_alike)
    assert response.status_code == 200
    page = response.content.decode()
    assert "其他机构的登记名称“湖南（长沙）检测有限公司”" in page or "不可见字符" in page
    assert not IdentityChangeRequest.objects.exists()


def test_the_service_refuses_invisible_characters_whatever_the_form_did(lab, filer):
    with pytest.raises(services.IdentityChangeRefused, match="不可见字符"):
        services.request_identity_change(
            lab, actor=filer, name="长沙甲检\u202e测有限公司", legal_representative="王伟",
            credit_code=lab.credit_code, city=lab.city, reason="营业执照已变更。")
    assert not IdentityChangeRequest.objects.exists()


def test_a_name_taken_after_the_request_is_refused_at_confirmation(client, two_provinces, lab, filer):
    ask(client, filer, lab, name="长沙甲检测集团有限公司")
    factories.InstitutionFactory(name="长沙甲检测集团有限公司")
    decide(client, two_provinces["users"]["provincial_reviewer"], IdentityChangeRequest.objects.get())
    assert IdentityChangeRequest.objects.get().status == S.PENDING
    assert Institution.objects.get(pk=lab.pk).name == "长沙甲检测有限公司"


@pytest.mark.parametrize("overrides, message", [
    ({"credit_code": "91430100MA4L0000X0"}, "校验位错误"),
    ({"credit_code": "123"}, "应为18位"),
    ({"name": "甲"}, "完整名称"),
    ({"reason": ""}, "这个字段是必填项"),
    ({}, "与当前登记信息相同"),
    ({"city": "430000"}, "请选择一个市州"),
])
def test_bad_requests_get_a_chinese_message_and_create_nothing(client, lab, filer, overrides, message):
    if overrides.get("city") == "430000":
        overrides["city"] = str(factories.region("430000").pk)  # a province, not a city
    response = ask(client, filer, lab, **overrides)
    assert response.status_code == 200 and message in response.content.decode()
    assert not IdentityChangeRequest.objects.exists()


def test_one_pending_request_per_institution_and_the_filer_may_withdraw_it(client, lab, filer):
    ask(client, filer, lab, name="长沙甲检测集团有限公司")
    response = ask(client, filer, lab, legal_representative="赵强")
    assert "已有一份待确认的信息变更申请" in response.content.decode()
    assert IdentityChangeRequest.objects.count() == 1
    change = IdentityChangeRequest.objects.get()
    client.post(reverse("institutions:identity_change_cancel", args=[change.pk]))
    assert IdentityChangeRequest.objects.get().status == S.CANCELLED
    assert ask(client, filer, lab, legal_representative="赵强").status_code == 302


def test_a_filer_cannot_ask_for_or_withdraw_another_institutions_request(client, two_provinces, lab, filer):
    other = two_provinces["institutions"]["changsha2"]
    other_filer = factories.FilerFactory(institution=other)
    ask(client, other_filer, other, name="长沙乙检测集团有限公司", legal_representative="钱多")
    change = IdentityChangeRequest.objects.get()
    client.force_login(filer)
    assert client.post(reverse("institutions:identity_change_cancel", args=[change.pk])).status_code == 404
    assert ask(client, filer, other, name="冒名检测有限公司").status_code == 404
    assert IdentityChangeRequest.objects.get().status == S.PENDING


def test_a_confirmed_credit_code_change_clears_the_old_codes_exception(client, two_provinces, lab, filer):
    Institution.objects.filter(pk=lab.pk).update(credit_code_override_reason="试点地区早期代码")
    new_code = factories.make_credit_code(77)
    ask(client, filer, lab, credit_code=new_code.lower())
    decide(client, two_provinces["users"]["provincial_reviewer"], IdentityChangeRequest.objects.get())
    stored = Institution.objects.get(pk=lab.pk)
    assert stored.credit_code == new_code and stored.credit_code_override_reason == ""


def test_a_city_change_to_another_province_waits_for_the_filing_decision(client, two_provinces, lab, filer):
    from filings.models import Filing

    factories.make_filing(lab, status=Filing.Status.SUBMITTED)
    wuhan = two_provinces["institutions"]["wuhan"].city
    response = ask(client, filer, lab, city=str(wuhan.pk))
    assert "审核决定作出前不能迁往其他省份" in response.content.decode()
    # Within the province the move is fine.
    assert ask(client, filer, lab, city=str(factories.region("430200").pk)).status_code == 302
    decide(client, two_provinces["users"]["provincial_reviewer"], IdentityChangeRequest.objects.get())
    assert Institution.objects.get(pk=lab.pk).city.code == "430200"


def test_the_reviewer_sees_pending_requests_on_the_home_page_and_the_list_page_link(client, two_provinces, lab, filer):
    ask(client, filer, lab, name="长沙甲检测集团有限公司")
    client.force_login(two_provinces["users"]["provincial_reviewer"])
    assert "有 1 份机构信息变更申请待确认" in client.get(reverse("home")).content.decode()
    assert 'data-testid="identity-changes-link"' in client.get(reverse("institutions:list")).content.decode()
    client.force_login(two_provinces["users"]["city_officer"])
    assert client.get(reverse("institutions:identity_changes")).status_code == 403


def test_the_list_page_issues_the_same_number_of_queries_for_few_or_many_requests(client, two_provinces):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reviewer = two_provinces["users"]["provincial_reviewer"]
    client.force_login(reviewer)

    def add(count):
        for _ in range(count):
            institution = factories.InstitutionFactory()
            IdentityChangeRequest.objects.create(
                institution=institution, name=institution.name + "集团", legal_representative="赵强",
                credit_code=institution.credit_code, city=institution.city, reason="更名",
                requested_by=factories.FilerFactory(institution=institution),
                previous=services.registered_identity(institution),
                requested_at=institution.created_at - datetime.timedelta(minutes=1),
            )

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("institutions:identity_changes")).status_code == 200
        return len(captured)

    add(1)
    few = count()
    add(5)
    assert count() == few


def test_the_database_holds_at_most_one_pending_request_per_institution(lab, filer):
    """The service locks the institution row; the partial unique constraint catches a race that slips past it."""
    from django.db import IntegrityError, transaction

    values = dict(institution=lab, name="长沙甲检测集团有限公司", legal_representative="王伟",
                  credit_code=lab.credit_code, city=lab.city, reason="更名", requested_by=filer,
                  previous=services.registered_identity(lab))
    IdentityChangeRequest.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        IdentityChangeRequest.objects.create(**values)
    IdentityChangeRequest.objects.create(**{**values, "status": S.REFUSED})
    assert IdentityChangeRequest.objects.count() == 2
