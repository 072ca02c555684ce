"""Who publishes to which region: admins anywhere, SAMR to the nation, a provincial reviewer to their province only;
a region outside the publisher's scope is refused, by the page and by the service, and nothing is saved."""
import pytest
from django.urls import reverse

from accounts import permissions
from notices import services
from notices.models import Notice
from tests import factories


def _notice_data(region, **values):
    return {"title": "关于统计直报的通知", "body": "正文", "region": region.pk, "public": "on", **values}


@pytest.mark.parametrize("publisher, allowed", [
    ("admin", {"000000", "430000", "420000"}),
    ("samr_reviewer", {"000000"}),
    ("provincial_reviewer", {"430000"}),
    ("city_officer", set()),
    ("filer", set()),
])
def test_who_may_publish_to_which_region(people, regions, publisher, allowed):
    may = {code for code in ("000000", "430000", "420000", "430100")
           if permissions.can_publish_notice(people[publisher], regions[code])}
    assert may == allowed  # never a city: a notice goes to the nation or one province


def test_provincial_reviewer_cannot_post_another_provinces_id(client, people, regions):
    client.force_login(people["provincial_reviewer"])
    response = client.post(reverse("notices:create"), _notice_data(regions["420000"]))
    assert response.status_code == 400
    assert "您不能向所选范围发布通知" in response.content.decode()
    assert not Notice.objects.exists()


def test_the_service_refuses_a_region_outside_scope_whatever_the_caller(people, regions):
    with pytest.raises(services.NoticeRefused, match="省局审核人员只能发往本省"):
        services.publish_notice(actor=people["provincial_reviewer"], title="越权", body="正文",
                                region=regions["420000"])
    with pytest.raises(services.NoticeRefused):
        services.publish_notice(actor=people["samr_reviewer"], title="越权", body="正文", region=regions["430000"])
    assert not Notice.objects.exists()


def test_provincial_reviewer_publishes_to_own_province(client, people, regions, media):
    client.force_login(people["provincial_reviewer"])
    page = client.get(reverse("notices:create")).content.decode()
    assert "湖北省" not in page and "湖南省" in page  # the only choice offered
    response = client.post(reverse("notices:create"), _notice_data(regions["430000"], pinned="on"))
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert (notice.region, notice.author, notice.pinned, notice.public) == (
        regions["430000"], people["provincial_reviewer"], True, True)


def test_city_officers_and_filers_do_not_publish(client, people, regions):
    for role in ("city_officer", "filer"):
        client.force_login(people[role])
        assert client.post(reverse("notices:create"), _notice_data(regions["000000"])).status_code == 403
    assert not Notice.objects.exists()


def test_a_reviewer_cannot_move_a_notice_out_of_scope_by_editing(client, people, regions):
    notice = factories.NoticeFactory(author=people["provincial_reviewer"])
    client.force_login(people["provincial_reviewer"])
    response = client.post(reverse("notices:edit", args=[notice.pk]), _notice_data(regions["000000"], title="改"))
    assert response.status_code == 400
    notice.refresh_from_db()
    assert notice.region == regions["430000"] and notice.title != "改"


def test_another_provinces_reviewer_cannot_edit_or_withdraw(client, people):
    notice = factories.NoticeFactory(author=people["provincial_reviewer"])
    client.force_login(people["hubei_reviewer"])
    assert client.get(reverse("notices:edit", args=[notice.pk])).status_code == 404  # not even seen
    assert client.post(reverse("notices:withdraw", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.withdrawn_at is None


def test_a_colleague_of_the_same_province_edits_the_bureaus_notice(client, people, regions):
    notice = factories.NoticeFactory(author=people["provincial_reviewer"])
    colleague = factories.ProvincialReviewerFactory(region=regions["430000"])
    client.force_login(colleague)
    response = client.post(reverse("notices:edit", args=[notice.pk]), _notice_data(regions["430000"], title="更正"))
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.title == "更正" and notice.author == people["provincial_reviewer"]


def test_withdrawn_notice_cannot_be_edited(people, regions):
    notice = factories.NoticeFactory(author=people["provincial_reviewer"])
    services.withdraw_notice(notice, actor=people["provincial_reviewer"])
    with pytest.raises(services.NoticeRefused, match="已撤回"):
        services.edit_notice(notice, actor=people["provincial_reviewer"], title="改", body="改",
                             region=regions["430000"], public=False, pinned=False)
    with pytest.raises(services.NoticeRefused, match="已经撤回"):
        services.withdraw_notice(notice, actor=people["admin"])


def test_body_is_plain_text_escaped_with_paragraphs(client, people, regions):
    notice = services.publish_notice(actor=people["admin"], title="<b>标题</b>", region=regions["000000"],
                                     body="第一段<script>alert(1)</script>\n\n第二段")
    client.force_login(people["filer"])
    page = client.get(reverse("notices:detail", args=[notice.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<p>第一段" in page and "<p>第二段</p>" in page
    assert "&lt;b&gt;标题&lt;/b&gt;" in page
