"""机构注册: a filer registers with the credit code and a CMA certificate of that institution, confirms the e-mail by a
signed link, and the city officer approves or refuses; hostile inputs change nothing and reveal nothing."""
import re
import time
from unittest import mock

import pytest
from django.core import mail, signing
from django.urls import reverse

from accounts import registration
from accounts.models import AccountAction, RegistrationRequest, User
from institutions import registration as register_services
from institutions.models import Institution
from tests import factories

PASSWORD = "a-fresh-long-pass-42"


@pytest.fixture
def lab(db):
    institution = factories.InstitutionFactory(name="长沙甲检测有限公司", city=factories.region("430100"))
    factories.CmaCertificateFactory(institution=institution, number="211801060101")
    return institution


@pytest.fixture
def other_lab(db):
    institution = factories.InstitutionFactory(name="株洲乙检测有限公司", city=factories.region("430200"))
    factories.CmaCertificateFactory(institution=institution, number="211801060202")
    return institution


def _form(institution=None, **changes):
    data = {
        "credit_code": institution.credit_code if institution else "", "cma_number": "211801060101",
        "full_name": "钱七", "phone": "0731-88880000", "email": "qianqi@example.cn", "username": "qianqi",
        "password1": PASSWORD, "password2": PASSWORD,
    }
    data.update(changes)
    return data


def _register(client, capture, data):
    with capture(execute=True):
        return client.post(reverse("registration"), data)


def _confirm_path(message):
    return re.search(r"https?://[^/\s]+(/accounts/register/confirm/\S+/)", message.body).group(1)


def test_the_login_page_links_to_registration(client, db):
    body = client.get(reverse("login")).content.decode()
    assert reverse("registration") in body and "机构注册" in body


def test_registration_is_confirmed_by_e_mail_then_approved_by_the_city_officer(
        client, lab, django_capture_on_commit_callbacks):
    response = _register(client, django_capture_on_commit_callbacks, _form(lab))
    assert response.status_code == 302 and response["Location"] == reverse("registration_sent")
    request = RegistrationRequest.objects.get()
    assert request.status == RegistrationRequest.Status.EMAIL and request.institution == lab
    assert not User.objects.filter(username="qianqi").exists()  # nothing before the officer approves
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["qianqi@example.cn"]

    officer = factories.CityOfficerFactory(region=lab.city)
    client.force_login(officer)
    assert client.get(reverse("home")).context["registrations_pending"] == 0  # not confirmed yet: not shown
    client.logout()

    path = _confirm_path(mail.outbox[0])
    page = client.get(path).content.decode()
    assert "确认邮箱并提交审核" in page
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.EMAIL  # the GET changes nothing
    assert "邮箱已确认" in client.post(path).content.decode()
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.PENDING

    client.force_login(officer)
    assert client.get(reverse("home")).context["registrations_pending"] == 1
    assert "长沙甲检测有限公司" in client.get(reverse("registrations")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration_decide", args=[request.pk]), {"decision": "approve"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.APPROVED and request.decided_by == officer
    user = User.objects.get(username="qianqi")
    assert user.institution == lab and user.is_main_account and user.is_active and user.check_password(PASSWORD)
    assert AccountAction.objects.get(target=user).actor == officer
    assert "已通过" in mail.outbox[-1].subject and mail.outbox[-1].to == ["qianqi@example.cn"]
    client.logout()
    assert client.post(reverse("login"), {"username": "qianqi", "password": PASSWORD})["Location"] == reverse("home")


def test_another_institutions_certificate_and_an_unknown_code_get_the_same_message(
        client, lab, other_lab, django_capture_on_commit_callbacks):
    borrowed = _register(client, django_capture_on_commit_callbacks, _form(lab, cma_number="211801060202"))
    unknown = _register(client, django_capture_on_commit_callbacks,
                        _form(None, credit_code=factories.make_credit_code(999), username="other1"))
    for response in (borrowed, unknown):
        assert response.status_code == 200
        assert register_services.NO_SUCH_PAIR in response.content.decode()
    assert not RegistrationRequest.objects.exists() and not mail.outbox


def test_a_forged_or_altered_link_confirms_nothing(client, lab, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks, _form(lab))
    request = RegistrationRequest.objects.get()
    token = registration.confirmation_token(request)
    forged = signing.dumps([request.pk, request.email], salt="another-purpose")  # signed, but not for this
    for bad in (token[:-2] + ("aa" if not token.endswith("aa") else "bb"), forged, "x"):
        body = client.post(reverse("registration_confirm", args=[bad])).content.decode()
        assert "确认链接无效" in body
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.EMAIL


def test_a_replayed_link_changes_nothing_more(client, lab, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks, _form(lab))
    path = _confirm_path(mail.outbox[0])
    client.post(path)
    request = RegistrationRequest.objects.get()
    request.status = RegistrationRequest.Status.REFUSED
    request.save()
    body = client.post(path).content.decode()
    assert "已经确认过" in body
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.REFUSED  # the old link never reopens a refused request


def test_an_expired_link_is_refused(client, lab, django_capture_on_commit_callbacks, settings):
    _register(client, django_capture_on_commit_callbacks, _form(lab))
    path = _confirm_path(mail.outbox[0])
    later = time.time() + (settings.REGISTRATION_CONFIRM_HOURS + 1) * 3600
    with mock.patch("django.core.signing.time.time", return_value=later):
        body = client.post(path).content.decode()
    assert "确认链接已过期" in body
    assert RegistrationRequest.objects.get().status == RegistrationRequest.Status.EMAIL


@pytest.mark.parametrize("username", ["ＺｈａｎｇＳａｎ", "zhang\u200bsan", "ZhangSan", "zhang san", "张三"])
def test_a_username_that_looks_like_another_is_refused(client, lab, username, django_capture_on_commit_callbacks):
    factories.FilerFactory(username="zhangsan")
    response = _register(client, django_capture_on_commit_callbacks, _form(lab, username=username))
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not RegistrationRequest.objects.exists()


def test_a_weak_password_or_a_bad_credit_code_is_refused_in_chinese(client, lab, django_capture_on_commit_callbacks):
    response = _register(client, django_capture_on_commit_callbacks,
                         _form(lab, password1="12345678", password2="12345678", credit_code="91430100MA4L0000X0"))
    errors = response.context["form"].errors
    assert "统一社会信用代码" in errors["credit_code"][0] and "密码太短" in " ".join(errors["password1"])
    assert not RegistrationRequest.objects.exists()


def test_registrations_are_rate_limited_by_client_address(client, lab, settings, django_capture_on_commit_callbacks):
    settings.REGISTRATIONS_PER_HOUR = 1
    _register(client, django_capture_on_commit_callbacks, _form(lab))
    response = _register(client, django_capture_on_commit_callbacks, _form(lab, username="another"))
    assert response.status_code == 429 and "过于频繁" in response.content.decode()
    assert RegistrationRequest.objects.count() == 1


def test_an_officer_of_another_city_cannot_see_or_decide_the_request(client, lab):
    request = factories.RegistrationRequestFactory(institution=lab)
    client.force_login(factories.CityOfficerFactory(region=factories.region("430200")))
    assert client.get(reverse("registrations")).context["page_obj"].paginator.count == 0
    response = client.post(reverse("registration_decide", args=[request.pk]), {"decision": "approve"})
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.PENDING and not User.objects.filter(
        username=request.username).exists()


def test_a_refusal_needs_a_reason_and_is_mailed_with_it(client, lab, django_capture_on_commit_callbacks):
    request = factories.RegistrationRequestFactory(institution=lab)
    client.force_login(factories.CityOfficerFactory(region=lab.city))
    url = reverse("registration_decide", args=[request.pk])
    response = client.post(url, {"decision": "refuse", "reason": " "})
    assert response.status_code == 400 and "必须填写原因" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "refuse", "reason": "申请人不是本机构员工"})
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.REFUSED and request.reason == "申请人不是本机构员工"
    assert "已拒绝" in mail.outbox[-1].subject and "申请人不是本机构员工" in mail.outbox[-1].body
    assert not User.objects.filter(username=request.username).exists()
    again = client.post(url, {"decision": "approve"})
    assert "不在待审核状态" in again.content.decode()
    request.refresh_from_db()
    assert request.status == RegistrationRequest.Status.REFUSED


def test_a_second_filer_of_an_institution_with_a_main_account_is_not_main(client, lab):
    factories.FilerFactory(institution=lab, is_main_account=True)
    request = factories.RegistrationRequestFactory(institution=lab)
    officer = factories.CityOfficerFactory(region=lab.city)
    register_services.decide_registration(request, actor=officer, approve=True, base_url="http://testserver/")
    assert not User.objects.get(username=request.username).is_main_account


def test_a_proposed_institution_enters_the_register_when_approved(client, db, django_capture_on_commit_callbacks):
    changsha = factories.region("430100")
    code = factories.make_credit_code(4242)
    data = _form(None, credit_code=code, new_institution="on", institution_name="长沙新设检测有限公司",
                 city=changsha.pk, institution_address="湖南省长沙市岳麓区麓谷大道9号")
    _register(client, django_capture_on_commit_callbacks, data)
    request = RegistrationRequest.objects.get()
    assert request.is_new_institution and request.city == changsha and request.institution is None
    client.post(_confirm_path(mail.outbox[0]))
    officer = factories.CityOfficerFactory(region=changsha)
    client.force_login(officer)
    assert "新机构" in client.get(reverse("registrations")).content.decode()
    client.post(reverse("registration_decide", args=[request.pk]), {"decision": "approve"})
    institution = Institution.objects.get(credit_code=code)
    assert institution.name == "长沙新设检测有限公司" and institution.city == changsha
    assert institution.sites.filter(address="湖南省长沙市岳麓区麓谷大道9号").exists()
    user = User.objects.get(username="qianqi")
    assert user.institution == institution and user.is_main_account


def test_a_proposal_for_a_registered_code_cannot_be_approved(lab):
    request = factories.RegistrationRequestFactory(
        institution=None, is_new_institution=True, city=lab.city, credit_code=lab.credit_code,
        institution_name="冒名检测公司", institution_address="某地",
    )
    officer = factories.CityOfficerFactory(region=lab.city)
    with pytest.raises(registration.RegistrationRefused, match="已在机构名录中"):
        register_services.decide_registration(request, actor=officer, approve=True, base_url="http://testserver/")
    lab.refresh_from_db()
    assert lab.name == "长沙甲检测有限公司" and not User.objects.filter(username=request.username).exists()
