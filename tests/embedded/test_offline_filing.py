"""离线填报 on the embedded default: the demo filer downloads the statistics template, fills it in and uploads it;
the figures are saved as a web save would save them (SQLite has no row locks to take: the save still runs)."""
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from filings import offline
from filings.models import Filing, ReportingYear
from tests.factories import COMPLETE_STATISTICS


def test_the_demo_filer_fills_the_statistics_offline(login):
    client = login("filer")
    client.get(reverse("filings:home"))
    filing = Filing.objects.get(institution__users__username="filer", year=ReportingYear.objects.current())
    response = client.get(reverse("filings:offline_template", args=[filing.pk]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book[offline.SHEET]
    for row in range(1, sheet.max_row + 1):
        name = sheet[f"G{row}"].value
        if name in COMPLETE_STATISTICS:
            sheet[f"D{row}"] = COMPLETE_STATISTICS[name]
    out = io.BytesIO()
    book.save(out)
    version = filing.version
    response = client.post(reverse("filings:offline_upload", args=[filing.pk]),
                           {"file": SimpleUploadedFile("统计调查数据.xlsx", out.getvalue())}, follow=True)
    assert "已按上传的文件保存草稿" in response.content.decode(), response.content.decode()[:3000]
    filing.refresh_from_db()
    assert filing.version == version + 1
    assert filing.statistics.staff_total == COMPLETE_STATISTICS["staff_total"]
