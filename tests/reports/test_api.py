"""LIMS tokens (created and revoked by the institution's filer, stored as a hash) and the token-authenticated API."""
import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from reports import tokens
from reports.models import ApiToken, ReportNumber, ReportNumberBatch, hash_token
from reports.quarters import recent_quarters

PREVIOUS = recent_quarters(1)[0]


@pytest.fixture
def token(two_provinces):
    filer = two_provinces["users"]["filer"]
    return tokens.create_token(actor=filer, institution=filer.institution, name="LIMS")


def auth(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_filer_creates_a_token_shown_once_and_stored_only_as_a_hash(client, two_provinces):
    client.force_login(two_provinces["users"]["filer"])
    page = client.post(reverse("reports:tokens"), {"name": "LIMS 自动上传", "days": 365}).content.decode()
    stored = ApiToken.objects.get()
    raw = page.split('data-role="token">')[1].split("<")[0]
    assert raw.startswith("qts_") and stored.token_hash == hash_token(raw) and raw not in stored.token_hash
    assert raw not in client.get(reverse("reports:tokens")).content.decode()  # never shown again


def test_only_the_institutions_filer_manages_tokens(client, two_provinces, token):
    client.force_login(two_provinces["users"]["city_officer"])
    assert client.get(reverse("reports:tokens")).status_code == 403
    other_filer = two_provinces["users"]["filer"].__class__.objects.create(
        username="other", role="filer", institution=two_provinces["institutions"]["changsha2"]
    )
    client.force_login(other_filer)
    assert client.post(reverse("reports:token_revoke", args=[token[0].pk])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_lims_uploads_a_file_with_its_token(client, token, on_commit_immediately):
    response = client.post(
        reverse("reports:api_upload"),
        {"quarter": PREVIOUS.code, "file": SimpleUploadedFile("n.txt", "A-1\nA-2\n坏 行\n".encode("gbk"))},
        **auth(token[1]),
    )
    assert response.status_code == 202
    data = response.json()
    assert (data["status"], data["accepted"], data["rejected"], data["quarter"]) == ("done", 2, 1, PREVIOUS.code)
    batch = ReportNumberBatch.objects.get()
    assert batch.source == "api" and batch.token == token[0] and batch.institution == token[0].institution
    status = client.get(reverse("reports:api_batch", args=[batch.pk]), **auth(token[1]))
    assert status.json()["accepted"] == 2
    assert ApiToken.objects.get().last_used_at is not None


def test_lims_uploads_a_json_list(client, token, on_commit_immediately):
    response = client.post(
        reverse("reports:api_upload"),
        data=json.dumps({"quarter": PREVIOUS.code, "numbers": ["J-1", "J-2", "J-1", 5]}),
        content_type="application/json", **auth(token[1]),
    )
    assert response.status_code == 202
    assert sorted(ReportNumber.objects.values_list("number", flat=True)) == ["5", "J-1", "J-2"]


@pytest.mark.parametrize("header, message", [
    ({}, "缺少接口令牌"),
    ({"HTTP_AUTHORIZATION": "Bearer qts_wrong"}, "接口令牌无效"),
    ({"HTTP_AUTHORIZATION": "Basic abc"}, "缺少接口令牌"),
])
def test_missing_or_unknown_token_gets_401_in_chinese(client, token, header, message):
    response = client.post(reverse("reports:api_upload"), {"quarter": PREVIOUS.code}, **header)
    assert response.status_code == 401 and message in response.json()["error"]
    assert not ReportNumberBatch.objects.exists()


def test_revoked_token_gets_401(client, two_provinces, token):
    client.force_login(two_provinces["users"]["filer"])
    client.post(reverse("reports:token_revoke", args=[token[0].pk]))
    client.logout()
    response = client.post(reverse("reports:api_upload"), {"quarter": PREVIOUS.code}, **auth(token[1]))
    assert response.status_code == 401 and "已于" in response.json()["error"] and "吊销" in response.json()["error"]


def test_expired_token_gets_401(client, token):
    ApiToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.post(reverse("reports:api_upload"), {"quarter": PREVIOUS.code}, **auth(token[1]))
    assert response.status_code == 401 and "过期" in response.json()["error"]


def test_api_refuses_a_future_quarter_and_a_bad_request_with_a_message(client, token):
    future = client.post(
        reverse("reports:api_upload"),
        {"quarter": PREVIOUS.next().code, "file": SimpleUploadedFile("n.txt", b"A-1\n")}, **auth(token[1]),
    )
    assert future.status_code == 400 and "尚未结束" in future.json()["error"]
    bad = client.post(reverse("reports:api_upload"), {"quarter": "2024Q9"}, **auth(token[1]))
    assert bad.status_code == 400
    assert not ReportNumberBatch.objects.exists()


def test_a_token_sees_only_its_institutions_batches(client, two_provinces, token, make_batch):
    other = make_batch(two_provinces["institutions"]["changsha2"], 2023, 1)
    assert client.get(reverse("reports:api_batch", args=[other.pk]), **auth(token[1])).status_code == 404


def test_a_json_body_over_the_limit_is_refused_with_advice(client, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"quarter": PREVIOUS.code, "numbers": [f"N-{i}" for i in range(500)]})
    response = client.post(reverse("reports:api_upload"), data=body, content_type="application/json", **auth(token[1]))
    assert response.status_code == 413 and "改为上传文件" in response.json()["error"]
    assert not ReportNumberBatch.objects.exists()


def test_a_filer_may_not_keep_more_than_ten_active_tokens(two_provinces):
    filer = two_provinces["users"]["filer"]
    for n in range(10):
        tokens.create_token(actor=filer, institution=filer.institution, name=f"LIMS {n}")
    with pytest.raises(tokens.TokenRefused, match="10 个"):
        tokens.create_token(actor=filer, institution=filer.institution, name="one more")
