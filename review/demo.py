"""Demo review data for seed_demo: reviewers' field comments on the returned 2023 filings and the city bureaus'
chasing log (催报记录) for institutions that have not submitted."""
import datetime

from django.utils import timezone

from accounts.models import User
from filings.models import Filing, FilingTransition

from .models import ChasingRecord, FieldComment

FIELD_COMMENTS = [
    ("statistics.revenue", "营业收入（万元）", "营业收入与上年相比变化较大，请核对是否按法人口径汇总了各场所收入。"),
    ("statistics.reports_total", "出具检验检测报告（份）", "报告数量应与上传的报告编号数量一致，请核对。"),
]
CHASING_NOTES = [
    ("phone", "已电话联系机构联系人，对方表示本周内完成填报。"),
    ("sms", "已发送短信提醒填报截止时间。"),
    ("phone", "联系人变更，已获取新联系人电话并告知填报要求。"),
    ("visit", "结合日常监督检查当面督促填报。"),
]


def seed_review(rng, institutions) -> str:
    # Chasing is logged by the demo city officers, in their own cities.
    officers = {
        user.region.code: user
        for user in User.objects.filter(username__in=["city", "city2"]).select_related("region")
    }
    returns = FilingTransition.objects.filter(
        action="return_for_correction", filing__status=Filing.Status.RETURNED, filing__year__year=2023
    ).select_related("actor")
    comments = [
        FieldComment(filing_id=t.filing_id, transition=t, field=field, label=label, text=text, created_by=t.actor,
                     created_at=t.at)
        for t in returns
        for field, label, text in rng.sample(FIELD_COMMENTS, rng.randint(1, len(FIELD_COMMENTS)))
    ]
    FieldComment.objects.bulk_create(comments)

    not_submitted = set(Filing.objects.filter(year__year=2023, status=Filing.Status.DRAFT)
                        .values_list("institution_id", flat=True))
    filed = set(Filing.objects.filter(year__year=2023).values_list("institution_id", flat=True))
    today = timezone.localdate()
    records = []
    for institution in institutions:
        late = institution.pk in not_submitted or institution.pk not in filed
        officer = officers.get(institution.city.code)
        if not late or officer is None or rng.random() > 0.6:
            continue
        for days_ago in sorted(rng.sample(range(1, 30), rng.randint(1, 2)), reverse=True):
            channel, note = rng.choice(CHASING_NOTES)
            records.append(ChasingRecord(
                institution=institution, year=2023, channel=channel, note=note,
                contacted_on=today - datetime.timedelta(days=days_ago),
                recorded_by=officer,
            ))
    ChasingRecord.objects.bulk_create(records, batch_size=1000)
    return f"审核意见 {len(comments)} 条（退回的填报），催报记录 {len(records)} 条。"
