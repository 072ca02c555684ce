"""A4 PDFs printed from a submission snapshot (WeasyPrint, Noto CJK fonts installed by scripts/setup.sh), laid out
like the notice's attachments: 附件1 the annual report, 附件2 the social responsibility report; and the receipt."""
import datetime

from django.template.loader import render_to_string
from weasyprint import HTML

from institutions.models import ReviewingAuthority, reviewing_authority_name

from .models import sr_document_filename
from .snapshots import values

TEMPLATES = {  # kind: (template, title of the printed document as its file is named)
    "receipt": ("filings/pdf/receipt.html", "{year}年度提交回执"),
    "annual-report": ("filings/pdf/annual_report.html", "{year}年度报告"),
    "sr-report": ("filings/pdf/sr_report.html", "{year}年度社会责任报告"),
}

# Attachment 1 prints the fourth section under the notice's own, longer heading.
ANNUAL_HEADINGS = {
    "achievements": (
        "四、{year}年度，本检验检测机构的突出成绩、先进事迹，以及为质量提升和供给侧结构性改革等提供技术支撑的"
        "典型案例（选报）"
    ),
}

# Attachment 2, 一、基本情况: its numbered sub-headings and the snapshot fields each holds (3: the leaders' table).
SR_BASICS = [
    ("1. 国家质检中心", ["cma_certificate_number", "accreditation_number"]),
    ("2. 所在法人单位", ["address", "postal_code"]),
    ("3. 负责人情况", []),
    ("4. 人员、资产和仪器设备", [
        "staff_total", "staff_management", "staff_testing", "staff_auxiliary", "fixed_assets", "instruments",
        "instruments_imported", "lab_area",
    ]),
    ("5. {year}年工作基本情况（数据截至{year}年12月31日）", [
        "samr_sampling_batches", "other_sampling_batches", "ccc_batches", "licence_batches", "arbitration_batches",
        "proficiency_batches", "proficiency_organised", "proficiency_self_organised", "national_standards",
        "national_standards_lead", "industry_standards", "industry_standards_lead",
    ]),
    ("6. 国家质检中心建设情况", [
        "new_staff", "new_instruments", "new_instrument_investment", "lab_area_added", "research_completed",
        "research_funding", "research_share", "commissioned_batches", "commissioned_growth",
        "commissioned_income_share", "income_growth", "external_funding", "external_funding_state",
    ]),
]
DEPUTY_ROWS = 3


def receipt_authority(institution: dict) -> str:
    """The authority as the receipt names it; snapshots taken before it was stored by name hold the generic label."""
    stored = institution.get("reviewing_authority", "")
    authority = {label: value for value, label in ReviewingAuthority.choices}.get(stored)
    return reviewing_authority_name(authority, institution.get("province", "")) if authority else stored


def _annual_sections(data) -> list[dict]:
    year = data["year"]
    return [
        {"heading": ANNUAL_HEADINGS.get(item["name"], item["label"]).format(year=year), "text": item["value"]}
        for item in data["annual_report"]
    ]


def _sr_layout(data, report) -> dict:
    year = data["year"]
    labels = {item["name"]: item["label"] for item in report["fields"]}
    given = values(report["fields"])

    def rows(names):
        return [(labels[name], given.get(name)) for name in names if name in labels]

    sections = [{"heading": heading.format(year=year), "rows": rows(names)} for heading, names in SR_BASICS]
    sections[0]["rows"].insert(0, ("国家质检中心名称", report["centre"]))
    sections[1]["rows"].insert(0, ("所在法人单位名称", data["institution"]["name"]))
    deputies = list(given.get("deputies") or [])[:DEPUTY_ROWS]
    deputies += [{}] * (DEPUTY_ROWS - len(deputies))
    leaders = [("主任", given.get("director_name"), "", given.get("director_mobile"))]
    leaders += [(f"副主任 {i}", d.get("name"), d.get("phone"), d.get("mobile")) for i, d in enumerate(deputies, 1)]
    leaders.append(("质量负责人", given.get("quality_manager_name"), given.get("quality_manager_phone"),
                    given.get("quality_manager_mobile")))
    return {
        "basics": sections,
        "leaders": leaders,
        "fax": given.get("fax"),
        "email": given.get("email"),
        "contribution": given.get("contribution"),
        "responsibility": given.get("responsibility"),
        "document": sr_document_filename(report.get("document", "")),
    }


def render_pdf(snapshot, kind: str, *, centre_id: int | None = None) -> bytes:
    template, _ = TEMPLATES[kind]
    data = snapshot.data
    submitted = datetime.datetime.fromisoformat(data["submitted_at"])
    context = {"data": data, "snapshot": snapshot, "submitted": f"{submitted:%Y年%m月%d日 %H:%M}"}
    if kind == "receipt":
        context["authority"] = receipt_authority(data["institution"])
    elif kind == "annual-report":
        context["sections"] = _annual_sections(data)
    else:
        report = next(r for r in data["sr_reports"] if r["centre_id"] == centre_id)
        context.update(report=report, sr=_sr_layout(data, report))
    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def filename(snapshot, kind: str, *, centre_name: str = "") -> str:
    _, title = TEMPLATES[kind]
    data = snapshot.data
    return f"{title.format(year=data['year'])}-{centre_name or data['institution']['name']}.pdf"
