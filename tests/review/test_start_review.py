"""Opening the review screen changes nothing (a link from outside must not stop the filer's withdrawal); the reviewer
starts the review with a POST (开始审核) through the filing workflow, and only then is withdrawal refused."""
import pytest
from django.urls import reverse

from filings import services as filing_services
from filings.models import Filing, FilingTransition
from filings.workflow import TransitionRefused
from tests import factories

from .conftest import filer_of

pytestmark = pytest.mark.django_db
S = Filing.Status


def status(filing):
    return Filing.objects.get(pk=filing.pk).status


def test_opening_the_review_screen_by_get_changes_nothing_and_the_filer_may_still_withdraw(
    submit, province_reviewer, client
):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    for _ in range(2):
        page = client.get(reverse("review:detail", args=[filing.pk]))
        assert page.status_code == 200 and 'data-testid="start-review-form"' in page.content.decode()
    assert status(filing) == S.SUBMITTED
    assert not FilingTransition.objects.filter(filing=filing, action="start_review").exists()
    filing = Filing.objects.get(pk=filing.pk)
    filing_services.withdraw_filing(filing, actor=filer_of(filing), expected_version=filing.version)
    assert status(filing) == S.DRAFT


def test_the_reviewer_starts_the_review_by_post_and_then_withdrawal_is_refused(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    assert client.get(reverse("review:start_review", args=[filing.pk])).status_code == 405
    assert status(filing) == S.SUBMITTED
    response = client.post(reverse("review:start_review", args=[filing.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("review:detail", args=[filing.pk])
    assert status(filing) == S.IN_REVIEW
    assert FilingTransition.objects.filter(filing=filing, action="start_review", actor=province_reviewer).exists()
    page = client.get(reverse("review:detail", args=[filing.pk])).content.decode()
    assert 'data-testid="start-review-form"' not in page and "审核通过" in page
    filing = Filing.objects.get(pk=filing.pk)
    with pytest.raises(TransitionRefused):
        filing_services.withdraw_filing(filing, actor=filer_of(filing), expected_version=filing.version)


def test_decisions_need_the_review_started_first(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    response = client.post(reverse("review:approve", args=[filing.pk]), {"version": filing.version})
    assert response.status_code == 409 and status(filing) == S.SUBMITTED


@pytest.mark.parametrize("who", ["samr", "city_officer", "admin", "other_province"])
def test_only_the_reviewing_authority_may_start_the_review(submit, client, who):
    filing = submit(name="长沙甲")
    user = {
        "samr": factories.SamrReviewerFactory, "city_officer": factories.CityOfficerFactory,
        "admin": factories.AdminFactory,
        "other_province": lambda: factories.ProvincialReviewerFactory(region=factories.region("420000")),
    }[who]()
    client.force_login(user)
    assert client.post(reverse("review:start_review", args=[filing.pk])).status_code == 403
    assert status(filing) == S.SUBMITTED


def test_starting_twice_is_refused_with_a_message(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    client.post(reverse("review:start_review", args=[filing.pk]))
    response = client.post(reverse("review:start_review", args=[filing.pk]), follow=True)
    assert "不能开始审核" in response.content.decode()
    assert FilingTransition.objects.filter(filing=filing, action="start_review").count() == 1
