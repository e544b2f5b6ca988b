"""The issue's "Done when" journey: an external xAPI client (tincan RemoteLRS against a live
server) posts statements for activities no course defines; they match rules of an imported
framework and raise the learner's coverage; exam results make the level eligible; an assessor
awards it; the certificate verifies publicly; voiding the decisive statement retracts it."""
from __future__ import annotations

import sqlalchemy as sa
import tincan

from lms.core.db import db
from tests.competency.helpers import SMALL_CSV, X


def _statement(email, verb, activity, scaled=None):
    st = tincan.Statement(actor=tincan.Agent(name="Learner", mbox="mailto:" + email),
                          verb=tincan.Verb(id=verb, display={"en-US": verb.rsplit("/", 1)[-1]}),
                          object=tincan.Activity(id=activity, definition=tincan.ActivityDefinition(
                              name={"zh-CN": "外部实训 " + activity.rsplit("/", 1)[-1]})),
                          context=tincan.Context(platform="External training system"))
    if scaled is not None:
        st.result = tincan.Result(score=tincan.Score(scaled=scaled), success=True)
    return st


def test_external_statements_to_certificate_and_retraction(app, client, runner, live_server, create_user,
                                                           create_org, api_token, tmp_path):
    from competency.models import LevelAttainment, Occupation, UnitState
    from competency.operations.attainment import authorise_assessor
    from competency.operations.certificates import verify_credential
    from lms.xapi.credentials import create_client

    school = create_org("School", "institution")
    admin = create_user("institution_admin", school, login="admin@school.example")
    assessor = create_user("teacher", school, login="assessor@school.example")
    learner = create_user("learner", school, login="learner@ext.example", real_name="王小明")
    path = tmp_path / "framework.csv"
    path.write_text(SMALL_CSV, encoding="utf-8")
    res = runner.invoke(args=["competency", "import-framework", str(path)])
    assert res.exit_code == 0, res.output
    occ = db.session.scalar(sa.select(Occupation).where(Occupation.code == "6-31-01-03"))
    authorise_assessor(assessor, occ, actor=admin)
    _client, key, secret = create_client("External system", ["statements/write", "statements/read"])
    db.session.commit()

    lrs = tincan.RemoteLRS(endpoint=live_server.url + "/xapi/", version="1.0.3", username=key, password=secret)
    email = "learner@ext.example"
    decisive = _statement(email, "http://adlnet.gov/expapi/verbs/passed", X + "wiring", scaled=0.9)
    resp = lrs.save_statement(decisive)
    assert resp.success, resp.data
    decisive_id = str(resp.content.id)
    resp = lrs.save_statements([_statement(email, "http://adlnet.gov/expapi/verbs/completed", X + "laws-a"),
                                _statement(email, "http://adlnet.gov/expapi/verbs/completed", X + "laws-b")])
    assert resp.success, resp.data
    db.session.rollback()

    covered = db.session.scalars(sa.select(UnitState).where(UnitState.user_id == learner.id, UnitState.covered)).all()
    assert len(covered) == 2
    headers = api_token(assessor)
    prof = client.get(f"/api/v1/competency/learners/{learner.id}/profile", headers=headers).get_json()
    lv1 = prof["occupations"][0]["levels"][0]
    assert lv1["rung"] == 1 and abs(lv1["coverage"] - 2 / 3) < 1e-3 and lv1["status"] == "in_progress"
    unit_rows = [u for f in lv1["functions"] for u in f["units"]]
    wired = next(u for u in unit_rows if u["code"] == "1.1.1")
    # the source shown is the one the LRS recorded for the client; the platform the statement names is kept
    from lms.records.facts import sources_of

    shown = wired["evidence"][0]
    _policy, label = sources_of([shown["statement_id"]])[shown["statement_id"]]
    assert shown["source"] == (label or "本平台") and shown["source_label"] == label
    assert shown["reported_source"] == "External training system"

    level_id = lv1["level_id"]
    for part, score in (("theory", 75), ("practical", 68)):
        r = client.post(f"/api/v1/competency/learners/{learner.id}/levels/{level_id}/exam-results",
                        json={"part": part, "score": score}, headers=headers)
        assert r.status_code == 201, r.get_json()
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id,
                                                             LevelAttainment.level_id == level_id))
    assert att.status == "eligible"
    # the learner cannot award themselves; the assessor can
    assert client.post(f"/api/v1/competency/attainments/{att.id}/award", headers=api_token(learner)).status_code in (403, 404)
    r = client.post(f"/api/v1/competency/attainments/{att.id}/award", headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "awarded" and r.get_json()["awarded_by_id"] == assessor.id
    r = client.post(f"/api/v1/competency/attainments/{att.id}/certificate", headers=headers)
    assert r.status_code == 201
    cert = r.get_json()
    page = client.get(f"/competency/verify/{cert['verification_code']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "王小明" in html and "verify-status" in html
    assert "learner@ext.example" not in html  # only what the certificate states
    cred = client.get(f"/competency/certificates/{cert['uuid']}/credential.json").get_json()
    assert "OpenBadgeCredential" in cred["type"] and verify_credential(cred)
    assert client.get(f"/competency/certificates/{cert['uuid']}/status").get_json()["revoked"] is False
    pdf = client.get(f"/competency/verify/{cert['verification_code']}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # voiding the decisive statement retracts the level and revokes the certificate
    void = tincan.Statement(actor=tincan.Agent(mbox="mailto:" + email),
                            verb=tincan.Verb(id="http://adlnet.gov/expapi/verbs/voided", display={"en-US": "voided"}),
                            object=tincan.StatementRef(id=decisive_id))
    resp = lrs.save_statement(void)
    assert resp.success, resp.data
    db.session.rollback()
    att = db.session.get(LevelAttainment, att.id)
    assert att.status == "retracted"
    status = client.get(f"/competency/certificates/{cert['uuid']}/status").get_json()
    assert status["revoked"] is True
    page = client.get(f"/competency/verify/{cert['verification_code']}").get_data(as_text=True)
    assert "cmp-status-retracted" in page
