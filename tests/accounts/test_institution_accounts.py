"""本机构账号: an institution's main account invites, disables and enables its other filers, never itself; every action
is recorded; nobody else — another institution's filer, a filer who is not the main account — manages them."""
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.institution_accounts import set_account_active
from accounts.models import AccountAction, User
from config.refusals import NotFoundRefusal
from tests import factories

PASSWORD = "a-fresh-long-pass-42"


@pytest.fixture
def lab(db):
    return factories.InstitutionFactory(name="长沙甲检测有限公司", city=factories.region("430100"))


@pytest.fixture
def main(lab):
    return factories.FilerFactory(institution=lab, username="main", is_main_account=True)


def _welcome_path(message):
    return re.search(r"https?://[^/\s]+(/accounts/welcome/\S+/)", message.body).group(1)


def _invite(client, capture, **changes):
    data = {"username": "lisi", "full_name": "李四", "email": "lisi@example.cn", "phone": ""} | changes
    with capture(execute=True):
        return client.post(reverse("institution_accounts"), data)


def test_the_main_account_invites_a_filer_who_sets_a_password_and_logs_in(
        client, lab, main, django_capture_on_commit_callbacks):
    client.force_login(main)
    page = client.get(reverse("institution_accounts")).content.decode()
    assert "本机构账号" in page and "main" in page
    assert _invite(client, django_capture_on_commit_callbacks).status_code == 302
    invited = User.objects.get(username="lisi")
    assert invited.institution == lab and not invited.is_active and not invited.has_usable_password()
    assert not invited.is_main_account
    assert mail.outbox[-1].to == ["lisi@example.cn"]
    client.logout()

    form = client.get(_welcome_path(mail.outbox[-1]), follow=True)
    assert form.context["validlink"]
    done = client.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302
    invited.refresh_from_db()
    assert invited.is_active and invited.check_password(PASSWORD)
    assert client.post(reverse("login"), {"username": "lisi", "password": PASSWORD})["Location"] == reverse("home")
    actions = list(AccountAction.objects.filter(target=invited).values_list("action", "actor__username"))
    assert actions == [("activated", "lisi"), ("invited", "main")]


def test_disable_and_enable_are_recorded_and_shown(client, lab, main):
    other = factories.FilerFactory(institution=lab, username="wangwu")
    client.force_login(main)
    url = reverse("institution_account_toggle", args=[other.pk])
    client.post(url, {"action": "disable"})
    other.refresh_from_db()
    assert not other.is_active
    client.post(url, {"action": "enable"})
    other.refresh_from_db()
    assert other.is_active
    page = client.get(reverse("institution_accounts")).content.decode()
    assert page.count('data-testid="action-row"') == 2 and "停用" in page and "启用" in page


def test_the_main_account_cannot_disable_itself(client, lab, main):
    client.force_login(main)
    response = client.post(reverse("institution_account_toggle", args=[main.pk]), {"action": "disable"}, follow=True)
    assert "不能停用或启用自己的账号" in response.content.decode()
    main.refresh_from_db()
    assert main.is_active and not AccountAction.objects.exists()


def test_another_main_account_may_be_disabled_while_the_actor_remains(lab, main):
    second = factories.FilerFactory(institution=lab, is_main_account=True)
    set_account_active(second, actor=main, active=False, base_url="http://testserver/")
    second.refresh_from_db()
    assert not second.is_active
    assert lab.users.filter(is_main_account=True, is_active=True).get() == main


def test_a_disabled_main_account_manages_nothing(lab, main):
    second = factories.FilerFactory(institution=lab, is_main_account=True)
    main.is_active = False
    main.save()
    with pytest.raises(NotFoundRefusal):
        set_account_active(second, actor=main, active=False, base_url="http://testserver/")
    second.refresh_from_db()
    assert second.is_active


def test_a_filer_of_another_institution_cannot_manage_these_accounts(client, lab, main):
    target = factories.FilerFactory(institution=lab)
    stranger = factories.FilerFactory(institution=factories.InstitutionFactory(), is_main_account=True)
    client.force_login(stranger)
    response = client.post(reverse("institution_account_toggle", args=[target.pk]), {"action": "disable"})
    assert response.status_code == 404
    assert "长沙甲检测有限公司" not in client.get(reverse("institution_accounts")).content.decode()
    target.refresh_from_db()
    assert target.is_active and not AccountAction.objects.exists()


def test_a_filer_who_is_not_the_main_account_manages_nothing(client, lab, main, django_capture_on_commit_callbacks):
    plain = factories.FilerFactory(institution=lab)
    client.force_login(plain)
    assert client.get(reverse("institution_accounts")).status_code == 403
    assert client.post(reverse("institution_account_toggle", args=[main.pk]), {"action": "disable"}).status_code == 403
    assert _invite(client, django_capture_on_commit_callbacks).status_code == 403
    main.refresh_from_db()
    assert main.is_active and not User.objects.filter(username="lisi").exists() and not mail.outbox


def test_a_withdrawn_invitation_link_no_longer_works(client, lab, main, django_capture_on_commit_callbacks):
    client.force_login(main)
    _invite(client, django_capture_on_commit_callbacks)
    invited = User.objects.get(username="lisi")
    client.post(reverse("institution_account_toggle", args=[invited.pk]), {"action": "disable"})
    client.logout()
    form = client.get(_welcome_path(mail.outbox[-1]), follow=True)
    assert not form.context["validlink"]
    invited.refresh_from_db()
    assert not invited.is_active


def test_an_invitation_with_a_look_alike_username_is_refused(client, lab, main, django_capture_on_commit_callbacks):
    client.force_login(main)
    response = _invite(client, django_capture_on_commit_callbacks, username="ｍａｉｎ")
    assert response.status_code == 400 and "全角" in response.content.decode()
    assert User.objects.count() == 1
