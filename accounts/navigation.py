"""What each role may do, as navigation entries: (label, url name, icon). Views check access themselves."""
from .models import Role

_INSTITUTIONS = ("机构名录", "institutions:list", "building")
_EXPORTS = ("数据导出", "summaries:exports", "file-earmark-spreadsheet")
_DASHBOARD = ("统计看板", "summaries:dashboard", "bar-chart")
_FILINGS = ("年度填报", "filings:home", "journal-text")
_REVIEW = ("审核队列", "review:queue", "clipboard-check")
_PROGRESS = ("填报进度", "review:progress", "list-check")
_REPORT_NUMBERS = ("报告编号", "reports:missing", "upc-scan")
_COMPLAINTS = ("编号投诉", "reports:complaints", "megaphone")

NAVIGATION = {
    Role.FILER: [("年度填报", "filings:home", "pencil-square"), ("本单位信息", "institutions:mine", "building"),
                 ("报告编号上传", "reports:upload", "upc-scan")],
    Role.CITY_OFFICER: [_PROGRESS, _FILINGS, _INSTITUTIONS, _REPORT_NUMBERS, _COMPLAINTS, _DASHBOARD, _EXPORTS],
    Role.PROVINCIAL_REVIEWER: [_REVIEW, _PROGRESS, _FILINGS, _INSTITUTIONS, _REPORT_NUMBERS, _COMPLAINTS, _DASHBOARD, _EXPORTS],
    Role.SAMR_REVIEWER: [_REVIEW, _PROGRESS, _FILINGS, _INSTITUTIONS, _REPORT_NUMBERS, _DASHBOARD, _EXPORTS],
    Role.ADMIN: [_REVIEW, _PROGRESS, _FILINGS, _INSTITUTIONS, _REPORT_NUMBERS, _COMPLAINTS, _DASHBOARD, _EXPORTS],
}


def navigation_for(user):
    if not getattr(user, "is_authenticated", False):
        return []
    return NAVIGATION.get(user.role, [])
