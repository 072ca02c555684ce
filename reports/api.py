"""The LIMS API: token-authenticated upload of a quarter's report numbers (a file, or a JSON list) and batch status.

    POST /reports/api/v1/numbers/   Authorization: Bearer <token>
         multipart: quarter=2024Q1, file=@numbers.txt   (same rules as the web upload)
         or JSON:   {"quarter": "2024Q1", "numbers": ["…", "…"]}   (request body at most DATA_UPLOAD_MAX_MEMORY_SIZE)
    GET  /reports/api/v1/batches/<id>/   Authorization: Bearer <token>

Errors are JSON {"error": "<Chinese message>"} with 400, 401, 403, 404, 405 or 413; a refusal from a service
(TokenRefused 401, UploadRefused 400) is answered so by config.refusals.RefusalMiddleware.
"""
import json

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from config.refusals import json_error, refusals_as_json

from . import tokens, uploads
from .models import ReportNumberBatch
from .quarters import Quarter
from .views import _batch_json


def _token(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() not in ("bearer", "token"):
        raw = ""
    return tokens.authenticate_token(raw)


def _batch_response(request, batch, status=200):
    batch.refresh_from_db()
    data = _batch_json(batch)
    data["status_url"] = request.build_absolute_uri(reverse("reports:api_batch", args=[batch.pk]))
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


@refusals_as_json
@csrf_exempt
@login_not_required
@never_cache
def upload_numbers(request):
    token = _token(request)
    if request.method != "POST":
        return json_error("请使用 POST 提交报告编号。", 405)
    try:
        if request.content_type == "application/json":
            try:
                payload = json.loads(request.body)
            except ValueError:
                return json_error("JSON 格式不正确。", 400)
            if not isinstance(payload, dict) or not isinstance(payload.get("numbers"), list):
                return json_error("JSON 应为 {\"quarter\": \"2024Q1\", \"numbers\": [\"…\"]}。", 400)
            quarter_code = payload.get("quarter", "")
            source, name = json.dumps(payload["numbers"], ensure_ascii=False).encode("utf-8"), "numbers.json"
        else:
            upload = request.FILES.get("file")
            if upload is None:
                return json_error("请以 multipart/form-data 上传文件（字段 file），或提交 JSON 编号列表。", 400)
            quarter_code, source, name = request.POST.get("quarter", ""), upload, upload.name
    except RequestDataTooBig:
        return json_error("请求体过大：JSON 列表较大时请改为上传文件（字段 file）。", 413)
    try:
        quarter = Quarter.parse(str(quarter_code))
    except ValueError as error:
        return json_error(str(error), 400)
    try:
        batch = uploads.start_upload(
            institution=token.institution, quarter=quarter, source=source, name=name, token=token,
        )
    except PermissionDenied as denied:
        return json_error(str(denied), 403)
    return _batch_response(request, batch, status=202)


@refusals_as_json
@csrf_exempt
@login_not_required
@never_cache
def batch_status(request, pk):
    token = _token(request)
    batch = ReportNumberBatch.objects.filter(pk=pk, institution=token.institution_id).first()
    if batch is None:
        return json_error("没有该批次，或它不属于本令牌所属机构。", 404)
    return _batch_response(request, batch)
