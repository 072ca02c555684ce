"""Demo notices for seed_demo: a pinned notice to the nation from the admin with its statistics form attached (an
XLSX), and a notice of Hunan's bureau to its officers; the Changsha officer has read the first."""
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from institutions.models import Region

from .services import publish_notice, record_read

NATION_BODY = """各省、自治区、直辖市市场监管局（厅、委）：

为做好2023年度检验检测服务业统计工作，现将有关事项通知如下。

一、统计范围：取得检验检测机构资质认定的各类检验检测机构。
二、填报方式：各机构通过本系统“年度填报”在线填报，提交后由审核单位审核。
三、时间安排：请于规定截止时间前完成填报；逾期未填报的，由所在市州市场监管局督促。

附件：检验检测机构统计报表（空表）

国家市场监督管理总局认可与检验检测监督管理司"""

PROVINCE_BODY = """各市州市场监督管理局：

请督促辖区内检验检测机构按时完成2023年度统计直报，并于截止前核对本辖区未提交机构名单。

审核中发现的共性问题，请各市州汇总后报省局。

湖南省市场监督管理局"""


def _form_workbook() -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "统计报表"
    sheet.append(["机构名称", "统一社会信用代码", "营业收入（万元）", "出具报告数（份）"])
    content = io.BytesIO()
    workbook.save(content)
    return SimpleUploadedFile("检验检测机构统计报表（空表）.xlsx", content.getvalue())


def seed_notices(accounts) -> str:
    """Publish the demo notices as the demo admin and Hunan's reviewer; return a one-line summary."""
    users = {user.username: user for user in accounts}
    if "admin" not in users or "province" not in users:
        return ""
    nation = publish_notice(
        actor=users["admin"], title="关于开展2023年度检验检测统计直报工作的通知", body=NATION_BODY,
        region=Region.objects.get(code="000000"), pinned=True, attachments=[_form_workbook()],
    )
    publish_notice(
        actor=users["province"], title="关于做好全省检验检测统计数据审核工作的通知", body=PROVINCE_BODY,
        region=Region.objects.get(code="430000"), public=False,
    )
    if "city" in users:
        record_read(nation, user=users["city"])
    return "通知公告 2 条（全国 1 条置顶并附统计报表，湖南省 1 条）"
