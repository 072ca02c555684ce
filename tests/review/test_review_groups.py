"""评审组 (issue 14 §8, ADR 0029): SAMR sets up review groups, keeps their members and assigns institutions; a member
sees and decides exactly its groups' filings, the province and SAMR no longer decide them, the filer cannot choose or
leave, a removal applies at once, and decisions keep the group's name as it was when they were made."""
import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts import permissions
from accounts.models import User
from accounts.scoping import visible_to
from filings import selectors as filing_selectors, services as filing_services
from filings.models import Filing
from filings.pdf import receipt_authority
from institutions import review_groups, services as institution_services
from institutions.models import Institution, ReviewGroup, ReviewingAuthority
from review import services
from tests import factories
from tests.test_access import ALL, _request, _world_url, world  # noqa: F401 -- world is the matrix's fixture

from .conftest import due, filer_of

pytestmark = pytest.mark.django_db
S = Filing.Status
GROUP_NAME = "国家食品质检评审组"


@pytest.fixture
def samr(db):
    return factories.SamrReviewerFactory(first_name="总局审核员")


@pytest.fixture
def member(db):
    return factories.GroupReviewerFactory(username="group1", first_name="评审组成员")


@pytest.fixture
def group(samr, member):
    group = review_groups.create_review_group(actor=samr, name=GROUP_NAME)
    review_groups.add_member(group, actor=samr, username=member.username)
    return group


@pytest.fixture
def grouped(year, group, samr):
    """grouped(name=...) -> a submitted filing of a Changsha institution SAMR assigned to the group beforehand."""

    def make(name="长沙评审组检测有限公司", to=None):
        institution = factories.filing_ready_institution(name=name, city=factories.region("430100"))
        review_groups.assign_institution(to or group, institution, actor=samr)
        filer = factories.FilerFactory(institution=institution, email="filer@example.cn")
        filing = factories.make_filing(institution, year=year)
        return filing_services.submit_filing(filing, actor=filer, expected_version=filing.version)

    return make


def fresh(filing):
    return Filing.objects.select_related("institution__city", "year").get(pk=filing.pk)


def approve(filing, actor):
    filing = services.start_review(fresh(filing), actor=actor)
    return services.approve(filing, actor=actor, expected_version=filing.version, comment="同意")


def decision_names(filing):
    return [t.authority_name for t in filing_selectors.timeline(fresh(filing)) if getattr(t, "authority_name", "")]


# --- who sets groups up ---------------------------------------------------------------------------------------------

def test_only_samr_reviewers_and_admins_set_up_groups_and_assign(group, province_reviewer, member, client):
    institution = factories.filing_ready_institution()
    for outsider in (province_reviewer, member, factories.FilerFactory(), factories.CityOfficerFactory()):
        assert not permissions.can_manage_review_groups(outsider)
        with pytest.raises(PermissionDenied):
            review_groups.create_review_group(actor=outsider, name="另一评审组")
        with pytest.raises(PermissionDenied):
            review_groups.assign_institution(group, institution, actor=outsider)
        client.force_login(outsider)
        assert client.get(reverse("institutions:review_groups")).status_code == 403
        assert client.post(reverse("institutions:review_group_assign", args=[group.pk, institution.pk])).status_code \
            == 403
    admin = factories.AdminFactory()
    assert review_groups.create_review_group(actor=admin, name="管理员设立的评审组").created_by == admin
    assert Institution.objects.get(pk=institution.pk).review_group is None


@pytest.mark.parametrize("name", [
    "湖南省市场监督管理局", "国家市场监督管理总局", "湖南省市场监管局评审组", "总局评审组", "省局食品评审组",
    "长沙市局", "国家市场监督管理总局 ", "湖南省市场监督管理局（长沙）", "湖南省质监局",
])
def test_names_that_pass_for_a_bureau_are_refused(samr, name):
    with pytest.raises(review_groups.ReviewGroupRefused, match="监管部门"):
        review_groups.create_review_group(actor=samr, name=name)
    assert not ReviewGroup.objects.exists()


def test_a_name_that_reads_as_an_existing_groups_is_refused(group, samr):
    for name in ("国家食品质检评审组", " 国家食品质检 评审组", "国家食品质检评审组\u200b"):
        with pytest.raises(review_groups.ReviewGroupRefused, match="相同或难以区分"):
            review_groups.create_review_group(actor=samr, name=name)
    other = review_groups.create_review_group(actor=samr, name="机电评审组")
    with pytest.raises(review_groups.ReviewGroupRefused, match="监管部门"):
        review_groups.update_review_group(other, actor=samr, name="国家市场监督管理总局", is_active=True)
    assert ReviewGroup.objects.get(pk=other.pk).name == "机电评审组"


def test_only_group_reviewer_accounts_become_members(group, samr, province_reviewer):
    for account in (province_reviewer, samr, factories.FilerFactory(), factories.GroupReviewerFactory(is_active=False)):
        with pytest.raises(review_groups.ReviewGroupRefused, match="不是启用的评审组审核人员"):
            review_groups.add_member(group, actor=samr, username=account.username)
    with pytest.raises(review_groups.ReviewGroupRefused, match="没有用户名"):
        review_groups.add_member(group, actor=samr, username="nobody")
    assert list(group.members.values_list("username", flat=True)) == ["group1"]


def test_an_inactive_group_or_one_without_members_takes_no_institution(samr, group):
    institution = factories.filing_ready_institution()
    empty = review_groups.create_review_group(actor=samr, name="空评审组")
    with pytest.raises(review_groups.ReviewGroupRefused, match="尚无成员"):
        review_groups.assign_institution(empty, institution, actor=samr)
    review_groups.update_review_group(group, actor=samr, name=group.name, is_active=False)
    with pytest.raises(review_groups.ReviewGroupRefused, match="已停用"):
        review_groups.assign_institution(ReviewGroup.objects.get(pk=group.pk), institution, actor=samr)
    with pytest.raises(review_groups.ReviewGroupRefused, match="已停用"):
        review_groups.bulk_assign(ReviewGroup.objects.get(pk=group.pk), institution.credit_code, actor=samr)
    assert Institution.objects.get(pk=institution.pk).reviewing_authority == ReviewingAuthority.PROVINCE


def test_a_group_with_institutions_cannot_be_deactivated(group, grouped, samr):
    grouped()
    with pytest.raises(review_groups.ReviewGroupRefused, match="仍负责 1 家机构"):
        review_groups.update_review_group(group, actor=samr, name=group.name, is_active=False)


# --- who decides ----------------------------------------------------------------------------------------------------

def test_a_member_sees_and_decides_exactly_the_groups_filings(grouped, submit, member, client):
    own = grouped()
    province_filing = submit(name="长沙省局审核机构")
    samr_filing = submit(name="总局审核机构", authority=ReviewingAuthority.SAMR)
    assert set(visible_to(member, Filing)) == {own}
    assert set(visible_to(member, Institution)) == {own.institution}
    client.force_login(member)
    queue = client.get(reverse("review:queue"))
    assert [f.pk for f in queue.context["page"].object_list] == [own.pk]
    for other in (province_filing, samr_filing):
        assert client.get(reverse("review:detail", args=[other.pk])).status_code == 403
        assert not permissions.can_decide(member, other)
    approved = approve(own, member)
    assert approved.status == S.APPROVED
    assert fresh(own).transitions.filter(action="approve", actor=member).exists()


def test_members_of_another_group_and_inactive_groups_are_refused(grouped, group, samr):
    filing = grouped()
    stranger = factories.GroupReviewerFactory(username="group2")
    other = review_groups.create_review_group(actor=samr, name="机电评审组")
    review_groups.add_member(other, actor=samr, username=stranger.username)
    assert not visible_to(stranger, Filing).exists()
    with pytest.raises(PermissionDenied):
        services.start_review(fresh(filing), actor=stranger)
    lonely = factories.GroupReviewerFactory(username="group3")
    assert not visible_to(lonely, Filing).exists() and not visible_to(lonely, Institution).exists()


def test_the_province_and_samr_no_longer_decide_after_assignment(grouped, province_reviewer, samr, client):
    filing = grouped()
    for reviewer in (province_reviewer, samr):
        assert not permissions.can_decide(reviewer, fresh(filing))
        with pytest.raises(PermissionDenied):
            services.start_review(fresh(filing), actor=reviewer)
        client.force_login(reviewer)
        assert filing.pk not in [f.pk for f in client.get(reverse("review:queue")).context["page"].object_list]
        response = client.post(reverse("review:bulk_approve"), {"filing": f"{filing.pk}:{filing.version}"},
                               follow=True)
        assert "不在您的审核范围内" in " ".join(str(m) for m in response.context["messages"])
    # They still read it (their area), without a decision form.
    client.force_login(province_reviewer)
    page = client.get(reverse("review:detail", args=[filing.pk])).content.decode()
    assert f"评审组：{GROUP_NAME}" in page and "您只能查看" in page
    assert fresh(filing).status == S.SUBMITTED


def test_a_member_approves_in_bulk_and_grants_extensions_the_province_does_not(grouped, member, province_reviewer,
                                                                             client, year):
    filing = grouped()
    client.force_login(member)
    response = client.post(reverse("review:bulk_approve"), {"filing": f"{filing.pk}:{filing.version}"}, follow=True)
    assert "审核通过 1 份" in " ".join(str(m) for m in response.context["messages"])
    institution = filing.institution
    assert permissions.can_grant_extension(member, institution)
    assert not permissions.can_grant_extension(province_reviewer, institution)
    until = year.closes_at + datetime.timedelta(days=10)
    with pytest.raises(PermissionDenied):
        filing_services.grant_extension(institution, year, actor=province_reviewer, until=until, reason="设备检修")
    filing_services.grant_extension(institution, year, actor=member, until=until, reason="设备检修")
    handlers = set(User.objects.filter(permissions.extension_request_handlers_q(institution)))
    assert member in handlers and province_reviewer not in handlers


def test_removing_a_member_takes_effect_at_once(grouped, group, member, samr, client):
    filing = grouped()
    client.force_login(member)
    assert client.get(reverse("review:detail", args=[filing.pk])).status_code == 200
    review_groups.remove_member(group, actor=samr, user_id=member.pk)
    assert client.get(reverse("review:detail", args=[filing.pk])).status_code == 403
    assert not client.get(reverse("review:queue")).context["page"].object_list
    assert client.post(reverse("review:start_review", args=[filing.pk])).status_code in (403, 404)
    assert fresh(filing).status == S.SUBMITTED


# --- the filer ------------------------------------------------------------------------------------------------------

def test_the_filer_can_neither_choose_nor_leave_the_group(grouped, client):
    filing = grouped()
    institution, filer = filing.institution, filer_of(filing)
    filing_services.withdraw_filing(fresh(filing), actor=filer, expected_version=fresh(filing).version)
    for authority in (ReviewingAuthority.PROVINCE, ReviewingAuthority.SAMR, ReviewingAuthority.GROUP):
        with pytest.raises(ValidationError, match="不能自选审核单位"):
            institution_services.choose_reviewing_authority(institution, actor=filer, authority=authority)
    client.force_login(filer)
    client.post(reverse("institutions:choose_authority", args=[institution.pk]), {"authority": "province"})
    page = client.get(reverse("institutions:detail", args=[institution.pk])).content.decode()
    assert "审核单位已锁定，本单位不能自选或更改" in page and 'data-testid="authority-form"' not in page
    assert Institution.objects.get(pk=institution.pk).reviewing_authority == ReviewingAuthority.GROUP
    # A certificate change does not move it either.
    factories.CmaCertificateFactory(institution=institution, level="national")
    institution_services.refresh_reviewing_authority(Institution.objects.get(pk=institution.pk))
    assert Institution.objects.get(pk=institution.pk).review_group_id is not None


# --- moving institutions --------------------------------------------------------------------------------------------

def test_an_institution_with_a_filing_under_review_is_not_moved(grouped, group, samr, member):
    filing = grouped()
    other = review_groups.create_review_group(actor=samr, name="机电评审组")
    review_groups.add_member(other, actor=samr, username=factories.GroupReviewerFactory().username)
    for move in (lambda: review_groups.unassign_institution(filing.institution, actor=samr),
                 lambda: review_groups.assign_institution(other, filing.institution, actor=samr)):
        with pytest.raises(review_groups.ReviewGroupRefused, match="审核决定作出前不能"):
            move()
    approve(filing, member)
    unassigned = review_groups.unassign_institution(filing.institution, actor=samr)
    assert unassigned.reviewing_authority == ReviewingAuthority.PROVINCE and unassigned.review_group is None


def test_bulk_assignment_names_each_refused_line_and_assigns_none(group, samr, grouped, submit):
    free = factories.filing_ready_institution(name="待指定机构")
    frozen = submit(name="已提交机构").institution
    already = grouped().institution
    text = "\n".join([free.credit_code.lower(), "", "91430100XXXXXXXXXX", frozen.credit_code, already.credit_code,
                      free.credit_code])
    result = review_groups.bulk_assign(group, text, actor=samr)
    assert [(number, message[:8]) for number, _, message in result.errors] == [
        (3, "机构名录中没有该"), (4, "已提交机构的填报"), (5, already.name[:8]), (6, "与前面的行重复。")]
    assert Institution.objects.get(pk=free.pk).review_group is None
    result = review_groups.bulk_assign(group, f"{free.credit_code}\n", actor=samr)
    assert not result.errors and Institution.objects.get(pk=free.pk).review_group == group


def test_the_bulk_form_shows_the_errors_line_by_line(group, samr, client):
    client.force_login(samr)
    response = client.post(reverse("institutions:review_group_bulk_assign", args=[group.pk]), {"codes": "123"})
    assert response.status_code == 400
    assert "第 1 行（123）：机构名录中没有该统一社会信用代码的机构。" in response.content.decode()


# --- names ----------------------------------------------------------------------------------------------------------

def test_decisions_timeline_mail_and_pages_name_the_group(grouped, member, client, django_capture_on_commit_callbacks):
    filing = grouped()
    with django_capture_on_commit_callbacks(execute=True):
        approve(filing, member)
    label = f"评审组：{GROUP_NAME}"
    assert decision_names(filing) == [label, label]
    assert label in mail.outbox[-1].body
    institution = Institution.objects.get(pk=filing.institution_id)
    assert institution.reviewing_authority_name == label
    assert receipt_authority(fresh(filing).snapshots.first().data["institution"]) == label  # the receipt and PDFs
    client.force_login(member)
    assert label in client.get(reverse("review:detail", args=[filing.pk])).content.decode()
    client.force_login(filer_of(filing))
    assert label in client.get(reverse("filings:overview", args=[filing.pk])).content.decode()


def test_a_renamed_group_leaves_earlier_decisions_their_name(grouped, group, member, samr, province_reviewer):
    filing = grouped()
    approve(filing, member)
    review_groups.update_review_group(group, actor=samr, name="国家食品质检第一评审组", is_active=True)
    assert decision_names(filing) == [f"评审组：{GROUP_NAME}"] * 2
    renamed = Institution.objects.get(pk=filing.institution_id)
    assert renamed.reviewing_authority_name == "评审组：国家食品质检第一评审组"
    # Unassigned later, the old decisions still name the group; a new one names the province.
    review_groups.unassign_institution(filing.institution, actor=samr)
    returned = filing_services.quality_return_filing(
        fresh(filing), actor=samr, expected_version=fresh(filing).version, comment="请更正", due=due())
    filer = filer_of(filing)
    filing_services.submit_filing(fresh(returned), actor=filer, expected_version=fresh(returned).version)
    approve(filing, province_reviewer)
    assert decision_names(filing) == [f"评审组：{GROUP_NAME}"] * 2 + ["国家市场监督管理总局"] + \
        ["湖南省市场监督管理局"] * 2


def test_the_timeline_reads_a_fixed_number_of_queries(grouped, member, django_assert_max_num_queries):
    filing = grouped()
    approve(filing, member)
    with django_assert_max_num_queries(8):
        filing_selectors.timeline(fresh(filing))


# --- pages ----------------------------------------------------------------------------------------------------------

def test_samr_sets_up_a_group_adds_a_member_and_assigns_by_search(samr, member, client):
    institution = factories.filing_ready_institution(name="湘江检测有限公司")
    client.force_login(samr)
    response = client.post(reverse("institutions:review_groups"), {"group-name": GROUP_NAME})
    group = ReviewGroup.objects.get()
    assert response["Location"] == reverse("institutions:review_group", args=[group.pk])
    client.post(reverse("institutions:review_group_add_member", args=[group.pk]), {"username": "group1"})
    page = client.get(reverse("institutions:review_group", args=[group.pk]), {"q": institution.credit_code})
    assert "湘江检测有限公司" in page.content.decode()
    client.post(reverse("institutions:review_group_assign", args=[group.pk, institution.pk]))
    assert Institution.objects.get(pk=institution.pk).review_group == group
    listing = client.get(reverse("institutions:review_groups")).content.decode()
    assert GROUP_NAME in listing
    refused = client.post(reverse("institutions:review_groups"), {"group-name": "湖南省市场监督管理局"}, follow=True)
    assert "不能使用市场监管部门的名称" in refused.content.decode()
    history = ReviewGroup.history.filter(id=group.pk)
    assert history.exists() and history.first().history_user == samr


def test_a_members_home_page_names_its_groups(group, member, client):
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    assert GROUP_NAME in page and "评审组 · 审核工作台" in page


def test_the_review_screen_shows_a_member_the_decision_form(grouped, member, client):
    filing = grouped()
    client.force_login(member)
    client.post(reverse("review:start_review", args=[filing.pk]))
    assert fresh(filing).status == S.IN_REVIEW
    page = client.get(reverse("review:detail", args=[filing.pk])).content.decode()
    assert reverse("review:approve", args=[filing.pk]) in page


def test_a_group_reviewer_walks_every_page_without_a_server_error(world):  # noqa: F811 -- the access matrix's objects
    """Every URL of the access matrix, as the member of the matrix's review group (which holds the Zhuzhou
    institution, not the Changsha one the URLs name): no page fails, and none of SAMR's group pages lets it in."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(world["objects"]["group_member"])
    for name, pattern in ALL:
        if name.startswith("admin:"):
            continue
        response = _request(client, _world_url(name, pattern, world["objects"]), world["posts"].get(name, {}))
        assert response.status_code < 500, f"{name} answered {response.status_code}"
        if name.startswith("institutions:review_group"):
            assert response.status_code == 403, name


def test_the_group_confirms_identity_changes_of_its_institutions_the_province_does_not(group, samr, member,
                                                                                       province_reviewer, client):
    institution = factories.filing_ready_institution(name="长沙评审组检测有限公司")
    review_groups.assign_institution(group, institution, actor=samr)
    filer = factories.FilerFactory(institution=institution)
    change = institution_services.request_identity_change(
        institution, actor=filer, name="长沙评审组检测集团有限公司", legal_representative="赵强",
        credit_code=institution.credit_code, city=institution.city, reason="更名")
    client.force_login(province_reviewer)
    assert change not in client.get(reverse("institutions:identity_changes")).context["page"].object_list
    with pytest.raises(PermissionDenied):
        institution_services.decide_identity_change(change, actor=province_reviewer, confirm=True)
    client.force_login(member)
    assert change in client.get(reverse("institutions:identity_changes")).context["page"].object_list
    institution_services.decide_identity_change(change, actor=member, confirm=True)
    assert Institution.objects.get(pk=institution.pk).name == "长沙评审组检测集团有限公司"


def test_the_admin_site_keeps_the_groups_rules(group, grouped, client):
    grouped()
    admin = factories.AdminFactory()
    client.force_login(admin)
    url = reverse("admin:institutions_reviewgroup_change", args=[group.pk])
    members = [str(pk) for pk in group.members.values_list("pk", flat=True)]
    response = client.post(url, {"name": group.name, "members": members})  # is_active unticked
    assert response.status_code == 200 and "仍负责 1 家机构" in response.content.decode()
    response = client.post(url, {"name": "国家市场监督管理总局", "is_active": "on", "members": members})
    assert response.status_code == 200 and "不能使用市场监管部门的名称" in response.content.decode()
    assert ReviewGroup.objects.get(pk=group.pk).is_active and ReviewGroup.objects.get(pk=group.pk).name == GROUP_NAME
