from django import template

from accounts.permissions import is_own_filer
from accounts.scoping import visible_to
from institutions.models import Institution
from reports.quarters import recent_quarters
from reports.selectors import institution_quarter_status, open_complaints, upload_status_by_quarter

register = template.Library()


@register.inclusion_tag("reports/_upload_status.html", takes_context=True)
def report_upload_status(context, institution, quarters: int = 4):
    """The institution's report-number uploads for the last `quarters` ended quarters (one query). The page that
    uses it has already checked that the user may see `institution`."""
    user = context.get("user")
    return {
        "status": institution_quarter_status(institution, recent_quarters(quarters)),
        "is_own": is_own_filer(user, institution),
    }


@register.inclusion_tag("reports/_officer_summary.html", takes_context=True)
def report_officer_summary(context):
    """For a regulator's home page: the previous quarter's missing uploads in their area and open complaints."""
    user = context["user"]
    quarter = recent_quarters(1)[0]
    row = upload_status_by_quarter(visible_to(user, Institution), quarter.year)[quarter.quarter - 1]
    return {
        "quarter": quarter,
        "row": row,
        "open_complaints": open_complaints(user).count(),
    }
