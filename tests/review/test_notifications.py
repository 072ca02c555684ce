"""The short list of what needs each user on their home page, and the navigation entries."""
import pytest
from django.urls import reverse

from filings import services as filing_services
from institutions.models import ReviewingAuthority
from tests import factories

from .conftest import due, filer_of

pytestmark = pytest.mark.django_db


def notices(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return [n.text for n in response.context["notifications"]], response.content.decode()


def test_filer_is_told_of_a_returned_filing(submit, province_reviewer, client):
    filing = filing_services.start_review(submit(name="长沙甲"), actor=province_reviewer)
    filing_services.return_filing(filing, actor=province_reviewer, expected_version=filing.version, comment="改",
                                  due=due())
    texts, page = notices(client, filer_of(filing))
    assert len(texts) == 1 and "已被审核部门退回" in texts[0]
    assert 'data-testid="notifications"' in page and reverse("filings:overview", args=[filing.pk]) in page


def test_reviewer_is_told_of_new_submissions_of_their_authority_only(submit, province_reviewer, samr_reviewer, client):
    submit(name="长沙省审")
    submit(name="长沙总局审", authority=ReviewingAuthority.SAMR)
    texts, _page = notices(client, province_reviewer)
    assert texts[0] == "有 1 份新提交的填报待审核。" and "长沙省审" in texts[1]
    assert not any("长沙总局审" in t for t in texts)
    texts, _ = notices(client, samr_reviewer)
    assert texts[0] == "有 1 份新提交的填报待审核。" and "长沙总局审" in texts[1]


def test_city_officer_is_told_of_late_filers(year, client):
    factories.InstitutionFactory(name="长沙未开始")
    factories.InstitutionFactory(name="株洲未开始", city=factories.region("430200"))
    texts, _ = notices(client, factories.CityOfficerFactory())
    assert len(texts) == 1 and texts[0].startswith(f"辖区内有 1 家机构尚未提交{year}填报")


def test_nothing_to_do_shows_no_list(year, client):
    texts, page = notices(client, factories.FilerFactory())
    assert texts == [] and 'data-testid="notifications"' not in page


@pytest.mark.parametrize("factory, entries", [
    (factories.CityOfficerFactory, ["填报进度"]),
    (factories.ProvincialReviewerFactory, ["审核队列", "填报进度"]),
    (factories.SamrReviewerFactory, ["审核队列", "填报进度"]),
])
def test_navigation_leads_officers_to_review_pages(factory, entries, client, year):
    client.force_login(factory())
    page = client.get(reverse("home")).content.decode()
    for label in entries:
        assert label in page
    assert ("审核队列" in page) == ("审核队列" in entries)
