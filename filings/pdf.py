"""A4 PDFs printed from a submission snapshot (WeasyPrint, Noto CJK fonts installed by scripts/setup.sh)."""
import datetime

from django.template.loader import render_to_string
from weasyprint import HTML

TEMPLATES = {
    "receipt": ("filings/pdf/receipt.html", "提交回执"),
    "annual-report": ("filings/pdf/annual_report.html", "年度报告"),
    "sr-report": ("filings/pdf/sr_report.html", "社会责任报告"),
}


def render_pdf(snapshot, kind: str, *, centre_id: int | None = None) -> bytes:
    template, _ = TEMPLATES[kind]
    data = snapshot.data
    submitted = datetime.datetime.fromisoformat(data["submitted_at"])
    context = {"data": data, "snapshot": snapshot, "submitted": f"{submitted:%Y年%m月%d日 %H:%M}"}
    if kind == "sr-report":
        context["report"] = next(r for r in data["sr_reports"] if r["centre_id"] == centre_id)
    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def filename(snapshot, kind: str, *, centre_name: str = "") -> str:
    _, label = TEMPLATES[kind]
    data = snapshot.data
    return f"{data['year']}年度{label}-{centre_name or data['institution']['name']}.pdf"
