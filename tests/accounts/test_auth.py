"""Login, logout, password change, throttling and the Chinese error pages."""
import pytest
from django.urls import reverse

from tests import factories

PASSWORD = "correct-horse-battery"


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    body = client.get(reverse("login")).content.decode()
    assert "用户登录" in body and 'lang="zh-Hans"' in body


@pytest.mark.django_db
def test_login_and_logout(client):
    user = factories.FilerFactory()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True)
    assert response.context["user"].is_authenticated
    assert response.redirect_chain[-1][0] == reverse("home")
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_gets_a_chinese_message(client):
    user = factories.FilerFactory()
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert "用户名或密码错误" in response.content.decode()
    assert not response.context["user"].is_authenticated


@pytest.mark.django_db
def test_repeated_failures_lock_the_login_even_with_the_right_password(client, settings):
    user = factories.FilerFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_password_change(client):
    user = factories.CityOfficerFactory()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-new-long-pass-9", "new_password2": "a-new-long-pass-9"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-pass-9")


@pytest.mark.django_db
def test_weak_new_password_is_refused_in_chinese(client):
    user = factories.CityOfficerFactory()
    client.force_login(user)
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 200
    assert "密码" in response.content.decode() and "太短" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_not_found_page_is_in_chinese(client):
    client.force_login(factories.AdminFactory())
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@pytest.mark.django_db
def test_forbidden_page_is_in_chinese(client, rf):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    response = permission_denied(rf.get("/"), PermissionDenied())
    assert response.status_code == 403
    assert "没有权限" in response.content.decode()


def test_server_error_page_is_in_chinese(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "系统暂时出现错误" in response.content.decode()
