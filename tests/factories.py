import datetime
from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone
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


class GroupReviewerFactory(UserFactory):
    role = Role.GROUP_REVIEWER


class ReviewGroupFactory(DjangoModelFactory):
    """A review group (评审组); `members=[user, …]` adds members."""

    class Meta:
        model = "institutions.ReviewGroup"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试评审组{n}")

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.members.add(*extracted)


class ExportJobFactory(DjangoModelFactory):
    class Meta:
        model = "summaries.ExportJob"

    kind = "register"
    title = "长沙市 机构名录"
    region = factory.LazyFunction(lambda: region("430100"))
    created_by = factory.SubFactory(CityOfficerFactory)


# --- registry ----------------------------------------------------------------------------------------------------

class SiteFactory(DjangoModelFactory):
    class Meta:
        model = "institutions.Site"

    institution = factory.SubFactory(InstitutionFactory)
    address = factory.Sequence(lambda n: f"湖南省长沙市岳麓区麓谷大道{n}号")


def _reference(model_name, code):
    from django.apps import apps

    return apps.get_model("institutions", model_name).objects.get(code=code)


def _issuer(code):
    return _reference("CmaIssuer", code)


class CmaCertificateFactory(DjangoModelFactory):
    """A provincial (Hunan) certificate valid from 2021 to 2027 unless told otherwise."""

    class Meta:
        model = "institutions.CmaCertificate"

    class Params:
        national = False

    institution = factory.SubFactory(InstitutionFactory)
    level = factory.LazyAttribute(lambda o: "national" if o.national else "provincial")
    issuer = factory.LazyAttribute(lambda o: _issuer("00" if o.national else "18"))
    number = factory.Sequence(lambda n: f"21{{}}0106{n % 9999 + 1:04d}")  # serials start at 0001
    cma_field = factory.LazyFunction(lambda: _reference("CmaField", "01"))
    supervising_department = factory.LazyFunction(lambda: _reference("SupervisingDepartment", "06"))
    issue_date = datetime.date(2021, 3, 1)
    expiry_date = datetime.date(2027, 2, 28)
    capability_items = 120

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["number"] = kwargs["number"].format(kwargs["issuer"].code)
        return super()._create(model_class, *args, **kwargs)


class NationalCentreFactory(DjangoModelFactory):
    class Meta:
        model = "institutions.NationalCentre"

    name = factory.Sequence(lambda n: f"国家测试产品质量检验检测中心（湖南）{n}")
    lead_institution = factory.SubFactory(InstitutionFactory)


def filing_ready_institution(**kwargs):
    """An institution that may file: one site and one valid certificate."""
    institution = InstitutionFactory(**kwargs)
    SiteFactory(institution=institution)
    CmaCertificateFactory(institution=institution)
    return institution


# --- filings -------------------------------------------------------------------------------------------------------

class ReportingYearFactory(DjangoModelFactory):
    """A reporting year whose window is open now (opened 30 days ago, closes in 30 days)."""

    class Meta:
        model = "filings.ReportingYear"
        django_get_or_create = ("year",)

    year = 2025
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    review_closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=90))


COMPLETE_STATISTICS = dict(
    staff_total=50, staff_doctorate=2, staff_master=8, staff_bachelor=30, staff_college_or_below=10,
    staff_senior_title=5, staff_intermediate_title=15, staff_junior_title=20, staff_no_title=10,
    instruments_total=200, instruments_domestic=180, instruments_imported=20, instruments_over_500k=3,
    instrument_value_total=Decimal("1500.00"), instrument_value_domestic=Decimal("1000.00"),
    instrument_value_imported=Decimal("500.00"), lab_area=Decimal("2400.00"), total_assets=Decimal("3200.00"),
    revenue=Decimal("860.50"), reports_total=12000, reports_enforcement=1000, reports_commissioned=10500,
    reports_judicial=0, reports_other=500, patents_valid=4, patents_invention=1, research_projects=2,
    standards_national=1, standards_national_lead=0, standards_industry=2, standards_industry_lead=1,
    enterprise_costs=Decimal("600"), enterprise_profit=Decimal("120"), enterprise_taxes=Decimal("40"),
    enterprise_payroll=Decimal("300"),
)

COMPLETE_ANNUAL_REPORT = dict(
    compliance="本机构持续符合资质认定条件和要求，人员、设备、环境均满足要求。",
    conduct="严格遵守从业规范，未发生违法违规行为。",
    activities="全年开展建设工程质量检测等检验检测活动。",
)


def make_filing(institution=None, *, year=None, status="draft", complete=True, **stats):
    """A filing with its parts; complete ones pass every check."""
    from filings.models import AnnualReport, Filing, FilingStatistics

    institution = institution or filing_ready_institution()
    year = year or ReportingYearFactory()
    values = {**COMPLETE_STATISTICS, **stats} if complete else stats
    # Figures typed in were saved through the form once: the statistics page shows their findings.
    filing = Filing.objects.create(institution=institution, year=year, status=status,
                                   statistics_saved_at=timezone.now() if values else None)
    FilingStatistics.objects.create(filing=filing, **values)
    AnnualReport.objects.create(filing=filing, **(COMPLETE_ANNUAL_REPORT if complete else {}))
    return filing


# A social responsibility report that passes every check (within COMPLETE_STATISTICS' entity; the certificate number
# is the entity's, filled in by make_sr_report).
COMPLETE_SR_REPORT = dict(
    address="湖南省长沙市岳麓区麓谷大道1号", postal_code="410205", director_name="张主任",
    director_mobile="13800000000",
    quality_manager_name="李质量", quality_manager_phone="0731-88880000", quality_manager_mobile="13900000000",
    staff_total=40, staff_management=5, staff_testing=30, staff_auxiliary=5, fixed_assets=Decimal("1200"),
    instruments=150, instruments_imported=10, lab_area=Decimal("1800"),
    samr_sampling_batches=120, other_sampling_batches=300, ccc_batches=0, licence_batches=15, arbitration_batches=4,
    proficiency_batches=6, proficiency_organised=1, proficiency_self_organised=2, national_standards=1,
    national_standards_lead=0, industry_standards=2, industry_standards_lead=1,
    new_staff=3, new_instruments=12, lab_area_added=Decimal("200"), research_share=Decimal("8.5"),
    commissioned_income_share=Decimal("60"), contribution="服务产业升级。", responsibility="履行社会责任。",
)


def make_sr_report(filing, centre=None, **values):
    """A complete social responsibility report of `filing` for `centre` (a new centre led by the entity if none)."""
    from filings.models import SocialResponsibilityReport

    centre = centre or NationalCentreFactory(lead_institution=filing.institution)
    certificate = filing.institution.cma_certificates.order_by("pk").first()
    number = {"cma_certificate_number": certificate.number} if certificate else {}
    return SocialResponsibilityReport.objects.create(
        filing=filing, centre=centre, **{**COMPLETE_SR_REPORT, **number, **values}
    )


# --- notices (通知公告) ---------------------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class NoticeFactory(DjangoModelFactory):
    """A current notice to Hunan by its provincial reviewer (pass region=region("000000") for the nation's)."""

    class Meta:
        model = "notices.Notice"

    title = factory.Sequence(lambda n: f"关于统计直报工作的通知（第{n}号）")
    body = "各市州市场监督管理局：\n\n请按时完成统计直报。"
    region = factory.LazyFunction(lambda: region("430000"))
    public = False
    author = factory.SubFactory(ProvincialReviewerFactory)


class NoticeAttachmentFactory(DjangoModelFactory):
    class Meta:
        model = "notices.NoticeAttachment"

    notice = factory.SubFactory(NoticeFactory)
    kind = "pdf"
    original_name = "附件1：统计报表.pdf"
    size = len(PDF_BYTES)
    file = factory.django.FileField(data=PDF_BYTES, filename="attachment.pdf")


# --- 机构注册 (accounts) ---------------------------------------------------------------------------------------------

class RegistrationRequestFactory(DjangoModelFactory):
    """A request awaiting the city officer (待审核) for an institution of the register."""

    class Meta:
        model = "accounts.RegistrationRequest"

    institution = factory.SubFactory(InstitutionFactory)
    city = factory.LazyAttribute(lambda o: o.institution.city if o.institution else region("430100"))
    status = "pending"
    credit_code = factory.LazyAttribute(lambda o: o.institution.credit_code if o.institution else make_credit_code(1))
    cma_number = "211801060001"
    full_name = "钱七"
    phone = "0731-88880000"
    email = factory.Sequence(lambda n: f"applicant{n}@example.cn")
    username = factory.Sequence(lambda n: f"applicant{n}")
    password_hash = factory.LazyFunction(lambda: make_password("correct-horse-battery"))
