"""Reads of the register, always scoped through accounts.scoping.visible_to."""
import datetime
from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.permissions import authority_q, can_decide_identity_changes, can_import_register, has_own_institution
from accounts.scoping import visible_to
from filings.models import Filing

from .fields import CityChoiceIterator
from .models import (
    CertificateLevel,
    CmaCertificate,
    IdentityChangeRequest,
    Institution,
    OtherQualification,
    ProfessionalField,
    Region,
    ReviewGroup,
    ReviewingAuthority,
    Site,
    reviewing_authority_name,
)


class InstitutionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="名称或信用代码", method="search")
    city = django_filters.ModelChoiceFilter(label="所在市州", queryset=Region.objects.none(), empty_label="全部市州")
    nature = django_filters.ChoiceFilter(label="机构性质", choices=Institution.Nature.choices, empty_label="全部性质")
    field = django_filters.ModelChoiceFilter(
        label="专业领域", field_name="professional_fields", queryset=ProfessionalField.objects.all(),
        empty_label="全部领域",
    )
    authority = django_filters.ChoiceFilter(
        label="审核单位", field_name="reviewing_authority", choices=ReviewingAuthority.choices,
        empty_label="全部审核单位",
    )
    level = django_filters.ChoiceFilter(
        label="证书级别", method="by_level", empty_label="全部证书级别",
        choices=[*CertificateLevel.choices, ("both", "同时持有两级")],
    )

    class Meta:
        model = Institution
        fields = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["city"].queryset = visible_cities(user)
        region = user.region  # an officer's city or a reviewer's province; None for SAMR and admins
        province = region.parent if region is not None and region.level == Region.Level.CITY else region
        if province is not None and province.level == Region.Level.PROVINCE:
            self.filters["authority"].extra["choices"] = [
                (value, reviewing_authority_name(value, province.name)) for value in ReviewingAuthority.values
            ]
        for name in self.form.fields:
            widget = self.form.fields[name].widget
            widget.attrs["class"] = "form-select" if isinstance(widget, forms.Select) else "form-control"
        self.form.fields["q"].widget.attrs.update({"placeholder": "机构名称或统一社会信用代码", "type": "search"})
        # Grouped by province, and read as a plain query: Django's own choice iterator opens a server-side cursor,
        # whose fast-start plan took 0.5 s over 53,000 institutions.
        city = self.form.fields["city"]
        city.iterator = CityChoiceIterator
        city.queryset = city.queryset

    def search(self, queryset, name, value):
        return queryset.filter(name_or_code_q(value))

    def by_level(self, queryset, name, value):
        def holds(level):
            return Exists(CmaCertificate.objects.filter(institution=OuterRef("pk"), level=level))

        if value == "both":
            return queryset.filter(holds(CertificateLevel.NATIONAL), holds(CertificateLevel.PROVINCIAL))
        return queryset.filter(holds(value))


def import_region_for(user) -> Region | None:
    """The region an import of this user covers: a provincial reviewer's province; the nation for an admin (who
    has no region); None for those who may not import the register."""
    if not can_import_register(user):
        return None
    return user.region or Region.objects.get(level=Region.Level.NATION)


def name_or_code_q(value, prefix="") -> Q:
    """Institutions whose name contains `value` or whose credit code is `value` (any case); `prefix` reaches the
    institution from another model ("institution__"). Blank matches every institution."""
    value = (value or "").strip()[:100]
    if not value:
        return Q()
    return Q(**{f"{prefix}name__icontains": value}) | Q(**{f"{prefix}credit_code__iexact": value.upper()})


def visible_cities(user):
    """The cities holding institutions the user may see, for the city filters. EXISTS per city (368 of them, each an
    index probe) rather than IN over every visible institution, which read the whole register (0.5 s at 53,000)."""
    visible = visible_to(user, Institution).filter(city=OuterRef("pk"))
    return Region.objects.filter(Exists(visible), level=Region.Level.CITY).order_by("code")


def institution_list(user, params):
    """The filter (for the form) and the institutions it selects, in list order."""
    queryset = visible_to(user, Institution).select_related("city")
    institution_filter = InstitutionFilter(params, queryset=queryset, user=user)
    return institution_filter, institution_filter.qs.order_by("city__code", "name", "pk")


def with_certificate_counts(page_queryset) -> list:
    """One page of the list (a sliced queryset) with national_count, provincial_count (valid today) and site_count,
    in one query: the page's ids are chosen in a subquery and only those rows are counted, so deep pages are as fast
    as the first."""
    today = timezone.localdate()
    valid = CmaCertificate.objects.filter(institution=OuterRef("pk"), issue_date__lte=today, expiry_date__gte=today)
    ordering = page_queryset.query.order_by
    return list(
        Institution.objects.filter(pk__in=page_queryset.values("pk")).select_related("city__parent", "review_group")
        .annotate(
            national_count=_count(valid.filter(level=CertificateLevel.NATIONAL)),
            provincial_count=_count(valid.filter(level=CertificateLevel.PROVINCIAL)),
            site_count=_count(Site.objects.filter(institution=OuterRef("pk"))),
        ).order_by(*ordering)
    )


def _count(queryset):
    counted = queryset.order_by().values("institution").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def profile(user, pk):
    """The institution with everything the profile page shows, or None when the user may not see it."""
    return (
        visible_to(user, Institution)
        .select_related("city__parent", "supervising_department", "parent", "reviewing_authority_chosen_by",
                        "review_group")
        .prefetch_related(
            "professional_fields", "sites",
            Prefetch(
                "cma_certificates",
                CmaCertificate.objects.select_related("issuer", "cma_field", "supervising_department"),
            ),
            "other_qualifications", "led_centres__co_builders", "co_built_centres__lead_institution", "sub_units",
        )
        .filter(pk=pk)
        .first()
    )


@dataclass
class Change:
    when: datetime.datetime
    who: str
    what: str
    action: str
    details: list[str]


ACTIONS = {"+": "新增", "~": "修改", "-": "删除"}


def change_history(institution, limit=50) -> list[Change]:
    """Who changed what, newest first: the profile and its sites, certificates and other qualifications."""
    fields_history = _fields_history_accessor()
    sources = [
        ("基本信息", institution.history.prefetch_related(
            Prefetch(fields_history, queryset=_fields_history_model().objects.select_related("professionalfield"))
        )),
        ("场所", Site.history.filter(institution_id=institution.pk)),
        ("资质认定证书", CmaCertificate.history.filter(institution_id=institution.pk)),
        ("其他资质", OtherQualification.history.filter(institution_id=institution.pk)),
    ]
    records = []
    for label, history in sources:
        rows = list(history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 50])
        previous_by_object = {}
        # Oldest first, so that each record can be compared with the one before it for the same object.
        for record in reversed(rows):
            previous = previous_by_object.get(record.id)
            previous_by_object[record.id] = record
            records.append((record, label, previous))
    records.sort(key=lambda item: item[0].history_date, reverse=True)
    changes = []
    for record, label, previous in records[:limit]:
        details = []
        if record.history_type == "~" and previous is not None:
            delta = record.diff_against(previous, foreign_keys_are_objs=False, excluded_fields=["professional_fields"]
                                        if label == "基本信息" else None)
            for change in delta.changes:
                field = record.instance_type._meta.get_field(change.field)
                details.append(f"{field.verbose_name}：{_shown(change.old)} → {_shown(change.new)}")
            if label == "基本信息":
                old, new = _field_names(previous, fields_history), _field_names(record, fields_history)
                if old != new:
                    details.append(f"专业领域：{'、'.join(old) or '（空）'} → {'、'.join(new) or '（空）'}")
        user = record.history_user
        who = (user.get_full_name() or user.username) if user else "系统"
        what = label if label == "基本信息" else f"{label} {record}"
        if record.history_change_reason:
            details.append(f"（{record.history_change_reason}）")
        changes.append(Change(record.history_date, who, what, ACTIONS.get(record.history_type, ""), details))
    return changes


def _fields_history_model():
    return _fields_history_relation().related_model


def _fields_history_relation():
    model = Institution.history.model
    return next(
        f for f in model._meta.get_fields() if f.is_relation and f.auto_created and "professional_fields" in f.name
    )


def _fields_history_accessor():
    return _fields_history_relation().get_accessor_name()


def _field_names(record, accessor):
    return sorted(row.professionalfield.name for row in getattr(record, accessor).all())


def _shown(value):
    if value in (None, ""):
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return f"{len(value)} 项"
    return str(value)[:60]


def filing_blockers(institution, first: datetime.date, last: datetime.date) -> list[tuple[str, str]]:
    """Why the institution may not file for the period: (code, message) for a missing site and for no
    qualification held during it. filings.checks uses this for E130/E131."""
    def held(item):
        return (item.issue_date is None or item.issue_date <= last) and (
            item.expiry_date is None or item.expiry_date >= first
        )

    blockers = []
    if not institution.sites.exists():
        blockers.append(("E130", "机构信息中至少要有一个检验检测场所地址，请先在“本单位信息”中补充。"))
    qualifications = list(institution.cma_certificates.all()) + list(institution.other_qualifications.all())
    if not any(held(item) for item in qualifications):
        period = f"{first.year}年度内" if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) else "当前"
        blockers.append(("E131", f"机构信息中没有{period}有效的资质认定证书或其他法定资质，请先补充。"))
    return blockers



# --- reviewing authority freeze -----------------------------------------------------------------------------------

# From submission until the decision the reviewing authority may not move: the authority that opened a filing decides
# it (a returned filing goes back to the same authority).
AUTHORITY_FROZEN_STATES = ("submitted", "in_review", "returned")


def authority_freeze(institution_id):
    """The institution's filing that holds its reviewing authority fixed now, or None."""
    return (
        Filing.objects.filter(institution_id=institution_id, status__in=AUTHORITY_FROZEN_STATES)
        .select_related("year").order_by("-year__year").first()
    )


def frozen_institution_ids(institution_ids) -> set:
    """Which of these institutions have their reviewing authority frozen (one query, for bulk writes)."""
    return set(
        Filing.objects.filter(institution_id__in=list(institution_ids), status__in=AUTHORITY_FROZEN_STATES)
        .values_list("institution_id", flat=True)
    )


def freeze_message(filing) -> str:
    return (
        f"本单位{filing.year}填报当前为“{filing.get_status_display()}”，审核单位自提交起至审核通过前不能更改；"
        "审核通过后（或撤回填报后）可重新选择。"
    )


# --- identity changes (信息变更申请) ----------------------------------------------------------------------------

IDENTITY_NOTICE_DAYS = 30


def identity_changes_to_decide(user):
    """The change requests the user's authority decides (province: province-reviewed institutions of its province;
    SAMR: SAMR-reviewed ones; admins: all), pending first, then newest."""
    requests = visible_to(user, IdentityChangeRequest)
    if not can_decide_identity_changes(user):
        return requests.none()
    requests = requests.filter(authority_q(user))
    pending_first = Case(When(status=IdentityChangeRequest.Status.PENDING, then=0), default=1)
    return requests.select_related("institution__city__parent", "institution__review_group", "city", "requested_by",
                                   "decided_by").order_by(
        pending_first, "-requested_at", "-pk"
    )


def identity_changes_of(user, institution):
    """An institution's change requests, newest first (scoped: its filers and the regulators who see it)."""
    return visible_to(user, IdentityChangeRequest).filter(institution=institution).select_related(
        "city", "requested_by", "decided_by"
    )


def identity_change_notices(user) -> list[tuple[str, str, str]]:
    """(text, url name, level) for the home page: a filer hears of decisions of the last 30 days; a reviewer of the
    requests waiting for them."""
    S = IdentityChangeRequest.Status
    if has_own_institution(user):
        since = timezone.now() - datetime.timedelta(days=IDENTITY_NOTICE_DAYS)
        decided = visible_to(user, IdentityChangeRequest).filter(
            status__in=[S.CONFIRMED, S.REFUSED], decided_at__gte=since
        ).order_by("-decided_at").first()
        if decided is None:
            return []
        if decided.status == S.CONFIRMED:
            return [(
                f"信息变更申请已于{timezone.localtime(decided.decided_at):%m月%d日}经审核部门确认，登记信息已更新。",
                "institutions:mine", "success",
            )]
        return [(f"信息变更申请未通过：{decided.decision_comment}", "institutions:mine", "warning")]
    if can_decide_identity_changes(user):
        count = identity_changes_to_decide(user).filter(status=S.PENDING).count()
        if count:
            return [(f"有 {count} 份机构信息变更申请待确认。", "institutions:identity_changes", "primary")]
    return []


# --- review groups (评审组, ADR 0029) ------------------------------------------------------------------------------

def review_groups():
    """Every review group with its numbers of members and institutions (one query), for SAMR's list."""
    return ReviewGroup.objects.annotate(
        member_count=Count("members", distinct=True), institution_count=Count("institutions", distinct=True),
    ).order_by("-is_active", "name")


def review_group_institutions(group):
    return group.institutions.select_related("city__parent").order_by("city__code", "name", "pk")


def institutions_to_assign(query, limit=20):
    """Register search for assigning institutions to a group (by name or credit code); SAMR sees the nation."""
    if not (query or "").strip():
        return []
    return list(Institution.objects.filter(name_or_code_q(query)).select_related("city__parent", "review_group")
                .order_by("city__code", "name", "pk")[:limit])


def authority_names_at(institution, moments) -> dict:
    """{moment: the institution's reviewing authority as it was named at that moment}, from the register's history:
    a decision keeps the authority, and the review group's name, it was made under, whatever happened since. Two
    queries whatever the number of moments; a moment before any history record takes the current values."""
    moments = sorted(set(moments))
    if not moments:
        return {}
    rows = list(institution.history.filter(history_date__lte=moments[-1]).order_by("history_date", "history_id")
                .values_list("history_date", "reviewing_authority", "review_group_id"))
    current = (institution.reviewing_authority, institution.review_group_id)

    def state_at(moment):
        before = [(authority, group) for at, authority, group in rows if at <= moment]
        return before[-1] if before else current

    states = {moment: state_at(moment) for moment in moments}
    group_ids = {group for _, group in states.values() if group}
    names = list(ReviewGroup.history.filter(id__in=group_ids, history_date__lte=moments[-1])
                 .order_by("history_date", "history_id").values_list("id", "history_date", "name")) if group_ids else []
    current_names = dict(ReviewGroup.objects.filter(pk__in=group_ids).values_list("pk", "name")) if group_ids else {}

    def group_name(group, moment):
        before = [name for pk, at, name in names if pk == group and at <= moment]
        return before[-1] if before else current_names.get(group, "")

    return {moment: reviewing_authority_name(authority, institution.province_name,
                                             group_name(group, moment) if group else "")
            for moment, (authority, group) in states.items()}
