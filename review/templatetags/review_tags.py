from django import template

from review.diff import plain as plain_value

register = template.Library()


@register.filter
def plain(value):
    """Show a snapshot's number as people write it ("2600", not "2.6E+3")."""
    return plain_value(value)
