"""CMA certificates whose validity has ended are marked 已过期 wherever certificates are listed: the statistics page,
the institution's profile, the review screen and the receipt PDF (one partial, one rule)."""
import datetime
import subprocess

import pytest
from django.urls import reverse

from filings import services
from institutions.templatetags.certificates import expired_on
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def expired(filer):
    return factories.CmaCertificateFactory(
        institution=filer.institution, issue_date=datetime.date(2018, 1, 1), expiry_date=datetime.date(2024, 1, 1)
    )


def test_a_certificate_is_expired_from_the_day_after_its_last_day():
    certificate = {"expiry_date": "2025-01-01"}
    assert not expired_on(certificate, "2025-01-01T23:59:00+08:00")
    assert expired_on(certificate, "2025-01-02T00:00:00+08:00")
    assert expired_on(certificate, datetime.date(2025, 1, 2))
    assert not expired_on(certificate, datetime.date(2024, 12, 31))


def test_the_statistics_page_and_the_profile_mark_only_the_expired_certificate(client, filer, filing, expired):
    client.force_login(filer)
    for url in (reverse("filings:statistics", args=[filing.pk]),
                reverse("institutions:detail", args=[filer.institution.pk])):
        body = client.get(url).content.decode()
        assert body.count('data-testid="certificate-expired"') == 1, url
        row = next(line for line in body.splitlines() if expired.number in line)
        assert "已过期" in row


def test_the_review_screen_and_the_receipt_mark_the_expired_certificate(client, filer, filing, expired, tmp_path):
    filing = services.submit_filing(filing, actor=filer, expected_version=filing.version)
    reviewer = factories.ProvincialReviewerFactory()
    client.force_login(reviewer)
    body = client.get(reverse("review:detail", args=[filing.pk])).content.decode()
    assert body.count('data-testid="certificate-expired"') == 1

    client.force_login(filer)
    response = client.get(reverse("filings:pdf", args=[filing.pk, "receipt"]))
    path = tmp_path / "receipt.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.replace("\n", "")
    assert text.count("已过期") == 1 and expired.number in text
