"""通知公告 on the embedded default (SQLite): the demo's notices reach the Changsha officer, opening one records its
receipt (twice is still one), the publisher's receipts count it, and the attached form downloads."""
from django.urls import reverse

from notices.models import Notice


def test_demo_notices_are_read_and_counted_on_sqlite(login):
    hunan = Notice.objects.get(region__code="430000")
    nation = Notice.objects.get(region__code="000000")
    client = login("city")
    home = client.get(reverse("home")).content.decode()
    assert hunan.title in home and "1 条未读" in home
    for _ in range(2):
        assert client.get(reverse("notices:detail", args=[hunan.pk])).status_code == 200
    attachment = nation.attachments.get()
    download = client.get(reverse("notices:attachment", args=[attachment.pk]))
    assert download.status_code == 200 and "filename*=utf-8''" in download["Content-Disposition"]
    receipts = login("province").get(reverse("notices:receipts", args=[hunan.pk])).content.decode()
    assert "已读 1 / 应读" in receipts
