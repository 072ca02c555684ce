"""The review queue: whose filings each reviewer sees, filters, order, paging and a fixed number of queries."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from filings import services as filing_services
from filings.models import Filing
from institutions.models import ProfessionalField, ReviewingAuthority
from review import selectors
from tests import factories

pytestmark = pytest.mark.django_db
SAMR = ReviewingAuthority.SAMR


def names(user, year=None):
    return [f.institution.name for f in selectors.review_queue(user, year)]


def test_provincial_reviewer_sees_only_province_authority_filings_of_own_province(
    submit, province_reviewer, samr_reviewer
):
    submit(name="长沙省审", city="430100")
    submit(name="株洲省审", city="430200")
    submit(name="长沙总局审", city="430100", authority=SAMR)
    submit(name="武汉省审", city=factories.CityFactory(code="420100").code)
    hubei = factories.ProvincialReviewerFactory(region=factories.region("420000"))

    assert sorted(names(province_reviewer)) == ["株洲省审", "长沙省审"]
    assert names(samr_reviewer) == ["长沙总局审"]
    assert names(hubei) == ["武汉省审"]


def test_city_officer_and_filer_have_no_queue(submit, client):
    filing = submit(name="长沙甲")
    officer = factories.CityOfficerFactory()
    assert names(officer) == []
    client.force_login(officer)
    assert client.get(reverse("review:queue")).status_code == 403
    client.force_login(filing.institution.users.first())
    assert client.get(reverse("review:queue")).status_code == 403


def test_queue_holds_submitted_and_in_review_oldest_first_not_drafts_or_decided(submit, province_reviewer, year):
    first = submit(name="最早提交")
    second = submit(name="其次提交")
    Filing.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=3))
    filing_services.start_review(second, actor=province_reviewer)
    approved = submit(name="已通过")
    approved = filing_services.start_review(approved, actor=province_reviewer)
    filing_services.approve_filing(approved, actor=province_reviewer, expected_version=approved.version)
    factories.make_filing(factories.filing_ready_institution(name="草稿机构"), year=year)

    assert names(province_reviewer, year) == ["最早提交", "其次提交"]


def test_queue_filters_by_city_state_field_date_and_warnings(submit, province_reviewer, client):
    field = ProfessionalField.objects.order_by("code").first()
    changsha = submit(name="长沙无预警")
    changsha.institution.professional_fields.add(field)
    submit(name="株洲有预警", city="430200", stats={"revenue": 0}, explanations={"W211": "全部为免费检测。"})
    client.force_login(province_reviewer)

    def listed(**params):
        response = client.get(reverse("review:queue"), params)
        assert response.status_code == 200
        return [f.institution.name for f in response.context["page"]]

    assert sorted(listed()) == ["株洲有预警", "长沙无预警"]
    assert listed(city=factories.region("430100").pk) == ["长沙无预警"]
    assert listed(professional_field=field.pk) == ["长沙无预警"]
    assert listed(status="in_review") == []
    today = timezone.localdate().isoformat()
    assert "长沙无预警" in listed(submitted_from=today, submitted_to=today)
    assert listed(submitted_to=(timezone.localdate() - datetime.timedelta(days=1)).isoformat()) == []
    assert listed(warnings="yes") == ["株洲有预警"]
    assert listed(warnings="no") == ["长沙无预警"]


def test_queue_page_issues_the_same_number_of_queries_for_few_and_many_rows(submit, province_reviewer, client):
    client.force_login(province_reviewer)
    submit(name="机构一")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("review:queue"), {"warnings": "no"})
        assert response.status_code == 200
        return len(queries), len(response.context["page"].object_list)

    few, rows = count()
    for i in range(5):
        submit(name=f"机构{i + 2}", city="430200" if i % 2 else "430100")
    many, more_rows = count()
    assert (rows, more_rows) == (1, 6)
    assert few == many


def test_queue_is_paginated(submit, province_reviewer, client, monkeypatch):
    monkeypatch.setattr("review.views.PAGE_SIZE", 2)
    for i in range(3):
        submit(name=f"分页机构{i}")
    client.force_login(province_reviewer)
    first = client.get(reverse("review:queue"))
    second = client.get(reverse("review:queue"), {"page": 2})
    assert len(first.context["page"].object_list) == 2 and len(second.context["page"].object_list) == 1
    assert "第 1 / 2 页" in first.content.decode()


def test_samr_narrows_the_national_queue_by_province_and_cities_come_grouped(submit, samr_reviewer, client):
    submit(name="长沙总局审", city="430100", authority=SAMR)
    submit(name="武汉总局审", city="420100", authority=SAMR)
    client.force_login(samr_reviewer)
    response = client.get(reverse("review:queue"))
    form = response.context["filter"].form
    assert [p.name for p in form.fields["province"].queryset] == ["湖北省", "湖南省"]
    assert '<optgroup label="湖北省">' in str(form["city"]) and '<optgroup label="湖南省">' in str(form["city"])
    hunan = factories.region("430000")
    narrowed = client.get(reverse("review:queue"), {"province": hunan.pk})
    assert [f.institution.name for f in narrowed.context["page"]] == ["长沙总局审"]


def test_a_provincial_reviewer_has_no_province_filter(submit, province_reviewer, client):
    submit(name="长沙省审", city="430100")
    client.force_login(province_reviewer)
    form = client.get(reverse("review:queue")).context["filter"].form
    assert "province" not in form.fields
