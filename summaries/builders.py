"""Workbook builders, one per export kind. Each reads through the job owner's scope and writes write-only sheets."""
from django.db.models import Count, Q

from institutions.models import CertificateLevel, Institution

from .registry import register
from .scopes import institutions_in
from .xlsx import INTEGER, Column, SheetWriter

CHUNK = 2000


@register("register", "机构名录", needs_year=False)
def build_register(job, workbook, progress):
    institutions = (
        institutions_in(job.created_by, job.region)
        .select_related("city", "supervising_department", "parent")
        .annotate(
            national_certs=Count("cma_certificates", filter=Q(cma_certificates__level=CertificateLevel.NATIONAL), distinct=True),
            provincial_certs=Count("cma_certificates", filter=Q(cma_certificates__level=CertificateLevel.PROVINCIAL), distinct=True),
            site_count=Count("sites", distinct=True),
        )
        .prefetch_related("professional_fields")
        .order_by("city__code", "name", "pk")
    )
    total = institutions.count()
    sheet = SheetWriter(
        workbook,
        "机构名录",
        [
            Column("机构名称", 36), Column("统一社会信用代码", 22), Column("所在市州", 12), Column("法定代表人", 12),
            Column("注册地址", 36), Column("成立年份", 10), Column("机构性质", 12), Column("法人状态", 14),
            Column("所有制", 16), Column("行业主管部门", 14), Column("专业领域", 30), Column("国家级证书数", 12, INTEGER),
            Column("省级证书数", 12, INTEGER), Column("场所数", 8, INTEGER), Column("审核单位", 22),
            Column("联系人", 10), Column("联系电话", 16), Column("电子邮箱", 26),
        ],
        notes=[f"{job.title}（共 {total} 家）"],
    )
    for done, inst in enumerate(institutions.iterator(chunk_size=CHUNK), start=1):
        sheet.append([
            inst.name, inst.credit_code, inst.city.name, inst.legal_representative, inst.registered_address,
            inst.established_year, inst.get_nature_display(), inst.get_legal_status_display(),
            inst.get_ownership_display(), str(inst.supervising_department or ""),
            "、".join(field.name for field in inst.professional_fields.all()), inst.national_certs,
            inst.provincial_certs, inst.site_count, inst.get_reviewing_authority_display(), inst.contact_person,
            inst.contact_phone, inst.contact_email,
        ])
        if done % CHUNK == 0:
            progress(done / max(total, 1), f"已写入 {done}/{total} 家机构")
