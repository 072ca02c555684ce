"""Reference lists loaded by data migration (REFERENCE.md §2 and §5); the admin may edit them afterwards."""

# Professional fields (专业领域); "traditional" and "emerging" follow the national bulletins.
PROFESSIONAL_FIELDS = [
    ("01", "机动车检验", "traditional"), ("02", "环境监测", "traditional"), ("03", "建筑工程", "traditional"),
    ("04", "建筑材料", "traditional"), ("05", "水质", "traditional"), ("06", "食品及食品接触材料", "traditional"),
    ("07", "农林渔牧业", "other"), ("08", "卫生疾控", "other"), ("09", "材料测试", "emerging"),
    ("10", "医学", "emerging"), ("11", "电子电器", "emerging"), ("12", "机械(含汽车)", "emerging"),
    ("13", "电力(含核电)", "emerging"), ("14", "能源", "emerging"), ("15", "软件及信息化", "emerging"),
    ("16", "特种设备", "other"), ("17", "计量校准", "other"), ("18", "其他", "other"),
]

# CMA certificate number, places 5-6: the certificate's field (FF).
CMA_FIELDS = [
    ("00", "食品"), ("01", "建筑工程"), ("02", "建材"), ("03", "卫生计生"), ("04", "农林牧渔"), ("05", "机动车安检"),
    ("06", "公安刑事技术"), ("07", "司法鉴定"), ("08", "机械"), ("09", "电子信息"), ("10", "轻工"), ("11", "纺织服装"),
    ("12", "环境与环保"), ("13", "水质"), ("14", "化工"), ("15", "医疗器械"), ("16", "采矿冶金"), ("17", "能源"),
    ("18", "医学"), ("19", "生物安全"), ("20", "综合"), ("21", "其他"),
]

# CMA certificate number, places 7-8: the supervising ministry (DD); also the institution's 行业主管部门.
SUPERVISING_DEPARTMENTS = [
    ("00", "教育"), ("01", "工信"), ("02", "公安"), ("03", "司法"), ("04", "国土资源"), ("05", "环保"), ("06", "住建"),
    ("07", "交通"), ("08", "水利"), ("09", "农业"), ("10", "卫计委"), ("11", "技术监督"), ("12", "检验检疫"),
    ("13", "安全生产"), ("14", "食药"), ("15", "林业"), ("16", "中科院"), ("17", "粮食"), ("18", "国防科工"),
    ("19", "海洋"), ("20", "测绘"), ("21", "铁路"), ("22", "机械"), ("23", "化工"), ("24", "石油"), ("25", "电力"),
    ("26", "轻工"), ("27", "商贸"), ("28", "建材"), ("29", "供销"), ("30", "分析测试与冶金"), ("31", "有色"),
    ("32", "节能"), ("33", "军队"), ("34", "其他"),
]

# CMA certificate number, places 3-4: the issuing authority (AA). 00 is SAMR (national level); 01-31 are the
# provinces in GB/T 2260 order, so issuer NN is the NN-th province of institutions.divisions.read_divisions().
NATIONAL_ISSUER = ("00", "国家市场监督管理总局")


def cma_issuers():
    from .divisions import read_divisions

    provinces = [(d.code, d.name) for d in read_divisions() if d.level == "province"]
    yield NATIONAL_ISSUER[0], NATIONAL_ISSUER[1], None
    for index, (province_code, province_name) in enumerate(provinces, start=1):
        yield f"{index:02d}", f"{province_name}市场监督管理局", province_code


def load_reference_data(ProfessionalField, CmaField, SupervisingDepartment, CmaIssuer, Region) -> None:
    """Create or update every list; the arguments are real models or a migration's historical ones."""
    for order, (code, name, category) in enumerate(PROFESSIONAL_FIELDS):
        ProfessionalField.objects.update_or_create(
            code=code, defaults={"name": name, "category": category, "order": order}
        )
    for code, name in CMA_FIELDS:
        CmaField.objects.update_or_create(code=code, defaults={"name": name})
    for code, name in SUPERVISING_DEPARTMENTS:
        SupervisingDepartment.objects.update_or_create(code=code, defaults={"name": name})
    for code, name, province_code in cma_issuers():
        province = Region.objects.get(code=province_code) if province_code else None
        CmaIssuer.objects.update_or_create(code=code, defaults={"name": name, "province": province})
