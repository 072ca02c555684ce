import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from stdnum.cn import uscc

from accounts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from accounts.models import Role, User
from institutions.models import Institution


def _snapshot():
    return list(Institution.objects.order_by("credit_code").values_list("name", "credit_code", "city__code"))


def _seeded(seed):
    """The institutions seed_demo makes for a seed, in a transaction rolled back afterwards."""
    with transaction.atomic():
        call_command("seed_demo", institutions=120, seed=seed)
        snapshot = _snapshot()
        transaction.set_rollback(True)
    return snapshot


@pytest.mark.django_db
def test_seed_demo_is_deterministic_for_a_seed():
    first = _seeded(7)
    assert len(first) == 120
    assert _seeded(7) == first
    assert _seeded(8) != first


@pytest.mark.django_db
def test_seed_demo_makes_valid_hunan_institutions_over_all_cities(demo_data):
    institutions = list(Institution.objects.select_related("city__parent"))
    assert len(institutions) == demo_data.institutions
    assert len({i.credit_code for i in institutions}) == demo_data.institutions
    assert all(uscc.is_valid(i.credit_code) for i in institutions)
    assert {i.city.parent.code for i in institutions} == {"430000"}
    assert len({i.city.code for i in institutions}) == 14
    # The credit code carries the institution's own division (first four digits of its city).
    assert all(i.credit_code[2:6] == i.city.code[:4] for i in institutions)


@pytest.mark.django_db
def test_seed_demo_creates_the_documented_accounts(demo_data):
    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {username: role for username, role, _, _ in DEMO_ACCOUNTS}
    filer = User.objects.get(username="filer")
    assert filer.institution.city.name == "长沙市"
    assert User.objects.get(username="city").region.name == "长沙市"
    assert User.objects.get(role=Role.PROVINCIAL_REVIEWER).region.name == "湖南省"
    for username, *_ in DEMO_ACCOUNTS:
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)


def test_readme_lists_every_demo_account():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert DEMO_PASSWORD in readme
    for username, *_ in DEMO_ACCOUNTS:
        assert f"`{username}`" in readme


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_data_and_skips_with_if_empty():
    call_command("seed_demo", institutions=5, seed=3)
    with pytest.raises(CommandError):
        call_command("seed_demo", institutions=5, seed=3)
    call_command("seed_demo", institutions=5, seed=3, if_empty=True)
    assert Institution.objects.count() == 5


@pytest.mark.django_db
def test_seed_demo_never_runs_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="不允许"):
        call_command("seed_demo", institutions=5)
    assert not User.objects.exists()
