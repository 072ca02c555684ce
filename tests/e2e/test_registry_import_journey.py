"""An admin downloads the register template, uploads a file with mistakes, reads the errors by row and column,
uploads the corrected file, confirms, and finds the institutions in the list."""
import csv
import io

import pytest
from playwright.sync_api import expect

from institutions import imports
from institutions.models import Institution
from tests import factories
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e

HEADER = [column.header for column in imports.COLUMNS]


def csv_bytes(rows, encoding="gbk"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for values in rows:
        writer.writerow([values.get(header, "") for header in HEADER])
    return buffer.getvalue().encode(encoding)


def test_admin_imports_the_register_after_fixing_the_reported_rows(page, login, transactional_db):
    admin = factories.AdminFactory()
    login(admin.username)
    page.goto("/institutions/")
    page.get_by_role("link", name="导入名录").click()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_test_id("template-link").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    good = {"统一社会信用代码": factories.make_credit_code(77), "机构名称": "湖南导入检测有限公司",
            "所在市州": "长沙市", "资质认定证书编号": "211801060077", "发证日期": "2021-03-01",
            "有效期至": "2027-02-28", "能力范围项数": "88", "场所地址": "湖南省长沙市天心区芙蓉南路77号"}
    bad = {**good, "资质认定证书编号": "21180106", "有效期至": "2020-01-01"}
    page.set_input_files("input[type=file]",
                         files=[{"name": "名录.csv", "mimeType": "text/csv", "buffer": csv_bytes([bad])}])
    page.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_test_id("import-status")).to_have_text("校验未通过")
    errors = page.get_by_test_id("import-errors")
    for text in ("第 2 行", "资质认定证书编号", "有效期至"):
        expect(errors).to_contain_text(text)
    assert_accessible(page)
    assert not Institution.objects.exists()

    page.get_by_role("link", name="返回导入列表").click()
    page.set_input_files("input[type=file]",
                         files=[{"name": "名录.csv", "mimeType": "text/csv", "buffer": csv_bytes([good])}])
    page.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_test_id("import-status")).to_have_text("待确认导入")
    assert not Institution.objects.exists()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_test_id("import-status")).to_have_text("已导入")
    assert_accessible(page)

    page.goto("/institutions/?q=导入检测")
    page.get_by_role("link", name="湖南导入检测有限公司").click()
    expect(page.get_by_test_id("certificates")).to_contain_text("211801060077")
    expect(page.get_by_test_id("sites")).to_contain_text("芙蓉南路77号")
    expect(page.get_by_test_id("history")).to_contain_text("名录导入")
    assert_accessible(page)
