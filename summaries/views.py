from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.permissions import can_export_summaries
from accounts.scoping import visible_to
from config.refusals import refusal_as_message

from . import selectors, services
from .forms import ExportForm
from .models import ExportJob
from .registry import kinds_needing_year


def dashboard(request):
    _require_exporter(request.user)
    regions = selectors.dashboard_regions(request.user)
    region = regions.filter(pk=_int(request.GET.get("region"))).first() or selectors.default_region(request.user)
    years = selectors.dashboard_years()
    year = _int(request.GET.get("year"))
    if year not in years:
        year = selectors.default_year(years)
    include_submitted = request.GET.get("include_submitted") == "1"
    figures = selectors.dashboard_figures(request.user, region, year, include_submitted=include_submitted)
    return render(
        request, "summaries/dashboard.html",
        {
            "figures": figures, "region": region, "regions": regions, "years": years, "year": year,
            "include_submitted": include_submitted,
            "headline": {row["key"]: row for row in figures["year_on_year"]},
        },
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _require_exporter(user):
    if not can_export_summaries(user):
        raise PermissionDenied("您的角色不能导出汇总数据。")


def export_list(request):
    _require_exporter(request.user)
    # The dashboard links here with its region, year and counting rule, to export the same figures as a workbook.
    initial = {key: request.GET[key] for key in ("kind", "region", "year", "include_submitted") if key in request.GET}
    form = ExportForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusal_as_message(request):
            job = services.start_export(
                actor=request.user, kind=form.cleaned_data["kind"], region=form.cleaned_data["region"],
                year=form.cleaned_data.get("year"), include_submitted=form.cleaned_data["include_submitted"],
            )
            messages.success(request, f"已开始生成“{job.title}”，完成后可在下方列表下载。")
            return redirect("summaries:exports")
    jobs = visible_to(request.user, ExportJob).select_related("region")
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "summaries/export_list.html",
        {
            "form": form, "page": page, "retention_days": settings.EXPORT_RETENTION_DAYS,
            "year_kinds": ",".join(kinds_needing_year()),
        },
    )


def _job_for(request, pk):
    return get_object_or_404(visible_to(request.user, ExportJob).select_related("region"), pk=pk)


def export_status_fields(job):
    """What the status view (jobs.views.job_status) adds for an export: its download link once the file is ready."""
    return {"download_url": reverse("summaries:download", args=[job.pk]) if job.status == ExportJob.Status.DONE else ""}


def export_download(request, pk):
    job = _job_for(request, pk)
    with refusal_as_message(request):
        handle = services.open_download(job, actor=request.user)
        return FileResponse(handle, as_attachment=True, filename=f"{job.title}.xlsx")
    return redirect("summaries:exports")


@require_POST
def export_retry(request, pk):
    job = _job_for(request, pk)
    with refusal_as_message(request):
        services.retry_export(job, actor=request.user)
        messages.success(request, f"已重新开始生成“{job.title}”。")
    return redirect("summaries:exports")
