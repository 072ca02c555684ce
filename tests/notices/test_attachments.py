"""Hostile attachments are refused with a Chinese message and nothing of the notice is saved: a program renamed .pdf,
an oversize file, an archive, a name with a path or a right-to-left override; real PDF, Word and Excel files pass."""
import pytest
from django.urls import reverse

from notices import attachments, services
from notices.models import Notice, NoticeAttachment

from .conftest import PDF, ole, ooxml, upload

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64) + b"This program cannot be run in DOS mode."


def _publish(people, regions, *files):
    return services.publish_notice(actor=people["admin"], title="附件测试", body="正文", region=regions["000000"],
                                   attachments=list(files))


@pytest.mark.parametrize("name, content, message", [
    ("统计报表.pdf", EXE, "附件“统计报表.pdf”的内容不是PDF文件（文件内容与扩展名不符）"),
    ("统计报表.docx", PDF, "内容不是Word（DOCX）文件"),
    ("统计报表.xlsx", ooxml("word/document.xml"), "内容不是Excel（XLSX）文件"),
    ("统计报表.doc", ole("Workbook"), "内容不是Word（DOC）文件"),
    ("统计报表.exe", EXE, "类型不受支持：只接受 PDF、Word（DOC、DOCX）和 Excel（XLS、XLSX）文件"),
    ("资料.zip", ooxml("word/document.xml"), "类型不受支持"),
    ("统计报表", PDF, "类型不受支持"),
    ("..\\..\\统计报表.pdf", PDF, "含有路径分隔符"),
    ("申报表\u202efdp.exe", EXE, "申报表\\u202efdp.exe”含有不可见字符或改变文字方向的控制字符"),
    ("通知\u200b.pdf", PDF, "不可见字符"),
    (".htaccess.pdf", PDF, "不能以“.”开头"),
    ("长" * 101 + ".pdf", PDF, "附件文件名过长"),
    ("空.pdf", b"", "是空文件"),
])
def test_hostile_attachment_is_refused_and_nothing_saved(people, regions, media, name, content, message):
    with pytest.raises(attachments.AttachmentRefused) as refused:
        _publish(people, regions, upload("说明.pdf"), upload(name, content))
    assert message in str(refused.value)
    assert not Notice.objects.exists() and not NoticeAttachment.objects.exists()
    assert not any(media.rglob("*.*"))  # checked before anything is stored


def test_oversize_attachment_is_refused(people, regions, media):
    big = upload("统计报表.pdf", PDF + bytes(attachments.ATTACHMENT_LIMIT))
    with pytest.raises(attachments.AttachmentRefused, match="超过 20 MB 的上限"):
        _publish(people, regions, big)
    assert not Notice.objects.exists()


def test_at_most_ten_attachments(people, regions, media):
    with pytest.raises(attachments.AttachmentRefused, match="每条通知最多 10 个附件"):
        _publish(people, regions, *(upload(f"表{n}.pdf") for n in range(11)))


@pytest.mark.parametrize("name, content, kind", [
    ("通知.pdf", PDF, "pdf"),
    ("附件1 统计报表.XLSX", ooxml("xl/workbook.xml"), "xlsx"),
    ("附件2 说明.docx", ooxml("word/document.xml"), "docx"),
    ("旧版报表.xls", ole("Workbook"), "xls"),
    ("旧版说明.doc", ole("WordDocument"), "doc"),
])
def test_real_documents_are_stored_under_a_random_name(people, regions, media, name, content, kind):
    notice = _publish(people, regions, upload(name, content))
    attachment = notice.attachments.get()
    assert (attachment.original_name, attachment.kind, attachment.size) == (name, kind, len(content))
    stored = attachment.file.name
    assert stored.startswith("notices/") and name.rsplit(".", 1)[0] not in stored
    assert len(stored.removeprefix("notices/").split(".")[0]) == 32  # a uuid4 in hex: nothing to guess


def test_refused_upload_on_the_form_shows_the_reason_and_saves_nothing(client, people, regions, media):
    client.force_login(people["admin"])
    response = client.post(reverse("notices:create"), {
        "title": "附件测试", "body": "正文", "region": regions["000000"].pk,
        "attachments": [upload("统计报表.pdf", EXE)],
    })
    assert response.status_code == 400
    assert "通知尚未发布：附件“统计报表.pdf”的内容不是PDF文件" in response.content.decode()
    assert not Notice.objects.exists()


def test_the_form_takes_several_files_at_once(client, people, regions, media):
    client.force_login(people["admin"])
    response = client.post(reverse("notices:create"), {
        "title": "附件测试", "body": "正文", "region": regions["000000"].pk,
        "attachments": [upload("表一.pdf"), upload("表二.xlsx", ooxml("xl/workbook.xml"))],
    })
    assert response.status_code == 302
    assert sorted(NoticeAttachment.objects.values_list("original_name", flat=True)) == ["表一.pdf", "表二.xlsx"]


def test_editing_removes_and_adds_attachments(people, regions, media):
    notice = _publish(people, regions, upload("旧表.pdf"))
    old = notice.attachments.get()
    services.edit_notice(notice, actor=people["admin"], title="附件测试", body="正文", region=regions["000000"],
                         public=True, pinned=False, attachments=[upload("新表.pdf")], remove_attachments=[old.pk])
    assert list(notice.attachments.values_list("original_name", flat=True)) == ["新表.pdf"]
