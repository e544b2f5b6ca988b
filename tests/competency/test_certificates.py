"""Certificates: issuing, the Open Badges credential and its signature, PDF, verification, revocation."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.core.db import db
from lms.testing import csrf_token_from
from tests.competency.helpers import PASSED, COMPLETED, X, import_small, level, mbox, record, stmt


@pytest.fixture
def awarded(app, create_user, create_org):
    """A learner with level 1 awarded by an institution admin; returns (learner, admin, attainment)."""
    from competency.models import LevelAttainment
    from competency.operations.attainment import award_level, record_exam_result

    org = create_org("Cert school", "institution")
    admin = create_user("institution_admin", org, login="certadmin@example.com")
    learner = create_user("learner", org, login="holder@example.com", real_name="李四")
    fw = import_small()
    a = mbox("holder@example.com")
    record(stmt(a, PASSED, X + "wiring", scaled=0.9), stmt(a, COMPLETED, X + "laws-a"), stmt(a, COMPLETED, X + "laws-b"))
    lv = level(fw, 1)
    record_exam_result(learner, lv, "theory", 80, actor=admin)
    record_exam_result(learner, lv, "practical", 61, actor=admin)
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id,
                                                             LevelAttainment.level_id == lv.id))
    award_level(att, actor=admin)
    db.session.commit()
    return learner, admin, att


def test_award_records_who_and_when_and_emits_statements(app, awarded):
    from competency.models import StateChange
    from lms.xapi.models import Statement

    learner, admin, att = awarded
    assert att.status == "awarded" and att.awarded_by_id == admin.id and att.awarded_at is not None
    change = db.session.scalars(sa.select(StateChange).where(StateChange.reason == "award")).one()
    assert change.actor_id == admin.id and change.after["status"] == "awarded"
    verbs = [s.full["verb"]["id"] for s in db.session.scalars(sa.select(Statement))]
    assert "https://w3id.org/xapi/adl/verbs/achieved" in verbs and "https://w3id.org/xapi/dod-isd/verbs/awarded" in verbs


def test_credential_is_signed_aligned_and_tamper_evident(app, awarded):
    from competency.operations.certificates import issue_certificate, verify_credential

    learner, admin, att = awarded
    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    cred = cert.credential
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    ach = cred["credentialSubject"]["achievement"]
    assert {a["targetCode"] for a in ach["alignment"]} == {"1.1.1", "1.1.2", "2.1.1"}
    status = cred["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert "/competency/status-lists/" in status["statusListCredential"]
    assert cred["proof"]["cryptosuite"] == "eddsa-rdfc-2022" and cred["proof"]["@context"] == cred["@context"]
    assert "holder@example.com" not in str(cred)  # the e-mail is only present hashed
    assert verify_credential(cred)
    forged = {**cred, "name": "高级技师"}
    assert not verify_credential(forged)
    assert att.status == "certified"


def test_key_is_kept_in_the_instance_folder_and_published(app, client, awarded):
    import os

    from competency.operations.certificates import key_path

    client.get("/competency/issuer")
    assert os.path.exists(key_path())
    doc = client.get("/credentials/issuer").get_json()
    method = doc["verificationMethod"][0]
    assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith("z6Mk")
    assert doc["assertionMethod"] == [method["id"]]
    key = client.get(method["id"].replace("http://127.0.0.1:5000", "")).get_json()
    assert key["publicKeyMultibase"] == method["publicKeyMultibase"] and key["controller"] == doc["id"]
    jwk = client.get("/competency/issuer/jwks.json").get_json()["keys"][0]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"


def test_key_path_setting_is_used(app, tmp_path):
    from competency.operations.certificates import key_path, public_jwk

    old = app.config.get("LMS_BADGE_KEY_PATH")
    app.config["LMS_BADGE_KEY_PATH"] = str(tmp_path / "k.pem")
    try:
        public_jwk()
        assert key_path() == str(tmp_path / "k.pem") and (tmp_path / "k.pem").exists()
    finally:
        app.config["LMS_BADGE_KEY_PATH"] = old
        app.extensions.pop("competency_badge_key", None)


def test_pdf_renders_chinese_and_falls_back_without_the_font(app, awarded, monkeypatch):
    from competency.operations import certificates
    from competency.operations.certificates import certificate_pdf, issue_certificate

    learner, admin, att = awarded
    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    pdf = certificate_pdf(cert)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    monkeypatch.setattr(certificates, "CJK_FONT", "/nonexistent/font.ttc")
    assert certificate_pdf(cert).startswith(b"%PDF")


def test_revocation_shows_on_the_verification_page_and_status(app, client, auth, awarded):
    from competency.operations.certificates import issue_certificate

    learner, admin, att = awarded
    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    code = cert.verification_code
    html = client.get(f"/competency/verify/{code}").get_data(as_text=True)
    assert "李四" in html and "cmp-status-certified" in html
    assert client.get("/competency/verify/XXXX-YYYY-ZZZZ").status_code == 404
    auth.login(admin)
    page = client.get(f"/competency/attainments/{att.id}")
    token = csrf_token_from(page.get_data(as_text=True))
    r = client.post(f"/competency/certificates/{cert.id}/revoke", data={"csrf_token": token, "reason": "issued in error"})
    assert r.status_code == 302
    html = client.get(f"/competency/verify/{code}").get_data(as_text=True)
    assert "cmp-status-retracted" in html and "issued in error" in html
    assert client.get(f"/competency/certificates/{cert.uuid}/status").get_json()["revoked"] is True


def test_only_assessors_award_and_issue(app, client, create_user, create_org, api_token, awarded):
    learner, admin, att = awarded
    org = create_org("Other org", "institution")
    teacher = create_user("teacher", org)
    r = client.post(f"/api/v1/competency/attainments/{att.id}/certificate", headers=api_token(teacher))
    assert r.status_code == 404  # not even visible
    r = client.post(f"/api/v1/competency/attainments/{att.id}/certificate", headers=api_token(admin))
    assert r.status_code == 201
    r = client.post(f"/api/v1/competency/attainments/{att.id}/certificate", headers=api_token(admin))
    assert r.status_code == 409


def test_expired_exam_pass_does_not_count(app, create_user, create_org):
    from competency.operations.attainment import exam_status, record_exam_result

    org = create_org("Exp", "institution")
    admin = create_user("institution_admin", org)
    learner = create_user("learner", org)
    fw = import_small()
    lv = level(fw, 1)
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    record_exam_result(learner, lv, "theory", 90, actor=admin, taken_at=old)
    status = exam_status(f"user:{learner.id}", lv)
    assert status["theory"]["passed"] is False and status["theory"]["expired"] is True


def test_bad_exam_input_is_refused(app, client, create_user, create_org, api_token):
    org = create_org("Bad", "institution")
    admin = create_user("institution_admin", org)
    learner = create_user("learner", org)
    fw = import_small()
    lv = level(fw, 1)
    url = f"/api/v1/competency/learners/{learner.id}/levels/{lv.id}/exam-results"
    assert client.post(url, json={"part": "theory", "score": 130}, headers=api_token(admin)).status_code == 400
    assert client.post(url, json={"part": "review", "score": 70}, headers=api_token(admin)).status_code == 400
    assert client.post(url, json=["x"], headers=api_token(admin)).status_code == 400
    assert client.post(url, json={"part": "theory", "score": 70}, headers=api_token(learner)).status_code == 403
