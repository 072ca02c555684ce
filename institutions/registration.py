"""机构注册: a filer registers for an institution of the register (or proposes a new one), confirms the e-mail address
by a signed link (`accounts.registration`), and the city officer approves (the account is created) or refuses (with a
reason).

The page never tells whether a credit code is registered or which certificates it holds: a code and a certificate
number that are not a pair of the register get one message whatever the reason. Mails go out from tasks on commit.
"""
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import AccountAction, RegistrationRequest, User
from accounts.registration import RegistrationRefused
from accounts.tasks import send_registration_confirmation, send_registration_decision
from config.jobs import send_task
from config.refusals import NotFoundRefusal

from .imports import CheckedRow
from .models import CmaCertificate, Institution
from .register_import import apply_rows

NO_SUCH_PAIR = ("统一社会信用代码与资质认定证书编号不是名录中同一机构的登记信息，请核对后重新填写；"
                "机构尚未登记在名录中的，请选择“申请登记新机构”。")


def submit_registration(*, credit_code: str, cma_number: str, full_name: str, phone: str, email: str, username: str,
                        password: str, base_url: str, new_institution: dict | None = None) -> RegistrationRequest:
    """Record a request (待确认邮箱) and e-mail the confirmation link. `new_institution` (name, city, address)
    proposes an institution not yet in the register; otherwise the code and the certificate must be a pair of it."""
    fields = {"credit_code": credit_code, "cma_number": cma_number, "full_name": full_name, "phone": phone,
              "email": email, "username": username, "password_hash": make_password(password)}
    if new_institution:
        request = RegistrationRequest(
            is_new_institution=True, city=new_institution["city"], institution_name=new_institution["name"],
            institution_address=new_institution["address"], **fields,
        )
    else:
        certificate = (CmaCertificate.objects.filter(number=cma_number, institution__credit_code=credit_code)
                       .select_related("institution").first())
        if certificate is None:
            raise RegistrationRefused(NO_SUCH_PAIR)
        institution = certificate.institution
        request = RegistrationRequest(institution=institution, city_id=institution.city_id, **fields)
    with transaction.atomic():
        request.save()
        transaction.on_commit(lambda: send_task(send_registration_confirmation, request.pk, base_url))
    return request


def decide_registration(request, *, actor, approve: bool, reason: str = "", base_url: str) -> RegistrationRequest:
    """The city officer approves (the filer account is created, the institution's main account if it has none; a
    proposed institution is added to the register first) or refuses with a reason; the applicant is e-mailed."""
    if not permissions.can_decide_registration(actor, request):
        raise NotFoundRefusal("没有找到该注册申请。")
    reason = reason.strip()
    if not approve and not reason:
        raise RegistrationRefused("拒绝申请必须填写原因。")
    with transaction.atomic():
        request = RegistrationRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != RegistrationRequest.Status.PENDING:
            raise RegistrationRefused(f"该申请已不在待审核状态（当前：{request.get_status_display()}），无需重复处理。")
        if approve:
            _create_account(request, actor=actor)
            request.status = RegistrationRequest.Status.APPROVED
        else:
            request.status = RegistrationRequest.Status.REFUSED
            request.reason = reason
        request.decided_by, request.decided_at = actor, timezone.now()
        request.save()
        transaction.on_commit(lambda: send_task(send_registration_decision, request.pk, base_url))
    return request


def _create_account(request, *, actor) -> None:
    if User.objects.filter(username__iexact=request.username).exists():
        raise RegistrationRefused(
            f"用户名“{request.username}”已被其他账号使用，请拒绝本申请并告知申请人换一个用户名重新注册。"
        )
    if request.is_new_institution:
        request.institution = _register_institution(request, actor=actor)
    has_main = request.institution.users.filter(is_main_account=True, is_active=True).exists()
    user = User.objects.new_filer(
        username=request.username, first_name=request.full_name, email=request.email, phone=request.phone,
        password=request.password_hash, institution=request.institution, is_main_account=not has_main,
    )
    user.save()
    request.user = user
    AccountAction.objects.create(institution=request.institution, action=AccountAction.Action.REGISTERED,
                                 actor=actor, target=user)


def _register_institution(request, *, actor) -> Institution:
    """A proposed institution enters the register through the register import's own writer (history "名录导入"),
    with its name, city, address and the applicant as contact; the certificate is then entered by its main account
    on 本单位信息 (its dates and scope are not part of the request)."""
    if Institution.objects.filter(credit_code=request.credit_code).exists():
        raise RegistrationRefused("该统一社会信用代码已在机构名录中：请拒绝本申请，并告知申请人按已登记机构重新注册。")
    row = CheckedRow(
        number=1, credit_code=request.credit_code, city=request.city, site_address=request.institution_address,
        institution={"name": request.institution_name, "registered_address": request.institution_address,
                     "contact_person": request.full_name, "contact_phone": request.phone,
                     "contact_email": request.email},
    )
    apply_rows([row], actor=actor)
    return Institution.objects.get(credit_code=request.credit_code)
