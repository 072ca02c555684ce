import factory
from factory.django import DjangoModelFactory
from stdnum.cn import uscc

from accounts.models import Role, User
from institutions.models import Institution, Region

_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_credit_code(n: int, division: str = "430100") -> str:
    body = "91" + division
    serial = ""
    for _ in range(9):
        n, r = divmod(n, len(_CODE_CHARS))
        serial = _CODE_CHARS[r] + serial
    body += serial
    return body + uscc.calc_check_digit(body)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


class CityFactory(DjangoModelFactory):
    """A city; defaults to a new city of Hubei, since Hunan's cities come from the data migration."""

    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"42{(n % 90) + 1:02d}00")
    name = factory.Sequence(lambda n: f"测试市{n}")
    level = Region.Level.CITY
    parent = factory.LazyFunction(lambda: region("420000"))


class InstitutionFactory(DjangoModelFactory):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"湖南测试检测有限公司{n}")
    credit_code = factory.Sequence(lambda n: make_credit_code(n + 1000))
    city = factory.LazyFunction(lambda: region("430100"))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "测试用户"
    role = Role.ADMIN
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class FilerFactory(UserFactory):
    role = Role.FILER
    institution = factory.SubFactory(InstitutionFactory)


class CityOfficerFactory(UserFactory):
    role = Role.CITY_OFFICER
    region = factory.LazyFunction(lambda: region("430100"))


class ProvincialReviewerFactory(UserFactory):
    role = Role.PROVINCIAL_REVIEWER
    region = factory.LazyFunction(lambda: region("430000"))


class SamrReviewerFactory(UserFactory):
    role = Role.SAMR_REVIEWER


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class ExportJobFactory(DjangoModelFactory):
    class Meta:
        model = "summaries.ExportJob"

    kind = "register"
    title = "长沙市 机构名录"
    region = factory.LazyFunction(lambda: region("430100"))
    created_by = factory.SubFactory(CityOfficerFactory)
