"""评审组 on the embedded default: the demo's review group (SAMR's, with `group1` as member and three Changsha
institutions) is listed for SAMR; group1's queue holds only the group's filings, it decides one in the group's name,
and the province no longer decides them."""
from django.urls import reverse

from filings.models import Filing
from institutions.demo import DEMO_GROUP_INSTITUTIONS, DEMO_REVIEW_GROUP
from institutions.models import Institution, ReviewingAuthority


def test_samr_sees_the_demo_group_with_its_institutions(login):
    page = login("samr").get(reverse("institutions:review_groups")).content.decode()
    assert DEMO_REVIEW_GROUP in page
    assert Institution.objects.filter(review_group__name=DEMO_REVIEW_GROUP).count() == DEMO_GROUP_INSTITUTIONS


def test_group1_decides_only_the_groups_filings_in_its_name(login):
    client = login("group1")
    assert DEMO_REVIEW_GROUP in client.get(reverse("home")).content.decode()
    queue = client.get(reverse("review:queue")).context["page"].object_list
    assert all(filing.institution.reviewing_authority == ReviewingAuthority.GROUP for filing in queue)
    awaiting = Filing.objects.filter(institution__review_group__name=DEMO_REVIEW_GROUP,
                                     status__in=["submitted", "in_review"]).order_by("pk").first()
    if awaiting is None:  # the seed left none of the group's filings waiting: its decided ones name the group
        decided = Filing.objects.filter(institution__review_group__name=DEMO_REVIEW_GROUP).exclude(
            status__in=["draft"]).first()
        if decided is not None:
            page = client.get(reverse("review:detail", args=[decided.pk])).content.decode()
            assert f"评审组：{DEMO_REVIEW_GROUP}" in page
        return
    assert login("province").post(reverse("review:start_review", args=[awaiting.pk])).status_code == 403
    client = login("group1")
    if awaiting.status == Filing.Status.SUBMITTED:
        client.post(reverse("review:start_review", args=[awaiting.pk]))
    awaiting.refresh_from_db()
    client.post(reverse("review:approve", args=[awaiting.pk]), {"version": awaiting.version, "comment": "同意"})
    awaiting.refresh_from_db()
    assert awaiting.status == Filing.Status.APPROVED
    page = client.get(reverse("review:detail", args=[awaiting.pk])).content.decode()
    assert f"评审组：{DEMO_REVIEW_GROUP}" in page
