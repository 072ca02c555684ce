"""LIMS API tokens: created and revoked by the institution's filer, checked on every API request.

Only a token's SHA-256 is stored; the raw value is shown once when it is created."""
import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from config.refusals import DomainRefusal

from .models import ApiToken, hash_token

TOKEN_LIFETIME_DAYS = 365


class TokenRefused(DomainRefusal):
    """A token that cannot be created, or a missing, unknown, expired or revoked one (401 for the LIMS operator)."""


def _check_token_owner(actor, institution):
    if not permissions.can_manage_tokens(actor, institution):
        raise PermissionDenied("只有本机构的填报人可以管理接口令牌。")


def create_token(*, actor, institution, name: str, days: int = TOKEN_LIFETIME_DAYS) -> tuple[ApiToken, str]:
    """A new token for the institution's LIMS; returns (token, raw value). Only the hash is stored."""
    _check_token_owner(actor, institution)
    name = (name or "").strip()
    if not name:
        raise TokenRefused("请填写令牌用途（例如“LIMS 自动上传”）。")
    if not 1 <= days <= 3 * 365:
        raise TokenRefused("有效期应在 1 天到 3 年之间。")
    active = ApiToken.objects.filter(institution=institution, revoked_at__isnull=True, expires_at__gt=timezone.now())
    if active.count() >= 10:
        raise TokenRefused("有效令牌已达 10 个，请先吊销不用的令牌。")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        institution=institution, name=name[:100], token_hash=hash_token(raw), hint=raw[-4:], created_by=actor,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    return token, raw


def revoke_token(token: ApiToken, *, actor) -> ApiToken:
    _check_token_owner(actor, token.institution)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at, token.revoked_by = timezone.now(), actor
            token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def authenticate_token(raw: str) -> ApiToken:
    raw = (raw or "").strip()
    if not raw:
        raise TokenRefused("缺少接口令牌：请在请求头中加入 Authorization: Bearer <令牌>。", status=401)
    token = ApiToken.objects.select_related("institution").filter(token_hash=hash_token(raw)).first()
    if token is None:
        raise TokenRefused("接口令牌无效，请核对令牌或在本单位信息页重新创建。", status=401)
    if token.revoked_at is not None:
        raise TokenRefused(
            f"接口令牌已于 {timezone.localtime(token.revoked_at):%Y-%m-%d %H:%M} 吊销，请在本单位信息页创建新令牌。",
            status=401,
        )
    if token.expires_at <= timezone.now():
        raise TokenRefused(
            f"接口令牌已于 {timezone.localtime(token.expires_at):%Y-%m-%d %H:%M} 过期，请在本单位信息页创建新令牌。",
            status=401,
        )
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token

