"""Who reads which notice: the nation's reach everyone, a province's its own filers, officers and reviewers (and SAMR
and admins); withdrawn and expired notices leave every list; pinned first, then newest."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from notices import selectors, services
from tests import factories

EVERYONE = {"filer", "city_officer", "provincial_reviewer", "samr_reviewer", "admin", "hubei_reviewer",
            "hubei_city_officer", "hubei_filer", "zhuzhou_officer"}
HUNAN = {"filer", "city_officer", "provincial_reviewer", "samr_reviewer", "admin", "zhuzhou_officer"}


def _readers(people, notice):
    return {name for name, user in people.items() if selectors.notices_for(user).filter(pk=notice.pk).exists()}


def test_a_notice_to_the_nation_reaches_everyone(people, regions):
    assert _readers(people, factories.NoticeFactory(region=regions["000000"])) == EVERYONE


def test_a_provinces_notice_reaches_its_own_users_and_samr_and_admins(people):
    assert _readers(people, factories.NoticeFactory()) == HUNAN


def test_another_provinces_users_cannot_open_it(client, people):
    notice = factories.NoticeFactory()
    for name in ("hubei_reviewer", "hubei_city_officer", "hubei_filer"):
        client.force_login(people[name])
        assert client.get(reverse("notices:detail", args=[notice.pk])).status_code == 404, name
        assert notice.title not in client.get(reverse("notices:list")).content.decode()


def test_withdrawn_notice_is_hidden_from_readers_but_kept_for_publishers(client, people):
    notice = factories.NoticeFactory(public=True)
    services.record_read(notice, user=people["city_officer"])
    services.withdraw_notice(notice, actor=people["provincial_reviewer"])
    assert _readers(people, notice) == set()
    assert not selectors.public_notices().exists()
    client.force_login(people["city_officer"])
    assert client.get(reverse("notices:detail", args=[notice.pk])).status_code == 404
    client.force_login(people["provincial_reviewer"])
    manage = client.get(reverse("notices:manage")).content.decode()
    assert notice.title in manage and "已撤回" in manage
    assert notice.reads.count() == 1  # its read receipts stay


def test_expired_and_future_notices_are_not_listed(people):
    today = timezone.localdate()
    expired = factories.NoticeFactory(expires_on=today - datetime.timedelta(days=1))
    last_day = factories.NoticeFactory(expires_on=today)
    future = factories.NoticeFactory(published_at=timezone.now() + datetime.timedelta(days=1))
    shown = set(selectors.notices_for(people["city_officer"]))
    assert last_day in shown and expired not in shown and future not in shown


def test_pinned_first_then_newest(people):
    now = timezone.now()
    old_pinned = factories.NoticeFactory(pinned=True, published_at=now - datetime.timedelta(days=30))
    older = factories.NoticeFactory(published_at=now - datetime.timedelta(days=2))
    newer = factories.NoticeFactory(published_at=now - datetime.timedelta(days=1))
    assert list(selectors.notices_for(people["filer"])) == [old_pinned, newer, older]


def test_home_page_shows_unread_first_with_a_badge(client, people):
    now = timezone.now()
    read = factories.NoticeFactory(title="已读的新通知", published_at=now)
    unread = factories.NoticeFactory(title="未读的旧通知", published_at=now - datetime.timedelta(days=3))
    services.record_read(read, user=people["city_officer"])
    client.force_login(people["city_officer"])
    page = client.get(reverse("home")).content.decode()
    assert "1 条未读" in page
    assert page.index(unread.title) < page.index(read.title)
    assert "通知公告" in page and reverse("notices:list") in page  # the menu


@pytest.mark.parametrize("role", ["filer", "provincial_reviewer", "admin"])
def test_every_home_page_has_the_notices_panel(client, people, role):
    factories.NoticeFactory(region=factories.region("000000"), title="全国通知")
    client.force_login(people[role])
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-notices"' in page and "全国通知" in page


def test_login_page_lists_the_latest_five_public_notices(client, db):
    now = timezone.now()
    for n in range(6):
        factories.NoticeFactory(title=f"公开通知{n}", public=True, published_at=now - datetime.timedelta(hours=n))
    factories.NoticeFactory(title="内部通知", public=False)
    page = client.get(reverse("login")).content.decode()
    assert all(f"公开通知{n}" in page for n in range(5))
    assert "公开通知5" not in page and "内部通知" not in page


def test_a_public_notice_opens_without_login_and_a_private_one_does_not(client, db):
    public = factories.NoticeFactory(public=True, title="公开通知")
    private = factories.NoticeFactory(public=False)
    assert "公开通知" in client.get(reverse("notices:public_detail", args=[public.pk])).content.decode()
    assert client.get(reverse("notices:public_detail", args=[private.pk])).status_code == 404
    assert client.get(reverse("notices:detail", args=[public.pk])).status_code == 302  # readers' page: log in
