"""One family of refusals: every exception the project defines is a DomainRefusal named for what it refuses, the web
layer turns any of them into a message (pages) or JSON (the API) in one place, and a refused request changes nothing."""
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.messages import get_messages
from django.urls import include, path, reverse
from django.views.decorators.csrf import csrf_exempt

from config.refusals import DomainRefusal, NotFoundRefusal, refusals_as_json
from reports import complaints
from reports.models import Complaint
from reports.uploads import UploadRefused
from tests import factories

# Exceptions a framework makes us define (none today): name them here with the reason.
FRAMEWORK_REQUIRED: set[str] = set()


def _project_packages():
    """The project's own apps (not the libraries installed beside them) and `config`."""
    local = [config.name for config in apps.get_app_configs()
             if Path(config.path).resolve().is_relative_to(settings.BASE_DIR) and "site-packages" not in config.path]
    return [*local, "config"]


def _project_exceptions():
    found = []
    for app in _project_packages():
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if ".migrations" in info.name or info.name.startswith("config.settings") or info.name == "config.wsgi":
                continue
            module = importlib.import_module(info.name)
            found += [
                cls for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, BaseException) and cls.__module__ == info.name
            ]
    return found


def test_every_exception_the_project_defines_is_a_refusal_with_its_own_name():
    classes = _project_exceptions()
    names = [f"{cls.__module__}.{cls.__qualname__}" for cls in classes]
    assert {"accounts", "filings", "institutions", "reports", "review", "summaries"} <= set(_project_packages())
    assert "config.uploads.FileRefused" in names and "filings.workflow.TransitionRefused" in names
    outside = [name for cls, name in zip(classes, names, strict=True) if not issubclass(cls, DomainRefusal)]
    assert set(outside) <= FRAMEWORK_REQUIRED, outside
    short = [cls.__name__ for cls in classes]
    assert len(short) == len(set(short)), sorted(short)


def test_a_refusal_carries_its_message_and_status():
    refusal = DomainRefusal("不能这样做。", status=409)
    assert str(refusal) == refusal.message == "不能这样做。" and refusal.status == 409
    assert DomainRefusal("请求无效。").status == 400 and NotFoundRefusal("没有找到。").status == 404


# --- the one place: a refusal a view lets through -------------------------------------------------------------------

@csrf_exempt
@login_not_required
def _refusing_page(request):
    raise DomainRefusal("该申请已处理，不能再处理。")


@csrf_exempt
@login_not_required
def _missing_page(request):
    raise NotFoundRefusal("没有找到该机构，或您无权查看。")


@refusals_as_json
@csrf_exempt
@login_not_required
def _refusing_api(request):
    raise DomainRefusal("该批次已在处理。", status=409)


@csrf_exempt
@login_not_required
def _broken_page(request):
    raise ValueError("not a refusal")


urlpatterns = [
    path("refuse/", _refusing_page),
    path("missing/", _missing_page),
    path("api/refuse/", _refusing_api),
    path("broken/", _broken_page),
    path("", include("config.urls")),  # the site's pages (the 404 page links to them)
]


@pytest.mark.urls("tests.test_refusals")
def test_a_refused_page_post_becomes_a_message_and_goes_back_to_the_page_it_came_from(client):
    response = client.post("/refuse/", HTTP_REFERER="http://testserver/institutions/7/?tab=changes")
    assert response.status_code == 302 and response.url == "http://testserver/institutions/7/?tab=changes"
    assert [m.message for m in get_messages(response.wsgi_request)] == ["该申请已处理，不能再处理。"]


@pytest.mark.urls("tests.test_refusals")
def test_a_refusal_never_redirects_to_another_site(client):
    response = client.post("/refuse/", HTTP_REFERER="https://evil.example/phish")
    assert response.status_code == 302 and response.url == "/"
    assert [m.message for m in get_messages(response.wsgi_request)] == ["该申请已处理，不能再处理。"]


@pytest.mark.urls("tests.test_refusals")
def test_a_not_found_refusal_is_the_404_page(client):
    assert client.get("/missing/").status_code == 404


@pytest.mark.urls("tests.test_refusals")
def test_an_api_refusal_is_json_with_its_status(client):
    response = client.post("/api/refuse/")
    assert response.status_code == 409 and response.json() == {"error": "该批次已在处理。"}


@pytest.mark.urls("tests.test_refusals")
def test_other_exceptions_are_not_turned_into_messages(client):
    with pytest.raises(ValueError, match="not a refusal"):
        client.get("/broken/")


# --- real services and pages ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_editing_an_institution_outside_the_users_scope_is_the_404_page(client):
    filer = factories.FilerFactory(institution=factories.filing_ready_institution())
    other = factories.filing_ready_institution()
    client.force_login(filer)
    assert client.get(reverse("institutions:edit", args=[other.pk])).status_code == 404
    assert client.get(reverse("institutions:edit", args=[filer.institution.pk])).status_code == 200


@pytest.mark.django_db
def test_an_api_request_without_a_token_is_refused_as_json(client):
    response = client.post(reverse("reports:api_upload"))
    assert response.status_code == 401 and "缺少接口令牌" in response.json()["error"]


@pytest.mark.django_db
def test_a_complaint_about_an_unknown_institution_without_a_city_is_a_complaint_refusal_and_stores_nothing():
    with pytest.raises(complaints.ComplaintRefused, match="未在名录中找到该机构") as refused:
        complaints.file_complaint(report_number="NO-1", institution_text="没有这家机构", description="报告可疑",
                                contact="", city=None)
    assert not isinstance(refused.value, UploadRefused)
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_a_field_comment_on_an_unknown_field_is_refused_and_the_filing_stays_in_review():
    import datetime

    from django.utils import timezone

    from filings import services as filing_services
    from filings.workflow import TransitionRefused
    from review import services
    from review.models import FieldComment

    filer = factories.FilerFactory(institution=factories.filing_ready_institution())
    filing = factories.make_filing(filer.institution)
    filing = filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)
    reviewer = factories.ProvincialReviewerFactory()
    filing = filing_services.start_review(filing, actor=reviewer)
    with pytest.raises(services.FieldCommentRefused, match="字段不存在") as refused:
        services.return_for_correction(
            filing, actor=reviewer, expected_version=filing.version, comment="请核对",
            due=timezone.now() + datetime.timedelta(days=10), field_comments=[("statistics.nothing", "x")],
            field_labels={},
        )
    assert not isinstance(refused.value, TransitionRefused)
    filing.refresh_from_db()
    assert filing.status == filing.Status.IN_REVIEW and not FieldComment.objects.exists()
