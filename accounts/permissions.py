"""Who may do what: every capability of the portal as one named predicate.

Views, services, the filing state machine, templates (`{% load permissions %}`: `user|may:"review"`,
`{% can user "edit_filing" filing as editable %}`) and the navigation ask these; nothing else compares roles. Which
rows a user may see is the other question, answered by `accounts.scoping.visible_to` alone; a predicate that needs
"and the object lies in the user's area" asks it too.

Every predicate is False for an anonymous or inactive user. The access matrix of the pages (README, "Roles and what
each may see") is tested in `tests/test_access.py`.
"""
from django.db.models import Q

from institutions.models import Institution, Region, ReviewingAuthority
from reports.models import Complaint

from .models import RegistrationRequest, Role
from .scoping import member_review_groups, visible_to

# The roles behind the capabilities below; private, so that callers name the capability, not the roles.
_REVIEWERS = frozenset({Role.PROVINCIAL_REVIEWER, Role.SAMR_REVIEWER, Role.GROUP_REVIEWER, Role.ADMIN})
_DECIDERS = frozenset({Role.PROVINCIAL_REVIEWER, Role.SAMR_REVIEWER, Role.GROUP_REVIEWER})
_REGULATORS = frozenset({Role.CITY_OFFICER, Role.PROVINCIAL_REVIEWER, Role.SAMR_REVIEWER, Role.ADMIN})
_CHASERS = frozenset({Role.CITY_OFFICER, Role.PROVINCIAL_REVIEWER, Role.ADMIN})
_NATIONWIDE = frozenset({Role.SAMR_REVIEWER, Role.ADMIN})


def _role(user):
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    return user.role


def _pk(obj_or_id):
    return getattr(obj_or_id, "pk", obj_or_id)


def _in_area(user, institution) -> bool:
    return visible_to(user, Institution).filter(pk=_pk(institution)).exists()


# --- institutions' own filers ---------------------------------------------------------------------------------------

def has_own_institution(user) -> bool:
    """Filers belong to one institution: they get its pages ("本单位", this year's filing, uploads) instead of lists."""
    return _role(user) == Role.FILER and user.institution_id is not None


def is_own_filer(user, institution) -> bool:
    """A filer of this very institution (an object or its id); the base of what an entity does for itself."""
    return has_own_institution(user) and user.institution_id == _pk(institution)


def can_file(user, institution) -> bool:
    """Only the institution's own filers open its year's filing; regulators read filings, they never fill them."""
    return is_own_filer(user, institution)


def can_edit_filing(user, filing) -> bool:
    """The institution's own filers fill in, save, submit and withdraw its filing (the window is checked apart)."""
    return is_own_filer(user, filing.institution_id)


def can_edit_institution(user, institution) -> bool:
    """Filers keep their own entity's profile, certificates and sites; the admin may correct any entity."""
    return _role(user) == Role.ADMIN or is_own_filer(user, institution)


def can_request_identity_change(user, institution) -> bool:
    """Name, legal representative, credit code and city change on request of the entity's own filers (and stay
    unchanged until the reviewing authority confirms); the admin corrects them directly in the admin site."""
    return is_own_filer(user, institution)


def can_upload_report_numbers(user, institution) -> bool:
    """Report numbers are the entity's own declaration: only its filers upload them (or its LIMS with a token)."""
    return is_own_filer(user, institution)


def can_manage_tokens(user, institution) -> bool:
    """LIMS tokens upload in the entity's name, so only its own filers create and revoke them."""
    return is_own_filer(user, institution)


# --- review ---------------------------------------------------------------------------------------------------------

def can_review(user) -> bool:
    """Provincial and SAMR reviewers open the review queue and screen; admins too, to oversee (they do not decide)."""
    return _role(user) in _REVIEWERS


def can_decide_filings(user) -> bool:
    """Only reviewers decide filings (for their reviewing authority); admins look on."""
    return _role(user) in _DECIDERS


def _is_reviewing_authority(user, institution) -> bool:
    # The notice's rule: the authority the institution's certificates (or its choice) give it decides; a review group
    # SAMR assigned it to replaces the province and SAMR. Membership is read now, so a removal applies at once.
    role = _role(user)
    if role == Role.GROUP_REVIEWER:
        return (institution.reviewing_authority == ReviewingAuthority.GROUP
                and member_review_groups(user).filter(pk=institution.review_group_id).exists())
    if role == Role.SAMR_REVIEWER:
        return institution.reviewing_authority == ReviewingAuthority.SAMR
    if role == Role.PROVINCIAL_REVIEWER:
        return (institution.reviewing_authority == ReviewingAuthority.PROVINCE
                and institution.city.parent_id == user.region_id)
    return False


def can_decide(user, filing) -> bool:
    """Start the review of, approve or return a filing: the reviewer of the institution's reviewing authority (the
    province of its city, SAMR, or the members of its active review group). Admins never decide."""
    return _is_reviewing_authority(user, filing.institution)


def can_start_review(user, filing) -> bool:
    """Taking a filing into review is the first step of deciding it, so the same reviewer."""
    return can_decide(user, filing)


def can_quality_return(user, filing) -> bool:
    """SAMR's quality review may return an approved filing of any province for correction."""
    return _role(user) == Role.SAMR_REVIEWER


def authority_q(user) -> Q:
    """The rule of `can_decide` as a filter on rows with an `institution` (filings, identity change requests): the
    institutions whose reviewing authority is the user's; the region part comes from `visible_to`. Admins oversee
    every authority's queue, so nothing is left out for them; filers and city officers get nothing."""
    role = _role(user)
    if role == Role.GROUP_REVIEWER:
        return Q(institution__reviewing_authority=ReviewingAuthority.GROUP,
                 institution__review_group__in=member_review_groups(user))
    if role == Role.SAMR_REVIEWER:
        return Q(institution__reviewing_authority=ReviewingAuthority.SAMR)
    if role == Role.PROVINCIAL_REVIEWER:
        return Q(institution__reviewing_authority=ReviewingAuthority.PROVINCE)
    if role == Role.ADMIN:
        return Q()
    return Q(pk__in=[])


def can_decide_identity_changes(user) -> bool:
    """Reviewers (for their authority) and admins (for any) open the list of identity change requests."""
    return _role(user) in _REVIEWERS


def can_decide_identity_change(user, institution) -> bool:
    """The institution's reviewing authority confirms changes to its identity: the province's reviewers for
    province-reviewed institutions of their province, SAMR's for SAMR-reviewed ones; admins for any."""
    return _role(user) == Role.ADMIN or _is_reviewing_authority(user, institution)


def can_grant_extension(user, institution) -> bool:
    """A reviewer (provincial, SAMR or of its review group) or an admin in whose area the institution lies lets it
    file after the window; city officers chase late filers but cannot move the deadline. An institution assigned to a
    review group gets its extensions from the group (and admins), not from the province or SAMR."""
    role = _role(user)
    if role not in _REVIEWERS:
        return False
    institutions = visible_to(user, Institution).filter(pk=_pk(institution))
    if role in (Role.PROVINCIAL_REVIEWER, Role.SAMR_REVIEWER):
        institutions = institutions.exclude(reviewing_authority=ReviewingAuthority.GROUP)
    return institutions.exists()


def can_grant_extensions(user) -> bool:
    """Whether to offer the extension form at all (on pages that show an institution of the user's area)."""
    return _role(user) in _REVIEWERS


def can_request_extension(user, filing) -> bool:
    """延期申请 for a filing: only the institution's own filers ask (before its deadline; filings.extensions)."""
    return is_own_filer(user, filing.institution_id)


def can_handle_extension_requests(user) -> bool:
    """The list of pending extension requests (menu, home page count): city officers comment, reviewers decide."""
    return _role(user) == Role.CITY_OFFICER or can_grant_extensions(user)


def can_comment_extension_request(user, filing) -> bool:
    """The city officers of the institution's city add their opinion to its extension request."""
    return _role(user) == Role.CITY_OFFICER and _in_area(user, filing.institution_id)


def can_decide_extension_request(user, filing) -> bool:
    """Granting or refusing a request is granting an extension: the same predicate."""
    return can_grant_extension(user, filing.institution_id)


def extension_request_handlers_q(institution) -> Q:
    """Who hears of an institution's extension request, as a filter on users: the city officers of its city and the
    reviewers of its reviewing authority (the province's, or SAMR's)."""
    officers = Q(role=Role.CITY_OFFICER, region_id=institution.city_id)
    if institution.reviewing_authority == ReviewingAuthority.GROUP:
        return officers | Q(role=Role.GROUP_REVIEWER, review_groups=institution.review_group_id,
                            review_groups__is_active=True)
    if institution.reviewing_authority == ReviewingAuthority.SAMR:
        return officers | Q(role=Role.SAMR_REVIEWER)
    return officers | Q(role=Role.PROVINCIAL_REVIEWER, region_id=institution.city.parent_id)


# --- supervision: progress, chasing, reminders, complaints ----------------------------------------------------------

def can_view_progress(user) -> bool:
    """Every regulator follows filing progress, late filers and chasing logs of their area; filers do not."""
    return _role(user) in _REGULATORS


def can_view_city_ranking(user) -> bool:
    """The ranking of cities is for the province and above; a city officer's area is one city."""
    return _role(user) in _REGULATORS - {Role.CITY_OFFICER}


def can_view_nation(user) -> bool:
    """SAMR reviewers and admins see every province: their pages offer a choice of province and figures by province."""
    return _role(user) in _NATIONWIDE


def can_send_reminders(user) -> bool:
    """City officers and the province (and admins) chase institutions of their area by e-mail, for filings and for
    report-number uploads; SAMR does not chase local institutions."""
    return _role(user) in _CHASERS


def can_log_chasing(user) -> bool:
    """Whoever may send reminders also records chasing by telephone or visit (催报记录)."""
    return can_send_reminders(user)


def can_chase(user, institution) -> bool:
    """Reminders and chasing records for one institution: a chaser in whose area it lies."""
    return can_send_reminders(user) and _in_area(user, institution)


_DIGEST_READERS = frozenset({Role.CITY_OFFICER, Role.PROVINCIAL_REVIEWER})


def can_view_digest(user) -> bool:
    """待办摘要 (page, weekly e-mail, opting out): a city officer's for their city, a provincial reviewer's for their
    province; each needs their region."""
    return _role(user) in _DIGEST_READERS and user.region_id is not None


def can_view_city_digest(user) -> bool:
    """The city's digest: its late filers, missing uploads, open complaints and pending extension requests."""
    return can_view_digest(user) and _role(user) == Role.CITY_OFFICER


def can_view_province_digest(user) -> bool:
    """The province's digest: its lagging cities and the extension requests it decides."""
    return can_view_digest(user) and _role(user) == Role.PROVINCIAL_REVIEWER


def digest_recipients_q() -> Q:
    """can_view_digest as a filter on users: who the weekly digest goes to (before their own opting out)."""
    return Q(is_active=True, role__in=list(_DIGEST_READERS), region__isnull=False)


def can_view_chasing_activity(user) -> bool:
    """催报情况 by city (reminders, contacts, completeness against the province): the province, and SAMR and admins
    for a province they choose; a city officer's area is one city."""
    return can_view_city_ranking(user)


def can_view_report_numbers(user) -> bool:
    """Every regulator sees which institutions of their area have not uploaded report numbers, and the complaints."""
    return _role(user) in _REGULATORS


def can_follow_complaints(user) -> bool:
    """The complaints list is a working list (menu, home page) of those who chase institutions: complaints reach the
    city officer and the province follows them; SAMR may open the list but it is not its work."""
    return can_send_reminders(user)


def can_handle_complaint(user, complaint) -> bool:
    """A complaint is handled by the city officers of the city it was filed for (the notice sends it there)."""
    return (_role(user) == Role.CITY_OFFICER
            and visible_to(user, Complaint).filter(pk=_pk(complaint)).exists())


def can_handle_complaints(user) -> bool:
    """Whether a complaint page offers the handling form: only city officers handle complaints."""
    return _role(user) == Role.CITY_OFFICER


# --- summaries, imports, administration -----------------------------------------------------------------------------

def can_export_summaries(user) -> bool:
    """Every regulator runs the summaries and the dashboard of their area; filers export nothing."""
    return _role(user) in _REGULATORS


def can_view_dashboard(user) -> bool:
    """The dashboard shows the same figures as the summaries, so the same people."""
    return can_export_summaries(user)


def can_export(user, region) -> bool:
    """A summary of `region`: SAMR reviewers and admins any region; a provincial reviewer their province or one of
    its cities; a city officer their city."""
    if not can_export_summaries(user):
        return False
    if can_view_nation(user):
        return True
    return region.pk == user.region_id or region.parent_id == user.region_id


def can_import_register(user) -> bool:
    """The institution register is imported by admins (the nation) and provincial reviewers (their province)."""
    role = _role(user)
    return role == Role.ADMIN or (role == Role.PROVINCIAL_REVIEWER and user.region_id is not None)


def can_manage_review_groups(user) -> bool:
    """评审组: SAMR sets up review groups, manages their members and assigns institutions to them (admins too); nobody
    else, and never the institutions themselves."""
    return _role(user) in _NATIONWIDE


def can_open_admin_site(user) -> bool:
    """The operator's admin site (reporting years, reference data, users) is for admins."""
    return _role(user) == Role.ADMIN


# --- accounts: self-registration, main accounts, officer import ----------------------------------------------------

_REGISTRATION_DECIDERS = frozenset({Role.CITY_OFFICER, Role.ADMIN})


def can_decide_registrations(user) -> bool:
    """City officers decide the registration requests of their city (menu, home page count); admins any city's, for
    a city without an officer."""
    return _role(user) in _REGISTRATION_DECIDERS


def can_follow_registrations(user) -> bool:
    """注册审核 is a working list (menu) of city officers; admins reach it from their home page."""
    return _role(user) == Role.CITY_OFFICER


def can_decide_registration(user, request) -> bool:
    """Approve or refuse one registration request (an object or its id): a city officer of the request's city (the
    institution's, or the proposed new institution's), or an admin."""
    return (can_decide_registrations(user)
            and visible_to(user, RegistrationRequest).filter(pk=_pk(request)).exists())


def is_main_account(user) -> bool:
    """The institution's main account (机构主账号): offered 本机构账号 in the menu."""
    return has_own_institution(user) and user.is_main_account


def can_manage_institution_accounts(user, institution) -> bool:
    """Invite, disable and enable the filers of an institution: only its own main account."""
    return is_main_account(user) and is_own_filer(user, institution)


def can_import_officers(user) -> bool:
    """Officer accounts are imported in bulk by admins (the nation) and provincial reviewers (their province)."""
    return can_import_register(user)


def can_import_officer(user, region) -> bool:
    """One imported officer of `region` (a city for 市州局人员, a province for 省局审核人员): admins any region, a
    provincial reviewer their province and its cities."""
    role = _role(user)
    if role == Role.ADMIN:
        return True
    return (role == Role.PROVINCIAL_REVIEWER and user.region_id is not None
            and user.region_id in (region.pk, region.parent_id))


# --- notices (通知公告) -----------------------------------------------------------------------------------------------

_NOTICE_READERS = frozenset({Role.CITY_OFFICER, Role.PROVINCIAL_REVIEWER})


def can_read_notices(user) -> bool:
    """Every logged-in user reads the notices addressed to them (which ones: `visible_to`)."""
    return _role(user) is not None


def can_publish_notice(user, region) -> bool:
    """A notice goes to the nation or one province: admins publish to any of them, SAMR reviewers to the nation,
    provincial reviewers to their own province; nobody else publishes."""
    role = _role(user)
    if region is None or region.level not in (Region.Level.NATION, Region.Level.PROVINCE):
        return False
    if role == Role.ADMIN:
        return True
    if role == Role.SAMR_REVIEWER:
        return region.level == Region.Level.NATION
    return role == Role.PROVINCIAL_REVIEWER and region.pk == user.region_id


def can_publish_notices(user) -> bool:
    """Whether to offer 发布通知 and the publishers' list at all."""
    return _role(user) in _NATIONWIDE or (_role(user) == Role.PROVINCIAL_REVIEWER and user.region_id is not None)


def can_edit_notice(user, notice) -> bool:
    """A notice is the bureau's, not one person's: whoever may publish to its region edits or withdraws it and reads
    its read receipts."""
    return can_publish_notice(user, notice.region)


def notice_readers_q(region) -> Q:
    """Who is expected to read a notice (its read receipts count them), as a filter on users: the city officers and
    provincial reviewers of its province, or of every province for the nation's."""
    officers = Q(role__in=list(_NOTICE_READERS))
    if region.level == Region.Level.NATION:
        return officers
    return officers & (Q(region=region) | Q(region__parent=region))


def home_page(user) -> str:
    """Which home page the user gets: "institution" (filers), "city", "review" (provincial and SAMR) or "admin"."""
    pages = {Role.FILER: "institution", Role.CITY_OFFICER: "city", Role.ADMIN: "admin"}
    return pages.get(_role(user), "review")
