"""What a submission freezes: the filing's parts and the registry facts it confirmed, as plain JSON."""
from decimal import Decimal

from django.utils import timezone

from .checks import run_checks
from .models import AnnualReport, FilingStatistics, SocialResponsibilityReport
from .selectors import sr_reports_in_force

SKIP = {"id", "filing", "centre", "document"}


def _plain(value):
    if isinstance(value, Decimal):
        # Fixed-point, as people write it: "2600" and "860.50", never "2.6E+3".
        return format(value.quantize(1), "f") if value == value.to_integral() else str(value)
    return value


def _fields(instance, model):
    return [
        {"name": f.name, "label": str(f.verbose_name), "value": _plain(getattr(instance, f.name))}
        for f in model._meta.concrete_fields
        if f.name not in SKIP
    ]


def snapshot_data(filing, number: int, *, peer_comparisons=None) -> dict:
    institution = filing.institution
    stats = filing.statistics
    explanations = dict(filing.explanations.values_list("code", "text"))
    return {
        "number": number,
        "submitted_at": timezone.localtime().isoformat(timespec="seconds"),
        "year": filing.year.year,
        "institution": {
            "name": institution.name,
            "credit_code": institution.credit_code,
            "city": institution.city.name,
            "province": institution.city.parent.name if institution.city.parent_id else "",
            "registered_address": institution.registered_address,
            "legal_representative": institution.legal_representative,
            "contact_person": institution.contact_person,
            "contact_phone": institution.contact_phone,
            "nature": institution.get_nature_display(),
            "reviewing_authority": institution.reviewing_authority_name,
            "sites": [site.address for site in institution.sites.all()],
            "certificates": [
                {
                    "number": c.number, "level": c.get_level_display(), "issuer": str(c.issuer),
                    "issue_date": c.issue_date.isoformat(), "expiry_date": c.expiry_date.isoformat(),
                    "capability_items": c.capability_items,
                }
                for c in institution.cma_certificates.select_related("issuer")
            ],
            "qualifications": [
                {"kind": q.get_kind_display(), "number": q.number, "issuer": q.issuer}
                for q in institution.other_qualifications.all()
            ],
        },
        "statistics": _fields(stats, FilingStatistics),
        "derived": {"is_above_scale": stats.is_above_scale, "is_small_micro": stats.is_small_micro},
        "annual_report": _fields(filing.annual_report, AnnualReport),
        "sr_reports": [
            {
                "centre": report.centre.name,
                "centre_id": report.centre_id,
                "fields": _fields(report, SocialResponsibilityReport),
                "document": report.document.name if report.document else "",
            }
            # The parts in force: the centres the entity leads at submission (selectors.sr_reports_in_force).
            for _, report in sr_reports_in_force(filing)
            if report is not None
        ],
        "warnings": [
            {"code": f.code, "message": f.message, "explanation": explanations.get(f.code, "")}
            for f in run_checks(filing, peer_comparisons=peer_comparisons)
            if not f.is_error
        ],
    }


def values(section) -> dict:
    """{field name: value} of a snapshot section (a list of {name, label, value})."""
    return {item["name"]: item["value"] for item in section}
