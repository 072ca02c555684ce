"""{% load figures %}: `value|figure` and `ratio|change`, summaries.figures' rule on every page that shows figures."""
from django import template

from summaries.figures import format_change, format_figure

register = template.Library()
register.filter("figure", format_figure)
register.filter("change", format_change)
