"""Faults in a job run in-process (the embedded default): nothing escapes into the web request that started it; the
job ends failed with its message beside a 重试 button, and the retry builds it."""
import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from institutions.models import Region
from summaries import registry
from summaries.models import ExportJob


@pytest.fixture
def failing_register_export(monkeypatch):
    """The 机构名录 export fails its first run with `fault()`, then builds normally."""
    kind = registry.get_kind("register")
    runs = []

    def install(fault):
        def build(job, workbook, progress):
            runs.append(job.pk)
            if len(runs) == 1:
                fault()
            return kind.build(job, workbook, progress)

        monkeypatch.setitem(
            registry.EXPORT_KINDS, "register", registry.ExportKind("register", kind.label, False, build)
        )
        return runs

    return install


def _start_and_retry(client):
    changsha = Region.objects.get(code="430100")
    response = client.post(reverse("summaries:exports"), {"kind": "register", "region": changsha.pk})
    assert response.status_code == 302  # not a server error, and no Celery Retry raised into the request
    job = ExportJob.objects.latest("pk")
    assert job.status == "failed"
    page = client.get(reverse("summaries:exports")).content.decode()
    assert job.error in page and "重试" in page
    response = client.post(reverse("summaries:retry", args=[job.pk]))
    assert response.status_code == 302
    retried = ExportJob.objects.get(pk=job.pk)
    assert (retried.status, retried.error) == ("done", "")
    return job


def test_a_transient_fault_fails_the_job_without_raising_into_the_request(login, failing_register_export):
    def locked():
        raise OperationalError("database is locked")

    failing_register_export(locked)
    job = _start_and_retry(login("city"))
    assert "暂时故障" in job.error and "database is locked" in job.error


def test_a_permanent_database_error_fails_the_job_at_once_with_its_message(login, failing_register_export):
    def missing_function():
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_function_in_sqlite(1)")

    runs = failing_register_export(missing_function)
    job = _start_and_retry(login("city"))
    assert "no such function" in job.error and "暂时故障" not in job.error
    assert len(runs) == 2  # once failed (not retried by itself), once retried by hand
