"""Deterministic demo institutions, Hunan's by default (seed_demo --provinces adds others): realistic names, valid
credit codes, cities weighted like the register, and every registry field filled after REFERENCE §3 (ownership,
fields, certificate levels, sites, national centres)."""
import datetime
import random
from dataclasses import dataclass

from django.utils import timezone
from stdnum.cn import uscc

from .authority import derive_reviewing_authority
from .models import (
    CertificateLevel,
    CmaCertificate,
    CmaField,
    CmaIssuer,
    Institution,
    NationalCentre,
    ProfessionalField,
    Region,
    ReviewingAuthority,
    Site,
    SupervisingDepartment,
)

# Share of Hunan's institutions per city (Changsha dominates, as in the provincial register).
CITY_WEIGHTS = {
    "430100": 28, "430200": 7, "430300": 6, "430400": 8, "430500": 6, "430600": 7, "430700": 6,
    "430800": 2, "430900": 5, "431000": 6, "431100": 5, "431200": 5, "431300": 5, "433100": 4,
}
DEFAULT_PROVINCES = ("430000",)
# Outside Hunan: the capital (the province's first city code) weighs like Changsha, every other city alike.
CAPITAL_WEIGHT, OTHER_CITY_WEIGHT = 28, 6
# Telephone area code of each province's capital, for the demo's numbers outside Hunan's own table (AREA_CODES).
CAPITAL_AREA_CODES = {
    "11": "010", "12": "022", "13": "0311", "14": "0351", "15": "0471", "21": "024", "22": "0431", "23": "0451",
    "31": "021", "32": "025", "33": "0571", "34": "0551", "35": "0591", "36": "0791", "37": "0531", "41": "0371",
    "42": "027", "43": "0731", "44": "020", "45": "0771", "46": "0898", "50": "023", "51": "028", "52": "0851",
    "53": "0871", "54": "0891", "61": "029", "62": "0931", "63": "0971", "64": "0951", "65": "0991",
}


@dataclass
class DemoProvince:
    region: Region
    short: str  # 湖南, 湖北, 广西 … as names use it
    issuer_code: str  # its CMA issuer (places 3-4 of a provincial certificate number)
    city_weights: dict[str, int]


def _province_short(name: str) -> str:
    for suffix in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def demo_provinces(codes=DEFAULT_PROVINCES) -> list[DemoProvince]:
    """The provinces the demo fills, each with its cities' weights; an unknown code is refused in Chinese."""
    regions = {r.code: r for r in Region.objects.current().filter(level=Region.Level.PROVINCE, code__in=codes)}
    if unknown := [code for code in codes if code not in regions]:
        raise ValueError(f"不是省级行政区划代码：{'、'.join(unknown)}（例如 430000 湖南省、420000 湖北省）")
    issuers = dict(CmaIssuer.objects.filter(province__in=regions.values()).values_list("province__code", "code"))
    provinces = []
    for code in codes:
        if code == "430000":
            weights = CITY_WEIGHTS
        else:
            cities = list(Region.objects.current().filter(parent=regions[code]).order_by("code")
                          .values_list("code", flat=True))
            weights = {city: CAPITAL_WEIGHT if index == 0 else OTHER_CITY_WEIGHT for index, city in enumerate(cities)}
        provinces.append(DemoProvince(regions[code], _province_short(regions[code].name), issuers[code], weights))
    return provinces


# (first two characters of the credit code, share): enterprises, public institutions, private non-enterprise units.
CODE_PREFIXES = [("91", 75), ("12", 20), ("52", 5)]
COUNTY_SUFFIXES = ["00", "02", "03", "04", "05", "11", "21", "22", "81"]
CODE_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"

BRANDS = [
    "华测", "中誉", "湘信", "楚天", "正信", "恒安", "中科", "金标", "信达", "湘衡", "谱尼", "宏达", "安测", "国信",
    "湘核", "天鉴", "瑞科", "中检", "博源", "精诚", "德润", "新锐", "联创", "科鉴", "长诚", "岳麓", "潇湘", "芙蓉",
    "三湘", "洞庭", "南岭", "雪峰", "衡岳", "沅澧", "资江", "九嶷", "武陵", "韶峰", "梅山", "舜德",
]
ENTERPRISE_KINDS = [
    ("机动车检测", "有限公司"), ("环境检测", "有限公司"), ("建设工程质量检测", "有限公司"), ("建材检测", "有限公司"),
    ("检验检测", "有限公司"), ("检测技术", "有限公司"), ("食品检测", "有限公司"), ("计量检测", "有限公司"),
    ("电子电器检测", "有限公司"), ("水质检测", "有限责任公司"), ("职业卫生技术服务", "有限公司"),
    ("防雷检测", "有限公司"), ("司法鉴定", "所"), ("生态环境监测", "有限公司"),
]
PUBLIC_KINDS = [
    "产品质量检验所", "食品药品检验所", "疾病预防控制中心", "计量检定测试所", "特种设备检验所",
    "生态环境监测站", "农产品质量安全检测站", "水文水资源勘测分局", "纤维检验所", "建设工程质量检测站",
]
DISTRICTS = ["", "城区", "高新区", "经开区", "北区", "南区", "东区", "西区", "第一", "第二", "第三"]


def credit_code(rng: random.Random, prefix: str, city_code: str) -> str:
    division = city_code[:4] + rng.choice(COUNTY_SUFFIXES)
    body = prefix + division + "".join(rng.choice(CODE_BODY) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _city_place(city: Region) -> tuple[str, str]:
    """How a name calls the city: short (长沙, 湘西) and as a public body's prefix (长沙市, 湘西州)."""
    if city.name.endswith("市"):
        short = city.name.removesuffix("市")
        return short, f"{short}市"
    if city.name.endswith("自治州"):
        return city.name[:2], f"{city.name[:2]}州"
    return city.name, city.name


def institution_name(rng: random.Random, prefix: str, city: Region, crowded: bool = False,
                     province_short: str = "湖南") -> str:
    """A plausible name; `crowded` (the plain names are used up, at national scale) mixes two brands' characters."""
    city_short, public_place = _city_place(city)
    if prefix == "12":
        return f"{public_place}{rng.choice(DISTRICTS)}{rng.choice(PUBLIC_KINDS)}"
    middle, suffix = rng.choice(ENTERPRISE_KINDS)
    place = rng.choice([province_short, city_short, city_short])
    brand = rng.choice(BRANDS)[0] + rng.choice(BRANDS)[1] if crowded else rng.choice(BRANDS)
    return f"{place}{brand}{middle}{suffix}"


def generate_institutions(rng: random.Random, count: int,
                          provinces: list[DemoProvince] | None = None) -> list[Institution]:
    provinces = provinces or demo_provinces()
    if len(provinces) == 1:
        city_weights = provinces[0].city_weights
    else:  # each province an equal share of the institutions
        city_weights = {code: weight / sum(p.city_weights.values())
                        for p in provinces for code, weight in p.city_weights.items()}
    short_of = {p.region.pk: p.short for p in provinces}
    cities = {region.code: region for region in Region.objects.filter(code__in=city_weights).select_related("parent")}
    city_codes = list(city_weights)
    weights = [city_weights[code] for code in city_codes]
    prefixes, prefix_weights = zip(*CODE_PREFIXES, strict=True)
    names, codes, institutions = set(), set(), []
    misses = 0
    while len(institutions) < count:
        city = cities[rng.choices(city_codes, weights)[0]]
        prefix = rng.choices(prefixes, prefix_weights)[0]
        crowded = misses > 20
        if crowded and prefix == "12":
            prefix = "91"  # public-institution names are few; beyond them the register grows with enterprises
        name = institution_name(rng, prefix, city, crowded, short_of[city.parent_id])
        code = credit_code(rng, prefix, city.code)
        if name in names or code in codes:
            misses += 1
            if misses > 10_000:
                raise ValueError(f"演示数据最多可生成约 {len(institutions)} 家名称不重复的机构。")
            continue
        misses = 0
        names.add(name)
        codes.add(code)
        institutions.append(Institution(name=name, credit_code=code, city=city))
    return institutions


# What an institution's name says about its work: (word in the name, professional field codes, CMA field code,
# supervising department code).
KIND_PROFILES = [
    ("机动车", ["01"], "05", "07"), ("生态环境", ["02"], "12", "05"), ("环境", ["02"], "12", "05"),
    ("建设工程", ["03", "04"], "01", "06"), ("建材", ["04"], "02", "28"), ("食品", ["06"], "00", "14"),
    ("计量", ["17"], "21", "11"), ("电子电器", ["11"], "09", "01"), ("水质", ["05"], "13", "08"),
    ("水文", ["05"], "13", "08"), ("职业卫生", ["08"], "03", "10"), ("疾病预防", ["08", "10"], "03", "10"),
    ("防雷", ["18"], "21", "34"), ("司法鉴定", ["18"], "07", "03"), ("特种设备", ["16"], "08", "11"),
    ("农产品", ["07"], "04", "09"), ("纤维", ["09"], "11", "11"), ("产品质量", ["09", "12", "11"], "20", "11"),
    ("药品", ["06", "10"], "15", "14"),
]
DEFAULT_PROFILE = ("", ["18", "09"], "20", "11")
# Extra fields ticked beside the main one, weighted like the national counts per field.
FIELD_WEIGHTS = {"01": 157, "02": 86, "03": 82, "04": 74, "18": 63, "05": 35, "06": 35, "07": 31, "08": 26, "09": 16,
                 "11": 12, "12": 12, "10": 8, "13": 6, "14": 5, "15": 5, "16": 10, "17": 12}
# Enterprises only; public institutions are state-owned and other units "other". Private ≈ 63 % of all institutions.
ENTERPRISE_OWNERSHIP = [("private", 84), ("state", 9), ("foreign", 4), ("collective", 1), ("other", 2)]
AREA_CODES = {"430100": "0731", "430200": "0731", "430300": "0731", "430400": "0734", "430500": "0739",
              "430600": "0730", "430700": "0736", "430800": "0744", "430900": "0737", "431000": "0735",
              "431100": "0746", "431200": "0745", "431300": "0738", "433100": "0743"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰红鹏辉建国志文斌波宇浩凯婷雪琳晨阳"
ROADS = ["人民路", "解放路", "建设路", "五一大道", "芙蓉路", "湘江路", "韶山路", "劳动路", "新华路", "迎宾路",
         "工业园路", "科技路", "高新大道", "长江路", "黄河路", "车站路"]
DISTRICT_NAMES = ["城区", "高新区", "经开区", "工业园", "新区"]
CENTRE_SUBJECTS = ["电线电缆", "烟花爆竹", "有色金属", "陶瓷", "竹木制品", "工程机械", "轨道交通装备", "茶叶", "稻米",
                   "辣椒制品", "锂电池", "新型建材", "电力电容器", "桥梁结构", "农业机械"]


def _person(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _profile(name):
    return next((p for p in KIND_PROFILES if p[0] in name), DEFAULT_PROFILE)


class _Numbers:
    """Unique 12-digit CMA numbers: YY AA FF DD NNNN."""

    def __init__(self):
        self.serials = {}

    def next(self, issue_date, issuer_code, field_code, department_code):
        prefix = f"{issue_date.year % 100:02d}{issuer_code}{field_code}{department_code}"
        self.serials[prefix] = self.serials.get(prefix, 0) + 1
        return f"{prefix}{self.serials[prefix]:04d}"


def fill_profile(rng, inst, fields_by_code, departments, today):
    prefix = inst.credit_code[:2]
    inst.nature = {"91": "enterprise", "12": "public"}.get(prefix, "other")
    if prefix == "91":
        inst.ownership = _weighted(rng, ENTERPRISE_OWNERSHIP)
    else:
        inst.ownership = "state" if prefix == "12" else "other"
    inst.legal_status = "non_independent" if rng.random() < 0.03 else "independent"
    _, field_codes, _, department_code = _profile(inst.name)
    inst.supervising_department = departments[department_code]
    # Founded no later than the first year the demo files for (check E132 refuses a filing for a year before it).
    inst.established_year = rng.randint(1958, 1999) if prefix == "12" else rng.randint(1998, FIRST_DEMO_YEAR_START.year)
    inst.legal_representative = _person(rng)
    district = rng.choice(DISTRICT_NAMES)
    road, number = rng.choice(ROADS), rng.randint(1, 999)
    inst.registered_address = f"{inst.city.parent.name}{inst.city.name}{district}{road}{number}号"
    inst.division_code = inst.credit_code[2:8]
    enterprise = prefix == "91"
    inst.is_high_tech = enterprise and rng.random() < 0.14
    inst.is_specialized = inst.is_high_tech and rng.random() < 0.25
    inst.is_listed = enterprise and rng.random() < 0.004
    inst.is_group_member = enterprise and rng.random() < 0.08
    inst.has_overseas_presence = enterprise and rng.random() < 0.01
    inst.cnas_number = f"CNAS L{rng.randint(1000, 19999)}" if rng.random() < 0.25 else ""
    inst.contact_person = _person(rng)
    inst.contact_phone = f"{_area_code(inst.city.code)}-{rng.randint(2000000, 8999999)}"
    inst.contact_email = f"lab{rng.randint(100, 99999)}@{rng.choice(['163.com', 'qq.com', '126.com', 'sina.com'])}"
    extra = rng.choices(list(FIELD_WEIGHTS), list(FIELD_WEIGHTS.values()), k=rng.choice([0, 1, 1, 2, 3]))
    return [fields_by_code[code] for code in dict.fromkeys(field_codes + extra)]


# The demo's filings cover the reporting years from 2022: a certificate renewed since then keeps its predecessor, so
# that every institution held a valid qualification in every demo year as well as today.
FIRST_DEMO_YEAR_START = datetime.date(2022, 1, 1)


def _six_years_later(day):
    later = datetime.date(day.year + 6, day.month, min(day.day, 28 if day.month == 2 else day.day))
    return later - datetime.timedelta(days=1)


def make_certificates(rng, inst, reference, numbers, today):
    """Every institution holds at least one valid certificate: mostly provincial, some national, some both."""
    _, _, field_code, department_code = _profile(inst.name)
    level_mix = _weighted(rng, [("provincial", 86), ("national", 6), ("both", 8)])
    province = reference["province_issuer"][inst.city.parent_id]
    levels = {"provincial": [province], "national": ["00"], "both": [province, "00"]}[level_mix]
    if rng.random() < 0.12:
        levels.append(levels[0])
    certificates = []

    def certificate(issuer_code, cma_field, issue, items):
        return CmaCertificate(
            institution=inst, number=numbers.next(issue, issuer_code, cma_field, department_code),
            issuer=reference["issuers"][issuer_code],
            level=CertificateLevel.NATIONAL if issuer_code == "00" else CertificateLevel.PROVINCIAL,
            cma_field=reference["fields"][cma_field], supervising_department=reference["departments"][department_code],
            issue_date=issue, expiry_date=_six_years_later(issue), capability_items=items,
        )

    for issuer_code in levels:
        # Issued one to five years ago and valid for six years.
        issue = today - datetime.timedelta(days=rng.randint(400, 5 * 365 - 30))
        cma_field = field_code if not certificates else rng.choice(list(reference["fields"]))
        items = int(min(3000, rng.lognormvariate(4.3, 0.9)) + 1)
        certificates.append(certificate(issuer_code, cma_field, issue, items))
        if issue > FIRST_DEMO_YEAR_START:
            predecessor = certificate(
                issuer_code, cma_field, issue.replace(year=issue.year - 6, day=min(issue.day, 28)),
                max(1, items - rng.randint(0, items // 3)),
            )
            predecessor.expiry_date = issue - datetime.timedelta(days=1)
            certificates.append(predecessor)
    return certificates


def seed_registry(rng: random.Random, count: int, province_codes=DEFAULT_PROVINCES) -> list[Institution]:
    """Create `count` demo institutions of the given provinces with their registry rows; return them (with city
    loaded) in pk order."""
    today = timezone.localdate()
    provinces = demo_provinces(province_codes)
    institutions = generate_institutions(rng, count, provinces)
    fields_by_code = {f.code: f for f in ProfessionalField.objects.all()}
    reference = {
        "issuers": {i.code: i for i in CmaIssuer.objects.filter(code__in=["00", *(p.issuer_code for p in provinces)])},
        "province_issuer": {p.region.pk: p.issuer_code for p in provinces},
        "fields": {f.code: f for f in CmaField.objects.all()},
        "departments": {d.code: d for d in SupervisingDepartment.objects.all()},
    }
    numbers = _Numbers()
    picked_fields, certificates, sites = [], [], []
    for inst in institutions:
        picked_fields.append(fill_profile(rng, inst, fields_by_code, reference["departments"], today))
        held = make_certificates(rng, inst, reference, numbers, today)
        inst.reviewing_authority = derive_reviewing_authority(inst, held, today=today).authority
        certificates.extend(held)
        site_count = 1 if rng.random() < 0.94 else rng.randint(2, 4)
        sites.append(Site(institution=inst, address=inst.registered_address, division_code=inst.division_code))
        for n in range(1, site_count):
            address = (f"{inst.city.parent.name}{inst.city.name}{rng.choice(DISTRICT_NAMES)}{rng.choice(ROADS)}"
                       f"{rng.randint(1, 999)}号")
            sites.append(
                Site(institution=inst, address=f"{address}（第{n + 1}场所）", division_code=inst.division_code)
            )
    Institution.objects.bulk_create(institutions, batch_size=1000)

    # A few sub-units: an entity of the same city belonging to a public institution or a larger company.
    parents = [i for i in institutions if i.nature == "public"] or institutions
    sub_units = []
    for inst in rng.sample(institutions, k=max(0, count // 80)):
        parent = rng.choice(parents)
        if parent.pk != inst.pk:
            inst.parent = parent
            sub_units.append(inst)
    Institution.objects.bulk_update(sub_units, ["parent"], batch_size=1000)

    through = Institution.professional_fields.through
    through.objects.bulk_create(
        [through(institution_id=inst.pk, professionalfield_id=field.pk)
         for inst, fields in zip(institutions, picked_fields, strict=True) for field in fields],
        batch_size=2000,
    )
    for row in certificates + sites:
        row.institution_id = row.institution.pk
    CmaCertificate.objects.bulk_create(certificates, batch_size=1000)
    Site.objects.bulk_create(sites, batch_size=1000)

    # About 1 % lead a national quality inspection centre, some with co-building entities.
    leads = rng.sample(institutions, k=max(1 if count >= 20 else 0, count // 100))
    short_of = {p.region.pk: p.short for p in provinces}
    centres = []
    for index, lead in enumerate(leads):
        subject = CENTRE_SUBJECTS[index % len(CENTRE_SUBJECTS)]
        suffix = "" if index < len(CENTRE_SUBJECTS) else str(index // len(CENTRE_SUBJECTS) + 1)
        centres.append(NationalCentre(
            name=f"国家{subject}质量检验检测中心（{short_of[lead.city.parent_id]}）{suffix}", lead_institution=lead,
            approval_number=f"国市监检测〔{rng.randint(2015, 2023)}〕{rng.randint(10, 300)}号",
        ))
    NationalCentre.objects.bulk_create(centres)
    co_through = NationalCentre.co_builders.through
    co_through.objects.bulk_create([
        co_through(nationalcentre_id=centre.pk, institution_id=partner.pk)
        for centre in centres for partner in rng.sample(institutions, k=rng.choice([0, 1, 2]))
        if partner.pk != centre.lead_institution.pk
    ], ignore_conflicts=True)
    return list(Institution.objects.select_related("city").order_by("pk"))


def _area_code(city_code: str) -> str:
    return AREA_CODES.get(city_code) or CAPITAL_AREA_CODES[city_code[:2]]


DEMO_CONTACTS = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱"]


def seed_bureau_contacts(province_codes=DEFAULT_PROVINCES) -> None:
    """Demo contacts of the bureaus (系统帮助 → 联系方式); fixed, so the demo's random stream is untouched."""
    for province in Region.objects.filter(code__in=province_codes):
        province.contact_name = "认可检测处（演示）"
        province.contact_phone = f"{CAPITAL_AREA_CODES[province.code[:2]]}-89990000"
        province.contact_email = f"rjc{province.code[:2]}@demo.example.cn"
        province.save()
        cities = Region.objects.current().filter(parent=province).order_by("code")
        for index, city in enumerate(cities):
            Region.objects.filter(pk=city.pk).update(
                contact_name=f"{DEMO_CONTACTS[index % len(DEMO_CONTACTS)]}科长（演示）",
                contact_phone=f"{_area_code(city.code)}-8{city.code[2:4]}00000",
                contact_email=f"jcc{city.code}@demo.example.cn",
            )


DEMO_REVIEW_GROUP = "国家食品质检评审组"
DEMO_GROUP_INSTITUTIONS = 3


def seed_review_group(institutions) -> str:
    """One review group set up by the demo SAMR reviewer, with `group1` as its member and a few Changsha institutions
    (not the demo filer's, the first by id after it) assigned; fixed, so the demo's random stream is untouched. Run
    before the filings are seeded, so that the group decides these institutions' filings."""
    from accounts.models import User

    from . import review_groups

    samr = User.objects.get(username="samr")
    group = review_groups.create_review_group(actor=samr, name=DEMO_REVIEW_GROUP)
    review_groups.add_member(group, actor=samr, username="group1")
    chosen = Institution.objects.filter(city__code="430100").order_by("pk")[1:1 + DEMO_GROUP_INSTITUTIONS]
    by_pk = {institution.pk: institution for institution in institutions}
    for institution in chosen:
        assigned = review_groups.assign_institution(group, institution, actor=samr)
        if assigned.pk in by_pk:  # the seeders that follow read these objects
            by_pk[assigned.pk].reviewing_authority, by_pk[assigned.pk].review_group = ReviewingAuthority.GROUP, group
    return f"评审组“{group.name}”：成员 group1，负责 {len(chosen)} 家长沙市机构。"
