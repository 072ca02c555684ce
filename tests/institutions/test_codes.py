"""统一社会信用代码 and CMA certificate numbers: what is accepted, what is refused, and the message that says why."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings as hypothesis_settings, strategies as st
from stdnum.cn import uscc

from institutions.codes import decode_cma_number
from institutions.models import CertificateLevel, CmaCertificate, Institution, validate_credit_code
from institutions.reference import CMA_FIELDS, SUPERVISING_DEPARTMENTS
from tests import factories

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q"])
def test_reference_examples_of_credit_codes_are_valid(code):
    validate_credit_code(code)


@pytest.mark.parametrize("code, error_code", [
    ("91350100M000100Y4", "credit_code_format"),       # 17 characters
    ("91350100M000100Y433", "credit_code_format"),     # 19 characters
    ("91350100M000I00Y43", "credit_code_format"),      # I is not in the alphabet
    ("91350100M000100Y44", "credit_code_checksum"),    # wrong check character
])
def test_bad_credit_codes_are_refused_with_the_reason(code, error_code):
    with pytest.raises(ValidationError) as error:
        validate_credit_code(code)
    assert error.value.code == error_code
    assert "统一社会信用代码" in error.value.messages[0]


@hypothesis_settings(max_examples=200, deadline=None)
@given(head=st.text(alphabet="0123456789", min_size=8, max_size=8),
       organisation=st.text(alphabet=ALPHABET, min_size=9, max_size=9))
def test_any_code_with_its_computed_check_character_is_valid_and_any_other_is_not(head, organisation):
    body = head + organisation
    check = uscc.calc_check_digit(body)
    validate_credit_code(body + check)
    wrong = ALPHABET[(ALPHABET.index(check) + 1) % len(ALPHABET)]
    with pytest.raises(ValidationError) as error:
        validate_credit_code(body + wrong)
    assert error.value.code == "credit_code_checksum"


@pytest.mark.django_db
def test_wrong_check_character_is_accepted_only_with_a_recorded_reason():
    code = "91350100M000100Y44"
    institution = factories.InstitutionFactory.build(credit_code=code)
    with pytest.raises(ValidationError) as error:
        institution.full_clean()
    assert "校验位" in error.value.message_dict["credit_code"][0]
    institution.credit_code_override_reason = "早期试点地区代码，经登记机关确认合法"
    institution.full_clean()


@pytest.mark.django_db
def test_wrong_length_is_refused_even_with_an_override_reason():
    institution = factories.InstitutionFactory.build(credit_code="9135010", credit_code_override_reason="理由")
    with pytest.raises(ValidationError) as error:
        institution.full_clean()
    assert "18位" in error.value.message_dict["credit_code"][0]


@pytest.mark.django_db
def test_a_second_institution_with_the_same_code_is_refused_naming_the_first():
    first = factories.InstitutionFactory(name="湖南先登记检测有限公司")
    second = factories.InstitutionFactory.build(credit_code=first.credit_code.lower())
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert "湖南先登记检测有限公司" in error.value.message_dict["credit_code"][0]


@pytest.mark.django_db
def test_reference_example_cma_number_decodes_to_its_parts():
    decoded = decode_cma_number("152701060345")
    assert decoded.year == 2015
    assert decoded.issuer.name.startswith("陕西")
    assert decoded.cma_field.name == "建筑工程"
    assert decoded.supervising_department.name == "住建"
    assert decoded.serial == 345
    assert decoded.level == CertificateLevel.PROVINCIAL


@pytest.mark.django_db
def test_the_issuer_decides_the_level():
    assert decode_cma_number("210001060001").level == CertificateLevel.NATIONAL
    hunan = decode_cma_number("211801060001")
    assert hunan.level == CertificateLevel.PROVINCIAL and hunan.issuer.province.name == "湖南省"


@pytest.mark.django_db
@pytest.mark.parametrize("number, part", [
    ("15270106034", "12位数字"),
    ("1527010603AB", "12位数字"),
    ("992701060345", "第1-2位"),      # 2099: a year in the future
    ("153201060345", "第3-4位"),      # issuer 32 does not exist
    ("152799060345", "第5-6位"),      # field 99
    ("152701990345", "第7-8位"),      # department 99
    ("152701060000", "第9-12位"),     # serial starts at 0001
])
def test_malformed_cma_numbers_name_the_bad_part(number, part):
    with pytest.raises(ValidationError) as error:
        decode_cma_number(number, today=datetime.date(2026, 1, 1))
    assert part in error.value.messages[0]


@pytest.mark.django_db
@hypothesis_settings(max_examples=100, deadline=None)
@given(
    year=st.integers(0, 25), issuer=st.integers(0, 31), field=st.sampled_from([c for c, _ in CMA_FIELDS]),
    department=st.sampled_from([c for c, _ in SUPERVISING_DEPARTMENTS]), serial=st.integers(1, 9999),
)
def test_every_well_formed_number_decodes_back_to_its_parts(year, issuer, field, department, serial):
    number = f"{year:02d}{issuer:02d}{field}{department}{serial:04d}"
    decoded = decode_cma_number(number, today=datetime.date(2026, 1, 1))
    assert (decoded.year, decoded.issuer.code, decoded.cma_field.code, decoded.supervising_department.code,
            decoded.serial) == (2000 + year, f"{issuer:02d}", field, department, serial)
    assert decoded.level == (CertificateLevel.NATIONAL if issuer == 0 else CertificateLevel.PROVINCIAL)


@pytest.mark.django_db
def test_a_certificate_takes_issuer_level_and_field_from_its_number_and_needs_expiry_after_issue():
    institution = factories.InstitutionFactory()
    certificate = CmaCertificate(
        institution=institution, number="2100 0112 0007", issue_date=datetime.date(2021, 5, 1),
        expiry_date=datetime.date(2021, 5, 1), capability_items=10,
    )
    with pytest.raises(ValidationError) as error:
        certificate.full_clean()
    assert error.value.message_dict["expiry_date"] == ["有效期至必须晚于发证日期。"]
    certificate.expiry_date = datetime.date(2027, 4, 30)
    certificate.full_clean()
    assert certificate.number == "210001120007"
    assert certificate.level == CertificateLevel.NATIONAL and certificate.cma_field.name == "建筑工程"
    assert certificate.supervising_department.name == "检验检疫"


@pytest.mark.django_db
def test_a_certificate_number_held_by_another_institution_is_refused_naming_it():
    held = factories.CmaCertificateFactory(institution=factories.InstitutionFactory(name="湖南持证检测有限公司"))
    again = CmaCertificate(
        institution=factories.InstitutionFactory(), number=held.number, issue_date=datetime.date(2021, 1, 1),
        expiry_date=datetime.date(2027, 1, 1), capability_items=5,
    )
    with pytest.raises(ValidationError) as error:
        again.full_clean()
    assert "湖南持证检测有限公司" in error.value.message_dict["number"][0]
    assert Institution.objects.count() == 2
