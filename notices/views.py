"""通知公告: readers' list and pages (opening one records its read receipt), the public page of a notice shown on the
login page, attachment downloads, and the publishers' list, form, withdrawal and read receipts."""
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import permissions
from accounts.scoping import visible_to
from config.refusals import refusal_as_message

from . import selectors, services
from .attachments import CONTENT_TYPES
from .forms import NoticeForm
from .models import Notice

PAGE_SIZE = 20
NOT_FOUND = "没有找到这条通知：它可能已撤回或已过展示期限，或不在您的范围内。"


def notice_list(request):
    page = Paginator(selectors.notices_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notices/list.html", {
        "page": page, "may_publish": permissions.can_publish_notices(request.user),
    })


def notice_detail(request, pk):
    notice = selectors.notice_for(request.user, pk)
    if notice is None:
        raise Http404(NOT_FOUND)
    # Opening the notice is reading it: the receipt is written once (idempotent), as an access log is.
    services.record_read(notice, user=request.user)
    return render(request, "notices/detail.html", {
        "notice": notice, "editable": permissions.can_edit_notice(request.user, notice),
    })


def _download(attachment):
    """The file under the name it was uploaded with (RFC 5987 for a Chinese name), never by its stored path."""
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
                        content_type=CONTENT_TYPES[attachment.kind])


def attachment_download(request, pk):
    attachment = selectors.attachment_for(request.user, pk)
    if attachment is None:
        raise Http404("没有找到该附件，或您无权下载。")
    return _download(attachment)


@login_not_required
def public_detail(request, pk):
    notice = selectors.public_notice(pk)
    if notice is None:
        raise Http404(NOT_FOUND)
    return render(request, "notices/public_detail.html", {"notice": notice})


@login_not_required
def public_attachment(request, pk):
    attachment = selectors.public_attachment(pk)
    if attachment is None:
        raise Http404("没有找到该附件。")
    return _download(attachment)


# --- publishers -----------------------------------------------------------------------------------------------------

def _require_publisher(user):
    if not permissions.can_publish_notices(user):
        raise PermissionDenied("只有系统管理员、总局和省局审核人员可以发布通知。")


def _managed(request, pk):
    """A notice the user edits; 403 for one they may only read, 404 for one outside their scope."""
    notice = selectors.managed_notice(request.user, pk)
    if notice is not None:
        return notice
    if visible_to(request.user, Notice).filter(pk=pk).exists():
        raise PermissionDenied("您不能管理这条通知：它不是发往您所辖范围的。")
    raise Http404(NOT_FOUND)


def manage(request):
    _require_publisher(request.user)
    page = Paginator(selectors.managed_notices(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notices/manage.html", {"page": page})


def _form_page(request, form, notice=None):
    status = 400 if request.method == "POST" else 200
    return render(request, "notices/form.html", {"form": form, "notice": notice}, status=status)


def create(request):
    _require_publisher(request.user)
    form = NoticeForm(request.POST or None, request.FILES or None,
                      regions=selectors.publishable_regions(request.user))
    if request.method == "POST":
        if form.is_valid():
            with refusal_as_message(request, "通知尚未发布："):
                notice = services.publish_notice(actor=request.user, **form.notice_data())
                messages.success(request, f"通知“{notice.title}”已发布。")
                return redirect("notices:manage")
        else:
            messages.error(request, "有填写错误，请按提示修改；通知尚未发布。")
    return _form_page(request, form)


def edit(request, pk):
    notice = _managed(request, pk)
    if notice.is_withdrawn:
        messages.error(request, "这条通知已撤回，不能再修改。")
        return redirect("notices:manage")
    form = NoticeForm(request.POST or None, request.FILES or None, instance=notice,
                      regions=selectors.publishable_regions(request.user))
    if request.method == "POST":
        if form.is_valid():
            with refusal_as_message(request, "修改尚未保存："):
                services.edit_notice(notice, actor=request.user, **form.notice_data())
                messages.success(request, f"通知“{form.cleaned_data['title']}”已修改。")
                return redirect("notices:manage")
        else:
            messages.error(request, "有填写错误，请按提示修改；修改尚未保存。")
    return _form_page(request, form, notice)


@require_POST
def withdraw(request, pk):
    notice = _managed(request, pk)
    with refusal_as_message(request):
        services.withdraw_notice(notice, actor=request.user)
        messages.success(request, f"通知“{notice.title}”已撤回：读者不再看到它，阅读记录仍保留。")
    return redirect("notices:manage")


def receipts(request, pk):
    notice = _managed(request, pk)
    return render(request, "notices/receipts.html", {"notice": notice, "receipts": selectors.read_receipts(notice)})
