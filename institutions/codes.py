"""The two codes the register is keyed by: the unified social credit code and the 12-digit CMA certificate number.

`decode_cma_number` is the authority for what a CMA number means; the edit form's script only shows its answer
(institutions:decode_cma, JSON) next to the field.
"""
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum.cn import uscc

from .models import CertificateLevel, CmaField, CmaIssuer, SupervisingDepartment, validate_credit_code

# Certificates under the 12-digit scheme were first issued in 2000 [REFERENCE §5]; YY 00-99 maps to 2000-2099.
FIRST_CMA_YEAR = 2000


@dataclass(frozen=True)
class CmaNumber:
    number: str
    year: int
    issuer: CmaIssuer
    cma_field: CmaField
    supervising_department: SupervisingDepartment
    serial: int

    @property
    def level(self) -> str:
        return CertificateLevel.NATIONAL if self.issuer.is_national else CertificateLevel.PROVINCIAL

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "year": self.year,
            "issuer": self.issuer.name,
            "level": self.level,
            "level_label": CertificateLevel(self.level).label,
            "field": self.cma_field.name,
            "department": self.supervising_department.name,
            "serial": f"{self.serial:04d}",
        }


class ReferenceCache:
    """Issuer, field and department lists read once (an import decodes thousands of numbers)."""

    def __init__(self):
        self.issuers = {item.code: item for item in CmaIssuer.objects.all()}
        self.fields = {item.code: item for item in CmaField.objects.all()}
        self.departments = {item.code: item for item in SupervisingDepartment.objects.all()}


def normalise_cma_number(value) -> str:
    return "".join(str(value or "").split())


def decode_cma_number(number, *, reference: ReferenceCache | None = None, today=None) -> CmaNumber:
    """Split YY AA FF DD NNNN into year, issuer, field, department and serial, or raise a ValidationError whose
    Chinese message names the part that is wrong."""
    number = normalise_cma_number(number)
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        raise ValidationError(
            f"资质认定证书编号应为12位数字（年份2位、发证机关2位、领域2位、主管部门2位、流水号4位），“{number[:20]}”不符合。",
            code="cma_format",
        )
    reference = reference or ReferenceCache()
    year = FIRST_CMA_YEAR + int(number[0:2])
    if today is None:
        today = timezone.localdate()
    if year > today.year:
        raise ValidationError(f"证书编号第1-2位为发证年份，{year}年晚于今年，请核对。", code="cma_year")
    issuer = reference.issuers.get(number[2:4])
    if issuer is None:
        raise ValidationError(
            f"证书编号第3-4位“{number[2:4]}”不是已知的发证机关代码（00为总局，01-31为各省）。", code="cma_issuer"
        )
    field = reference.fields.get(number[4:6])
    if field is None:
        raise ValidationError(f"证书编号第5-6位“{number[4:6]}”不是已知的专业领域代码。", code="cma_field")
    department = reference.departments.get(number[6:8])
    if department is None:
        raise ValidationError(f"证书编号第7-8位“{number[6:8]}”不是已知的行业主管部门代码。", code="cma_department")
    serial = int(number[8:12])
    if serial == 0:
        raise ValidationError("证书编号第9-12位为流水号，应从0001开始。", code="cma_serial")
    return CmaNumber(number, year, issuer, field, department, serial)


def normalise_credit_code(value) -> str:
    return uscc.compact(str(value or "")).upper()


def credit_code_problem(code: str) -> ValidationError | None:
    """None for a valid code, else the ValidationError (code `credit_code_checksum` or `credit_code_format`)."""
    try:
        validate_credit_code(code)
    except ValidationError as error:
        return error
    return None
