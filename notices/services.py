"""Publishing, editing and withdrawing notices, and recording that a user read one. Each checks who may
(accounts.permissions) whatever the caller sent, checks every attachment before storing any, and runs in one
transaction."""
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from config.refusals import DomainRefusal

from .attachments import check_attachments
from .models import Notice, NoticeAttachment, NoticeRead

SCOPE_RULE = "省局审核人员只能发往本省，总局审核人员只能发往全国"


class NoticeRefused(DomainRefusal):
    """A notice action the user may not take, or not on this notice."""


def _refuse_region(actor, region) -> None:
    if not permissions.can_publish_notice(actor, region):
        raise NoticeRefused(f"您不能向“{region}”发布通知：{SCOPE_RULE}。", status=403)


def _store_attachments(notice, checked) -> None:
    for upload, name, kind in checked:
        attachment = NoticeAttachment(notice=notice, original_name=name, size=upload.size, kind=kind)
        attachment.file.save(name, File(upload), save=False)
        attachment.save()


@transaction.atomic
def publish_notice(*, actor, title, body, region, public=True, pinned=False, expires_on=None, attachments=()):
    """A new notice, published now to `region` (the nation or a province the actor may publish to)."""
    _refuse_region(actor, region)
    checked = check_attachments(attachments)
    notice = Notice(title=title, body=body, region=region, public=public, pinned=pinned, expires_on=expires_on,
                    author=actor, published_at=timezone.now())
    notice.full_clean()
    notice.save()
    _store_attachments(notice, checked)
    return notice


@transaction.atomic
def edit_notice(notice, *, actor, title, body, region, public, pinned, expires_on=None, attachments=(),
                remove_attachments=()):
    """Change a notice that is not withdrawn; `remove_attachments` are ids of its own attachments to delete."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if not permissions.can_edit_notice(actor, notice):
        raise NoticeRefused("您不能修改这条通知。", status=403)
    if notice.is_withdrawn:
        raise NoticeRefused("这条通知已撤回，不能再修改。", status=409)
    _refuse_region(actor, region)
    removed = list(notice.attachments.filter(pk__in=list(remove_attachments)))
    checked = check_attachments(attachments, existing=notice.attachments.count() - len(removed))
    for field, value in {"title": title, "body": body, "region": region, "public": public, "pinned": pinned,
                         "expires_on": expires_on}.items():
        setattr(notice, field, value)
    notice.full_clean()
    notice.save()
    for attachment in removed:
        attachment.delete()
        transaction.on_commit(lambda file=attachment.file: file.delete(save=False))
    _store_attachments(notice, checked)
    return notice


@transaction.atomic
def withdraw_notice(notice, *, actor):
    """Take a notice down: it leaves every list and page for readers; its read receipts stay."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if not permissions.can_edit_notice(actor, notice):
        raise NoticeRefused("您不能撤回这条通知。", status=403)
    if notice.is_withdrawn:
        raise NoticeRefused("这条通知已经撤回。", status=409)
    notice.withdrawn_at = timezone.now()
    notice.withdrawn_by = actor
    notice.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
    return notice


def record_read(notice, *, user) -> None:
    """The user opened the notice: its first opening is its read receipt (opening it again changes nothing)."""
    NoticeRead.objects.bulk_create([NoticeRead(notice=notice, user=user)], ignore_conflicts=True)
