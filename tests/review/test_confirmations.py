"""The five consequential buttons — 提交审核, 撤回, 审核通过, 退回更正, 质量审查退回 — ask in one confirmation dialog
(templates/_confirm_dialog.html + static/js/confirm.js) saying what will happen, and their forms still post without
JavaScript: each test sends the form exactly as a browser without JavaScript would."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html

from filings import services as filing_services
from filings.models import Filing
from tests import factories

from .conftest import filer_of

pytestmark = pytest.mark.django_db
S = Filing.Status


def confirm_button(page: str, label: str):
    """The submit button labelled `label`: it carries a Chinese data-confirm and the page holds the dialog once."""
    tree = html.fromstring(page)
    [button] = [b for b in tree.xpath("//button[@type='submit']") if b.text_content().strip() == label]
    assert "确定" in button.get("data-confirm") and button.get("data-confirm-accept", "").startswith("确认")
    assert len(tree.xpath("//*[@id='confirm-dialog']")) == 1
    assert tree.xpath("//script[contains(@src, 'js/confirm.js')]")
    [form] = button.iterancestors("form")
    assert form.get("method") == "post"
    return form, button


def post_without_javascript(client, url, label, **typed):
    """What a browser without JavaScript sends when the button on the page at `url` is pressed: the form's fields
    and the button, to the form's action (or back to the page)."""
    page = client.get(url).content.decode()
    form, button = confirm_button(page, label)
    data = {field.name: field.value or "" for field in form.inputs
            if field.name and field.tag != "button" and field.get("type") != "submit"}
    if button.get("name"):
        data[button.get("name")] = button.get("value", "")
    data.update(typed)
    return client.post(form.get("action") or url, data)


def test_submit_asks_first_and_posts_without_javascript(client, year):
    institution = factories.filing_ready_institution()
    filer = factories.FilerFactory(institution=institution)
    filing = factories.make_filing(institution, year=year)
    client.force_login(filer)
    url = reverse("filings:submit", args=[filing.pk])
    button = confirm_button(client.get(url).content.decode(), "提交审核")[1]
    assert "不能再修改" in button.get("data-confirm") and button.get("name") == "submit"
    assert post_without_javascript(client, url, "提交审核").status_code == 302
    assert Filing.objects.get(pk=filing.pk).status == S.SUBMITTED


def test_withdraw_asks_first_and_posts_without_javascript(submit, client):
    filing = submit(name="长沙甲")
    client.force_login(filer_of(filing))
    url = reverse("filings:overview", args=[filing.pk])
    assert "回到草稿状态" in confirm_button(client.get(url).content.decode(), "撤回")[1].get("data-confirm")
    assert post_without_javascript(client, url, "撤回").status_code == 302
    assert Filing.objects.get(pk=filing.pk).status == S.DRAFT


def test_approve_asks_first_naming_the_institution_and_posts_without_javascript(
    submit, province_reviewer, client, on_commit_immediately
):
    filing = filing_services.start_review(submit(name="长沙甲"), actor=province_reviewer)
    client.force_login(province_reviewer)
    url = reverse("review:detail", args=[filing.pk])
    page = client.get(url).content.decode()
    assert "“长沙甲”" in confirm_button(page, "审核通过")[1].get("data-confirm")
    assert post_without_javascript(client, url, "审核通过").status_code == 302
    assert Filing.objects.get(pk=filing.pk).status == S.APPROVED


def test_return_asks_first_and_posts_without_javascript(submit, province_reviewer, client, on_commit_immediately):
    filing = filing_services.start_review(submit(name="长沙甲"), actor=province_reviewer)
    client.force_login(province_reviewer)
    url = reverse("review:detail", args=[filing.pk])
    page = client.get(url).content.decode()
    assert "更正截止时间" in confirm_button(page, "退回更正")[1].get("data-confirm")
    response = post_without_javascript(client, url, "退回更正", comment="请核对营业收入。")
    assert response.status_code == 302
    assert Filing.objects.get(pk=filing.pk).status == S.RETURNED


def test_quality_return_asks_first_and_posts_without_javascript(
    submit, province_reviewer, samr_reviewer, client, on_commit_immediately
):
    filing = filing_services.start_review(submit(name="长沙甲"), actor=province_reviewer)
    filing_services.approve_filing(filing, actor=province_reviewer, expected_version=filing.version)
    client.force_login(samr_reviewer)
    url = reverse("review:detail", args=[filing.pk])
    page = client.get(url).content.decode()
    assert "撤销" in confirm_button(page, "质量审查退回")[1].get("data-confirm")
    due = (timezone.localtime() + datetime.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = post_without_javascript(client, url, "质量审查退回", comment="抽查发现人员数据异常。", due=due)
    assert response.status_code == 302
    assert Filing.objects.get(pk=filing.pk).status == S.RETURNED
