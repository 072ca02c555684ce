"""In a browser whose language is English, the file chooser still says 选择文件 / 未选择文件 and the date box 年-月-日
(config/widgets.py): the native controls would say "Choose File" and "mm/dd/yyyy"."""
import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from review.models import ChasingRecord
from tests import factories
from tests.e2e.conftest import assert_accessible, log_in, open_page

pytestmark = pytest.mark.e2e


@pytest.fixture
def english_page(browser, live_server):
    context, page = open_page(browser, live_server, locale="en-US")
    yield page
    context.close()


def test_file_chooser_speaks_chinese_in_an_english_browser(english_page, transactional_db, tmp_path):
    page = english_page
    filer = factories.FilerFactory()
    log_in(page, filer.username)
    page.goto("/reports/upload/")
    chooser = page.locator("[data-qts-file]")
    expect(chooser).to_contain_text("选择文件")
    expect(chooser.locator("[data-role=file-name]")).to_have_text("未选择文件")
    file_input = page.get_by_label("编号文件")  # still a real file input, named by its label
    expect(file_input).to_have_attribute("type", "file")
    expect(file_input).to_have_accessible_description(re.compile(r"^未选择文件 TXT 或 CSV"))  # then the help text

    # Reached with the keyboard like any control.
    page.get_by_label("季度").focus()
    page.keyboard.press("Tab")
    expect(file_input).to_be_focused()
    source = tmp_path / "编号.txt"
    source.write_text("HN-2024-0001\n", encoding="utf-8")
    file_input.set_input_files(str(source))
    expect(chooser.locator("[data-role=file-name]")).to_have_text("编号.txt")
    assert_accessible(page)

    page.get_by_role("button", name="上传并检查").click()  # still posts the file
    expect(page.get_by_test_id("batch")).to_be_visible()


def test_date_box_speaks_chinese_in_an_english_browser(english_page, transactional_db):
    page = english_page
    reviewer = factories.ProvincialReviewerFactory()  # logs calls and grants extensions
    institution = factories.InstitutionFactory(city=factories.region("430100"))
    factories.ReportingYearFactory()
    log_in(page, reviewer.username)
    page.goto(f"/review/institutions/{institution.pk}/chasing/")
    day = page.get_by_label("联系日期")
    expect(day).to_have_attribute("type", "text")
    expect(day).to_have_attribute("placeholder", "年-月-日")
    expect(day).to_have_value(timezone.localdate().isoformat())
    expect(page.get_by_label("延期至")).to_have_attribute("placeholder", "年-月-日 时:分")
    assert_accessible(page)

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    day.fill(yesterday.isoformat())
    page.get_by_label("方式").select_option(label="电话")
    page.get_by_label("情况说明").fill("电话提醒尽快填报。")
    page.get_by_role("button", name="保存记录").click()
    expect(page.get_by_text("已记录催报情况。")).to_be_visible()
    assert ChasingRecord.objects.get(institution=institution).contacted_on == yesterday
