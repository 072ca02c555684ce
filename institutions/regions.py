"""GB/T 2260 administrative divisions loaded by the data migration: the nation, every province, Hunan's cities.

Other provinces' cities are added by the admin (or a later migration) when that province goes live.
"""
NATION = ("000000", "全国")

PROVINCES = [
    ("110000", "北京市"), ("120000", "天津市"), ("130000", "河北省"), ("140000", "山西省"),
    ("150000", "内蒙古自治区"), ("210000", "辽宁省"), ("220000", "吉林省"), ("230000", "黑龙江省"),
    ("310000", "上海市"), ("320000", "江苏省"), ("330000", "浙江省"), ("340000", "安徽省"),
    ("350000", "福建省"), ("360000", "江西省"), ("370000", "山东省"), ("410000", "河南省"),
    ("420000", "湖北省"), ("430000", "湖南省"), ("440000", "广东省"), ("450000", "广西壮族自治区"),
    ("460000", "海南省"), ("500000", "重庆市"), ("510000", "四川省"), ("520000", "贵州省"),
    ("530000", "云南省"), ("540000", "西藏自治区"), ("610000", "陕西省"), ("620000", "甘肃省"),
    ("630000", "青海省"), ("640000", "宁夏回族自治区"), ("650000", "新疆维吾尔自治区"),
]

CITIES = {
    "430000": [
        ("430100", "长沙市"), ("430200", "株洲市"), ("430300", "湘潭市"), ("430400", "衡阳市"),
        ("430500", "邵阳市"), ("430600", "岳阳市"), ("430700", "常德市"), ("430800", "张家界市"),
        ("430900", "益阳市"), ("431000", "郴州市"), ("431100", "永州市"), ("431200", "怀化市"),
        ("431300", "娄底市"), ("433100", "湘西土家族苗族自治州"),
    ],
}


def load_regions(Region) -> None:
    """Create or update the divisions above; `Region` is the real model or a migration's historical one."""
    nation, _ = Region.objects.update_or_create(code=NATION[0], defaults={"name": NATION[1], "level": "nation"})
    for code, name in PROVINCES:
        province, _ = Region.objects.update_or_create(
            code=code, defaults={"name": name, "level": "province", "parent": nation}
        )
        for city_code, city_name in CITIES.get(code, []):
            Region.objects.update_or_create(
                code=city_code, defaults={"name": city_name, "level": "city", "parent": province}
            )
