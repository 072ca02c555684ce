"""Walks every URL pattern the project defines: an anonymous visitor is sent to the login page, except on the
public pages listed here. A new view that forgets its guard fails this test."""
import re
import uuid

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

# Pages anyone may open without logging in.
PUBLIC = {"login", "healthz", "reports:verify", "reports:complain"}
# 忘记密码 (Django's reset views) and 系统帮助: public too.
PASSWORD_RESET = {"password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete"}
HELP = {"help:index", "help:guide", "help:checks", "help:notice", "help:report_numbers", "help:contacts"}
# 通知公告 marked public, as the login page links them: one notice and its attachments.
PUBLIC_NOTICES = {"notices:public_detail", "notices:public_attachment"}
# 机构注册 and its e-mailed confirmation; 账号开通, the set-password link of an invited or imported account.
REGISTRATION = {"registration", "registration_sent", "registration_confirm", "account_welcome"}
PUBLIC |= PASSWORD_RESET | HELP | PUBLIC_NOTICES | REGISTRATION
# Token-authenticated API endpoints (no session): without a token they answer 401 with a JSON message.
TOKEN_AUTH = {"reports:api_upload", "reports:api_batch"}

CONVERTER_EXAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "x/y", "uuid": str(uuid.uuid4())}
# URLs whose arguments name no object: an example that exists.
EXAMPLE_KWARGS = {"help:guide": {"slug": "filer"}, "password_reset_confirm": {"uidb64": "MQ", "token": "x-y"},
                  "account_welcome": {"uidb64": "MQ", "token": "x-y"}, "registration_confirm": {"token": "x"}}


def _walk(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def _example_url(name, pattern):
    if name in EXAMPLE_KWARGS:
        return reverse(name, kwargs=EXAMPLE_KWARGS[name])
    converters = getattr(pattern.pattern, "converters", {})
    regex = pattern.pattern.regex
    if not converters and regex.groups and not regex.groupindex:  # unnamed groups (django-simple-history's admin)
        return reverse(name, args=["1"] * regex.groups)
    if converters or not regex.groupindex:
        kwargs = {key: CONVERTER_EXAMPLES.get(type(conv).__name__.replace("Converter", "").lower(), "1")
                  for key, conv in converters.items()}
        return reverse(name, kwargs=kwargs)
    # Regex patterns (the admin's): try plausible values for each group.
    from django.apps import apps

    candidates = ["1", "x"] + [config.label for config in apps.get_app_configs()]
    groups = list(pattern.pattern.regex.groupindex)
    for value in candidates:
        try:
            return reverse(name, kwargs=dict.fromkeys(groups, value))
        except NoReverseMatch:
            continue
    raise AssertionError(f"no example URL for {name}; add one to the access test")


ALL = sorted(dict(_walk(get_resolver())).items())


def test_walk_finds_the_projects_patterns():
    names = {name for name, _ in ALL}
    assert {"home", "login", "institutions:list", "institutions:detail", "admin:index"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("name, pattern", ALL, ids=[name for name, _ in ALL])
def test_anonymous_visitor_is_sent_to_login(client, name, pattern):
    url = _example_url(name, pattern)
    response = client.get(url)
    if name in PUBLIC:
        # A public page of one object answers 404 for the example id (no such object), never the login page; the
        # matrix below opens it with a real one.
        expected = (200, 503, 404) if name in PUBLIC_NOTICES else (200, 503)
        assert response.status_code in expected, f"{name} should be public"
        return
    if name in TOKEN_AUTH:
        assert response.status_code == 401 and "error" in response.json(), f"{name} should ask for a token"
        return
    assert response.status_code == 302, f"{name} ({url}) answered {response.status_code} to an anonymous visitor"
    # The admin's own guard sends to /admin/login/, which redirects to the portal's login page.
    logins = [reverse(settings.LOGIN_URL)] + ([reverse("admin:login")] if name.startswith("admin:") else [])
    location = response["Location"]
    assert any(re.match(rf"^{re.escape(login)}(\?next=|$)", location) for login in logins), location
    if location.startswith(reverse("admin:login")):
        assert client.get(location)["Location"].startswith(reverse(settings.LOGIN_URL))


# --- every URL as every role ----------------------------------------------------------------------------------------
# One access matrix (shown in the README, "Roles and what each may see"): for each URL name, the roles that get in
# (200, a redirect elsewhere than a login page, or 400/409 when the page refuses the test's input; a redirect with
# an error message when the objects' state refuses the action). Every other logged-in role must be refused (403, 404,
# the admin site's redirect to its login page, or sent back with an error message by the service it reached);
# anonymous visitors are sent to the login page. The objects in the URLs belong to a Changsha institution (reviewed
# by the province) and its filer; "other_filer" and "other_city" are the filer and city officer of a Zhuzhou
# institution.
ROLES = ("filer", "other_filer", "city", "other_city", "province", "samr", "admin")
EVERYONE = frozenset(ROLES)
FILERS = frozenset({"filer", "other_filer"})
REGULATORS = frozenset({"city", "other_city", "province", "samr", "admin"})
CHANGSHA = frozenset({"filer", "city", "province", "samr", "admin"})  # who sees the Changsha institution
REVIEWERS = frozenset({"province", "samr", "admin"})
OWN = frozenset({"filer"})  # the Changsha institution's own filer only
NATIONWIDE = frozenset({"samr", "admin"})
OFFICERS = frozenset({"city", "other_city", "province"})  # who has a 待办摘要 of their own

ACCESS = {
    "home": EVERYONE, "logout": "logout", "password_change": EVERYONE, "password_change_done": EVERYONE,
    "login": "public", "healthz": "public", "reports:verify": "public", "reports:complain": "public",
    "reports:api_upload": "token", "reports:api_batch": "token",
    **dict.fromkeys(PASSWORD_RESET | HELP, "public"),
    # filings
    "filings:home": EVERYONE, "filings:overview": CHANGSHA, "filings:statistics": CHANGSHA,
    "filings:annual_report": CHANGSHA, "filings:sr_report": CHANGSHA, "filings:submit": CHANGSHA,
    "filings:withdraw": OWN, "filings:pdf": CHANGSHA, "filings:pdf_centre": CHANGSHA,
    # 离线填报: the template and its upload are the institution's own filers' (the submitted filing refuses the upload)
    "filings:offline_template": OWN, "filings:offline_upload": OWN,
    # 延期申请: the Changsha filer asks and withdraws, its city's officer comments, reviewers of its area decide
    "filings:request_extension": OWN, "filings:extension_request_withdraw": OWN,
    "filings:extension_requests": REGULATORS, "filings:extension_request_comment": {"city"},
    "filings:extension_request_grant": REVIEWERS, "filings:extension_request_refuse": REVIEWERS,
    # institutions
    "institutions:list": EVERYONE, "institutions:mine": FILERS, "institutions:detail": CHANGSHA,
    "institutions:edit": OWN | {"admin"}, "institutions:edit_section": OWN | {"admin"},
    "institutions:choose_authority": OWN | {"admin"}, "institutions:identity_change": OWN,
    "institutions:identity_change_cancel": OWN, "institutions:identity_changes": REVIEWERS,
    "institutions:identity_change_decide": {"province", "admin"},  # the institution's reviewing authority
    "institutions:decode_cma": EVERYONE,
    "institutions:imports": {"province", "admin"}, "institutions:import_template": {"province", "admin"},
    # an import job is its creator's (here the province's)
    "institutions:import_detail": {"province"}, "institutions:import_status": {"province"},
    "institutions:import_confirm": {"province"}, "institutions:import_retry": {"province"},
    # report numbers
    "reports:upload": FILERS, "reports:tokens": FILERS, "reports:token_revoke": OWN,
    "reports:batch": CHANGSHA, "reports:batch_status": CHANGSHA, "reports:rejects": CHANGSHA,
    "reports:batch_retry": OWN,
    "reports:missing": REGULATORS, "reports:complaints": REGULATORS, "reports:complaint": CHANGSHA - OWN,
    "reports:remind": {"city", "province", "admin"},
    # review
    "review:queue": REVIEWERS, "review:detail": REVIEWERS, "review:start_review": {"province"},
    "review:approve": {"province"}, "review:return": {"province"}, "review:quality_return": {"samr"},
    "review:bulk_approve": {"province", "samr"},  # deciders; SAMR's press counts the Changsha filing as not its own
    "review:extension": REVIEWERS,
    "review:progress": REGULATORS, "review:late_filers": REGULATORS, "review:late_filers_export": REGULATORS,
    "review:remind": {"city", "province", "admin"}, "review:chasing": CHANGSHA - OWN,
    # 待办摘要: each officer's own (city officers and the province); 催报情况 by city for the province and above
    "review:digest": OFFICERS, "review:digest_send": OFFICERS, "review:digest_subscription": OFFICERS,
    "review:chasing_activity": REVIEWERS,
    # summaries: an export job is its creator's (here the Changsha city officer's) and the admins'
    "summaries:dashboard": REGULATORS, "summaries:exports": REGULATORS,
    "summaries:status": {"city", "admin"}, "summaries:download": {"city", "admin"},
    "summaries:retry": {"city"},  # only who ran an export runs it again
    # notices: one to Hunan (by its reviewer) with an attachment; its publishers are Hunan's reviewer and admins
    **dict.fromkeys(PUBLIC_NOTICES, "public"),
    "notices:list": EVERYONE, "notices:detail": EVERYONE, "notices:attachment": EVERYONE,
    "notices:manage": REVIEWERS, "notices:create": REVIEWERS,
    "notices:edit": {"province", "admin"}, "notices:withdraw": {"province", "admin"},
    "notices:receipts": {"province", "admin"},
    # accounts: registration requests of Changsha decided by its officer (or an admin); 本机构账号 for the Changsha
    # filer, its institution's main account; officer accounts imported by the province and admins
    **dict.fromkeys(REGISTRATION, "public"),
    "registrations": {"city", "other_city", "admin"}, "registration_decide": {"city", "admin"},
    "institution_accounts": OWN, "institution_account_toggle": OWN,
    "officer_import": {"province", "admin"}, "officer_import_template": {"province", "admin"},
    # 评审组: SAMR reviewers and admins set up groups, keep their members and assign institutions (a Zhuzhou one)
    **dict.fromkeys(["institutions:review_groups", "institutions:review_group", "institutions:review_group_add_member",
                     "institutions:review_group_remove_member", "institutions:review_group_assign",
                     "institutions:review_group_unassign", "institutions:review_group_bulk_assign"], NATIONWIDE),
}
# The admin site guards all of its pages itself (a new model's admin pages are covered by this rule): everyone but
# admins is sent to its login page. As admins, only its index is requested: which model pages an admin may add to
# or change is the admin classes' business, not access control.
ADMIN_SITE = frozenset({"admin"})
ADMIN_EXCEPTIONS = {"admin:login": "to_login", "admin:logout": "logout"}


def _expected(name):
    if name in ACCESS:
        return ACCESS[name]
    if name.startswith("admin:"):
        return ADMIN_EXCEPTIONS.get(name, ADMIN_SITE)
    return None


def test_every_url_pattern_is_in_the_access_matrix():
    missing = [name for name, _ in ALL if _expected(name) is None]
    assert not missing, f"add these URL names to ACCESS in tests/test_access.py (and the README): {missing}"
    stale = sorted(set(ACCESS) - {name for name, _ in ALL})
    assert not stale, f"ACCESS names URLs that no longer exist: {stale}"


@pytest.fixture
def world(db):
    """One of each object behind the URLs, and one user per role (the other filer and officer in Zhuzhou)."""
    import datetime

    from django.utils import timezone

    from filings import services as filing_services
    from filings.models import ExtensionRequest
    from institutions.models import IdentityChangeRequest, ImportJob
    from institutions.services import registered_identity
    from reports import tokens as report_tokens
    from reports.models import Complaint, ReportNumberBatch
    from reports.quarters import recent_quarters
    from tests import factories

    changsha, zhuzhou, hunan = (factories.region(code) for code in ("430100", "430200", "430000"))
    year = factories.ReportingYearFactory()
    lab = factories.filing_ready_institution(name="长沙甲检测有限公司", city=changsha, reviewing_authority="province")
    other = factories.filing_ready_institution(name="株洲乙检测有限公司", city=zhuzhou)
    users = {
        "filer": factories.FilerFactory(institution=lab, email="filer@example.cn", is_main_account=True),
        "other_filer": factories.FilerFactory(institution=other),
        "city": factories.CityOfficerFactory(region=changsha),
        "other_city": factories.CityOfficerFactory(region=zhuzhou),
        "province": factories.ProvincialReviewerFactory(region=hunan),
        "samr": factories.SamrReviewerFactory(),
        "admin": factories.AdminFactory(),
    }
    centre = factories.NationalCentreFactory(lead_institution=lab)
    filing = factories.make_filing(lab, year=year)
    factories.make_sr_report(filing, centre)
    filing = filing_services.submit_filing(filing, actor=users["filer"], expected_version=filing.version)
    change = IdentityChangeRequest.objects.create(
        institution=lab, name=lab.name + "集团", legal_representative="赵强", credit_code=lab.credit_code,
        city=changsha, reason="更名", requested_by=users["filer"], previous=registered_identity(lab),
    )
    objects = {
        "filing": filing, "centre": centre, "institution": lab, "change": change, "year": year,
        "import": ImportJob.objects.create(created_by=users["province"], region=hunan, original_name="名录.csv"),
        "batch": ReportNumberBatch.objects.create(institution=lab, year=2024, quarter=1, uploaded_by=users["filer"]),
        "token": report_tokens.create_token(actor=users["filer"], institution=lab, name="LIMS")[0],
        "complaint": Complaint.objects.create(report_number="X-1", institution_text=lab.name, city=changsha,
                                              description="d", contact="c"),
        "export": factories.ExportJobFactory(created_by=users["city"]),
        "extension_request": ExtensionRequest.objects.create(
            filing=filing, requested_until=year.closes_at + datetime.timedelta(days=10), reason="设备检修",
            requested_by=users["filer"]),
        "attachment": factories.NoticeAttachmentFactory(notice__author=users["province"]),
        "public_attachment": factories.NoticeAttachmentFactory(notice__region=hunan.parent, notice__public=True),
    }
    objects["notice"], objects["public_notice"] = objects["attachment"].notice, objects["public_attachment"].notice
    objects["second_filer"] = factories.FilerFactory(institution=lab)
    objects["registration"] = factories.RegistrationRequestFactory(institution=lab)
    objects["group_member"] = factories.GroupReviewerFactory()
    objects["review_group"] = factories.ReviewGroupFactory(members=[objects["group_member"]])
    other.review_group, other.reviewing_authority = objects["review_group"], "group"
    other.save()
    objects["grouped"] = other
    due = timezone.localtime(timezone.now() + datetime.timedelta(days=10)).strftime("%Y-%m-%d %H:%M")
    decision = {"version": filing.version, "comment": "请更正", "due": due}
    posts = {  # valid input where a view checks the form before the user's authority
        "review:approve": decision, "review:return": decision, "review:quality_return": decision,
        "institutions:identity_change_decide": {"decision": "refuse", "comment": "材料不全"},
        "review:remind": {"year": year.year, "institution": lab.pk},
        "review:bulk_approve": {"filing": f"{filing.pk}:{filing.version}"},
        "institutions:review_group_bulk_assign": {"codes": other.credit_code},
        "reports:remind": {"quarter": recent_quarters(1)[0].code, "institution": lab.pk},
        "review:extension": {"until": timezone.localtime(year.closes_at + datetime.timedelta(days=10)).strftime(
            "%Y-%m-%d %H:%M"), "reason": "疫情"},
        "institutions:choose_authority": {"authority": "province"},
        "filings:request_extension": {"until": due, "reason": "设备检修"},  # refused: the filing is submitted
        "filings:extension_request_comment": {"comment": "情况属实"},
        "filings:extension_request_refuse": {"comment": "理由不充分"},
    }
    return {"users": users, "objects": objects, "posts": posts}


# Which object each URL's pk names (by URL name prefix, the longest match wins).
PK_OF = {
    "filings:": "filing", "institutions:": "institution", "institutions:identity_change_": "change",
    "filings:extension_request_": "extension_request",
    "institutions:import_": "import", "reports:batch": "batch", "reports:rejects": "batch",
    "reports:api_batch": "batch", "reports:token_": "token", "reports:complaint": "complaint", "review:": "filing",
    "review:chasing": "institution", "review:extension": "institution", "summaries:": "export",
    "notices:": "notice", "notices:attachment": "attachment", "notices:public_detail": "public_notice",
    "notices:public_attachment": "public_attachment",
    "registration_decide": "registration", "institution_account_toggle": "second_filer",
    "institutions:review_group": "review_group",
}


def _world_url(name, pattern, objects):
    converters = getattr(pattern.pattern, "converters", {})
    if name.startswith("admin:") or not converters or name in EXAMPLE_KWARGS:
        return _example_url(name, pattern)
    owner = objects[PK_OF[max((prefix for prefix in PK_OF if name.startswith(prefix)), key=len)]]
    values = {"pk": owner.pk, "centre_id": objects["centre"].pk, "year": objects["year"].year, "section": "sites",
              "user_id": objects["group_member"].pk, "institution_id": objects["grouped"].pk,
              "kind": "sr-report" if "centre_id" in converters else "annual-report"}
    return reverse(name, kwargs={key: values[key] for key in converters})


def _outcome(response):
    from django.contrib.messages import constants, get_messages

    location = response.get("Location", "") if response.status_code == 302 else ""
    if any(location.startswith(reverse(login)) for login in (settings.LOGIN_URL, "admin:login")):
        return "to_login"
    if response.status_code in (403, 404):
        return "refused"
    if response.status_code == 401:
        return "token"
    assert response.status_code != 405, "GET and POST both refused"
    if location and any(m.level == constants.ERROR for m in get_messages(response.wsgi_request)):
        return "sent_back"  # with an error message: the service refused this user, or this object's state
    return "in"


# What a role in the matrix's set may get, what any other role may get, and what the special entries expect.
ALLOWED = {"in", "sent_back"}
REFUSED = {"refused", "to_login", "sent_back"}
SPECIAL = {"public": {"in"}, "token": {"token"}, "to_login": {"to_login"}, "logout": {"in", "to_login"}}


def _request(client, url, data):
    from django.db import transaction

    with transaction.atomic():  # each request's changes are undone, so every role meets the same objects
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, data)
        transaction.set_rollback(True)
    return response


@pytest.mark.django_db
def test_every_url_answers_every_role_as_the_access_matrix_says(world):
    from django.test import Client

    def logged_in(role):
        client = Client()
        client.force_login(world["users"][role])
        return client

    clients = {role: logged_in(role) for role in ROLES}
    wrong = []
    for name, pattern in ALL:
        expected = _expected(name)
        url = _world_url(name, pattern, world["objects"])
        data = world["posts"].get(name, {})
        for role in ROLES:
            if name.startswith("admin:") and role == "admin" and name != "admin:index" and expected == ADMIN_SITE:
                continue
            client = logged_in(role) if expected == "logout" else clients[role]
            got = _outcome(_request(client, url, data))
            if isinstance(expected, str):
                want = SPECIAL[expected]
            else:
                want = ALLOWED if role in expected else REFUSED
            if got not in want:
                wrong.append(f"{name} ({url}) as {role}: {got}, expected {' or '.join(sorted(want))}")
    assert not wrong, "\n".join(wrong)
