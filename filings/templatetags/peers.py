from django import template

from filings.peers import format_value

register = template.Library()


@register.filter
def peer_value(value):
    """A ratio as the warnings write it (filings.peers.format_value)."""
    return format_value(value)
