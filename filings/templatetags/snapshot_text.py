"""{% for p in text|paragraphs %}: a narrative section as its paragraphs, for the printed PDFs."""
from django import template

register = template.Library()


@register.filter
def paragraphs(text) -> list[str]:
    """One paragraph per line, blank lines dropped; leading spaces (a typed indent, 全角 or not) are dropped too,
    since every printed paragraph is indented by the stylesheet."""
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]
