"""One effect per intent: 20 simultaneous identical requests (live server, real sessions and API
tokens) award once, issue one certificate, add one apprentice, record one sign-off and one
correction, and never answer 5xx; the domain events go out once, after commit, never after a
rollback."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.core import extension_points as events
from lms.core.db import db
from lms.testing import WebSession, in_parallel
from tests.competency.helpers import COMPLETED, PASSED, X, import_small, level, mbox, record, stmt

N = 20


def _eligible(create_user, create_org):
    """An institution admin and a learner whose level 1 is eligible; returns (learner, admin, attainment)."""
    from competency.models import LevelAttainment
    from competency.operations.attainment import record_exam_result

    org = create_org("Race school", "institution")
    admin = create_user("institution_admin", org, login="raceadmin@example.com")
    learner = create_user("learner", org, login="racer@example.com")
    fw = import_small()
    a = mbox("racer@example.com")
    record(stmt(a, PASSED, X + "wiring", scaled=0.9), stmt(a, COMPLETED, X + "laws-a"), stmt(a, COMPLETED, X + "laws-b"))
    lv = level(fw, 1)
    record_exam_result(learner, lv, "theory", 80, actor=admin)
    record_exam_result(learner, lv, "practical", 70, actor=admin)
    db.session.commit()
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id,
                                                             LevelAttainment.level_id == lv.id))
    assert att.status == "eligible"
    return learner, admin, att


def _statuses(results):
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = [status for status, _body in results]
    assert all(s < 500 for s in statuses), statuses
    return statuses


def test_twenty_simultaneous_awards_and_certificates_have_one_effect(app, live_server, create_user, create_org,
                                                                     api_token):
    from competency.models import Certificate, LevelAttainment, StateChange

    learner, admin, att = _eligible(create_user, create_org)
    att_id, headers = att.id, api_token(admin)
    db.session.rollback()
    web = WebSession(live_server.url)

    statuses = _statuses(in_parallel(N, lambda i: web.request(
        "POST", f"/api/v1/competency/attainments/{att_id}/award", json={}, headers=headers)))
    assert statuses.count(200) >= 1
    db.session.expire_all()
    assert db.session.get(LevelAttainment, att_id).status == "awarded"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StateChange)
                             .where(StateChange.reason == "award")) == 1

    statuses = _statuses(in_parallel(N, lambda i: web.request(
        "POST", f"/api/v1/competency/attainments/{att_id}/certificate", json={}, headers=headers)))
    assert statuses.count(201) == 1 and statuses.count(409) == N - 1, statuses
    db.session.expire_all()
    certs = db.session.scalars(sa.select(Certificate).where(Certificate.attainment_id == att_id)).all()
    assert len(certs) == 1 and certs[0].revoked_at is None
    assert db.session.get(LevelAttainment, att_id).status == "certified"


def test_a_second_valid_certificate_of_an_attainment_is_refused_by_the_database(app, create_user, create_org):
    from sqlalchemy.exc import IntegrityError

    from competency.models import Certificate
    from competency.operations.attainment import award_level
    from competency.operations.certificates import issue_certificate

    learner, admin, att = _eligible(create_user, create_org)
    award_level(att, actor=admin)
    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    db.session.add(Certificate(attainment_id=att.id, user_id=learner.id, verification_code="DUPL-ICAT-E001"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    cert = db.session.get(Certificate, cert.id)
    cert.revoked_at = dt.datetime.now(dt.timezone.utc)  # once revoked, a new one may be issued
    db.session.add(Certificate(attainment_id=att.id, user_id=learner.id, verification_code="DUPL-ICAT-E002"))
    db.session.flush()
    db.session.rollback()


def test_assessor_cannot_record_their_own_exam_result(app, client, create_user, create_org, api_token, auth):
    from competency.models import AssessorAuthorisation, ExamResult

    org = create_org("Self school", "institution")
    fw = import_small()
    lv = level(fw, 1)
    assessor = create_user("learner", org, login="selfassessor@example.com")
    db.session.add(AssessorAuthorisation(user_id=assessor.id, occupation_id=fw.occupation_id))
    db.session.commit()
    r = client.post(f"/api/v1/competency/learners/{assessor.id}/levels/{lv.id}/exam-results",
                    json={"part": "theory", "score": 99}, headers=api_token(assessor))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "self_assessment"
    auth.login(assessor)
    page = client.get(f"/competency/learners/{assessor.id}?framework={fw.id}")
    from lms.testing import csrf_token_from

    r = client.post(f"/competency/learners/{assessor.id}/levels/{lv.id}/exams",
                    data={"part": "theory", "score": "99", "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert r.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExamResult)) == 0


def test_competency_events_are_sent_once_after_commit_and_never_after_rollback(app, create_user, create_org,
                                                                               received_events):
    from competency.operations.attainment import award_level, record_exam_result
    from competency.operations.certificates import issue_certificate, revoke_certificate

    got = {name: received_events(getattr(events, name)) for name in (
        "exam_result_recorded", "level_eligible", "level_awarded", "certificate_issued", "certificate_revoked")}
    learner, admin, att = _eligible(create_user, create_org)
    assert len(got["exam_result_recorded"]) == 2 and len(got["level_eligible"]) == 1

    award_level(att, actor=admin)
    assert not got["level_awarded"]  # not before commit
    db.session.rollback()
    assert not got["level_awarded"]  # never after a rollback
    award_level(att, actor=admin)
    db.session.commit()
    assert [s for s, _kw in got["level_awarded"]] == [att]
    award_level(att, actor=admin)  # already awarded: no second effect, no second event
    db.session.commit()
    assert len(got["level_awarded"]) == 1

    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    revoke_certificate(cert, actor=admin, reason="printed with a typo")
    db.session.commit()
    assert [s for s, _kw in got["certificate_issued"]] == [cert]
    assert got["certificate_revoked"] == [(cert, {"reason": "printed with a typo"})]
    lv = att.level
    record_exam_result(learner, lv, "theory", 90, actor=admin)
    db.session.rollback()
    assert len(got["exam_result_recorded"]) == 2


# --- apprenticeship ------------------------------------------------------------------------------

START = dt.date(2026, 1, 5)


@pytest.fixture
def cohort_world(app, create_org, create_user):
    from competency.apprenticeship import operations as ops

    ent = create_org("竞速电气", "enterprise")
    school = create_org("竞速技师学院", "institution")
    w = {"admin": create_user("enterprise_admin", ent), "mentor": create_user("mentor", ent),
         "teacher": create_user("teacher", school), "a1": create_user("learner", ent), "a2": create_user("learner", ent)}
    programme, _w = ops.create_programme(w["admin"], title="竞速班", enterprise=ent, school=school, target_rung=2,
                                         duration_months=12, hours_per_year=600, online_hours_per_year=150)
    w["cohort"] = ops.create_cohort(w["admin"], programme, name="2026", start_date=START)
    w["ap1"], _ = ops.add_apprentice(w["admin"], w["cohort"], user=w["a1"], enterprise_mentor=w["mentor"],
                                     school_mentor=w["teacher"], contract_start=START,
                                     contract_end=dt.date(2029, 1, 4), today=START, backfill=False)
    db.session.commit()
    return w


def test_twenty_simultaneous_additions_of_one_apprentice_add_one(app, live_server, cohort_world, api_token):
    from competency.apprenticeship.models import Apprentice

    w = cohort_world
    cohort_id, headers = w["cohort"].id, api_token(w["admin"])
    body = {"user": w["a2"].id, "enterprise_mentor": w["mentor"].id, "school_mentor": w["teacher"].id,
            "contract_start": "2026-01-05", "contract_end": "2028-01-04"}
    db.session.rollback()
    web = WebSession(live_server.url)
    statuses = _statuses(in_parallel(N, lambda i: web.request(
        "POST", f"/api/v1/apprenticeship/cohorts/{cohort_id}/apprentices", json=body, headers=headers)))
    assert statuses.count(201) == 1 and statuses.count(409) == N - 1, statuses
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Apprentice)
                             .where(Apprentice.cohort_id == cohort_id)) == 2


def test_a_double_clicked_sign_off_is_recorded_once(app, live_server, cohort_world):
    from competency.apprenticeship.models import SignOff

    w = cohort_world
    ap_id = w["ap1"].id
    mentor = w["mentor"]
    db.session.rollback()
    web = WebSession(live_server.url).login(mentor)
    token = web.csrf(f"/competency/apprenticeship/apprentices/{ap_id}")
    form = {"csrf_token": token, "so-task_code": "wiring-1", "so-task_title": "布线", "so-comment": "good",
            "so-decision": "approve"}
    statuses = _statuses(in_parallel(N, lambda i: web.request(
        "POST", f"/competency/apprenticeship/apprentices/{ap_id}/signoffs", form=form)))
    assert set(statuses) == {302}, statuses
    rows = db.session.scalars(sa.select(SignOff).where(SignOff.apprentice_id == ap_id)).all()
    assert len(rows) == 1


def test_twenty_simultaneous_corrections_of_one_record_make_one(app, live_server, cohort_world, api_token):
    from competency.apprenticeship import operations as ops
    from competency.apprenticeship.models import SignOff

    w = cohort_world
    first = ops.sign_off(w["mentor"], w["ap1"], task_code="wiring-1", comment="ok")
    db.session.commit()
    ap_id, first_id, headers = w["ap1"].id, first.id, api_token(w["mentor"])
    db.session.rollback()
    web = WebSession(live_server.url)
    body = {"task_code": "wiring-1", "approved": False, "comment": "wrong task", "corrects_id": first_id}
    statuses = _statuses(in_parallel(N, lambda i: web.request(
        "POST", f"/api/v1/apprenticeship/apprentices/{ap_id}/signoffs", json=body, headers=headers)))
    assert all(s in (201, 409) for s in statuses), statuses
    corrections = db.session.scalars(sa.select(SignOff).where(SignOff.corrects_id == first_id)).all()
    assert len(corrections) == 1
    # a different second correction of the same record is refused
    r = web.request("POST", f"/api/v1/apprenticeship/apprentices/{ap_id}/signoffs", headers=headers,
                    json={**body, "comment": "something else"})
    assert r[0] == 409


def test_a_mentor_cannot_sign_off_their_own_work(app, cohort_world):
    from competency.apprenticeship import operations as ops
    from competency.apprenticeship.models import SignOff

    w = cohort_world
    ap = w["ap1"]
    ap.enterprise_mentor_id = ap.user_id  # data made elsewhere: the apprentice is recorded as their own mentor
    db.session.commit()
    with pytest.raises(ops.ApprenticeshipError) as info:
        ops.sign_off(w["a1"], ap, task_code="wiring-1")
    assert info.value.status == 403
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignOff)) == 0


def test_apprenticeship_events_are_sent_after_commit(app, cohort_world, received_events):
    from competency.apprenticeship import operations as ops

    w = cohort_world
    signoffs = received_events(events.signoff_recorded)
    changes = received_events(events.milestone_status_changed)
    record = ops.sign_off(w["mentor"], w["ap1"], task_code="wiring-1")
    db.session.rollback()
    assert signoffs == []
    record = ops.sign_off(w["mentor"], w["ap1"], task_code="wiring-1")
    assert signoffs == []
    db.session.commit()
    assert [s for s, _kw in signoffs] == [record]
    changes.clear()
    ops.recompute([w["ap1"].id], today=START + dt.timedelta(days=400))  # everything unmet is now overdue
    assert changes == []
    db.session.commit()
    assert changes and all(kw["old"] != kw["new"] == row.status for row, kw in changes)
    assert len({row.id for row, _kw in changes}) == len(changes)  # once per change
    assert "overdue" in {kw["new"] for _row, kw in changes}


def test_voided_evidence_retracts_the_level_and_revokes_its_certificate_with_events(app, create_user, create_org):
    from competency.models import Certificate, LevelAttainment
    from competency.operations.attainment import award_level, record_exam_result
    from competency.operations.certificates import issue_certificate
    from tests.competency.helpers import void

    retracted, revoked = [], []

    def on_retracted(att, **kw):  # the engine's task session is closed afterwards: keep the ids
        retracted.append(att.id)

    def on_revoked(cert, **kw):
        revoked.append(cert.id)

    events.level_retracted.connect(on_retracted)
    events.certificate_revoked.connect(on_revoked)
    org = create_org("Void school", "institution")
    admin = create_user("institution_admin", org)
    learner = create_user("learner", org, login="voided@example.com")
    fw = import_small()
    a = mbox("voided@example.com")
    ids = record(stmt(a, PASSED, X + "wiring", scaled=0.9), stmt(a, COMPLETED, X + "laws-a"),
                 stmt(a, COMPLETED, X + "laws-b"))
    lv = level(fw, 1)
    record_exam_result(learner, lv, "theory", 80, actor=admin)
    record_exam_result(learner, lv, "practical", 70, actor=admin)
    db.session.commit()
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id))
    award_level(att, actor=admin)
    cert = issue_certificate(att, actor=admin)
    db.session.commit()
    void(ids[0], a)  # the wiring statement carried the required unit
    db.session.expire_all()
    assert db.session.get(LevelAttainment, att.id).status == "retracted"
    assert db.session.get(Certificate, cert.id).revoked_at is not None
    events.level_retracted.disconnect(on_retracted)
    events.certificate_revoked.disconnect(on_revoked)
    assert retracted == [att.id] and revoked == [cert.id]
