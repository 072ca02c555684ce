"""批量审核通过 on the embedded default: SQLite answers which submissions carry an unexplained warning, the queue
counts 全部 with it, and each filing is approved on its own (issue 14 §4)."""
from django.urls import reverse

from accounts.models import User
from filings.models import Filing
from filings.selectors import current_year
from review import selectors


def test_bulk_approval_counts_and_skips_an_unexplained_warning_on_sqlite(login):
    client = login("province")
    reviewer = User.objects.get(username="province")
    awaiting = list(selectors.review_queue(reviewer, current_year())[:2])  # the queue page's rows
    assert len(awaiting) == 2, "the demo has filings awaiting the province's review"
    plain, warned = awaiting
    snapshot = warned.snapshots.order_by("-number").first()
    warned.snapshots.filter(pk=snapshot.pk).update(data={**snapshot.data, "warnings": [
        {"code": "W211", "message": "营业收入为零", "explanation": ""}]})

    queue = client.get(reverse("review:queue"))
    assert queue.context["all_count"] == queue.context["page"].paginator.count - 1

    response = client.post(reverse("review:bulk_approve"),
                           {"filing": [f"{f.pk}:{f.version}" for f in awaiting]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["审核通过 1 份；1 份有未说明的预警，已跳过。"]
    assert Filing.objects.get(pk=plain.pk).status == Filing.Status.APPROVED
    assert Filing.objects.get(pk=warned.pk).status == warned.status
