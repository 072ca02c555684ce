"""What a notice accepts as an attachment (README, 通知公告): PDF, Word (DOC, DOCX) and Excel (XLS, XLSX), at most
20 MB each and 10 per notice, judged by the file's content (its magic bytes and, for Office files, the parts inside)
and not only by its name. Archives (ZIP, RAR) and everything else are refused: readers open what they download, and
a notice's forms are documents and workbooks. The name is checked too: no path, no invisible or direction-changing
characters (an "申报表\\u202efdp.exe" would read as 申报表exe.pdf)."""
import unicodedata
from collections.abc import Iterable

from config.uploads import (
    FileRefused,
    UnsafeArchive,
    ZipLimits,
    excerpt,
    is_zip,
    open_zip,
    read_head,
    visible,
)

ATTACHMENT_LIMIT = 20 * 1024 * 1024
MAX_ATTACHMENTS = 10
NAME_LIMIT = 100

_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # the compound file of Office 97–2003 (DOC, XLS)
_ZIP_LIMITS = ZipLimits(max_total=512 * 1024 * 1024, max_members=2000)
# What each kind holds: the zip member of an Office Open XML file, or the stream name of a compound file.
_OOXML_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_OLE_STREAMS = {"doc": ("WordDocument",), "xls": ("Workbook", "Book")}
LABELS = {"pdf": "PDF", "doc": "Word（DOC）", "docx": "Word（DOCX）", "xls": "Excel（XLS）", "xlsx": "Excel（XLSX）"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ACCEPT = ",".join(f".{kind}" for kind in LABELS)
_UNSEEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


class AttachmentRefused(FileRefused):
    """An attachment the notice will not take; nothing of the notice is saved."""


def check_name(name: str) -> str:
    """The file name as it will be shown and offered for download, or a refusal."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if not name:
        raise AttachmentRefused("附件没有文件名，请改名后重新上传。")
    if "/" in name or "\\" in name:
        raise AttachmentRefused(f"附件文件名“{excerpt(name)}”含有路径分隔符（/ 或 \\），请只用文件本身的名称。")
    if any(unicodedata.category(char) in _UNSEEN for char in name):
        raise AttachmentRefused(
            f"附件文件名“{visible(name)}”含有不可见字符或改变文字方向的控制字符，可能掩盖真实的文件类型，请改名后重新上传。"
        )
    if name.startswith("."):
        raise AttachmentRefused(f"附件文件名“{excerpt(name)}”不能以“.”开头。")
    if len(name) > NAME_LIMIT:
        raise AttachmentRefused(f"附件文件名过长（{len(name)} 个字符），请缩短到 {NAME_LIMIT} 个字符以内。")
    return name


def _contains(handle, needles: Iterable[bytes]) -> bool:
    """Whether any of the byte strings occurs in the file, read in bounded chunks."""
    needles = list(needles)
    overlap = max(map(len, needles)) - 1
    handle.seek(0)
    tail = b""
    try:
        while chunk := handle.read(1024 * 1024):
            window = tail + chunk
            if any(needle in window for needle in needles):
                return True
            tail = window[-overlap:]
        return False
    finally:
        handle.seek(0)


def _content_is(kind: str, handle, head: bytes, shown: str) -> bool:
    if kind == "pdf":
        return head.startswith(b"%PDF-")
    if kind in _OOXML_PART:
        if not is_zip(head):
            return False
        try:
            with open_zip(handle, _ZIP_LIMITS) as archive:
                return _OOXML_PART[kind] in archive.namelist()
        except UnsafeArchive as refusal:  # readers would open it: a zip bomb or unsafe names are refused as such
            raise AttachmentRefused(f"附件“{shown}”：{refusal}") from None
        except FileRefused:  # damaged or encrypted: not the document its name says
            return False
        finally:
            handle.seek(0)
    return head.startswith(_OLE_MAGIC) and _contains(handle, (s.encode("utf-16-le") for s in _OLE_STREAMS[kind]))


def check_attachment(upload) -> tuple[str, str]:
    """(the checked original name, the kind) of an uploaded file, or `AttachmentRefused` with the reason."""
    name = check_name(upload.name)
    shown = excerpt(name)
    if upload.size > ATTACHMENT_LIMIT:
        raise AttachmentRefused(
            f"附件“{shown}”有 {upload.size / 1024 / 1024:.1f} MB，超过 {ATTACHMENT_LIMIT // 1024 // 1024} MB 的上限，"
            "请压缩图片或分成几个文件上传。"
        )
    if not upload.size:
        raise AttachmentRefused(f"附件“{shown}”是空文件。")
    kind = name.rpartition(".")[2].lower() if "." in name else ""
    if kind not in LABELS:
        raise AttachmentRefused(
            f"附件“{shown}”的类型不受支持：只接受 PDF、Word（DOC、DOCX）和 Excel（XLS、XLSX）文件。"
        )
    if not _content_is(kind, upload, read_head(upload), shown):
        raise AttachmentRefused(
            f"附件“{shown}”的内容不是{LABELS[kind]}文件（文件内容与扩展名不符），已拒收。"
        )
    return name, kind


def check_attachments(uploads, *, existing: int = 0) -> list[tuple[object, str, str]]:
    """(upload, name, kind) for each upload, all checked before anything is stored."""
    uploads = list(uploads)
    if existing + len(uploads) > MAX_ATTACHMENTS:
        raise AttachmentRefused(f"每条通知最多 {MAX_ATTACHMENTS} 个附件（本次共 {existing + len(uploads)} 个）。")
    return [(upload, *check_attachment(upload)) for upload in uploads]
