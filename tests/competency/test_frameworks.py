"""Framework import and export: CSV and CASE JSON, validation with line numbers, editions."""
from __future__ import annotations

import io
import json
import os

import pytest
import sqlalchemy as sa

from lms.core.db import db
from lms.testing import csrf_token_from
from tests.competency.helpers import SMALL_CSV, import_small


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_csv_import_builds_the_tree_weights_prerequisites_and_rules(app):
    from competency.models import EvidenceRule, FrameworkItem, LevelExamActivity, RuleIndexEntry

    fw = import_small()
    assert fw.occupation.code == "6-31-01-03" and fw.occupation.name_zh == "电工" and fw.edition == "T1"
    assert [lv.rung for lv in fw.levels] == [1, 2]
    lv1, lv2 = fw.levels
    assert lv1.coverage_threshold == 0.6 and lv2.prerequisites == [[{"kind": "level_held", "rung": 1}]]
    assert lv2.review_required is False
    fn = db.session.scalar(sa.select(FrameworkItem).where(FrameworkItem.kind == "function", FrameworkItem.code == "1",
                                                          FrameworkItem.level_id == lv1.id))
    assert (fn.theory_weight, fn.skill_weight) == (60, 70)
    unit = db.session.scalar(sa.select(FrameworkItem).where(FrameworkItem.code == "1.1.1",
                                                            FrameworkItem.level_id == lv1.id))
    assert unit.required and unit.parent.parent_id == fn.id
    assert _count(EvidenceRule) == 7 and _count(RuleIndexEntry) == 7 and _count(LevelExamActivity) == 2


@pytest.mark.parametrize("bad_line, replacement, line, message", [
    ("skill,1,1.1.2,1.1,能接线", "skill,1,1.1.2,9.9,能接线", 11, "'9.9' is not defined"),
    ("level,2,,,,,,,,,coverage=1; review=no", "level,2,,,,,,,,,coverage=2; review=no", 4, "coverage"),
    ("function,1,2,,维修,Repairing,,,40,30,", "function,1,2,,维修,Repairing,,,40,abc,", 12, "not a number"),
    ("rule,2,1.1.2,", "rule,2,9.9.9,", 25, "unit"),
    ("document,,6-31-01-03,", "document,,63101,", 2, "occupation code"),
])
def test_a_csv_with_an_error_imports_nothing_and_names_the_line(app, runner, tmp_path, bad_line, replacement,
                                                                line, message):
    from competency.models import Framework, FrameworkItem, Occupation

    text = SMALL_CSV.replace(bad_line, replacement)
    assert text != SMALL_CSV
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(args=["competency", "import-framework", str(path)])
    assert res.exit_code == 1
    assert f"line {line}:" in res.output and message in res.output, res.output
    assert "nothing was imported" in res.output
    assert _count(Framework) == 0 and _count(FrameworkItem) == 0 and _count(Occupation) == 0


def test_case_json_round_trip_keeps_identifiers(app):
    from competency.models import Framework, FrameworkItem
    from competency.operations.frameworks import export_case, import_framework

    fw = import_small()
    package = export_case(fw)
    assert {"CFDocument", "CFItems", "CFAssociations"} <= set(package)
    assert package["CFDocument"]["uri"].endswith(str(fw.identifier))
    assert all(a["associationType"] == "isChildOf" for a in package["CFAssociations"])
    idents = {i["identifier"] for i in package["CFItems"]}
    rules = package["CFDocument"]["extensions"]["rules"]
    # re-import into an empty platform: same identifiers, same tree, same rules
    db.session.delete(fw)
    db.session.commit()
    again = import_framework(json.dumps(package, ensure_ascii=False), "x.json")
    db.session.commit()
    assert str(again.identifier) == package["CFDocument"]["identifier"]
    got = {str(i) for i in db.session.scalars(sa.select(FrameworkItem.identifier))}
    got |= {str(lv.identifier) for lv in again.levels}
    assert got == idents
    assert export_case(again)["CFDocument"]["extensions"]["rules"] == rules
    assert _count(Framework) == 1


def test_case_json_errors_name_the_line(app):
    from competency.models import Framework
    from competency.operations.frameworks import FrameworkImportError, export_case, import_framework

    fw = import_small()
    package = export_case(fw)
    db.session.delete(fw)
    db.session.commit()
    item = next(i for i in package["CFItems"] if i["CFItemType"] == "SkillRequirement")
    item["CFItemType"] = "Skil"
    text = json.dumps(package, ensure_ascii=False, indent=2)
    with pytest.raises(FrameworkImportError) as err:
        import_framework(text, "x.json")
    line = text[:text.index('"Skil"')].count("\n") + 1
    n = package["CFItems"].index(item)
    assert any(e[0] == line and e[2] == f"/CFItems/{n}/CFItemType" and "unknown CFItemType 'Skil'" in e[1]
               for e in err.value.errors)
    with pytest.raises(FrameworkImportError) as err:
        import_framework('{"CFDocument": {,}', "x.json")
    assert err.value.errors[0][0] == 1 and "not valid JSON" in err.value.errors[0][1]
    db.session.rollback()
    assert _count(Framework) == 0


def test_a_new_edition_keeps_the_old_one_and_a_duplicate_edition_is_refused(app):
    from competency.models import Framework
    from competency.operations.frameworks import FrameworkImportError, import_framework

    import_small()
    with pytest.raises(FrameworkImportError) as err:
        import_framework(SMALL_CSV, "again.csv")
    assert "already imported" in str(err.value)
    db.session.rollback()
    import_framework(SMALL_CSV.replace("edition=T1", "edition=T2"), "t2.csv")
    db.session.commit()
    assert sorted(db.session.scalars(sa.select(Framework.edition))) == ["T1", "T2"]


def test_the_shipped_demo_frameworks_import(app):
    from competency.demo import DATA_DIR, DEMO_FILES
    from competency.operations.frameworks import import_framework

    for name in DEMO_FILES:
        with open(os.path.join(DATA_DIR, name), encoding="utf-8-sig") as fh:
            fw = import_framework(fh.read(), name)
        assert fw.levels and fw.occupation.name_zh
    db.session.commit()


def test_admin_uploads_a_framework_and_sees_line_numbered_errors(app, client, auth, create_user, create_org):
    from competency.models import Framework

    org = create_org("Inst", "institution")
    admin = create_user("institution_admin", org)
    auth.login(admin)
    page = client.get("/competency/frameworks/import")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    bad = SMALL_CSV.replace("skill,1,1.1.2,1.1,能接线", "skill,1,1.1.2,9.9,能接线").encode()
    r = client.post("/competency/frameworks/import", data={"csrf_token": token, "file": (io.BytesIO(bad), "f.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "line 11:" in r.get_data(as_text=True)
    assert _count(Framework) == 0
    r = client.post("/competency/frameworks/import", data={"csrf_token": token,
                                                           "file": (io.BytesIO(SMALL_CSV.encode()), "f.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 302 and _count(Framework) == 1


def test_learners_and_teachers_cannot_import(app, client, auth, create_user, create_org, api_token):
    org = create_org("Inst2", "institution")
    teacher = create_user("teacher", org)
    auth.login(teacher)
    assert client.get("/competency/frameworks/import").status_code == 403
    r = client.post("/api/v1/competency/frameworks", data=SMALL_CSV, content_type="text/csv",
                    headers=api_token(teacher))
    assert r.status_code == 403


def test_api_import_reports_errors_with_lines(app, client, create_user, api_token):
    admin = create_user(admin=True)
    bad = SMALL_CSV.replace("level,2,,,,,,,,,coverage=1", "level,9,,,,,,,,,coverage=1")
    r = client.post("/api/v1/competency/frameworks", data=bad, content_type="text/csv", headers=api_token(admin))
    body = r.get_json()
    assert r.status_code == 400 and body["error"]["code"] == "invalid_framework"
    assert any(e["line"] == 4 for e in body["error"]["errors"])
    r = client.post("/api/v1/competency/frameworks", data=SMALL_CSV, content_type="text/csv", headers=api_token(admin))
    assert r.status_code == 201 and r.get_json()["levels"] == [1, 2]
