"""Snapshot values as people read them, on the review screen and in the printed PDFs:
{% for p in text|paragraphs %}, {{ value|snapshot_value }}, {{ report.document|document_filename }}."""
from django import template

from filings.models import sr_document_filename

register = template.Library()


@register.filter
def paragraphs(text) -> list[str]:
    """One paragraph per line, blank lines dropped; leading spaces (a typed indent, 全角 or not) are dropped too,
    since every printed paragraph is indented by the stylesheet."""
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _person(entry: dict) -> str:
    contacts = "，".join(f"{label} {entry[key]}" for key, label in (("phone", "座机"), ("mobile", "手机"))
                        if entry.get(key))
    return f"{entry.get('name') or '—'}（{contacts}）" if contacts else entry.get("name") or "—"


@register.filter
def snapshot_value(value) -> str:
    """A field of a snapshot: "" when nothing was given; a list (the deputies) as 姓名（座机 …，手机 …）；…"""
    if value is None:
        return ""
    if isinstance(value, list):
        return "；".join(_person(item) if isinstance(item, dict) else str(item) for item in value)
    return str(value)


@register.filter
def document_filename(path) -> str:
    return sr_document_filename(path or "")
