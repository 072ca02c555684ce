"""The menu: (label, url name, icon) entries, each shown when the capability behind its page allows it. The views
check access themselves (accounts.permissions)."""
from . import permissions as can

_INSTITUTIONS = ("机构名录", "institutions:list", "building")
_EXPORTS = ("数据导出", "summaries:exports", "file-earmark-spreadsheet")
_DASHBOARD = ("统计看板", "summaries:dashboard", "bar-chart")
_FILINGS = ("年度填报", "filings:home", "journal-text")
_REVIEW = ("审核队列", "review:queue", "clipboard-check")
_PROGRESS = ("填报进度", "review:progress", "list-check")
_REPORT_NUMBERS = ("报告编号", "reports:missing", "upc-scan")
_COMPLAINTS = ("编号投诉", "reports:complaints", "megaphone")
_NOTICES = ("通知公告", "notices:list", "newspaper")  # everyone's
_INSTITUTION_ACCOUNTS = ("本机构账号", "institution_accounts", "people")  # the main account's
_REGISTRATIONS = ("注册审核", "registrations", "person-check")  # admins and the province: links on their home page

# A filer's own pages.
OWN_INSTITUTION = [("年度填报", "filings:home", "pencil-square"), ("本单位信息", "institutions:mine", "building"),
                   ("报告编号上传", "reports:upload", "upc-scan"), _NOTICES]
# A regulator's pages, in this order, each with the capability that shows it.
REGULATOR = [
    (_REVIEW, can.can_review),
    (_PROGRESS, can.can_view_progress),
    (_FILINGS, can.can_view_progress),
    (_INSTITUTIONS, can.can_view_progress),
    (_REPORT_NUMBERS, can.can_view_report_numbers),
    (_COMPLAINTS, can.can_follow_complaints),
    (_DASHBOARD, can.can_view_dashboard),
    (_EXPORTS, can.can_export_summaries),
    (_NOTICES, can.can_read_notices),
    (_REGISTRATIONS, can.can_follow_registrations),
]


def navigation_for(user):
    if not getattr(user, "is_authenticated", False):
        return []
    if can.has_own_institution(user):
        return list(OWN_INSTITUTION) + ([_INSTITUTION_ACCOUNTS] if can.is_main_account(user) else [])
    return [entry for entry, allowed in REGULATOR if allowed(user)]
