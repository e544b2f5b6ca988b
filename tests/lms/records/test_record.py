"""The worker's record: sections from the plugins, who may read it, PDF, the CLR 2.0 export,
share links (expiry, revocation, forged tokens, parallel requests) and the public page."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading

import pytest
import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.testing import csrf_token_from
from tests.competency.test_certificates import awarded  # noqa: F401  (fixture)

SCHEMAS = os.path.join(os.path.dirname(__file__), "..", "..", "schemas")


@pytest.fixture
def worker(app, awarded, create_user, create_org):  # noqa: F811
    """The awarded learner with a certificate and a course enrolment; returns (learner, admin, cert)."""
    from competency.operations.certificates import issue_certificate
    from courses.models import Enrolment
    from tests.courses.authoring_support import full_course, school_with_teacher

    learner, admin, att = awarded
    learner.id_card_number = "11010519491231002X"
    cert = issue_certificate(att, actor=admin)
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    db.session.add(Enrolment(user_id=learner.id, course_id=course.id, status="completed", completed_at=utcnow(),
                             progress=1.0))
    db.session.commit()
    return learner, admin, cert


def _login(client, auth, user):
    auth.logout()
    auth.login(user)


def test_own_record_shows_every_section_with_source_and_verification(app, client, auth, worker):
    learner, admin, cert = worker
    auth.login(learner)
    html = client.get("/record").get_data(as_text=True)
    for text in ("课程", "技能等级", "认定考试", "焊接", cert.verification_code, "本平台", "已签名的凭证"):
        assert text in html, text
    assert "11010519491231002X" not in html
    assert re.search(r"\{\s*\"", html) is None  # no raw JSON on the page


def test_filters_by_occupation_and_period(app, client, auth, worker):
    learner, admin, cert = worker
    auth.login(learner)
    html = client.get("/record?occupation=0-00-00-00").get_data(as_text=True)
    assert cert.verification_code not in html
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    html = client.get(f"/record?since={future}").get_data(as_text=True)
    assert cert.verification_code not in html and "焊接" not in html


def test_pdf_is_a_chinese_pdf(app, client, auth, worker):
    learner, admin, cert = worker
    auth.login(learner)
    resp = client.get("/record.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    from lms.records.record import CJK_FONT
    from lms.testing import need

    need(os.path.exists(CJK_FONT), "the CJK font (fonts-noto-cjk) is needed for Chinese PDFs")
    assert b"NotoSansCJK" in resp.data


def test_entitled_readers_only(app, client, auth, worker, create_user, create_org):
    learner, admin, cert = worker
    url = f"/record/workers/{learner.uuid}"
    assert client.get(url).status_code in (302, 401)
    org = learner.memberships[0].organisation
    other = create_org("别的企业", "enterprise")
    stranger_admin = create_user("enterprise_admin", other)
    fellow_learner = create_user("learner", org)
    teacher = create_user("teacher", org)
    supervisor = create_user("supervisor", org)
    for user, status in ((stranger_admin, 403), (fellow_learner, 403), (teacher, 403), (admin, 200),
                         (supervisor, 200)):
        _login(client, auth, user)
        assert client.get(url).status_code == status, user.login
        assert client.get(url + "/record.pdf").status_code == status, user.login
    _login(client, auth, admin)
    html = client.get(url).get_data(as_text=True)
    assert "share-form" not in html  # read only
    assert client.get("/record/workers/not-a-uuid").status_code == 404


def _share(client, days=30, entries=(), label="给雇主"):
    html = client.get("/record").get_data(as_text=True)
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="request_key" name="request_key" type="hidden" value="([^"]+)"', html)
    data = {"csrf_token": csrf_token_from(html), "days": str(days), "label": label,
            "request_key": key.group(1) if key else "k", "entry": list(entries)}
    resp = client.post("/record/shares", data=data)
    assert resp.status_code == 302
    page = client.get("/record").get_data(as_text=True)
    link = re.search(r'href="(http[^"]+/record/shared/[^"]+)"', page)
    return link.group(1) if link else None, data


def test_share_opens_on_public_page_valid_then_revoked(app, client, auth, worker):
    from lms.records.models import RecordShare, RecordShareView

    learner, admin, cert = worker
    auth.login(learner)
    link, _ = _share(client)
    assert link
    path = link.split("127.0.0.1:5000")[-1]
    auth.logout()
    page = client.get(path)
    assert page.status_code == 200 and "签名有效" in page.get_data(as_text=True)
    clr = client.get(path + "/clr.json").get_json()
    assert "ClrCredential" in clr["type"]
    share = db.session.scalars(sa.select(RecordShare)).one()
    auth.login(learner)
    html = client.get("/record").get_data(as_text=True)
    client.post(f"/record/shares/{share.uuid}/revoke", data={"csrf_token": csrf_token_from(html)})
    auth.logout()
    page = client.get(path)
    assert page.status_code == 410 and "撤销" in page.get_data(as_text=True)
    assert client.get(path + "/clr.json").status_code == 410
    outcomes = db.session.scalars(sa.select(RecordShareView.outcome).order_by(RecordShareView.id)).all()
    assert outcomes == ["page", "credential", "refused", "refused"]


def test_expired_and_forged_tokens(app, client, auth, worker):
    from lms.records.models import RecordShare

    learner, admin, cert = worker
    auth.login(learner)
    link, _ = _share(client, days=1)
    path = link.split("127.0.0.1:5000")[-1]
    share = db.session.scalars(sa.select(RecordShare)).one()
    share.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    auth.logout()
    assert client.get(path).status_code == 410
    token = path.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/record/shared/{forged}").status_code == 404
    assert client.get("/record/shared/" + "x" * 500).status_code == 404
    assert client.get(f"/record/shared/{share.token_hash}").status_code == 404  # the stored hash is no token


def test_only_the_worker_shares_and_revokes(app, client, auth, worker, create_user):
    from lms.records.record import RecordError, create_share, revoke_share

    learner, admin, cert = worker
    with pytest.raises(RecordError):
        create_share(learner, actor=admin, keys=[], days=3, label="", request_key="k1")
    share, token = create_share(learner, actor=learner, keys=[], days=3, label="", request_key="k2")
    db.session.commit()
    with pytest.raises(RecordError):
        revoke_share(share, actor=admin)
    auth.login(admin)
    html = client.get("/").get_data(as_text=True)
    assert client.post(f"/record/shares/{share.uuid}/revoke",
                       data={"csrf_token": csrf_token_from(html)}).status_code == 404
    with pytest.raises(RecordError):
        create_share(learner, actor=learner, keys=["https://elsewhere.example/not-mine"], days=3, label="",
                     request_key="k3")


def test_parallel_share_requests_and_revocations_have_one_effect(app, worker):
    from lms.records.models import RecordShare
    from lms.records.record import create_share, revoke_share

    learner, admin, cert = worker
    learner_id = learner.id
    results, errors = [], []

    def run(fn):
        with app.app_context():
            try:
                results.append(fn())
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    def create():
        from lms.accounts.models import User

        user = db.session.get(User, learner_id)
        return create_share(user, actor=user, keys=[], days=5, label="", request_key="same-form")[1] is not None

    threads = [threading.Thread(target=run, args=(create,)) for _ in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert db.session.scalar(sa.select(sa.func.count(RecordShare.id))) == 1
    assert results.count(True) == 1, (results, errors)
    share_id = db.session.scalar(sa.select(RecordShare.id))
    results.clear()

    def revoke():
        from lms.accounts.models import User

        return revoke_share(db.session.get(RecordShare, share_id), actor=db.session.get(User, learner_id))

    threads = [threading.Thread(target=run, args=(revoke,)) for _ in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count(True) == 1, (results, errors)


def test_clr_is_signed_holds_the_certificate_and_hides_the_id_number(app, worker):
    from lms.records.credentials import verify
    from lms.records.record import create_share

    learner, admin, cert = worker
    share, token = create_share(learner, actor=learner, keys=[], days=3, label="", request_key="k")
    clr = share.credential
    assert verify(clr)
    subject = clr["credentialSubject"]
    assert subject["verifiableCredential"][0]["id"] == cert.credential["id"]
    assert "11010519491231002X" not in json.dumps(clr)
    ident = subject["identifier"][0]
    assert ident["hashed"] is True and ident["identityType"] == "nationalIdentityNumber"
    assert any(a["associationType"] == "isChildOf" for a in subject.get("association", []))
    tampered = json.loads(json.dumps(clr))
    tampered["credentialSubject"]["achievement"][0]["name"] = "高级技师"
    assert not verify(tampered)


def test_clr_verifies_with_an_independent_verifier(app, client, worker):
    """Digital Bazaar's verifier accepts the CLR and the OB credential inside it, and rejects a
    tampered CLR; it reads the certificate as revoked once it is."""
    from competency.operations.certificates import revoke_certificate
    from lms.records.credentials import issuer_id, key_id
    from lms.records.record import create_share
    from tests.independent_verifier import published_documents, verify

    learner, admin, cert = worker
    share, token = create_share(learner, actor=learner, keys=[], days=3, label="", request_key="k")
    db.session.commit()
    clr = client.get(f"/record/shared/{token}/clr.json").get_json()
    inner = clr["credentialSubject"]["verifiableCredential"][0]
    documents = published_documents(client, [issuer_id(), key_id(), inner["credentialStatus"]["statusListCredential"]])
    tampered = json.loads(json.dumps(clr))
    tampered["credentialSubject"]["association"] = []
    ok, bad, inner_ok = verify([clr, tampered, inner], documents)
    assert ok["verified"] is True, ok
    assert bad["verified"] is False and bad["proof"] is False
    assert inner_ok["verified"] is True and inner_ok["revoked"] is False, inner_ok
    revoke_certificate(cert, actor=admin, reason="fraud")
    db.session.commit()
    documents = published_documents(client, [issuer_id(), key_id(), inner["credentialStatus"]["statusListCredential"]])
    (after,) = verify([inner], documents)
    assert after["revoked"] is True and after["proof"] is True
