"""What each role may do, as navigation entries: (label, url name, icon). Views check access themselves."""
from .models import Role

_INSTITUTIONS = ("机构名录", "institutions:list", "building")
_EXPORTS = ("数据导出", "summaries:exports", "file-earmark-spreadsheet")
_DASHBOARD = ("统计看板", "summaries:dashboard", "bar-chart")

NAVIGATION = {
    Role.FILER: [("本单位信息", "institutions:mine", "building")],
    Role.CITY_OFFICER: [_INSTITUTIONS, _DASHBOARD, _EXPORTS],
    Role.PROVINCIAL_REVIEWER: [_INSTITUTIONS, _DASHBOARD, _EXPORTS],
    Role.SAMR_REVIEWER: [_INSTITUTIONS, _DASHBOARD, _EXPORTS],
    Role.ADMIN: [_INSTITUTIONS, _DASHBOARD, _EXPORTS, ("系统管理", "admin:index", "gear")],
}


def navigation_for(user):
    if not getattr(user, "is_authenticated", False):
        return []
    return NAVIGATION.get(user.role, [])
