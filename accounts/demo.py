"""One demo account per role. Created only where settings.DEMO_MODE is true; the README lists them."""
from institutions.models import Institution, Region

from .models import Role, User
from .permissions import can_open_admin_site

DEMO_PASSWORD = "qts-demo-2026"

# username, role, display name, region code (officers and reviewers)
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, "系统管理员", None),
    ("samr", Role.SAMR_REVIEWER, "总局审核员", None),
    ("province", Role.PROVINCIAL_REVIEWER, "湖南省局审核员", "430000"),
    ("city", Role.CITY_OFFICER, "长沙市局督办员", "430100"),
    ("city2", Role.CITY_OFFICER, "株洲市局督办员", "430200"),
    ("filer", Role.FILER, "机构填报员", None),
]
# The accounts that belong to the demo institution (a Changsha laboratory).
DEMO_INSTITUTION_ACCOUNTS = {"filer"}


def create_demo_accounts() -> list[User]:
    filer_institution = Institution.objects.filter(city__code="430100").order_by("pk").first()
    users = []
    for username, role, display_name, region_code in DEMO_ACCOUNTS:
        user = User(
            username=username,
            first_name=display_name,
            role=role,
            region=Region.objects.get(code=region_code) if region_code else None,
            institution=filer_institution if username in DEMO_INSTITUTION_ACCOUNTS else None,
            email=f"{username}@demo.invalid",
        )
        user.is_staff = user.is_superuser = can_open_admin_site(user)  # the admin site's own flags
        user.set_password(DEMO_PASSWORD)
        user.full_clean()
        user.save()
        users.append(user)
    return users
