"""Attachments are downloaded through views that check who may read the notice, under the name they were uploaded
with (RFC 5987 for a Chinese name), never from a public path."""
from urllib.parse import quote

from django.urls import reverse

from notices import services
from tests import factories

from .conftest import upload


def _attachment(people, regions, *, public=False, region="430000"):
    notice = services.publish_notice(actor=people["admin"], title="下载测试", body="正文", region=regions[region],
                                     public=public, attachments=[upload("附件1：统计报表（2023年度）.pdf")])
    return notice.attachments.get()


def test_download_names_the_chinese_file_by_rfc_5987(client, people, regions, media):
    attachment = _attachment(people, regions)
    client.force_login(people["filer"])
    response = client.get(reverse("notices:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=utf-8''{quote('附件1：统计报表（2023年度）.pdf')}" in disposition
    assert b"".join(response.streaming_content) == factories.PDF_BYTES
    assert response["X-Content-Type-Options"] == "nosniff"


def test_another_province_and_anonymous_visitors_cannot_download(client, people, regions, media):
    attachment = _attachment(people, regions)
    url = reverse("notices:attachment", args=[attachment.pk])
    assert client.get(url).status_code == 302  # to the login page
    assert client.get(reverse("notices:public_attachment", args=[attachment.pk])).status_code == 404
    client.force_login(people["hubei_filer"])
    assert client.get(url).status_code == 404


def test_a_public_notices_attachment_downloads_without_login(client, people, regions, media):
    attachment = _attachment(people, regions, public=True, region="000000")
    response = client.get(reverse("notices:public_attachment", args=[attachment.pk]))
    assert response.status_code == 200 and "filename*=utf-8''" in response["Content-Disposition"]


def test_a_withdrawn_notices_attachment_is_kept_for_its_publisher_only(client, people, regions, media):
    attachment = _attachment(people, regions)
    services.withdraw_notice(attachment.notice, actor=people["admin"])
    url = reverse("notices:attachment", args=[attachment.pk])
    client.force_login(people["city_officer"])
    assert client.get(url).status_code == 404
    client.force_login(people["provincial_reviewer"])
    assert client.get(url).status_code == 200


def test_media_files_are_not_served_by_url(client, people, regions, media):
    attachment = _attachment(people, regions, public=True, region="000000")
    assert client.get("/media/" + attachment.file.name).status_code == 404
