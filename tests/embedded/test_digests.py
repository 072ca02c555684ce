"""待办摘要 on the embedded default: the demo officer's digest is sent in-process from the page, the weekly run sends
it once per ISO week (SQLite holds the week's constraint), and the province's 催报情况 page answers."""
from django.core import mail
from django.urls import reverse

from review import digests
from review.models import Digest


def test_the_officer_mails_the_digest_and_the_weekly_run_sends_it_once(login, demo_user):
    officer = demo_user("city")
    officer.email = "city@example.cn"
    officer.save(update_fields=["email"])
    client = login("city")
    assert "待办摘要 · 长沙市" in client.get(reverse("review:digest")).content.decode()
    response = client.post(reverse("review:digest_send"), follow=True).content.decode()
    assert "待办摘要已发送至 city@example.cn" in response
    assert [m.to for m in mail.outbox] == [["city@example.cn"]]

    digests.send_weekly()
    sent = Digest.objects.filter(user=officer, kind=Digest.Kind.WEEKLY, status=Digest.Status.SENT).count()
    digests.send_weekly()
    assert sent == 1 and Digest.objects.filter(user=officer, kind=Digest.Kind.WEEKLY).count() == 1
    assert sum(m.to == ["city@example.cn"] for m in mail.outbox) == 2


def test_the_province_sees_its_cities_chasing_activity(login):
    page = login("province").get(reverse("review:chasing_activity")).content.decode()
    assert "各市州催报情况 · 湖南省" in page and 'data-city="430100"' in page
