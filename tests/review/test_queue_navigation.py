"""Moving through the review queue: search by name or credit code, back to the same filtered queue after a decision
(only ever to a path on this site), and 下一份 — the next filing of that queue in one click."""
import datetime
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from filings import services as filing_services
from filings.models import Filing
from tests import factories

pytestmark = pytest.mark.django_db


def listed(client, **params):
    response = client.get(reverse("review:queue"), params)
    assert response.status_code == 200
    return [f.institution.name for f in response.context["page"]]


def oldest_first(*filings):
    """Submission times one hour apart, in the given order."""
    start = timezone.now() - datetime.timedelta(days=1)
    for i, filing in enumerate(filings):
        Filing.objects.filter(pk=filing.pk).update(submitted_at=start + datetime.timedelta(hours=i))
    return [Filing.objects.get(pk=f.pk) for f in filings]


def approve(client, filing, reviewer, **extra):
    filing = filing_services.start_review(Filing.objects.get(pk=filing.pk), actor=reviewer)
    return client.post(reverse("review:approve", args=[filing.pk]), {"version": filing.version, **extra})


def test_queue_searches_by_part_of_the_name_or_the_whole_credit_code(submit, province_reviewer, client):
    xiangjiang = submit(name="湖南湘江检验检测有限公司")
    submit(name="株洲质量检测中心", city="430200")
    client.force_login(province_reviewer)
    assert listed(client, q="湘江") == ["湖南湘江检验检测有限公司"]
    assert listed(client, q=xiangjiang.institution.credit_code.lower()) == ["湖南湘江检验检测有限公司"]
    assert listed(client, q=xiangjiang.institution.credit_code[:10]) == []  # a code only matches whole
    assert sorted(listed(client, q="  ")) == ["株洲质量检测中心", "湖南湘江检验检测有限公司"]
    page = client.get(reverse("review:queue"), {"q": "不存在"}).content.decode()
    assert "没有名称或信用代码符合“不存在”的待审核填报" in page


def test_search_stays_within_the_reviewers_scope(submit, province_reviewer, client):
    hubei = submit(name="湖北检测有限公司", city=factories.CityFactory(code="420100").code)
    client.force_login(province_reviewer)
    assert listed(client, q="检测") == []
    assert listed(client, q=hubei.institution.credit_code) == []


def test_the_queue_links_each_filing_with_the_way_back_to_the_same_filtered_queue(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    page = client.get(reverse("review:queue"), {"q": "长沙", "status": "submitted"}).content.decode()
    back = quote("/review/?q=%E9%95%BF%E6%B2%99&status=submitted", safe="")
    assert f'{reverse("review:detail", args=[filing.pk])}?next={back}' in page


def test_after_approving_the_reviewer_returns_to_the_same_filtered_queue_with_the_next_filing(
    submit, province_reviewer, client, on_commit_immediately
):
    _, second, third = oldest_first(submit(name="长沙一"), submit(name="长沙二"), submit(name="长沙三"))
    submit(name="株洲四", city="430200")
    client.force_login(province_reviewer)
    back = f"/review/?city={factories.region('430100').pk}"
    response = approve(client, second, province_reviewer, next=back)
    assert response.status_code == 302
    assert response["Location"] == f"{back}&after={second.pk}"
    queue = client.get(response["Location"])
    assert [f.institution.name for f in queue.context["page"]] == ["长沙一", "长沙三"]
    assert queue.context["next_filing"] == third  # the one after the decided filing, not the oldest
    assert f'{reverse("review:detail", args=[third.pk])}?next=' in queue.content.decode()


def test_returning_for_correction_also_goes_back_to_the_queue(submit, province_reviewer, client, on_commit_immediately):
    filing = submit(name="长沙甲")
    filing = filing_services.start_review(filing, actor=province_reviewer)
    client.force_login(province_reviewer)
    due = (timezone.localtime() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("review:return", args=[filing.pk]), {
        "version": filing.version, "comment": "请核对。", "due": due, "next": "/review/?q=%E9%95%BF%E6%B2%99"})
    assert response.status_code == 302 and response["Location"] == f"/review/?q=%E9%95%BF%E6%B2%99&after={filing.pk}"


@pytest.mark.parametrize("target", [
    "https://evil.example.com/review/", "//evil.example.com/review/", "/\\evil.example.com", "javascript:alert(1)",
    "http://testserver/review/?q=x", "review/",
])
def test_the_way_back_is_only_ever_a_path_on_this_site(
    submit, province_reviewer, client, target, on_commit_immediately
):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    page = client.get(reverse("review:detail", args=[filing.pk]), {"next": target}).content.decode()
    assert 'href="/review/" data-testid="back-to-queue"' in page
    response = approve(client, filing, province_reviewer, next=target)
    assert response["Location"] == f"/review/?after={filing.pk}"


def test_next_opens_the_following_filing_of_the_same_filtered_queue_and_wraps_to_the_first(
    submit, province_reviewer, client
):
    first, second, third = oldest_first(submit(name="长沙一"), submit(name="株洲二", city="430200"),
                                        submit(name="长沙三"))
    client.force_login(province_reviewer)
    changsha = f"/review/?city={factories.region('430100').pk}"

    def next_of(filing, back=None):
        params = {"next": back} if back else {}
        return client.get(reverse("review:detail", args=[filing.pk]), params).context["next_filing"]

    assert next_of(first) == second  # the whole queue
    assert next_of(first, changsha) == third  # the Changsha queue skips Zhuzhou
    assert next_of(third, changsha) == first  # after the last, the first one not yet decided
    page = client.get(reverse("review:detail", args=[first.pk]), {"next": changsha}).content.decode()
    assert f'{reverse("review:detail", args=[third.pk])}?next={quote(changsha, safe="")}' in page


def test_no_next_when_the_filing_is_the_only_one(submit, province_reviewer, client):
    filing = submit(name="长沙甲")
    client.force_login(province_reviewer)
    response = client.get(reverse("review:detail", args=[filing.pk]))
    assert response.context["next_filing"] is None and 'data-testid="next-filing"' not in response.content.decode()


@pytest.mark.parametrize("after", ["abc", "-1", "99999999999999999999999", ""])
def test_a_bad_or_foreign_decided_filing_in_the_address_only_hides_next(submit, province_reviewer, client, after):
    submit(name="长沙甲")
    client.force_login(province_reviewer)
    response = client.get(reverse("review:queue"), {"after": after})
    assert response.status_code == 200 and response.context["next_filing"] is None


def test_next_never_reveals_a_filing_outside_the_reviewers_scope(submit, province_reviewer, client):
    hubei = submit(name="湖北检测有限公司", city=factories.CityFactory(code="420100").code)
    submit(name="长沙甲")
    client.force_login(province_reviewer)
    response = client.get(reverse("review:queue"), {"after": hubei.pk})
    assert response.context["next_filing"] is None and "湖北检测有限公司" not in response.content.decode()
