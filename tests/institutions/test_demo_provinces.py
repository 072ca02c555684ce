"""seed_demo --provinces: demo data for several provinces, deterministic, each province with its own accounts."""
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts.models import Role, User
from filings.models import FilingTransition
from institutions.models import CmaCertificate, Institution

pytestmark = pytest.mark.django_db


def _seed(**options):
    call_command("seed_demo", institutions=200, seed=11, provinces="430000,420000", **options)


def test_two_provinces_share_the_institutions_each_with_its_own_codes_issuers_and_names():
    _seed()
    by_province = {code: list(Institution.objects.filter(city__parent__code=code).select_related("city"))
                   for code in ("430000", "420000")}
    assert all(60 <= len(rows) <= 140 for rows in by_province.values()), {k: len(v) for k, v in by_province.items()}
    hubei = by_province["420000"]
    assert all(i.credit_code[2:4] == "42" and i.registered_address.startswith("湖北省") for i in hubei)
    assert not any("湖南" in i.name for i in hubei)
    assert len({i.city.code for i in hubei}) > 5  # spread over the province, Wuhan the largest
    provincial = CmaCertificate.objects.filter(institution__city__parent__code="420000", level="provincial")
    assert set(provincial.values_list("issuer__code", flat=True)) == {"17"}  # 湖北省市场监督管理局
    assert set(provincial.values_list("number", flat=True).distinct()) and all(
        number[2:4] == "17" for number in provincial.values_list("number", flat=True))


def test_each_further_province_gets_a_reviewer_and_an_officer_who_decide_its_filings():
    _seed()
    hubei_reviewer = User.objects.get(username="province42")
    assert hubei_reviewer.role == Role.PROVINCIAL_REVIEWER and hubei_reviewer.region.code == "420000"
    assert User.objects.get(username="city4201").region.name == "武汉市"
    decided_by = set(
        FilingTransition.objects.filter(filing__institution__city__parent__code="420000",
                                        actor__role=Role.PROVINCIAL_REVIEWER)
        .values_list("actor__username", flat=True)
    )
    assert decided_by == {"province42"}


def test_the_same_seed_gives_the_same_two_province_demo():
    def snapshot():
        with transaction.atomic():
            _seed()
            rows = list(Institution.objects.order_by("credit_code").values_list("name", "credit_code", "city__code"))
            transaction.set_rollback(True)
        return rows

    assert snapshot() == snapshot()


def test_unknown_provinces_are_refused_in_chinese_and_nothing_is_made():
    with pytest.raises(CommandError, match="不是省级行政区划代码：999999"):
        call_command("seed_demo", institutions=10, provinces="430000,999999")
    with pytest.raises(CommandError, match="须包含 430000"):
        call_command("seed_demo", institutions=10, provinces="420000")
    assert not Institution.objects.exists() and not User.objects.exists()
