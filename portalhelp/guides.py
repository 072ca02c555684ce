"""The operating guide of each role (系统帮助 → 操作指南): steps, each with the screenshot that shows it.

The screenshots are `static/help/<shot>.png`, taken from the running portal with demo data by
`scripts/help_screenshots.py` (one command, README "系统帮助"); its SHOTS name every shot used here.
"""
from typing import NamedTuple


class Step(NamedTuple):
    title: str
    text: str
    shot: str = ""  # static/help/<shot>.png


class Guide(NamedTuple):
    slug: str
    title: str
    audience: str
    steps: tuple[Step, ...]


GUIDES = (
    Guide("filer", "机构填报人操作指南", "检验检测机构负责统计填报的人员", (
        Step("登录", "在登录页输入分配的用户名和密码。忘记密码的，点“忘记密码”，用账号登记的电子邮箱重设。"
             "连续输错 5 次，该账号在本机 30 分钟内不能登录。", "login"),
        Step("首页", "首页显示本单位、本年度填报状态、被退回的填报和报告编号各季度的上传情况。", "filer-home"),
        Step("核对本单位信息", "打开“本单位信息”，核对基本信息、场所、资质认定证书和其他资质；"
             "证书只需输入 12 位编号，发证机关、级别等自动识别。机构名称、法定代表人、信用代码和所在市州"
             "需点“申请变更登记信息”，由审核单位确认后生效。", "filer-institution"),
        Step("年度填报", "打开“年度填报”：依次填写 1. 统计调查数据、2. 年度报告、"
             "3. 社会责任报告（牵头国家质检中心的单位），每页可“保存草稿”或“保存并下一步”。", "filer-filing"),
        Step("统计调查数据", "按页面分组填写各项指标；规模以上、小微型由系统计算。每次保存都会校验，"
             "错误（E 开头）显示在字段下方，说明见“校验规则”。", "filer-statistics"),
        Step("离线填报", "也可在“统计调查数据”页的“离线填报”中下载 Excel 模板（已填入已保存的草稿和上年审核通过值），"
             "在 Excel 或 WPS 中填写黄色的“本年填报”列，保存为 .xlsx 后上传。上传时执行同样的校验，"
             "问题逐格列出（如“D12 出具检验检测报告：须为不小于 0 的整数”），有任何错误时不保存；"
             "公式须在 Excel/WPS 中计算并保存。下载后如在网页上保存过，请重新下载模板。"
             "预警说明仍在“校验与提交”页填写。"),
        Step("校验与提交", "“校验与提交”页汇总全部错误和警告：错误必须改正；警告（W 开头）须填写说明。"
             "提交后审核人员开始审核前可“撤回”；被退回的按批注更正后再次提交。提交后可下载提交回执和报告 PDF。",
             "filer-submit"),
        Step("报告编号上传", "每季度第一个月内，在“报告编号上传”选择上一季度并上传编号文件（TXT、CSV 或 XLSX），"
             "结果显示接收、重复、不合格的数量，不合格行可下载。规则见“报告编号规则”。", "filer-upload"),
        Step("遇到问题", "填报咨询请联系所在市州局：“系统帮助 → 联系方式”列出各市州局的联系人、电话和邮箱，"
             "登录后您所在的市州突出显示。", "filer-contacts"),
    )),
    Guide("city", "市州局人员操作指南", "各市州市场监督管理局负责统计工作的人员", (
        Step("首页", "首页显示本市州的在册机构数和尚未提交的机构数。", "city-home"),
        Step("填报进度", "“填报进度”按状态统计本市州机构：未开始、草稿、已提交、审核中、已退回、审核通过，以及提交率。"
             "已退回的填报计为未提交。", "city-progress"),
        Step("催报", "“未提交机构”列出尚未提交的机构及联系人；可导出 Excel，勾选机构发送催报邮件"
             "（每家机构每天至多一封），电话、走访等记录在机构的“催报记录”中。", "city-late-filers"),
        Step("报告编号", "“报告编号”按季度统计上传情况，列出某季度未上传的机构并可发送提醒；"
             "“编号投诉”处理公众对报告编号的投诉。", "city-report-numbers"),
    )),
    Guide("reviewer", "审核人员操作指南", "省局、总局审核人员", (
        Step("审核队列", "“审核队列”列出由本单位审核的已提交和审核中的填报，最早提交的在前，可按市州、状态、"
             "专业领域、提交日期和是否有警告筛选。", "reviewer-queue"),
        Step("审核", "打开填报只查看、不改变状态；点“开始审核”后填报人不能再撤回。核对三部分内容、警告说明、"
             "与上次提交及上年的差异后，“审核通过”或“退回更正”（可对单个字段批注并给出更正期限）。", "reviewer-detail"),
        Step("统计看板与导出", "“统计看板”显示辖区的提交率和主要指标；“数据导出”生成年度汇总等 Excel 文件，"
             "完成后在“我的导出”下载。", "reviewer-dashboard"),
    )),
    Guide("admin", "系统管理员操作指南", "系统管理员", (
        Step("首页", "管理员可查看全部机构和填报，用户菜单中的“系统管理”进入后台。", "admin-home"),
        Step("系统管理", "在“系统管理”中维护用户和角色、统计年度（填报和审核时间）、机构名录、"
             "登录保护（解除锁定）等。", "admin-site"),
        Step("市州联系方式", "在“系统管理 → 行政区划”中打开市州，填写联系人、联系电话和联系邮箱，"
             "保存后显示在“系统帮助 → 联系方式”。", "admin-region"),
        Step("数据导出", "“数据导出”可选择全国、某省或某市州生成汇总，文件保留 7 天。", "admin-exports"),
    )),
)

BY_SLUG = {guide.slug: guide for guide in GUIDES}


def shots_used() -> set[str]:
    return {step.shot for guide in GUIDES for step in guide.steps if step.shot}
