"""Pages, scopes, rules from the UI and the API, the CLI profile, the OpenAPI document."""
from __future__ import annotations

import json

import sqlalchemy as sa

from lms.core.db import db
from lms.testing import csrf_token_from
from tests.competency.helpers import COMPLETED, PASSED, X, import_small, mbox, record, stmt, unit


def _setup(create_user, create_org):
    org = create_org("Plant", "enterprise")
    learner = create_user("learner", org, login="worker@example.com", real_name="张三")
    mentor = create_user("mentor", org, login="mentor@example.com")
    other_org = create_org("Elsewhere", "enterprise")
    stranger = create_user("teacher", other_org, login="stranger@example.com")
    fw = import_small()
    record(stmt(mbox("worker@example.com"), PASSED, X + "wiring", scaled=0.9, platform="Plant LMS"))
    return learner, mentor, stranger, fw


def test_learner_sees_own_profile_with_chart_table_and_evidence(app, client, auth, create_user, create_org):
    learner, _m, _s, fw = _setup(create_user, create_org)
    auth.login(learner)
    html = client.get("/competency/").get_data(as_text=True)
    assert "coverage-chart" in html and "<title id=\"chart-t-1\"" in html
    # the source is the one the LRS recorded (the platform's recorder), not what the statement claims
    assert "coverage-table" in html and "evidence-link" in html and "本平台" in html
    assert "6-31-01-03" in html
    ev_link = html.split('class="evidence-link" href="')[1].split('"')[0]
    ev = client.get(ev_link)
    page = ev.get_data(as_text=True)
    assert ev.status_code == 200 and X + "wiring" in page
    assert 'data-testid="evidence-source">本平台<' in page and "Plant LMS" in page  # claimed platform, labelled


def test_mentor_of_the_organisation_sees_the_learner_others_do_not(app, client, auth, create_user, create_org,
                                                                    api_token):
    learner, mentor, stranger, fw = _setup(create_user, create_org)
    auth.login(mentor)
    assert client.get(f"/competency/learners/{learner.id}").status_code == 200
    assert "张三" in client.get("/competency/learners").get_data(as_text=True)
    auth.logout()
    auth.login(stranger)
    assert client.get(f"/competency/learners/{learner.id}").status_code == 404
    assert "张三" not in client.get("/competency/learners").get_data(as_text=True)
    assert client.get(f"/api/v1/competency/learners/{learner.id}/profile", headers=api_token(stranger)).status_code == 404
    body = client.get(f"/api/v1/competency/learners/{learner.id}/profile", headers=api_token(mentor)).get_json()
    assert body["occupations"][0]["levels"][0]["functions"][0]["units"][0]["covered"] is True


def test_missing_units_suggest_activities_from_rules(app, client, create_user, create_org, api_token):
    learner, mentor, _s, fw = _setup(create_user, create_org)
    body = client.get("/api/v1/competency/me/profile", headers=api_token(learner)).get_json()
    units = {u["code"]: u for f in body["occupations"][0]["levels"][0]["functions"] for u in f["units"]}
    assert units["1.1.1"]["suggestions"] == []
    assert units["1.1.2"]["suggestions"][0]["iri"] == X + "course-connect"
    assert body["occupations"][0]["levels"][1]["prerequisites"]["met"] is False


def test_teacher_creates_a_rule_by_picking_an_activity_the_lrs_knows(app, client, auth, create_user, create_org):
    from competency.models import EvidenceRule, UnitState

    org = create_org("School", "institution")
    teacher = create_user("teacher", org)
    learner = create_user("learner", org, login="pick@example.com")
    fw = import_small()
    record(stmt(mbox("someone@example.com"), COMPLETED, "https://ext.example.org/act/safety-video"))
    auth.login(teacher)
    page = client.get(f"/competency/frameworks/{fw.id}/rules/new?q=safety-video")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "https://ext.example.org/act/safety-video" in html
    target = unit(fw, 1, "1.1.2")
    r = client.post(f"/competency/frameworks/{fw.id}/rules/new", data={
        "csrf_token": csrf_token_from(html), "unit_id": target.id, "match_kind": "activity",
        "match_iri": "https://ext.example.org/act/safety-video", "verbs": [COMPLETED], "weight": "1",
        "operator": "any"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert db.session.scalar(sa.select(EvidenceRule).where(EvidenceRule.match_iri.like("%safety-video")))
    record(stmt(mbox("pick@example.com"), COMPLETED, "https://ext.example.org/act/safety-video"))
    state = db.session.scalar(sa.select(UnitState).where(UnitState.user_id == learner.id, UnitState.unit_id == target.id))
    assert state.covered
    # a bad IRI is refused with a message, nothing written
    r = client.post(f"/competency/frameworks/{fw.id}/rules/new", data={
        "csrf_token": csrf_token_from(html), "unit_id": target.id, "match_kind": "activity",
        "match_iri": "not an iri", "verbs": [COMPLETED], "weight": "1", "operator": "any"})
    assert r.status_code == 200 and "IRI" in r.get_data(as_text=True)


def test_rules_api(app, client, create_user, create_org, api_token):
    org = create_org("Sch", "institution")
    teacher = create_user("teacher", org)
    learner = create_user("learner", org)
    fw = import_small()
    target = unit(fw, 1, "1.1.2")
    url = f"/api/v1/competency/frameworks/{fw.id}/rules"
    r = client.post(url, json={"unit_id": target.id, "verbs": [PASSED], "match_kind": "type",
                               "match_iri": "http://adlnet.gov/expapi/activities/lesson", "min_scaled": 0.5},
                    headers=api_token(teacher))
    assert r.status_code == 201 and r.get_json()["match_kind"] == "type"
    assert client.post(url, json={"unit_id": target.id, "verbs": [PASSED], "match_kind": "nope", "match_iri": "x:y"},
                       headers=api_token(teacher)).status_code == 400
    assert client.post(url, json={"unit_id": target.id, "verbs": [PASSED], "match_kind": "type", "match_iri": "x:y"},
                       headers=api_token(learner)).status_code == 403
    rules = client.get(url, headers=api_token(learner)).get_json()["items"]
    assert len(rules) == 8
    rid = r.get_json()["id"]
    assert client.delete(f"/api/v1/competency/rules/{rid}", headers=api_token(teacher)).status_code == 204
    assert client.get("/api/v1/competency/frameworks", headers=api_token(learner)).get_json()["items"][0]["id"] == fw.id


def test_cli_profile_json(app, runner, create_user, create_org):
    learner, *_ = _setup(create_user, create_org)
    res = runner.invoke(args=["competency", "profile", "worker@example.com", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["learner"]["id"] == learner.id and data["occupations"][0]["occupation"]["code"] == "6-31-01-03"
    res = runner.invoke(args=["competency", "profile", "worker@example.com"])
    assert "6-31-01-03" in res.output


def test_api_routes_are_in_the_openapi_document(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = set(doc["paths"])
    assert any(p.startswith("/api/v1/competency/learners/") and p.endswith("/profile") for p in paths)
    assert "/api/v1/competency/frameworks" in paths and "/api/v1/competency/certificates" in paths


def test_framework_pages(app, client, auth, create_user, create_org):
    org = create_org("S3", "institution")
    admin = create_user("institution_admin", org)
    fw = import_small()
    auth.login(admin)
    assert "测试电工标准" in client.get("/competency/frameworks").get_data(as_text=True)
    html = client.get(f"/competency/frameworks/{fw.id}").get_data(as_text=True)
    assert "能布线" in html and X + "wiring" in html
    r = client.get(f"/competency/frameworks/{fw.id}/case.json")
    assert r.status_code == 200 and r.get_json()["CFDocument"]["identifier"] == str(fw.identifier)
    assert client.get("/competency/attainments?status=in_progress").status_code == 200
    assert client.get("/competency/frameworks/9999").status_code == 404


def test_competency_never_imports_courses():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "competency"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import courses" not in text and "from courses" not in text, path


def test_assessor_enters_exams_awards_and_issues_in_the_ui(app, client, auth, create_user, create_org):
    from competency.models import Certificate, LevelAttainment
    from competency.operations.attainment import authorise_assessor
    from tests.competency.helpers import level

    org = create_org("Exam centre", "institution")
    admin = create_user("institution_admin", org)
    assessor = create_user("teacher", org, login="examiner@example.com")
    learner = create_user("learner", org, login="candidate@example.com")
    fw = import_small()
    authorise_assessor(assessor, fw.occupation, actor=admin)
    db.session.commit()
    a = mbox("candidate@example.com")
    record(stmt(a, PASSED, X + "wiring", scaled=0.9), stmt(a, COMPLETED, X + "laws-a"), stmt(a, COMPLETED, X + "laws-b"))
    auth.login(assessor)
    page = client.get(f"/competency/learners/{learner.id}")
    html = page.get_data(as_text=True)
    assert "Record an exam result" in html or "录入考试成绩" in html
    token = csrf_token_from(html)
    lv = level(fw, 1)
    url = f"/competency/learners/{learner.id}/levels/{lv.id}/exams"
    assert client.post(url, data={"csrf_token": token, "part": "theory", "score": "140"}).status_code == 302
    for part, score in (("theory", "71"), ("practical", "60")):
        assert client.post(url, data={"csrf_token": token, "part": part, "score": score}).status_code == 302
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id,
                                                             LevelAttainment.level_id == lv.id))
    assert att.status == "eligible"
    html = client.get(f"/competency/attainments/{att.id}").get_data(as_text=True)
    assert client.post(f"/competency/attainments/{att.id}/award", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/competency/attainments/{att.id}/certificate", data={"csrf_token": token}).status_code == 302
    db.session.refresh(att)
    assert att.status == "certified" and att.awarded_by_id == assessor.id
    cert = db.session.scalars(sa.select(Certificate)).one()
    assert cert.verification_code in client.get(f"/competency/attainments/{att.id}").get_data(as_text=True)
    # a learner cannot enter their own exam results
    auth.logout()
    auth.login(learner)
    page = client.get("/competency/")
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, "part": "theory", "score": "99"}).status_code == 403
