"""Demo filings for seed_demo: reporting years 2022 (closed, every filing approved) and 2023 (its window held open
around today so that the demo can be tried), with a realistic mix of 2023 states, their history and snapshots.

Figures follow REFERENCE §3: a typical institution has about 29 staff and 8.7 million yuan revenue, with a heavy tail.
Every generated filing passes the checks (tests/filings/test_demo.py runs them all), social responsibility reports of
the centres an institution leads included; a few 2023 figures move more than 50% from 2022 (explained warnings).
"""
import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from institutions.demo import _person
from institutions.models import Institution, NationalCentre, ReviewingAuthority

from . import peers, snapshots
from .models import (
    AnnualReport,
    Filing,
    FilingSnapshot,
    FilingStatistics,
    FilingTransition,
    ReportingYear,
    SocialResponsibilityReport,
    WarningExplanation,
)
from .progress import PROGRESS_LABELS, progress_label

S = Filing.Status
# Share of 2023 filings in each state; "not started" institutions have no filing at all.
STATE_WEIGHTS = [(None, 14), (S.DRAFT, 18), (S.SUBMITTED, 14), (S.IN_REVIEW, 8), (S.RETURNED, 6), (S.APPROVED, 40)]

ANNUAL_REPORT_TEXT = {
    "compliance": "本机构持续符合资质认定条件和要求：技术负责人、授权签字人保持稳定，人员持证上岗；"
                  "仪器设备按期检定校准；检测场所环境满足标准要求；管理体系运行有效，年度内部审核和管理评审已完成。",
    "conduct": "严格遵守《检验检测机构监督管理办法》和从业规范，独立、公正出具报告，未发生出具虚假或不实报告的情形；"
               "按规定公示资质信息并上传报告编号。",
    "activities": "全年围绕资质认定能力范围开展检验检测业务，主要服务于政府监督抽查、工程建设和社会委托检测，"
                  "报告按期出具，客户投诉均已按程序处理。",
}
ACHIEVEMENTS_TEXT = "参与地方产品质量提升行动，为重点企业提供技术帮扶和标准解读服务。"
RETURN_COMMENT = "营业收入与出具报告数量变化较大，请核对统计口径后更正，并补充说明。"
EXPLANATION_TEXT = "本年度新增检测场所并承接大型工程项目检测，业务量明显增长。"


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def _split(rng, total: int, shares: list[float]) -> list[int]:
    """Whole parts of `total` in roughly the given shares; the last part takes the remainder."""
    parts = [int(total * share * rng.uniform(0.8, 1.2)) for share in shares[:-1]]
    while sum(parts) > total:
        parts[parts.index(max(parts))] -= 1
    return [*parts, total - sum(parts)]


def demo_statistics(rng, nature: str, scale: float = 1.0) -> dict:
    """One institution's figures, every split adding up to its total."""
    staff = max(3, int(rng.lognormvariate(3.0, 0.9) * scale))
    instruments = max(5, int(staff * rng.uniform(3, 10)))
    imported = int(instruments * rng.uniform(0.03, 0.15))
    value_total = _money(instruments * rng.uniform(3, 8))
    value_imported = _money(float(value_total) * rng.uniform(0.15, 0.4))
    revenue = _money(staff * rng.uniform(15, 45))
    reports = int(float(revenue) * rng.uniform(5, 40))
    enforcement, judicial, other, commissioned = _split(rng, reports, [0.12, 0.01, 0.05, 0.82])
    patents = int(rng.expovariate(0.4))
    national = int(rng.expovariate(2.5))
    industry = int(rng.expovariate(1.5))
    values = dict(
        staff_total=staff,
        **dict(zip(["staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below"],
                   _split(rng, staff, [0.01, 0.1, 0.45, 0.44]), strict=True)),
        **dict(zip(["staff_senior_title", "staff_intermediate_title", "staff_junior_title", "staff_no_title"],
                   _split(rng, staff, [0.1, 0.25, 0.3, 0.35]), strict=True)),
        instruments_total=instruments, instruments_domestic=instruments - imported, instruments_imported=imported,
        instruments_over_500k=min(instruments, int(instruments * rng.uniform(0, 0.02))),
        instrument_value_total=value_total, instrument_value_domestic=value_total - value_imported,
        instrument_value_imported=value_imported,
        lab_area=_money(staff * rng.uniform(30, 80)), total_assets=_money(float(revenue) * rng.uniform(1, 2.5)),
        revenue=revenue, reports_total=reports, reports_enforcement=enforcement, reports_commissioned=commissioned,
        reports_judicial=judicial, reports_other=other,
        patents_valid=patents, patents_invention=min(patents, int(patents * rng.uniform(0, 0.5))),
        research_projects=int(rng.expovariate(0.5)),
        standards_national=national, standards_national_lead=min(national, int(rng.random() < 0.2)),
        standards_industry=industry, standards_industry_lead=min(industry, int(rng.random() < 0.3)),
    )
    if nature == Institution.Nature.ENTERPRISE:
        costs = _money(float(revenue) * rng.uniform(0.6, 0.9))
        values.update(enterprise_costs=costs, enterprise_profit=revenue - costs,
                      enterprise_taxes=_money(float(revenue) * rng.uniform(0.03, 0.08)),
                      enterprise_payroll=_money(float(revenue) * rng.uniform(0.25, 0.45)))
    else:
        subsidy = _money(float(revenue) * rng.uniform(0.1, 0.6))
        business = _money(float(revenue) * rng.uniform(0, 0.1))
        values.update(public_income_total=revenue + subsidy + business, public_income_subsidy=subsidy,
                      public_income_service=revenue, public_income_business=business,
                      public_expenditure=_money(float(revenue + subsidy) * rng.uniform(0.85, 1.05)))
    return values


def _scaled(values: dict, factor: float, rng, nature: str) -> dict:
    """`values` with every count and amount scaled by `factor`, splits re-made so they still add up."""
    staff = max(3, round(values["staff_total"] * factor))
    new = dict(values)
    new["staff_total"] = staff
    new.update(zip(["staff_doctorate", "staff_master", "staff_bachelor", "staff_college_or_below"],
                   _split(rng, staff, [0.01, 0.1, 0.45, 0.44]), strict=True))
    new.update(zip(["staff_senior_title", "staff_intermediate_title", "staff_junior_title", "staff_no_title"],
                   _split(rng, staff, [0.1, 0.25, 0.3, 0.35]), strict=True))
    instruments = max(5, round(values["instruments_total"] * factor))
    imported = min(instruments, values["instruments_imported"])
    new.update(instruments_total=instruments, instruments_domestic=instruments - imported,
               instruments_imported=imported, instruments_over_500k=min(instruments, values["instruments_over_500k"]))
    reports = round(values["reports_total"] * factor)
    new.update(zip(["reports_enforcement", "reports_judicial", "reports_other", "reports_commissioned"],
                   _split(rng, reports, [0.12, 0.01, 0.05, 0.82]), strict=True))
    new["reports_total"] = reports
    for amount in ("revenue", "total_assets", "enterprise_costs", "enterprise_taxes", "enterprise_payroll"):
        if values.get(amount) is not None:
            new[amount] = _money(float(values[amount]) * factor)
    if nature == Institution.Nature.ENTERPRISE:
        new["enterprise_profit"] = new["revenue"] - new["enterprise_costs"]
    else:
        new["public_income_service"] = new["revenue"]
        new["public_income_total"] = new["revenue"] + values["public_income_subsidy"] + values["public_income_business"]
    return new


SR_CONTRIBUTION = ("围绕湖南优势产业开展质量攻关和标准研制，为企业提供检测、培训和技术咨询服务，"
                   "支撑地方产品质量提升和产业转型升级。")
SR_RESPONSIBILITY = "坚持公正、科学、准确、诚信，依法独立开展检验检测，公开服务承诺，接受社会监督。"


def demo_sr_report(filing, centre, values: dict) -> SocialResponsibilityReport:
    """A centre's complete social responsibility report, within its legal entity's figures (`values`), that passes
    every check. Drawn from its own stream (seeded by centre and year) so the rest of the demo does not shift."""
    rng = random.Random(f"sr-{centre.name}-{filing.year.year}")
    first, last = datetime.date(filing.year.year, 1, 1), datetime.date(filing.year.year, 12, 31)
    certificate = next(
        (c.number for c in sorted(filing.institution.cma_certificates.all(), key=lambda c: c.number)
         if c.issue_date <= last and c.expiry_date >= first), "",
    )
    staff = max(3, int(values["staff_total"] * rng.uniform(0.3, 0.8)))
    management, testing, auxiliary = _split(rng, staff, [0.15, 0.75, 0.1])
    instruments = max(1, int(values["instruments_total"] * rng.uniform(0.3, 0.8)))
    lab_area = _money(float(values["lab_area"]) * rng.uniform(0.3, 0.8))
    national, industry = rng.randint(0, 3), rng.randint(0, 5)
    proficiency = rng.randint(2, 12)
    external = _money(rng.uniform(50, 800))
    institution = filing.institution
    return SocialResponsibilityReport(
        filing=filing, centre=centre, cma_certificate_number=certificate,
        accreditation_number=institution.cnas_number,
        address=institution.registered_address, postal_code=f"41{rng.randint(0, 9999):04d}",
        director_name=_person(rng), director_mobile=f"13{rng.randint(100000000, 999999999)}",
        quality_manager_name=_person(rng), quality_manager_phone=institution.contact_phone,
        quality_manager_mobile=f"15{rng.randint(100000000, 999999999)}",
        email=institution.contact_email,
        staff_total=staff, staff_management=management, staff_testing=testing, staff_auxiliary=auxiliary,
        fixed_assets=_money(float(values["total_assets"]) * rng.uniform(0.3, 0.8)),
        instruments=instruments, instruments_imported=min(instruments, int(instruments * rng.uniform(0.05, 0.2))),
        lab_area=lab_area,
        samr_sampling_batches=rng.randint(20, 400), other_sampling_batches=rng.randint(50, 1500),
        ccc_batches=rng.randint(0, 200), licence_batches=rng.randint(0, 120), arbitration_batches=rng.randint(0, 30),
        proficiency_batches=proficiency, proficiency_organised=rng.randint(0, proficiency // 3),
        proficiency_self_organised=rng.randint(0, 4),
        national_standards=national, national_standards_lead=rng.randint(0, national),
        industry_standards=industry, industry_standards_lead=rng.randint(0, industry),
        new_staff=rng.randint(0, staff // 5), new_instruments=rng.randint(0, instruments // 5),
        new_instrument_investment=_money(rng.uniform(20, 500)),
        lab_area_added=_money(float(lab_area) * rng.uniform(0, 0.1)),
        research_completed=rng.randint(0, 8), research_funding=_money(rng.uniform(10, 300)),
        research_share=_money(rng.uniform(2, 15)), commissioned_batches=rng.randint(500, 20000),
        commissioned_growth=_money(rng.uniform(-10, 25)), commissioned_income_share=_money(rng.uniform(30, 85)),
        income_growth=_money(rng.uniform(-8, 20)),
        external_funding=external, external_funding_state=_money(float(external) * rng.uniform(0, 0.7)),
        contribution=SR_CONTRIBUTION, responsibility=SR_RESPONSIBILITY,
    )


def _years():
    """2022 with its real (closed) window; 2023 held open around today for the demo. Review closes with each window,
    as by default (ReportingYear.apply_defaults)."""
    now = timezone.now()
    previous, _ = ReportingYear.objects.get_or_create(year=2022)
    current, _ = ReportingYear.objects.get_or_create(year=2023, defaults={
        "opens_at": now - datetime.timedelta(days=60), "closes_at": now + datetime.timedelta(days=45),
    })
    return previous, current


def _reviewer(institution, reviewers):
    """SAMR's demo reviewer, the demo review group's member, or the institution's own province's (province42 for
    Hubei; `province` for Hunan)."""
    if institution.reviewing_authority == ReviewingAuthority.SAMR:
        return reviewers["samr"]
    if institution.reviewing_authority == ReviewingAuthority.GROUP:
        return reviewers["group1"]
    return reviewers.get(institution.city.parent_id, reviewers["province"])


def seed_filings(rng, institutions) -> str:
    previous_year, year = _years()
    users = User.objects.in_bulk(["admin", "province", "samr", "filer", "group1"], field_name="username")
    reviewers = {"province": users["province"], "samr": users["samr"], "group1": users["group1"]}
    further = User.objects.provincial_reviewers().exclude(username="province")  # seed_demo --provinces
    reviewers.update({user.region_id: user for user in further})
    # Seeded history is recorded under the admin account: demo institutions have no filer accounts of their own.
    system = users["admin"]
    demo_filer_institution = users["filer"].institution_id
    now = timezone.now()
    states, weights = zip(*STATE_WEIGHTS, strict=True)

    plans = []  # (institution, 2022 values, 2023 values, 2023 state)
    for institution in institutions:
        before = demo_statistics(rng, institution.nature) if rng.random() < 0.9 else None
        state = rng.choices(states, weights)[0]
        if institution.pk == demo_filer_institution:
            state = None  # the demo filer starts this year's filing themselves
        after = _scaled(before, rng.uniform(0.9, 1.15) if rng.random() > 0.08 else rng.uniform(1.55, 1.9), rng,
                        institution.nature) if before else demo_statistics(rng, institution.nature)
        plans.append((institution, before, after, state))

    with transaction.atomic():
        filings = []
        for institution, before, after, state in plans:
            if before:
                filings.append((Filing(institution=institution, year=previous_year, status=S.APPROVED, version=3,
                                       statistics_saved_at=now,
                                       submitted_at=previous_year.opens_at + datetime.timedelta(days=40),
                                       decided_at=previous_year.opens_at + datetime.timedelta(days=75)), before))
            if state:
                filings.append((Filing(institution=institution, year=year, status=state, version=2,
                                       statistics_saved_at=now), after))
        Filing.objects.bulk_create([filing for filing, _ in filings], batch_size=1000)
        FilingStatistics.objects.bulk_create(
            [FilingStatistics(filing=filing, **values) for filing, values in filings], batch_size=1000)
        AnnualReport.objects.bulk_create([
            AnnualReport(filing=filing, **ANNUAL_REPORT_TEXT,
                         achievements=ACHIEVEMENTS_TEXT if rng.random() < 0.3 else "")
            for filing, _ in filings if filing.status != S.DRAFT or rng.random() < 0.5
        ], batch_size=1000)
        centres_by_lead = {}
        for centre in NationalCentre.objects.order_by("name"):
            centres_by_lead.setdefault(centre.lead_institution_id, []).append(centre)
        sr_reports = []
        for filing, values in filings:
            if not hasattr(filing, "annual_report"):
                AnnualReport.objects.get_or_create(filing=filing)
            for centre in centres_by_lead.get(filing.institution_id, []):
                sr_reports.append(demo_sr_report(filing, centre, values))
        SocialResponsibilityReport.objects.bulk_create(sr_reports)
        _history(rng, [filing for filing, _ in filings if filing.status != S.DRAFT], system, reviewers, now)

    counts = dict.fromkeys(PROGRESS_LABELS.values(), 0)
    for _, _, _, state in plans:
        counts[progress_label(state)] += 1
    detail = "，".join(f"{label} {n}" for label, n in counts.items())
    return f"统计年度 2022（已全部审核通过）与 2023（演示用：填报窗口开放中）：2023 年度 {detail}。"


def _history(rng, filings, system, reviewers, now):
    """Transitions and snapshots as the state machine would have written them."""
    transitions, snapshot_rows, explanations = [], [], []
    # Every filing's peer comparisons at once (a fixed number of queries instead of a few per filing).
    comparisons = peers.peer_comparisons(
        Filing.objects.filter(year_id__in={filing.year_id for filing in filings}).exclude(status=S.DRAFT)
    )
    for filing in filings:
        reviewer = _reviewer(filing.institution, reviewers)
        current = filing.year.year == 2023
        submitted_at = now - datetime.timedelta(days=rng.randint(5, 50)) if current else filing.submitted_at
        steps = [("submit", S.DRAFT, S.SUBMITTED, system, "")]
        if filing.status in (S.IN_REVIEW, S.RETURNED, S.APPROVED):
            steps.append(("start_review", S.SUBMITTED, S.IN_REVIEW, reviewer, ""))
        if filing.status == S.APPROVED:
            steps.append(("approve", S.IN_REVIEW, S.APPROVED, reviewer, ""))
        if filing.status == S.RETURNED:
            steps.append(("return_for_correction", S.IN_REVIEW, S.RETURNED, reviewer, RETURN_COMMENT))
        due = now + datetime.timedelta(days=14) if filing.status == S.RETURNED else None
        for offset, (action, source, target, actor, comment) in enumerate(steps):
            transitions.append(FilingTransition(
                filing=filing, action=action, from_status=source, to_status=target, actor=actor,
                at=submitted_at + datetime.timedelta(days=2 * offset), comment=comment,
                due=due if action == "return_for_correction" else None,
            ))
        Filing.objects.filter(pk=filing.pk).update(
            submitted_at=submitted_at, correction_due=due,
            decided_at=submitted_at + datetime.timedelta(days=2 * (len(steps) - 1))
            if filing.status in (S.APPROVED, S.RETURNED) else None,
        )
        filing.refresh_from_db()
        data = snapshots.snapshot_data(filing, 1, peer_comparisons=comparisons.get(filing.pk, []))
        data["submitted_at"] = timezone.localtime(submitted_at).isoformat(timespec="seconds")
        # Warnings (a year-on-year jump) come with the filer's explanation, as they must before submission.
        for warning in data["warnings"]:
            warning["explanation"] = EXPLANATION_TEXT
            explanations.append(WarningExplanation(filing=filing, code=warning["code"], text=EXPLANATION_TEXT))
        snapshot_rows.append(FilingSnapshot(filing=filing, number=1, data=data, created_at=submitted_at,
                                            fingerprint=FilingSnapshot.fingerprint_of(data)))
    FilingTransition.objects.bulk_create(transitions, batch_size=1000)
    FilingSnapshot.objects.bulk_create(snapshot_rows, batch_size=500)
    WarningExplanation.objects.bulk_create(explanations, batch_size=1000)

