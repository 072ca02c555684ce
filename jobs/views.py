"""The one status view of every background job, polled by static/js/progress.js.

Each kind keeps its own URL (the pages and the JS know them) and its own permission check: the URL pattern passes
`find(request, pk)`, the function the kind's other pages use to fetch the job (404 for a job the user may not see),
and optionally `extra(job)`, the fields only that kind has (a download link, the counts of an upload).
"""
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def status_data(job) -> dict:
    """What every kind of job reports about itself."""
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error,
        "stale": job.is_stale,
        "busy": job.is_busy and not job.is_stale,
        "can_retry": job.can_retry,
    }


@never_cache
def job_status(request, pk, *, find, extra=None):
    job = find(request, pk)
    data = status_data(job)
    if extra is not None:
        data.update(extra(job))
    return JsonResponse(data)
