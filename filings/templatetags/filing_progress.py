"""{{ status|progress_label }}: the one label of a filing's progress state (filings.progress), "未开始" for none."""
from django import template

from filings.progress import progress_label as label_of

register = template.Library()


@register.filter
def progress_label(status):
    return label_of(status or None)
