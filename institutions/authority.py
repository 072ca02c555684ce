"""Who reviews an institution's filing, by the rule of the notice (§3(三)):

provincial certificates only → the province; national only → SAMR; both → the level whose valid certificates cover
more capability items (the institution may choose, the system proposes); a tie proposes the province.
"""
from dataclasses import dataclass

from django.utils import timezone

from .models import CertificateLevel, ReviewingAuthority


@dataclass(frozen=True)
class Derivation:
    authority: str
    reason: str
    provincial_items: int = 0
    national_items: int = 0
    provincial_count: int = 0
    national_count: int = 0

    @property
    def holds_both_levels(self) -> bool:
        return bool(self.provincial_count and self.national_count)


def derive_reviewing_authority(institution, certificates=None, *, today=None) -> Derivation:
    """The proposed authority with a Chinese reason; `certificates` may be given to avoid a query (bulk use)."""
    today = today or timezone.localdate()
    if certificates is None:
        certificates = institution.cma_certificates.all()
    valid = [c for c in certificates if c.issue_date <= today <= c.expiry_date]
    provincial = [c for c in valid if c.level == CertificateLevel.PROVINCIAL]
    national = [c for c in valid if c.level == CertificateLevel.NATIONAL]
    p_items = sum(c.capability_items for c in provincial)
    n_items = sum(c.capability_items for c in national)
    counts = dict(provincial_items=p_items, national_items=n_items,
                  provincial_count=len(provincial), national_count=len(national))
    if not provincial and not national:
        return Derivation(
            ReviewingAuthority.PROVINCE, "暂无有效的资质认定证书，默认由省局审核。", **counts
        )
    if not national:
        return Derivation(
            ReviewingAuthority.PROVINCE,
            f"仅持有省级资质认定证书（{len(provincial)} 张有效），由省局审核。",
            **counts,
        )
    if not provincial:
        return Derivation(
            ReviewingAuthority.SAMR,
            f"仅持有国家级资质认定证书（{len(national)} 张有效），由总局审核。",
            **counts,
        )
    both = (
        f"同时持有国家级（{len(national)} 张，{n_items} 项能力）"
        f"和省级（{len(provincial)} 张，{p_items} 项能力）证书"
    )
    if n_items > p_items:
        return Derivation(
            ReviewingAuthority.SAMR, f"{both}，国家级证书覆盖的能力项更多，建议由总局审核；机构可自选。", **counts
        )
    if p_items > n_items:
        return Derivation(
            ReviewingAuthority.PROVINCE, f"{both}，省级证书覆盖的能力项更多，建议由省局审核；机构可自选。", **counts
        )
    return Derivation(
        ReviewingAuthority.PROVINCE, f"{both}，两级证书能力项相同，建议由省局审核；机构可自选。", **counts
    )
