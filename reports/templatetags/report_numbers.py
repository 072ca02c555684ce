from django import template

from reports.quarters import recent_quarters
from reports.selectors import institution_quarter_status

register = template.Library()


@register.inclusion_tag("reports/_upload_status.html", takes_context=True)
def report_upload_status(context, institution, quarters: int = 4):
    """The institution's report-number uploads for the last `quarters` ended quarters (one query). The page that
    uses it has already checked that the user may see `institution`."""
    user = context.get("user")
    return {
        "status": institution_quarter_status(institution, recent_quarters(quarters)),
        "is_own": bool(user and user.is_authenticated and user.is_filer and user.institution_id == institution.pk),
    }
