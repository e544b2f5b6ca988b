"""Applications to recognise outside certificates: hostile uploads, wrong reviewers, one decision."""
from __future__ import annotations

import io
import os
import threading

import pytest
import sqlalchemy as sa

from lms.testing import csrf_token_from, only_on_postgresql
from tests.creditbank.support import PDF, catalogue


@pytest.fixture
def world(create_user, create_org):
    school = create_org("审核学院", "institution")
    other = create_org("别的学院", "institution")
    reviewer = create_user("institution_admin", school, real_name="审核员")
    stranger = create_user("institution_admin", other, real_name="外校管理员")
    worker = create_user("learner", school, real_name="李工")
    peer = create_user("learner", school, real_name="王工")
    cat = catalogue(reviewer)
    return school, reviewer, stranger, worker, peer, cat


def _apply(client, auth, worker, school, cat, data=PDF, name="cert.pdf"):
    auth.login(worker)
    page = client.get("/creditbank/applications/new").get_data(as_text=True)
    return client.post("/creditbank/applications/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_token_from(page), "organisation_id": school.id, "target_outcome_id": cat.outside.id,
        "title": "电工上岗证", "issuer": "应急管理局", "certificate": (io.BytesIO(data), name)})


@pytest.mark.parametrize("data,name", [
    (b"MZ\x90\x00 this is an exe", "cert.pdf"),
    (b"<svg onload=alert(1)>", "cert.png"),
    (b"", "cert.pdf"),
    (PDF + b"0" * (5 * 1024 * 1024), "big.pdf"),
])
def test_hostile_files_are_refused(world, client, auth, app, data, name):
    from creditbank.models import Application
    from lms.core.db import db

    school, _reviewer, _stranger, worker, _peer, cat = world
    resp = _apply(client, auth, worker, school, cat, data, name)
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0


def test_file_is_stored_under_a_random_name_in_the_upload_dir(world, client, auth, app):
    from creditbank.models import Application
    from lms.core.db import db

    school, _reviewer, _stranger, worker, _peer, cat = world
    resp = _apply(client, auth, worker, school, cat, name="../../etc/passwd<script>.pdf")
    assert resp.status_code == 302
    row = db.session.scalars(sa.select(Application)).one()
    assert "/" not in row.file_path and row.file_path.endswith(".pdf") and row.file_type == "application/pdf"
    assert "<" not in row.file_name and "/" not in row.file_name
    path = os.path.join(app.config["LMS_UPLOAD_DIR"], "creditbank", row.file_path)
    assert open(path, "rb").read() == PDF


def test_only_the_institution_reviews_and_decision_credits(world, client, auth):
    from creditbank.models import Application, LedgerEntry
    from lms.core.db import db

    school, reviewer, stranger, worker, peer, cat = world
    assert _apply(client, auth, worker, school, cat).status_code == 302
    row = db.session.scalars(sa.select(Application)).one()
    url = f"/creditbank/applications/{row.id}"
    auth.logout()
    for intruder in (stranger, peer):  # another institution's admin, another worker: not even visible
        auth.login(intruder)
        assert client.get(url).status_code == 404
        assert client.get(url + "/certificate").status_code == 404
        auth.logout()
    auth.login(reviewer)
    page = client.get(url).get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf_token_from(page), "decision": "approve", "reason": ""}) \
        .status_code == 400
    assert client.post(url, data={"csrf_token": csrf_token_from(page), "decision": "approve",
                                  "reason": "证书真实有效"}).status_code == 302
    db.session.refresh(row)
    assert row.status == "approved" and row.reviewed_by_id == reviewer.id
    entries = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.user_id == worker.id)).all()
    assert [(e.basis, e.credits) for e in entries] == [(f"outcome:{cat.outside.id}", 1.0)]
    assert entries[0].evidence[0]["source_ref"] == f"application:{row.id}"
    # Decided once: a second decision is refused.
    assert client.post(url, data={"csrf_token": csrf_token_from(page), "decision": "reject",
                                  "reason": "改主意"}).status_code == 403 or row.status == "approved"


def test_worker_cannot_decide_own_application(world, create_user):
    from creditbank.operations import CreditBankError
    from creditbank.operations.applications import decide, submit_application
    from lms.core.db import db
    from lms.organisations.operations import add_membership

    school, _reviewer, _stranger, worker, _peer, cat = world
    row = submit_application(worker, organisation_id=school.id, target_outcome_id=cat.outside.id, title="x",
                             file_name="a.pdf", data=PDF)
    add_membership(worker, school, "institution_admin")
    db.session.commit()
    with pytest.raises(CreditBankError):
        decide(worker, row.id, approve=True, reason="自己批")


@pytest.mark.postgres
def test_twenty_parallel_decisions_have_one_effect(world, app, live_server, test_database_url):
    only_on_postgresql(test_database_url)
    from creditbank.models import Achievement, Application
    from creditbank.operations.applications import submit_application
    from lms.core.db import db
    from lms.testing import PASSWORD
    from tests.creditbank.support import LiveSession, in_parallel

    school, reviewer, _stranger, worker, _peer, cat = world
    row = submit_application(worker, organisation_id=school.id, target_outcome_id=cat.outside.id, title="x",
                             file_name="a.pdf", data=PDF)
    db.session.commit()
    s = LiveSession(live_server.url).login(reviewer, PASSWORD)
    path = f"/creditbank/applications/{row.id}"
    token = s.token(path)
    codes = in_parallel(20, lambda: s.call(path, {"csrf_token": token, "decision": "approve", "reason": "有效"})[0])
    assert codes.count(302) == 1, codes
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Achievement)
                             .where(Achievement.source_kind == "application")) == 1
    assert db.session.get(Application, row.id).status == "approved"


@pytest.mark.postgres
def test_twenty_parallel_identical_applications_make_one(world, app, live_server, test_database_url):
    only_on_postgresql(test_database_url)
    from creditbank.models import Application
    from lms.core.db import db
    from lms.testing import PASSWORD
    from tests.creditbank.support import LiveSession, in_parallel, multipart

    school, _reviewer, _stranger, worker, _peer, cat = world
    s = LiveSession(live_server.url).login(worker, PASSWORD)
    token = s.token("/creditbank/applications/new")
    body, ctype = multipart({"csrf_token": token, "organisation_id": school.id, "target_outcome_id": cat.outside.id,
                             "title": "电工上岗证"}, {"certificate": ("c.pdf", PDF)})
    codes = in_parallel(20, lambda: s.call("/creditbank/applications/new", body=body,
                                           headers={"Content-Type": ctype})[0])
    assert codes.count(302) == 1, codes
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 1
    files = os.listdir(os.path.join(app.config["LMS_UPLOAD_DIR"], "creditbank"))
    assert db.session.scalars(sa.select(Application.file_path)).one() in files


@pytest.mark.postgres
def test_twenty_parallel_evaluations_write_one_entry(world, app, test_database_url):
    only_on_postgresql(test_database_url)
    from creditbank.models import LedgerEntry
    from creditbank.tasks import record_and_evaluate
    from lms.core.db import db

    _school, _reviewer, _stranger, worker, _peer, _cat = world
    evidence = {"source_kind": "course_completed", "source_ref": "enrolment:1", "keys": ["course:ELEC-101"],
                "score": 90, "attendance": 1.0}
    barrier = threading.Barrier(20)
    errors = []

    def go():
        with app.app_context():
            try:
                barrier.wait()
                record_and_evaluate.run(worker.id, evidence)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    uid = worker.id
    threads = [threading.Thread(target=go) for _ in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.user_id == uid)) == 1


def test_owner_and_reviewer_download_the_certificate_as_an_attachment(world, client, auth, app):
    from creditbank.models import Application
    from lms.core.db import db

    school, reviewer, _stranger, worker, _peer, cat = world
    assert _apply(client, auth, worker, school, cat).status_code == 302
    row = db.session.scalars(sa.select(Application)).one()
    url = f"/creditbank/applications/{row.id}/certificate"
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data == PDF and "attachment" in resp.headers["Content-Disposition"]
    auth.logout()
    auth.login(reviewer)
    assert client.get(url).status_code == 200
    os.remove(os.path.join(app.config["LMS_UPLOAD_DIR"], "creditbank", row.file_path))
    assert client.get(url).status_code == 404
