"""Owners of frameworks and rules: who owns what is set on import and on creation, lists show it,
and an organisation's own framework is seen only by its members."""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db
from lms.testing import csrf_token_from
from tests.competency.helpers import PASSED, SMALL_CSV, X, import_small, unit

API = "/api/v1/competency"


def test_cli_import_is_system_owned_unless_an_organisation_is_given(app, runner, create_org, tmp_path):
    from competency.models import Framework

    org = create_org("Standards school", "institution")
    path = tmp_path / "small.csv"
    path.write_text(SMALL_CSV, encoding="utf-8")
    res = runner.invoke(args=["competency", "import-framework", str(path)])
    assert res.exit_code == 0, res.output
    assert db.session.scalars(sa.select(Framework)).one().owner_org_id is None
    other = tmp_path / "other.csv"
    other.write_text(SMALL_CSV.replace("edition=T1", "edition=T2"), encoding="utf-8")
    res = runner.invoke(args=["competency", "import-framework", "--org", str(org.id), str(other)])
    assert res.exit_code == 0, res.output
    db.session.rollback()
    fw = db.session.scalar(sa.select(Framework).where(Framework.edition == "T2"))
    assert fw.owner_org_id == org.id
    assert runner.invoke(args=["competency", "import-framework", "--org", "999999", str(other)]).exit_code == 2


def test_institution_admin_imports_for_their_school_and_its_framework_is_private(app, client, auth, create_user,
                                                                                create_org, api_token):
    from competency.models import EvidenceRule, Framework, RuleChange

    school = create_org("Own school", "institution")
    elsewhere = create_org("Elsewhere", "institution")
    admin = create_user("institution_admin", school, login="inst@example.com")
    outsider = create_user("teacher", elsewhere, login="outsider@example.com")
    auth.login(admin)
    page = client.get("/competency/frameworks/import")
    data = {"csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "file": (__import__("io").BytesIO(SMALL_CSV.encode()), "small.csv")}
    resp = client.post("/competency/frameworks/import", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    fw = db.session.scalars(sa.select(Framework)).one()
    assert fw.owner_org_id == school.id
    assert {r.owner_org_id for r in db.session.scalars(sa.select(EvidenceRule))} == {school.id}
    change = db.session.scalars(sa.select(RuleChange)).one()
    assert (change.subject, change.action, change.actor_id) == ("framework", "create", admin.id)
    assert "Own school" in client.get("/competency/frameworks").get_data(as_text=True)
    # another school does not see it, in lists or directly
    h = api_token(outsider)
    assert client.get(f"{API}/frameworks", headers=h).get_json()["items"] == []
    assert client.get(f"{API}/frameworks/{fw.id}", headers=h).status_code == 404
    assert client.get(f"{API}/frameworks/{fw.id}/rules", headers=h).status_code == 404
    rule_id = db.session.scalars(sa.select(EvidenceRule.id)).first()
    assert client.delete(f"{API}/rules/{rule_id}", headers=h).status_code == 404
    body = client.get(f"{API}/frameworks", headers=api_token(admin)).get_json()
    assert body["items"][0]["owner"] == {"id": school.id, "name": "Own school"}


def test_any_schools_teacher_adds_rules_to_a_national_standard_and_owns_them(app, client, auth, create_user,
                                                                             create_org, api_token):
    from competency.models import EvidenceRule

    school = create_org("Teaching school", "institution")
    teacher = create_user("teacher", school, login="t@example.com")
    learner = create_user("learner", school, login="l@example.com")
    fw = import_small()
    u = unit(fw, 1, "1.1.2")
    resp = client.post(f"{API}/frameworks/{fw.id}/rules", headers=api_token(teacher),
                       json={"unit_id": u.id, "verbs": [PASSED], "match_kind": "activity",
                             "match_iri": X + "own-course/lab"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["owner"]["name"] == "Teaching school"
    assert client.post(f"{API}/frameworks/{fw.id}/rules", headers=api_token(learner),
                       json={"unit_id": u.id, "verbs": [PASSED], "match_kind": "activity",
                             "match_iri": X + "x"}).status_code == 403
    # through the page as well
    auth.login(teacher)
    page = client.get(f"/competency/frameworks/{fw.id}/rules/new?unit_id={u.id}").get_data(as_text=True)
    resp = client.post(f"/competency/frameworks/{fw.id}/rules/new", data={
        "csrf_token": csrf_token_from(page), "unit_id": u.id, "match_kind": "parent",
        "match_iri": X + "own-course", "verbs": [PASSED], "weight": "1", "operator": "any"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    owners = {r.match_iri: r.owner_org_id for r in db.session.scalars(sa.select(EvidenceRule))}
    assert owners[X + "own-course"] == school.id and owners[X + "own-course/lab"] == school.id
    assert owners[X + "wiring"] is None  # imported with the national standard: the system's
    html = client.get(f"/competency/frameworks/{fw.id}").get_data(as_text=True)
    assert "Teaching school" in html and "rule-changes" in html


def test_a_teacher_of_two_schools_says_which_owns_the_rule(app, client, create_user, create_org, api_token):
    from lms.organisations.operations import add_membership

    one, two = create_org("One", "institution"), create_org("Two", "institution")
    teacher = create_user("teacher", one, login="two-hats@example.com")
    add_membership(teacher, two, "teacher")
    db.session.commit()
    fw = import_small()
    u = unit(fw, 1, "1.1.2")
    body = {"unit_id": u.id, "verbs": [PASSED], "match_kind": "activity", "match_iri": X + "both"}
    resp = client.post(f"{API}/frameworks/{fw.id}/rules", headers=api_token(teacher), json=body)
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "organisation_id"
    other = create_org("Not mine", "institution")
    resp = client.post(f"{API}/frameworks/{fw.id}/rules", headers=api_token(teacher),
                       json={**body, "organisation_id": other.id})
    assert resp.status_code == 403
    resp = client.post(f"{API}/frameworks/{fw.id}/rules", headers=api_token(teacher),
                       json={**body, "organisation_id": two.id})
    assert resp.status_code == 201 and resp.get_json()["owner"]["id"] == two.id


def test_demo_frameworks_are_the_systems_and_the_demo_teachers_rule_the_schools(app, create_user, create_org):
    from competency.demo import seed
    from competency.models import EvidenceRule, Framework

    school = create_org("Demo institution", "institution")
    users = {"institution@demo.lms": create_user("institution_admin", school, login="institution@demo.lms"),
             "teacher@demo.lms": create_user("teacher", school, login="teacher@demo.lms"),
             "learner@demo.lms": create_user("learner", school, login="learner@demo.lms")}
    seed(app, {"users": users, "organisations": {"school": school}})
    db.session.commit()
    assert {f.owner_org_id for f in db.session.scalars(sa.select(Framework))} == {None}
    teacher_rules = db.session.scalars(sa.select(EvidenceRule).where(
        EvidenceRule.created_by_id == users["teacher@demo.lms"].id)).all()
    assert teacher_rules and {r.owner_org_id for r in teacher_rules} == {school.id}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceRule).where(
        EvidenceRule.owner_org_id.is_(None))) > 0


def test_the_owner_school_edits_and_deletes_its_framework_and_the_log_outlives_it(app, client, create_user,
                                                                                  create_org, api_token):
    from competency.models import Framework, RuleChange

    school = create_org("Owner school", "institution")
    admin = create_user("institution_admin", school, login="owner-admin@example.com")
    teacher = create_user("teacher", school, login="owner-teacher@example.com")
    resp = client.post(f"{API}/frameworks?organisation_id={school.id}", headers={**api_token(admin),
                       "Content-Type": "text/csv"}, data=SMALL_CSV.encode())
    assert resp.status_code == 201, resp.get_json()
    fw_id = resp.get_json()["id"]
    assert resp.get_json()["owner"]["id"] == school.id
    # a teacher edits rules, not the framework itself
    assert client.patch(f"{API}/frameworks/{fw_id}", headers=api_token(teacher), json={"title": "t"}).status_code == 403
    resp = client.patch(f"{API}/frameworks/{fw_id}", headers=api_token(admin), json={"title": "校本标准"})
    assert resp.status_code == 200 and resp.get_json()["title"] == "校本标准"
    # the owner's teacher may recompute the school's own framework
    assert client.post(f"{API}/frameworks/{fw_id}/recompute", headers=api_token(teacher)).status_code == 202
    assert client.delete(f"{API}/frameworks/{fw_id}", headers=api_token(admin)).status_code == 204
    assert db.session.get(Framework, fw_id) is None
    log = [(c.subject, c.action) for c in db.session.scalars(sa.select(RuleChange).order_by(RuleChange.id))]
    assert log == [("framework", "create"), ("framework", "update"), ("framework", "delete")]
