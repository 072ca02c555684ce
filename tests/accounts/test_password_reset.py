"""忘记密码: Django's reset views in Chinese, the link by e-mail, no user enumeration, rate limits, expiry."""
import datetime
import re
from unittest import mock

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.urls import reverse

from tests import factories

NEW_PASSWORD = "a-fresh-long-pass-42"


@pytest.fixture
def filer(db):
    return factories.FilerFactory(username="zhangsan", email="zhangsan@example.cn")


def _request_reset(client, email, capture):
    with capture(execute=True):
        return client.post(reverse("password_reset"), {"email": email})


def _link(message):
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)


def test_the_login_page_links_to_password_reset(client, db):
    body = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in body and "忘记密码" in body


def test_forgotten_password_is_reset_by_e_mail_end_to_end(client, filer, django_capture_on_commit_callbacks):
    page = client.get(reverse("password_reset")).content.decode()
    assert "忘记密码" in page and "电子邮箱" in page
    response = _request_reset(client, "ZhangSan@example.cn", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert "请查收邮件" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zhangsan@example.cn"] and "重设密码" in message.subject
    assert "zhangsan" in message.body and "2 小时内" in message.body

    form_page = client.get(_link(message), follow=True)  # Django moves the token into the session first
    assert "设置新密码" in form_page.content.decode() and form_page.context["validlink"]
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert "密码已重设" in done.content.decode()
    filer.refresh_from_db()
    assert filer.check_password(NEW_PASSWORD)
    response = client.post(reverse("login"), {"username": "zhangsan", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, filer, django_capture_on_commit_callbacks):
    known = _request_reset(client, filer.email, django_capture_on_commit_callbacks)
    unknown = _request_reset(client, "nobody@example.cn", django_capture_on_commit_callbacks)
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [message.to for message in mail.outbox] == [[filer.email]]


def test_inactive_accounts_get_no_mail(client, filer, django_capture_on_commit_callbacks):
    filer.is_active = False
    filer.save()
    response = _request_reset(client, filer.email, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and mail.outbox == []


def test_an_account_gets_one_mail_however_often_its_address_is_entered(
        client, filer, django_capture_on_commit_callbacks):
    for _ in range(3):
        response = _request_reset(client, filer.email, django_capture_on_commit_callbacks)
        assert response.status_code == 302
    assert len(mail.outbox) == 1


def test_requests_are_limited_per_client_address(client, filer, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESETS_PER_HOUR = 2
    for email in ("a@example.cn", "b@example.cn"):
        assert _request_reset(client, email, django_capture_on_commit_callbacks).status_code == 302
    refused = _request_reset(client, filer.email, django_capture_on_commit_callbacks)
    assert refused.status_code == 429 and "过于频繁" in refused.content.decode()
    assert mail.outbox == []


def test_a_link_works_once(client, filer, django_capture_on_commit_callbacks):
    _request_reset(client, filer.email, django_capture_on_commit_callbacks)
    link = _link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = client.get(link, follow=True)
    assert not again.context["validlink"] and "重设链接无效" in again.content.decode()


def test_a_link_expires_after_the_reset_timeout(client, filer, settings, django_capture_on_commit_callbacks):
    _request_reset(client, filer.email, django_capture_on_commit_callbacks)
    # Django's token generator counts naive local seconds.
    later = datetime.datetime.now() + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)  # noqa: DTZ005
    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        expired = client.get(_link(mail.outbox[0]), follow=True)
    assert not expired.context["validlink"] and "已过期" in expired.content.decode()


def test_a_weak_new_password_is_refused_in_chinese(client, filer, django_capture_on_commit_callbacks):
    _request_reset(client, filer.email, django_capture_on_commit_callbacks)
    form_page = client.get(_link(mail.outbox[0]), follow=True)
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 200 and "密码" in response.content.decode()
    filer.refresh_from_db()
    assert filer.check_password("correct-horse-battery")


def test_a_new_password_lifts_the_login_lockout(client, filer, settings, django_capture_on_commit_callbacks):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": filer.username, "password": "wrong"})
    assert client.post(reverse("login"), {"username": filer.username, "password": "x"}).status_code == 429
    _request_reset(client, filer.email, django_capture_on_commit_callbacks)
    form_page = client.get(_link(mail.outbox[0]), follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = client.post(reverse("login"), {"username": filer.username, "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
