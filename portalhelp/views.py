"""系统帮助: public pages (no login), linked from the login page and every page's footer."""
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render

from filings import peers
from filings.checks import CHECK_CODES
from reports import ingest
from reports.quarters import Quarter

from .guides import BY_SLUG, GUIDES
from .selectors import bureau_contacts, home_city_id

# The help menu after the guides: (label, URL name).
PAGES = [("校验规则", "help:checks"), ("报告编号规则", "help:report_numbers"), ("统计工作通知", "help:notice"),
         ("联系方式", "help:contacts"), ("忘记密码", "password_reset")]


def _render(request, template, context=None):
    return render(request, template, {"help_guides": GUIDES, "help_pages": PAGES, **(context or {})})


@login_not_required
def index(request):
    return _render(request, "portalhelp/index.html")


@login_not_required
def guide(request, slug):
    if slug not in BY_SLUG:
        raise Http404("没有这份操作指南。")
    return _render(request, "portalhelp/guide.html", {"guide": BY_SLUG[slug]})


@login_not_required
def checks(request):
    rows = [(code, "错误" if code.startswith("E") else "警告", check.message, check.advice)
            for code, check in sorted(CHECK_CODES.items())]
    return _render(request, "portalhelp/checks.html", {"rows": rows, "peer_rule": peers.RULE_TEXT})


@login_not_required
def notice(request):
    return _render(request, "portalhelp/notice.html")


@login_not_required
def report_numbers(request):
    quarter = Quarter.previous_of_now()
    return _render(request, "portalhelp/report_numbers.html", {
        "quarter": quarter, "max_length": ingest.MAX_LENGTH, "max_lines": ingest.MAX_LINES,
        "max_megabytes": ingest.MAX_BYTES // 1024 // 1024,
        "verify_per_minute": settings.REPORTS_VERIFY_PER_MINUTE,
        "complaints_per_hour": settings.REPORTS_COMPLAINTS_PER_HOUR,
    })


@login_not_required
def contacts(request):
    home = home_city_id(request.user)
    return _render(request, "portalhelp/contacts.html", {"provinces": bureau_contacts(home), "home_city_id": home})
