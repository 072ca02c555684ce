"""The demo register: every field filled, with REFERENCE §3's shares, and consistent with the registry's own rules."""
import random
from collections import Counter

import pytest
from django.utils import timezone

from institutions.authority import derive_reviewing_authority
from institutions.codes import decode_cma_number
from institutions.demo import seed_registry
from institutions.models import CmaCertificate, Institution, NationalCentre, Site

pytestmark = pytest.mark.django_db




def test_demo_institutions_are_complete_and_follow_the_reference_shares():
    institutions = seed_registry(random.Random(11), 400)
    today = timezone.localdate()
    loaded = Institution.objects.prefetch_related("cma_certificates", "sites", "professional_fields")
    ownership = Counter(i.ownership for i in loaded)
    assert 0.5 < ownership["private"] / 400 < 0.75
    levels = Counter()
    for institution in loaded:
        assert institution.legal_representative and institution.registered_address and institution.contact_phone
        assert institution.contact_email and institution.established_year and institution.supervising_department_id
        assert institution.professional_fields.all(), institution.name
        assert institution.sites.all()
        certificates = list(institution.cma_certificates.all())
        assert any(c.is_valid_on(today) for c in certificates)
        assert institution.reviewing_authority == derive_reviewing_authority(institution, certificates).authority
        held = {c.level for c in certificates if c.is_valid_on(today)}
        levels["both" if len(held) == 2 else held.pop()] += 1
    assert levels["provincial"] > levels["both"] > 0 and levels["national"] > 0
    assert len(institutions) == 400
    assert Site.objects.count() > 400  # a few multi-site institutions
    assert Institution.objects.filter(parent__isnull=False).exists()
    assert NationalCentre.objects.count() == 4  # about 1 %
    for certificate in CmaCertificate.objects.select_related("issuer")[:200]:
        decoded = decode_cma_number(certificate.number)
        assert decoded.issuer == certificate.issuer and decoded.level == certificate.level
