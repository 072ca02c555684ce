"""What the review screen's comparisons show: changes grouped by the indicator sections of REFERENCE §2, changes from
and to zero, large decreases flagged as well as large increases, and changed explanations of warnings."""
from review.diff import Change, diff_snapshots, group_by_section


def stats(**values):
    labels = {"staff_total": "从业人员（人）", "staff_master": "硕士", "instruments_total": "仪器设备（台套）",
              "lab_area": "实验室面积（平方米）", "revenue": "营业收入（万元）",
              "reports_total": "出具检验检测报告（份）", "patents_valid": "有效专利（项）",
              "enterprise_costs": "营业成本（万元）"}
    return [{"name": name, "label": labels[name], "value": value} for name, value in values.items()]


def snapshot(statistics, warnings=(), institution=None, annual_report=()):
    return {"statistics": statistics, "annual_report": list(annual_report), "sr_reports": [],
            "warnings": list(warnings), "institution": institution or {"name": "长沙甲", "sites": ["长沙市岳麓区"]}}


def change(old, new, label="营业收入（万元）"):
    return Change("statistics.revenue", "业务量", label, old, new)


def test_changes_are_grouped_by_the_indicator_sections_in_reading_order():
    old = snapshot(stats(staff_total=50, staff_master=5, instruments_total=10, lab_area=2400, revenue=800,
                         reports_total=1000, patents_valid=2, enterprise_costs=600))
    new = snapshot(stats(staff_total=52, staff_master=6, instruments_total=10, lab_area=2500, revenue=800,
                         reports_total=1100, patents_valid=3, enterprise_costs=650),
                   institution={"name": "长沙甲", "sites": ["长沙市岳麓区", "长沙市雨花区"]},
                   annual_report=[{"name": "conduct", "label": "二、遵守检验检测机构从业规范的情况", "value": "新"}])
    sections = group_by_section(diff_snapshots(old, new))
    assert [(s.name, [c.label for c in s.changes]) for s in sections] == [
        ("基本情况", ["检验检测场所"]),
        ("人员", ["从业人员（人）", "硕士"]),
        ("场地与资产", ["实验室面积（平方米）"]),
        ("业务量", ["出具检验检测报告（份）"]),
        ("科研与标准", ["有效专利（项）"]),
        ("财务", ["营业成本（万元）"]),
        ("年度报告", ["二、遵守检验检测机构从业规范的情况"]),
    ]


def test_a_change_from_zero_is_shown_and_flagged_as_a_large_increase():
    c = change("0", "120")
    assert (c.trend, c.relative, c.is_large) == ("from_zero", None, True)
    assert c.change_text == "由 0 变为非零" and c.flag_text == "大幅增加"
    assert [x.key for x in diff_snapshots(snapshot(stats(revenue=0)), snapshot(stats(revenue=120)))] == [
        "statistics.revenue"]


def test_a_change_to_zero_is_shown_and_flagged_as_a_large_decrease():
    c = change("860.5", "0")
    assert (c.trend, c.is_large, c.flag_text) == ("to_zero", True, "大幅减少")
    assert c.change_text == "降为 0（-100%）"


def test_large_decreases_are_flagged_as_well_as_large_increases_beyond_the_warning_limit():
    assert (change("1000", "400").flag_text, change("1000", "400").change_text) == ("大幅减少", "-60.0%")
    assert (change("100", "160").flag_text, change("100", "160").change_text) == ("大幅增加", "+60.0%")
    assert change("1000", "500").is_large is False  # exactly 50 % is within the limit, as for the warnings
    assert change("100", "120").flag_text == "" and change("100", "120").change_text == "+20.0%"


def test_a_blank_becoming_a_number_or_text_changing_has_no_percentage():
    assert change(None, "0").trend is None and change(None, "0").change_text == ""
    assert change("旧说明", "新说明").is_large is False


def test_changed_new_and_withdrawn_warning_explanations_are_listed_under_their_own_section():
    old = snapshot(stats(revenue=0), warnings=[
        {"code": "W211", "message": "出具了检验检测报告但“营业收入”为零，请说明原因。", "explanation": "免费检测。"},
        {"code": "W203", "message": "报告数量变化超过50%", "explanation": "业务调整。"},
        {"code": "W201", "message": "从业人员变化超过50%", "explanation": "同上。"},
    ])
    new = snapshot(stats(revenue=0), warnings=[
        {"code": "W211", "message": "出具了检验检测报告但“营业收入”为零，请说明原因。",
         "explanation": "政府委托免费检测。"},
        {"code": "W201", "message": "从业人员变化超过50%", "explanation": "同上。"},
        {"code": "W202", "message": "营业收入变化超过50%", "explanation": ""},
    ])
    sections = group_by_section(diff_snapshots(old, new))
    assert [s.name for s in sections] == ["预警说明"]
    assert [(c.key, c.old_text, c.new_text) for c in sections[0].changes] == [
        ("warnings.W211", "免费检测。", "政府委托免费检测。"),
        ("warnings.W202", "（本次无此预警）", "（未填写说明）"),
        ("warnings.W203", "业务调整。", "（本次无此预警）"),
    ]
    assert sections[0].changes[0].label.startswith("【W211】")
