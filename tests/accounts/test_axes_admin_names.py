"""django-axes' models appear in the admin under Chinese names, and the committed catalogue matches its source."""
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from tests import factories

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.django_db
def test_the_admin_index_names_the_login_protection_models_in_chinese(client):
    client.force_login(factories.AdminFactory())
    page = client.get(reverse("admin:index")).content.decode()
    for name in ("登录保护", "登录失败计数", "登录日志"):
        assert name in page
    for english in ("Access attempts", "Access logs", ">Axes<"):
        assert english not in page


@pytest.mark.django_db
def test_the_access_attempt_list_has_chinese_column_names(client):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(username="filer", ip_address="203.0.113.7", user_agent="x", http_accept="*/*",
                                 path_info="/accounts/login/", get_data="", post_data="", failures_since_start=5)
    client.force_login(factories.AdminFactory())
    page = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    for name in ("尝试时间", "IP 地址", "用户名", "失败次数", "状态", "已锁定"):
        assert name in page
    assert ">Status<" not in page and ">Expiration<" not in page


def test_the_compiled_catalogue_matches_the_po_file():
    """A .po edited without recompiling the .mo would silently show the old names."""
    entries = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', PO.read_text(encoding="utf-8"), re.M)
    assert len(entries) > 20
    with translation.override("zh-hans"):
        for msgid, msgstr in entries:
            assert translation.gettext(msgid) == msgstr, msgid
