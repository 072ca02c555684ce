"""Chasing late filers: the chasing log and reminder e-mails. (Review decisions live in the filing state machine.)"""
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Role
from accounts.scoping import visible_to
from institutions.models import Institution

from .models import ChasingRecord

log = logging.getLogger(__name__)

CHASERS = (Role.CITY_OFFICER, Role.PROVINCIAL_REVIEWER, Role.ADMIN)


class ReminderRefused(Exception):
    """A reminder that cannot be sent (e.g. no e-mail address); the message is for the officer."""


def _check_chaser(actor, institution):
    if actor.role not in CHASERS or not visible_to(actor, Institution).filter(pk=institution.pk).exists():
        raise PermissionDenied("您无权对该机构催报。")


def log_chasing(institution, *, actor, year: int, channel: str, note: str, contacted_on=None) -> ChasingRecord:
    _check_chaser(actor, institution)
    record = ChasingRecord(
        institution=institution, year=year, channel=channel, note=note, recorded_by=actor,
        contacted_on=contacted_on or timezone.localdate(),
    )
    record.full_clean()
    record.save()
    return record


def request_reminders(institutions, *, actor, year: int, deadline) -> dict:
    """Queue one reminder e-mail per institution; those without an e-mail address are reported, not sent."""
    queued, without_email = [], []
    for institution in institutions:
        _check_chaser(actor, institution)
        if not institution.contact_email:
            without_email.append(institution)
            continue
        queued.append(institution)
    from .tasks import send_reminder_email

    for institution in queued:
        transaction.on_commit(
            lambda pk=institution.pk: send_reminder_email.delay(pk, year, deadline.isoformat(), actor.pk)
        )
    return {"queued": queued, "without_email": without_email}


def send_reminder(institution_id: int, *, year: int, deadline, actor_id: int | None, automatic_note: str = ""):
    """Send the e-mail (raises on a mail-server failure, so the task retries) and then log it as chased."""
    institution = Institution.objects.select_related("city").get(pk=institution_id)
    if not institution.contact_email:
        raise ReminderRefused(f"{institution.name} 未登记电子邮箱，无法发送催报邮件。")
    context = {"institution": institution, "year": year, "deadline": deadline, "site_name": "质检统计直报"}
    subject = f"【质检统计直报】请于{deadline:%Y年%m月%d日}前完成{year}年度统计填报"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("review/email/reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[institution.contact_email],
    )
    message.send(fail_silently=False)
    note = automatic_note or f"已发送催报邮件至 {institution.contact_email}"
    return ChasingRecord.objects.create(
        institution=institution, year=year, channel=ChasingRecord.Channel.EMAIL, note=note, recorded_by_id=actor_id,
    )
