"""Every province and city from the dataset package (ADR 0022), and updates that keep history and institutions."""
import json

import pytest
from django.core.management import CommandError, call_command

from institutions.divisions import Division, DivisionsRefused, read_divisions, update_divisions
from institutions.models import Institution, Region
from tests.factories import CityOfficerFactory, InstitutionFactory


def test_the_dataset_gives_every_province_and_prefecture_level_city():
    divisions = read_divisions()
    by_code = {d.code: d for d in divisions}
    assert sum(d.level == "province" for d in divisions) == 31
    assert 360 <= sum(d.level == "city" for d in divisions) <= 380
    assert not {"710000", "810000", "820000"} & set(by_code)  # not in the survey
    # A municipality is its own single city; a directly administered county-level city is a city of its own.
    assert by_code["110100"] == Division("110100", "北京市", "city", "110000")
    assert by_code["500100"].name == "重庆市" and not any(code.startswith("5002") for code in by_code)
    assert by_code["429004"] == Division("429004", "仙桃市", "city", "420000")
    assert "429000" not in by_code
    hunan = [d.name for d in divisions if d.parent_code == "430000"]
    assert len(hunan) == 14 and hunan[0] == "长沙市" and hunan[-1] == "湘西土家族苗族自治州"
    assert len(by_code) == len(divisions)


def test_the_migrated_database_holds_the_whole_dataset(db):
    wanted = {(d.code, d.name, d.level) for d in read_divisions()}
    assert set(Region.objects.values_list("code", "name", "level")) == wanted
    assert Region.objects.get(code="420100").parent.code == "420000"
    assert not update_divisions(read_divisions()), "the migrated regions already match the dataset"


def test_a_missing_or_broken_dataset_is_refused_in_chinese(tmp_path):
    with pytest.raises(DivisionsRefused, match="找不到行政区划数据"):
        read_divisions(tmp_path / "level.json")
    (tmp_path / "bad.json").write_text("[{", encoding="utf-8")
    with pytest.raises(DivisionsRefused, match="不是有效的 JSON"):
        read_divisions(tmp_path / "bad.json")


def _changed(divisions, **replace):
    """The dataset with some cities renamed (code → name) or removed (code → None)."""
    out = []
    for d in divisions:
        if d.code in replace:
            if replace[d.code] is not None:
                out.append(d._replace(name=replace[d.code]))
        else:
            out.append(d)
    return out


def test_a_renamed_city_keeps_its_row_institutions_and_officers_and_the_old_name_in_history(db):
    institution = InstitutionFactory(city=Region.objects.get(code="430800"))
    officer = CityOfficerFactory(region=institution.city)
    changes = update_divisions(_changed(read_divisions(), **{"430800": "张家界新市"}))
    assert changes.renamed == [("430800", "张家界市", "张家界新市")] and not changes.retired
    institution.refresh_from_db()
    officer.refresh_from_db()
    assert institution.city.name == officer.region.name == "张家界新市"
    history = Region.objects.get(code="430800").history.order_by("history_date")
    assert history.last().name == "张家界新市" and history.last().history_change_reason == "行政区划数据更新"


def test_a_merged_city_is_retired_and_its_institutions_move_with_their_history(db):
    laiwu_like = Region.objects.get(code="431300")
    institution = InstitutionFactory(city=laiwu_like)
    CityOfficerFactory(region=laiwu_like, username="loudi-officer")
    changes = update_divisions(_changed(read_divisions(), **{"431300": None}), merges={"431300": "430100"})
    assert changes.retired == [("431300", "430100")] and changes.institutions_moved == 1
    assert changes.officers_left == ["loudi-officer"]
    retired = Region.objects.get(code="431300")
    assert not retired.is_current and retired.successor.code == "430100"
    assert Region.objects.current().filter(code="431300").count() == 0
    institution.refresh_from_db()
    assert institution.city.code == "430100"
    assert institution.history.first().history_change_reason == "行政区划调整：娄底市并入长沙市"
    # The division coming back restores it.
    again = update_divisions(read_divisions())
    assert again.restored == ["431300"] and Region.objects.get(code="431300").is_current


def test_a_vanished_city_with_institutions_and_no_merge_target_is_refused_and_nothing_changes(db):
    InstitutionFactory(city=Region.objects.get(code="431300"))
    before = list(Region.objects.values_list("code", "name", "is_current").order_by("code"))
    with pytest.raises(DivisionsRefused, match="431300 娄底市"):
        update_divisions(_changed(read_divisions(), **{"431300": None, "430800": "张家界新市"}))
    assert list(Region.objects.values_list("code", "name", "is_current").order_by("code")) == before


def test_merge_targets_are_checked(db):
    divisions = _changed(read_divisions(), **{"431300": None})
    with pytest.raises(DivisionsRefused, match="目标区划 430000 不在新数据中，或级别不同"):
        update_divisions(divisions, merges={"431300": "430000"})  # a province is not a city
    with pytest.raises(DivisionsRefused, match="原区划 999900 不存在"):
        update_divisions(divisions, merges={"999900": "430100"})


def test_an_empty_vanished_city_is_retired_without_a_target(db):
    changes = update_divisions(_changed(read_divisions(), **{"431300": None}))
    assert changes.retired == [("431300", None)] and not Region.objects.get(code="431300").is_current


def test_the_command_dry_run_lists_changes_and_writes_nothing(db, tmp_path, capsys):
    tree = json.loads(open(str(__import__("institutions.divisions").divisions.DATASET), encoding="utf-8").read())
    hunan = next(unit for unit in tree if unit["code"] == "430000")
    next(unit for unit in hunan["children"] if unit["code"] == "430800")["name"] = "张家界新市"
    dataset = tmp_path / "level.json"
    dataset.write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")
    call_command("update_divisions", "--dataset", str(dataset), "--dry-run")
    out = capsys.readouterr().out
    assert "更名 430800 张家界市 → 张家界新市" in out and "将更改：新增 0，更名 1" in out
    assert Region.objects.get(code="430800").name == "张家界市"
    call_command("update_divisions", "--dataset", str(dataset))
    assert Region.objects.get(code="430800").name == "张家界新市"
    assert Institution.objects.count() == 0


def test_the_command_refuses_a_malformed_merge():
    with pytest.raises(CommandError, match="应写作 旧代码=新代码"):
        call_command("update_divisions", "--merge", "371200")


def test_forms_offer_the_cities_in_force_grouped_by_province(db):
    from reports.forms import ComplaintForm

    update_divisions(_changed(read_divisions(), **{"431300": None}))  # 娄底 retired
    html = str(ComplaintForm()["city"])
    assert '<optgroup label="湖南省">' in html and '<optgroup label="北京市">' in html
    assert "长沙市" in html and "娄底市" not in html
    retired = Region.objects.get(code="431300")
    form = ComplaintForm({"report_number": "A1", "institution": "某机构", "city": retired.pk, "description": "x",
                          "contact": "13800000000"})
    assert not form.is_valid() and "city" in form.errors
