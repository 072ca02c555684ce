"""One demo account per role. Created only where settings.DEMO_MODE is true; the README lists them."""
from institutions.models import Institution, Region

from .models import Role, User
from .permissions import can_open_admin_site

DEMO_PASSWORD = "qts-demo-2026"

# username, role, display name, region code (officers and reviewers)
DEMO_ACCOUNTS = [
    ("admin", Role.ADMIN, "系统管理员", None),
    ("samr", Role.SAMR_REVIEWER, "总局审核员", None),
    ("group1", Role.GROUP_REVIEWER, "评审组审核员", None),  # member of the demo review group (institutions.demo)
    ("province", Role.PROVINCIAL_REVIEWER, "湖南省局审核员", "430000"),
    ("city", Role.CITY_OFFICER, "长沙市局督办员", "430100"),
    ("city2", Role.CITY_OFFICER, "株洲市局督办员", "430200"),
    ("filer", Role.FILER, "机构填报员", None),
]
# The accounts that belong to the demo institution (a Changsha laboratory).
DEMO_INSTITUTION_ACCOUNTS = {"filer"}


def province_accounts(province_code: str) -> list[tuple]:
    """A further province's demo reviewer and its capital's officer: province42, city4201 for Hubei."""
    province = Region.objects.get(code=province_code)
    capital = Region.objects.current().filter(parent=province).order_by("code").first()
    return [
        (f"province{province_code[:2]}", Role.PROVINCIAL_REVIEWER, f"{province.name}局审核员", province_code),
        (f"city{capital.code[:4]}", Role.CITY_OFFICER, f"{capital.name}局督办员", capital.code),
    ]


def create_demo_accounts(province_codes=("430000",)) -> list[User]:
    """The accounts of DEMO_ACCOUNTS (Hunan's), and for every other demo province its reviewer and one officer."""
    filer_institution = Institution.objects.filter(city__code="430100").order_by("pk").first()
    accounts = DEMO_ACCOUNTS + [row for code in province_codes if code != "430000" for row in province_accounts(code)]
    users = []
    for username, role, display_name, region_code in accounts:
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
