"""机构注册 on the embedded default: the confirmation mail goes out in-process, the local-memory rate limit counts the
form, and the Changsha officer's approval creates the account on SQLite."""
import re

from django.core import mail
from django.urls import reverse

from accounts.models import RegistrationRequest, User
from institutions.models import CmaCertificate

PASSWORD = "a-fresh-long-pass-42"


def test_register_confirm_and_approve_in_process(client, login):
    certificate = CmaCertificate.objects.filter(institution__city__code="430100").select_related("institution").first()
    data = {"credit_code": certificate.institution.credit_code, "cma_number": certificate.number, "full_name": "钱七",
            "phone": "0731-88880000", "email": "qianqi@example.cn", "username": "qianqi_embedded",
            "password1": PASSWORD, "password2": PASSWORD}
    assert client.post(reverse("registration"), data)["Location"] == reverse("registration_sent")
    path = re.search(r"https?://[^/\s]+(/accounts/register/confirm/\S+/)", mail.outbox[-1].body).group(1)
    assert "邮箱已确认" in client.post(path).content.decode()
    request = RegistrationRequest.objects.get(username="qianqi_embedded")

    officer = login("city")
    assert officer.get(reverse("home")).context["registrations_pending"] >= 1
    officer.post(reverse("registration_decide", args=[request.pk]), {"decision": "approve"})
    user = User.objects.get(username="qianqi_embedded")
    assert user.institution == certificate.institution and user.check_password(PASSWORD)
    assert "已通过" in mail.outbox[-1].subject
