"""Reads for the role-specific home pages; every query starts from the scoping helper."""
from django.db.models import Count

from filings.selectors import current_year, days_left, filings_visible_to
from institutions.models import Institution, Region
from review.selectors import notifications_for

from . import permissions
from .models import AccountAction, RegistrationRequest
from .scoping import visible_to


def institution_counts_by_city(user):
    """[(city, count)] for the cities whose institutions the user may see, largest first."""
    rows = (
        visible_to(user, Institution)
        .values("city_id")
        .annotate(n=Count("id"))
        .order_by("-n", "city_id")
    )
    cities = Region.objects.in_bulk([row["city_id"] for row in rows])
    return [(cities[row["city_id"]], row["n"]) for row in rows]


def institution_counts_by_province(user):
    rows = (
        visible_to(user, Institution)
        .values("city__parent_id", "city__parent__name")
        .annotate(n=Count("id"))
        .order_by("-n", "city__parent_id")
    )
    return [(row["city__parent__name"], row["n"]) for row in rows]


def home_context(user):
    """The figures a user's home page shows, by role, with the short list of what needs the user (review app)."""
    return {**_role_context(user), "notifications": notifications_for(user)}


def _role_context(user):
    if permissions.has_own_institution(user):
        year = current_year()
        filing = filings_visible_to(user).filter(year=year).first() if year else None
        return {
            "institution": visible_to(user, Institution).select_related("city").first(),
            "year": year,
            "filing": filing,
            "days_left": days_left(filing or year) if year else None,
        }
    context = {"institution_total": visible_to(user, Institution).count()}
    if permissions.can_decide_registrations(user):
        context["registrations_pending"] = pending_registrations(user).count()
    if not permissions.can_view_nation(user):
        context["by_city"] = institution_counts_by_city(user)
    else:
        context["by_province"] = institution_counts_by_province(user)
    return context


def pending_registrations(user, *, status=RegistrationRequest.Status.PENDING):
    """The registration requests of the user's area (a city officer's city) in one status, oldest first."""
    return (visible_to(user, RegistrationRequest).filter(status=status)
            .select_related("institution", "city", "decided_by").order_by("created_at", "pk"))


ACCOUNT_STATES = {"active": "正常", "disabled": "已停用", "invited": "待设置密码"}


def account_state(user) -> str:
    if user.is_active:
        return "active"
    return "disabled" if user.has_usable_password() else "invited"


def institution_accounts_context(user, institution):
    """本机构账号: the institution's filers with their state, and the latest actions on them."""
    accounts = list(institution.users.order_by("-is_main_account", "username"))
    for account in accounts:
        account.state = account_state(account)
        account.state_label = ACCOUNT_STATES[account.state]
    actions = visible_to(user, AccountAction).filter(institution=institution).select_related("actor", "target")[:100]
    return {"institution": institution, "accounts": accounts, "actions": actions}
