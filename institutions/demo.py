"""Deterministic demo institutions for Hunan: realistic names, valid credit codes, cities weighted like the register."""
import random

from stdnum.cn import uscc

from .models import Institution, Region

# Share of Hunan's institutions per city (Changsha dominates, as in the provincial register).
CITY_WEIGHTS = {
    "430100": 28, "430200": 7, "430300": 6, "430400": 8, "430500": 6, "430600": 7, "430700": 6,
    "430800": 2, "430900": 5, "431000": 6, "431100": 5, "431200": 5, "431300": 5, "433100": 4,
}
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


def institution_name(rng: random.Random, prefix: str, city: Region) -> str:
    city_short = city.name.removesuffix("市").removesuffix("土家族苗族自治州")
    if prefix == "12":
        place = f"{city_short}市" if city.name.endswith("市") else "湘西州"
        return f"{place}{rng.choice(DISTRICTS)}{rng.choice(PUBLIC_KINDS)}"
    middle, suffix = rng.choice(ENTERPRISE_KINDS)
    place = rng.choice(["湖南", city_short, city_short])
    return f"{place}{rng.choice(BRANDS)}{middle}{suffix}"


def generate_institutions(rng: random.Random, count: int) -> list[Institution]:
    cities = {region.code: region for region in Region.objects.filter(code__in=CITY_WEIGHTS)}
    city_codes = list(CITY_WEIGHTS)
    weights = [CITY_WEIGHTS[code] for code in city_codes]
    prefixes, prefix_weights = zip(*CODE_PREFIXES)
    names, codes, institutions = set(), set(), []
    while len(institutions) < count:
        city = cities[rng.choices(city_codes, weights)[0]]
        prefix = rng.choices(prefixes, prefix_weights)[0]
        name, code = institution_name(rng, prefix, city), credit_code(rng, prefix, city.code)
        if name in names or code in codes:
            continue
        names.add(name)
        codes.add(code)
        institutions.append(Institution(name=name, credit_code=code, city=city))
    return institutions


def seed_registry(rng: random.Random, count: int) -> list[Institution]:
    """Create `count` demo institutions with their registry rows; return them (with city loaded) in pk order."""
    Institution.objects.bulk_create(generate_institutions(rng, count), batch_size=1000)
    return list(Institution.objects.select_related("city").order_by("pk"))
