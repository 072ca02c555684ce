"""Who may do what is decided in accounts/permissions.py alone: no other module or template compares roles, and the
predicates say what the design's table of roles says."""
import re
from pathlib import Path

import pytest

from accounts import permissions
from tests import factories

ROOT = Path(__file__).resolve().parents[2]

# Where roles may be named: the permissions module, the scoping helper (roles into querysets), the models (the role
# field, its binding rules, user managers), migrations, and the demo seed (it assigns the demo accounts their roles).
ALLOWED = {"accounts/permissions.py", "accounts/scoping.py", "accounts/demo.py"}
SKIPPED_DIRS = {".git", ".venv", "node_modules", "tests", "bench", "migrations", "static", "var", "docs", "locale"}

ROLE_CHECKS = [
    re.compile(r"\bRole\.[A-Z]"),  # a role constant
    re.compile(r"\.role\b"),  # reading a user's role
    re.compile(r"\brole\s*(==|!=|\bin\b|\bnot in\b)"),
    re.compile(r"\bis_(filer|city_officer|provincial_reviewer|samr_reviewer|portal_admin|regulator)\b"),
]
PY_ONLY = [re.compile(r"\brole(__\w+)?\s*=[^=]")]  # a query or a constructor by role (HTML has role="button")
HTML_ONLY = [re.compile(r"['\"](filer|city_officer|provincial_reviewer|samr_reviewer|admin)['\"]")]  # role values


def _sources():
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if set(relative.parts[:-1]) & SKIPPED_DIRS or path.suffix not in (".py", ".html") or not path.is_file():
            continue
        if str(relative) in ALLOWED or path.name == "models.py":
            continue
        yield relative, path


def role_comparisons():
    found = []
    for relative, path in _sources():
        checks = ROLE_CHECKS + (PY_ONLY if path.suffix == ".py" else HTML_ONLY)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(check.search(line) for check in checks):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_the_scan_sees_the_apps_and_templates():
    scanned = {str(relative) for relative, _ in _sources()}
    assert {"review/views.py", "filings/workflow.py", "templates/base.html", "accounts/navigation.py"} <= scanned
    assert "accounts/permissions.py" not in scanned and "accounts/models.py" not in scanned


def test_the_scan_recognises_a_role_comparison():
    lines = ['if user.role == Role.ADMIN:', '{% if user.is_filer %}', "if request.user.role in CHASERS:",
             'User.objects.filter(role=Role.FILER)', "{% if user.role == 'samr_reviewer' %}"]
    assert all(any(check.search(line) for check in ROLE_CHECKS + PY_ONLY + HTML_ONLY) for line in lines)
    assert not any(check.search('<div role="alert">') for check in ROLE_CHECKS)


def test_no_role_comparison_outside_the_permissions_module():
    found = role_comparisons()
    assert not found, "Ask accounts.permissions instead of comparing roles here:\n" + "\n".join(found)


# --- the predicates against the design's table of roles (DESIGN.md §1) -----------------------------------------------

@pytest.fixture
def people(two_provinces):
    return two_provinces["users"]


@pytest.mark.django_db
@pytest.mark.parametrize("predicate, allowed", [
    ("can_review", {"provincial_reviewer", "samr_reviewer", "admin", "hubei_reviewer"}),
    ("can_decide_filings", {"provincial_reviewer", "samr_reviewer", "hubei_reviewer"}),
    ("can_view_progress", {"city_officer", "provincial_reviewer", "samr_reviewer", "admin", "hubei_reviewer"}),
    ("can_send_reminders", {"city_officer", "provincial_reviewer", "admin", "hubei_reviewer"}),
    ("can_view_nation", {"samr_reviewer", "admin"}),
    ("can_import_register", {"provincial_reviewer", "admin", "hubei_reviewer"}),
    ("can_export_summaries", {"city_officer", "provincial_reviewer", "samr_reviewer", "admin", "hubei_reviewer"}),
    ("can_open_admin_site", {"admin"}),
    ("has_own_institution", {"filer"}),
])
def test_capabilities_of_each_role(people, predicate, allowed):
    check = getattr(permissions, predicate)
    assert {name for name, user in people.items() if check(user)} == allowed


@pytest.mark.django_db
def test_an_extension_is_granted_by_a_reviewer_of_the_institutions_area(two_provinces, people):
    changsha = two_provinces["institutions"]["changsha"]
    may = {name for name, user in people.items() if permissions.can_grant_extension(user, changsha)}
    assert may == {"provincial_reviewer", "samr_reviewer", "admin"}  # not the city, not Hubei's reviewer


@pytest.mark.django_db
def test_a_filing_is_decided_by_its_reviewing_authority_only(two_provinces, people):
    filing = factories.make_filing(two_provinces["institutions"]["changsha"])
    assert {name for name, user in people.items() if permissions.can_decide(user, filing)} == {"provincial_reviewer"}
    filing.institution.reviewing_authority = "samr"
    assert {name for name, user in people.items() if permissions.can_decide(user, filing)} == {"samr_reviewer"}
    assert {name for name, user in people.items() if permissions.can_edit_filing(user, filing)} == {"filer"}


@pytest.mark.django_db
def test_export_regions(people):
    changsha, hunan, hubei = (factories.region(code) for code in ("430100", "430000", "420000"))
    assert permissions.can_export(people["provincial_reviewer"], changsha)
    assert permissions.can_export(people["provincial_reviewer"], hunan)
    assert not permissions.can_export(people["provincial_reviewer"], hubei)
    assert permissions.can_export(people["city_officer"], changsha)
    assert not permissions.can_export(people["city_officer"], hunan)
    assert permissions.can_export(people["samr_reviewer"], hubei)
    assert not permissions.can_export(people["filer"], changsha)


def test_nobody_anonymous_may_anything():
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not any(getattr(permissions, name)(anonymous) for name in (
        "can_review", "can_view_progress", "can_send_reminders", "can_export_summaries", "can_open_admin_site",
        "has_own_institution", "can_import_register",
    ))
