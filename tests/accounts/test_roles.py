"""A user has exactly one role, bound to an institution, a region of the right level, or nothing."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import Role, User
from tests import factories


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, institution, region_code, field",
    [
        (Role.FILER, False, None, "institution"),
        (Role.FILER, True, "430100", "region"),
        (Role.CITY_OFFICER, False, "430000", "region"),
        (Role.CITY_OFFICER, False, None, "region"),
        (Role.PROVINCIAL_REVIEWER, False, "430100", "region"),
        (Role.CITY_OFFICER, True, "430100", "institution"),
    ],
)
def test_role_binding_is_validated_with_a_chinese_message(role, institution, region_code, field):
    user = User(
        username="x",
        role=role,
        institution=factories.InstitutionFactory() if institution else None,
        region=factories.region(region_code) if region_code else None,
    )
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert field in error.value.message_dict
    assert any("\u4e00" <= ch <= "\u9fff" for ch in " ".join(error.value.message_dict[field]))


@pytest.mark.django_db
def test_samr_reviewer_bound_to_a_region_is_refused():
    user = User(username="x", role=Role.SAMR_REVIEWER, region=factories.region("430000"))
    with pytest.raises(ValidationError):
        user.full_clean()


@pytest.mark.django_db
def test_database_refuses_a_filer_without_institution():
    with pytest.raises(IntegrityError):
        User.objects.create(username="x", role=Role.FILER)


@pytest.mark.django_db
def test_createsuperuser_makes_an_admin():
    user = User.objects.create_superuser("root", "root@example.com", "a-long-password-1")
    assert user.role == Role.ADMIN and user.is_superuser
