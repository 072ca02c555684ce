"""The other background jobs the run command shows, on the embedded default: a report-number upload is checked and
stored in-process (the portable path: no COPY, no advisory lock, no partitions) and found by the public lookup; a
register import is checked, confirmed and written in-process."""
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions.models import ImportJob, Institution
from reports.models import ReportNumberBatch
from reports.quarters import Quarter
from tests.institutions.test_import import GOOD, csv_upload


def test_a_report_number_upload_is_stored_in_process_and_found_by_the_public_lookup(login, client):
    filer = login("filer")
    numbers = b"EMB-2024-000001\r\nEMB-2024-000002\r\nEMB-2024-000002\r\nbad\x07line\r\n"
    response = filer.post(reverse("reports:upload"), {
        "quarter": Quarter.previous_of_now().code, "file": SimpleUploadedFile("numbers.txt", numbers),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = ReportNumberBatch.objects.latest("pk")
    assert (batch.status, batch.accepted, batch.duplicate_in_file, batch.rejected) == ("done", 2, 1, 1)
    assert filer.get(reverse("reports:rejects", args=[batch.pk])).status_code == 200
    client.logout()
    page = client.get(reverse("reports:verify"), {"number": "EMB-2024-000002"}).content.decode()
    assert batch.institution.name in page


def test_a_register_import_is_checked_confirmed_and_written_in_process(login):
    admin = login("admin")
    response = admin.post(reverse("institutions:imports"), {"file": csv_upload(GOOD)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert (job.status, job.error_count) == ("ready", 0), job.errors
    admin.post(reverse("institutions:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert Institution.objects.filter(name="湖南一号检测有限公司").exists()
