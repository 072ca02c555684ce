"""The late-filer list as an XLSX workbook (formula-safe cells through summaries.xlsx)."""
from io import BytesIO

from django.utils import timezone

from filings.progress import progress_label
from review.selectors import late_filer_deadline
from summaries.xlsx import Column, SheetWriter, new_workbook

COLUMNS = [
    Column("市州", 10), Column("机构名称", 36), Column("统一社会信用代码", 22), Column("填报状态", 10),
    Column("截止时间", 26), Column("联系人", 12), Column("联系电话", 16), Column("电子邮箱", 26),
    Column("最近催报日期", 14),
]


def late_filers_workbook(institutions, year, scope: str) -> bytes:
    """One sheet listing the institutions (from review.selectors.late_filers) with contact person and phone."""
    buffer = BytesIO()
    workbook = new_workbook(buffer)
    writer = SheetWriter(workbook, "未提交机构", COLUMNS, notes=[
        (
            f"{year.year}年度未提交机构 · {scope}（未开始、草稿或已退回待更正）· "
            f"导出时间 {timezone.localtime():%Y-%m-%d %H:%M}"
        ),
    ])
    for institution in institutions.iterator(chunk_size=2000):
        deadline = late_filer_deadline(institution, year)
        writer.append([
            institution.city.name, institution.name, institution.credit_code,
            progress_label(institution.filing_status),
            f"{deadline.label} {timezone.localtime(deadline.at):%Y-%m-%d %H:%M}",
            institution.contact_person, institution.contact_phone, institution.contact_email,
            institution.last_chased.isoformat() if institution.last_chased else "",
        ])
    workbook.save()
    return buffer.getvalue()
