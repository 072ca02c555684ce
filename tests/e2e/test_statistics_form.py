"""The statistics form on the common office screen (1366×768): sections with several inputs a row, a sticky index
with each section's error count, live sums and derived flags, last year's figures copied with one key press, no red
before the first save and every field of a failed sum marked after it."""
import logging
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from filings.models import Filing
from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e

log = logging.getLogger(__name__)
OFFICE_SCREEN = {"width": 1366, "height": 768}
# Set QTS_SCREENSHOTS=1 to refresh the README's screenshot of the finished form.
SCREENSHOT = Path(settings.BASE_DIR) / "docs" / "screenshots" / "statistics-form.png"


def test_statistics_form_fits_the_office_screen(page, login, transactional_db):
    institution = factories.filing_ready_institution(name="湖南湘江检验检测有限公司")
    filer = factories.FilerFactory(institution=institution)
    factories.ReportingYearFactory(year=2025)
    factories.make_filing(institution, year=factories.ReportingYearFactory(year=2024), status=Filing.Status.APPROVED,
                          lab_area=Decimal("2400.50"))
    page.set_viewport_size(OFFICE_SCREEN)
    login(filer.username)
    page.goto("/filings/")
    page.get_by_role("link", name="1. 统计调查数据").click()

    # A new draft: no red anywhere, the sections side by side in rows.
    expect(page.get_by_role("heading", name="2. 人员")).to_be_visible()
    expect(page.locator(".is-invalid")).to_have_count(0)
    expect(page.get_by_test_id("findings")).to_have_count(0)
    assert_accessible(page)
    tops = [page.locator(f"#id_{name}").bounding_box()["y"]
            for name in ("staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below")]
    assert len(set(tops)) == 1, "the education split should be one row of four inputs"
    height = page.evaluate("document.documentElement.scrollHeight")
    # Measured, not asserted (fonts differ between machines): `pytest --log-cli-level=INFO` shows it.
    log.info("statistics form height at 1366×768 (new draft): %spx", height)

    # Typing updates the split's sum and the derived flags; nothing turns red.
    for name, value in {"staff_total": 120, "staff_doctorate": 2, "staff_master": 8, "staff_bachelor": 30,
                        "staff_college_or_below": 9}.items():
        page.fill(f"#id_{name}", str(value))
    education = page.locator('[data-split="E102"]')
    expect(education.locator("[data-role=sum]")).to_have_text("49")
    expect(education.locator("[data-role=state]")).to_have_text("（相差 71）")
    expect(page.locator('[data-derived="is_small_micro"]').first).to_have_text("否")
    page.fill("#id_revenue", "1200.5")
    expect(page.locator('[data-derived="is_above_scale"]').first).to_have_text("是")
    expect(page.locator(".is-invalid")).to_have_count(0)

    # Last year's lab area, copied with the keyboard.
    copy = page.get_by_role("button", name="沿用上年数值：实验室面积填入 2400.50 平方米")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#id_lab_area")).to_have_value("2400.50")

    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("已保存草稿。")).to_be_visible()
    # After the save: the total and every part of the failed sum are marked, the summary links to the field.
    for name in ("staff_total", "staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below"):
        expect(page.locator(f"#id_{name}")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#finding-E102-staff_doctorate")).to_contain_text("【E102】")
    index = page.get_by_test_id("section-index")
    expect(index.get_by_role("link", name="2. 人员")).to_contain_text("个错误")
    assert_accessible(page)
    if os.environ.get("QTS_SCREENSHOTS"):
        page.evaluate("document.getElementById('section-staff').scrollIntoView({behavior: 'instant'})")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
    page.get_by_test_id("findings").get_by_role("link", name="【E102】").first.click()
    expect(page).to_have_url(re.compile(r"#id_staff_doctorate$"))

    # The index stays in view at the bottom of the page.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    expect(page.get_by_role("heading", name="7. 财务")).to_be_in_viewport()
    expect(index).to_be_in_viewport()
    expect(index.get_by_role("link", name="5. 业务量")).to_be_in_viewport()
