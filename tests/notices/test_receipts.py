"""Read receipts: opening a notice records it once; its publisher sees which of the officers in scope (city officers
and provincial reviewers) have read it and which have not, with counts."""
from django.urls import reverse

from notices import selectors
from notices.models import NoticeRead
from tests import factories


def test_opening_a_notice_records_one_receipt(client, people):
    notice = factories.NoticeFactory()
    client.force_login(people["city_officer"])
    for _ in range(2):
        assert client.get(reverse("notices:detail", args=[notice.pk])).status_code == 200
    assert NoticeRead.objects.filter(notice=notice, user=people["city_officer"]).count() == 1


def test_receipts_count_the_officers_of_the_province(client, people):
    notice = factories.NoticeFactory(author=people["provincial_reviewer"])
    for name in ("city_officer", "filer", "samr_reviewer"):  # a filer and SAMR read it but are not expected to
        client.force_login(people[name])
        client.get(reverse("notices:detail", args=[notice.pk]))
    receipts = selectors.read_receipts(notice)
    # Expected: Changsha's and Zhuzhou's officers and Hunan's reviewer; not Hubei's, not filers, SAMR or admins.
    assert [user for user, _ in receipts.read] == [people["city_officer"]]
    assert set(receipts.unread) == {people["zhuzhou_officer"], people["provincial_reviewer"]}
    client.force_login(people["provincial_reviewer"])
    page = client.get(reverse("notices:receipts", args=[notice.pk])).content.decode()
    assert "已读 1 / 应读 3" in page


def test_a_nations_notice_expects_every_provinces_officers(people, regions):
    notice = factories.NoticeFactory(region=regions["000000"], author=people["admin"])
    expected = set(selectors.read_receipts(notice).unread)
    assert expected == {people[name] for name in ("city_officer", "zhuzhou_officer", "provincial_reviewer",
                                                   "hubei_reviewer", "hubei_city_officer")}


def test_inactive_officers_are_not_expected(people):
    notice = factories.NoticeFactory(author=people["provincial_reviewer"])
    people["zhuzhou_officer"].is_active = False
    people["zhuzhou_officer"].save()
    assert selectors.read_receipts(notice).expected == 2


def test_receipts_page_is_the_publishers_only(client, people):
    notice = factories.NoticeFactory()
    for name, status in (("city_officer", 403), ("samr_reviewer", 403), ("hubei_reviewer", 404), ("admin", 200)):
        client.force_login(people[name])
        assert client.get(reverse("notices:receipts", args=[notice.pk])).status_code == status, name
