"""Which notices a user reads, publishes and sees the receipts of; all scoped by `visible_to` and the permissions."""
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef

from accounts import permissions
from accounts.scoping import visible_to
from institutions.models import Region

from .models import Notice, NoticeAttachment, NoticeRead

HOME_LIMIT = 5
LOGIN_LIMIT = 5


def notices_for(user):
    """The notices the user may read now (the nation's and their province's, current ones), pinned first, newest
    first, each with `is_read`."""
    read = NoticeRead.objects.filter(notice=OuterRef("pk"), user=user.pk)
    return (visible_to(user, Notice).current().select_related("region")
            .annotate(is_read=Exists(read)).newest_first())


def notice_for(user, pk):
    """One notice the user may read now, or None."""
    return notices_for(user).filter(pk=pk).prefetch_related("attachments").first()


def home_notices(user) -> tuple[list, int]:
    """For the home page: the latest notices, unread ones first; and how many are unread in all."""
    notices = notices_for(user)
    unread = notices.filter(is_read=False).count()
    return list(notices.order_by("is_read", "-pinned", "-published_at", "-pk")[:HOME_LIMIT]), unread


def public_notices():
    """What anyone sees without logging in (the login page): current notices marked 在登录页公开显示."""
    return Notice.objects.current().filter(public=True).select_related("region").newest_first()


def public_notice(pk):
    return public_notices().filter(pk=pk).prefetch_related("attachments").first()


def attachment_for(user, pk):
    """An attachment of a notice the user may read now, or edits; None otherwise."""
    attachment = NoticeAttachment.objects.select_related("notice__region").filter(pk=pk).first()
    if attachment is None:
        return None
    if permissions.can_edit_notice(user, attachment.notice):
        return attachment
    return attachment if notices_for(user).filter(pk=attachment.notice_id).exists() else None


def public_attachment(pk):
    return NoticeAttachment.objects.filter(pk=pk, notice__in=public_notices()).first()


def publishable_regions(user):
    """The regions the user may publish to (the nation first, then the provinces), for the form's choice."""
    candidates = Region.objects.current().filter(level__in=[Region.Level.NATION, Region.Level.PROVINCE])
    allowed = [region.pk for region in candidates if permissions.can_publish_notice(user, region)]
    return Region.objects.filter(pk__in=allowed).order_by("code")


def managed_notices(user):
    """Every notice the user may edit, withdrawn and expired ones included, newest first, each with `read_count`
    (everyone who opened it)."""
    return (Notice.objects.filter(region__in=publishable_regions(user)).select_related("region", "author")
            .annotate(read_count=Count("reads")).order_by("-published_at", "-pk"))


def managed_notice(user, pk):
    """A notice the user may edit (withdrawn or not), or None."""
    notice = Notice.objects.select_related("region").filter(pk=pk).first()
    return notice if notice is not None and permissions.can_edit_notice(user, notice) else None


@dataclass
class Receipts:
    read: list  # (user, read_at), earliest first
    unread: list  # users

    @property
    def expected(self) -> int:
        return len(self.read) + len(self.unread)


def read_receipts(notice) -> Receipts:
    """Which of the officers expected to read the notice (accounts.permissions.notice_readers_q) have read it."""
    officers = (get_user_model().objects.filter(is_active=True).filter(permissions.notice_readers_q(notice.region))
                .select_related("region", "region__parent").order_by("region__code", "username"))
    reads = dict(NoticeRead.objects.filter(notice=notice).values_list("user_id", "read_at"))
    read = sorted(((user, reads[user.pk]) for user in officers if user.pk in reads), key=lambda row: row[1])
    return Receipts(read=read, unread=[user for user in officers if user.pk not in reads])
