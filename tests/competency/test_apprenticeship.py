"""Apprenticeship: programmes and policy, cohorts and plans, evidence from statements, mentor records,
due dates, notifications, template changes, CSV import, reports and the scoping of UI and API."""
from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
import sqlalchemy as sa

from lms.testing import csrf_token_from

START = dt.date(2026, 1, 5)
ENTRY = "http://example.com/courses/entry-safety"
EXAM = "http://example.com/exams/electrician-4"

MILESTONES = [
    {"code": "agreement", "due_offset_days": 30, "criteria": {"type": "agreement_signed"}, "subsidy_part": "advance"},
    {"code": "entry_training", "due_offset_days": 60,
     "criteria": {"all": [{"type": "activity_completed", "parent": ENTRY, "min": 2},
                          {"type": "training_hours", "min": 1, "kind": "online"}]}},
    {"code": "workplace_tasks", "due_offset_days": 120, "criteria": {"type": "signoff", "task": "wiring-1"}},
    {"code": "level_exam", "due_offset_days": 300, "criteria": {"type": "assessment_passed", "iri": EXAM}},
    {"code": "certificate", "due_offset_days": 365, "criteria": {"type": "certificate_issued"},
     "subsidy_part": "completion"},
]


@pytest.fixture
def world(app, create_org, create_user):
    """Two enterprises, one school, admins, mentors and apprentices; a programme and a cohort of the first."""
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    ent = create_org("华东电气", "enterprise")
    other_ent = create_org("西北机械", "enterprise")
    school = create_org("江南技师学院", "institution")
    w = {"ent": ent, "other_ent": other_ent, "school": school,
         "admin": create_user("enterprise_admin", ent, real_name="陈经理"),
         "other_admin": create_user("enterprise_admin", other_ent),
         "school_admin": create_user("institution_admin", school),
         "mentor": create_user("mentor", ent, real_name="张师傅"),
         "mentor2": create_user("mentor", ent, real_name="王师傅"),
         "teacher": create_user("teacher", school, real_name="赵导师"),
         "supervisor": create_user("supervisor", create_org("人社厅", "authority")),
         "a1": create_user("learner", ent, real_name="李一", id_card_number=None),
         "a2": create_user("learner", ent, real_name="李二"),
         "outsider": create_user("learner", other_ent)}
    programme, _w = ops.create_programme(w["admin"], title="电工学徒班", enterprise=ent, school=school,
                                         occupation_code="6-31-01-03", target_rung=2, duration_months=12,
                                         hours_per_year=600, online_hours_per_year=150, milestones=MILESTONES)
    cohort = ops.create_cohort(w["admin"], programme, name="2026 春季班", start_date=START)
    w["ap1"], _ = ops.add_apprentice(w["admin"], cohort, user=w["a1"], enterprise_mentor=w["mentor"],
                                     school_mentor=w["teacher"], contract_start=START,
                                     contract_end=dt.date(2029, 1, 4), agreement_number="XT-1",
                                     agreement_signed_on=START, today=START)
    w["ap2"], _ = ops.add_apprentice(w["admin"], cohort, user=w["a2"], enterprise_mentor=w["mentor2"],
                                     school_mentor=w["teacher"], contract_start=START,
                                     contract_end=dt.date(2028, 1, 4), today=START)
    db.session.commit()
    w["programme"], w["cohort"] = programme, cohort
    return w


def statement(user, verb, iri, *, parent=None, duration=None, score=None):
    from lms.xapi.recorder import actor_for

    st = {"id": str(uuid.uuid4()), "actor": actor_for(user),
          "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
          "object": {"objectType": "Activity", "id": iri}}
    if parent:
        st["context"] = {"contextActivities": {"parent": [{"id": parent}]}}
    result = {}
    if duration:
        result["duration"] = duration
    if score is not None:
        result["score"] = {"scaled": score}
    if result:
        st["result"] = result
    return st


def progressed(user, iri, duration):
    """The platform's video report: time spent since the previous report (an increment of study time)."""
    from lms.xapi.recorder import actor_for

    return {"id": str(uuid.uuid4()), "actor": actor_for(user),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed", "display": {"en-US": "progressed"}},
            "object": {"objectType": "Activity", "id": iri}, "result": {"duration": duration}}


def record(*statements):
    from lms.core.db import db
    from lms.xapi.recorder import record as rec

    ids = [rec(s) for s in statements]
    db.session.commit()  # the signal fires after commit; the eager task recomputes
    return ids


def status_of(apprentice, code):
    from competency.apprenticeship.models import ApprenticeMilestone
    from lms.core.db import db

    db.session.expire_all()
    return db.session.scalars(sa.select(ApprenticeMilestone).filter_by(apprentice_id=apprentice.id, code=code)).one()


COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
AWARDED = "https://w3id.org/xapi/dod-isd/verbs/awarded"


# --- programmes and policy ---------------------------------------------------------------------

def test_programme_breaking_an_enforced_policy_is_refused_and_a_lenient_one_warns(world):
    from competency.apprenticeship import operations as ops
    from competency.apprenticeship.models import PolicyProfile
    from lms.core.db import db

    with pytest.raises(ops.PolicyError) as info:
        ops.create_programme(world["admin"], title="太少", enterprise=world["ent"], school=world["school"],
                             hours_per_year=500, online_hours_per_year=300)
    assert len(info.value.issues) == 2  # under 600 hours, and online more than half the centralised hours
    lenient = PolicyProfile(name="试点", enforce=False, min_hours_per_year=600)
    db.session.add(lenient)
    db.session.flush()
    programme, warnings = ops.create_programme(world["admin"], title="试点", enterprise=world["ent"],
                                               school=world["school"], hours_per_year=500,
                                               online_hours_per_year=100, policy=lenient)
    assert len(warnings) == 1 and programme.policy_warnings == warnings
    with pytest.raises(ops.ApprenticeshipError):
        ops.create_programme(world["admin"], title="x", enterprise=world["ent"], school=world["school"], target_rung=1)
    with pytest.raises(ops.ApprenticeshipError) as info:
        ops.create_programme(world["other_admin"], title="x", enterprise=world["ent"], school=world["school"])
    assert info.value.status == 403


def test_contract_term_mentor_load_and_membership_are_checked(world, create_user):
    from competency.apprenticeship import operations as ops

    cohort = world["cohort"]
    newbie = create_user("learner", world["ent"])
    with pytest.raises(ops.ApprenticeshipError) as info:
        ops.add_apprentice(world["admin"], cohort, user=newbie, enterprise_mentor=world["mentor"],
                           school_mentor=world["teacher"], contract_start=START, contract_end=dt.date(2026, 6, 1))
    assert info.value.field == "contract_end"
    with pytest.raises(ops.ApprenticeshipError) as info:
        ops.add_apprentice(world["admin"], cohort, user=world["outsider"], enterprise_mentor=world["mentor"],
                           school_mentor=world["teacher"], contract_start=START, contract_end=dt.date(2028, 1, 1))
    assert info.value.field == "user"
    with pytest.raises(ops.ApprenticeshipError) as info:  # the school mentor must belong to the school
        ops.add_apprentice(world["admin"], cohort, user=newbie, enterprise_mentor=world["mentor"],
                           school_mentor=world["mentor2"], contract_start=START, contract_end=dt.date(2028, 1, 1))
    assert info.value.field == "school_mentor"
    # the mentor already has one apprentice; 7 more are fine, the 9th is refused (at most 8)
    for _ in range(7):
        ops.add_apprentice(world["admin"], cohort, user=create_user("learner", world["ent"]),
                           enterprise_mentor=world["mentor"], school_mentor=world["teacher"] if _ < 6 else
                           create_user("teacher", world["school"]), contract_start=START,
                           contract_end=dt.date(2028, 1, 1), backfill=False)
    with pytest.raises(ops.PolicyError) as info:
        ops.add_apprentice(world["admin"], cohort, user=newbie, enterprise_mentor=world["mentor"],
                           school_mentor=create_user("teacher", world["school"]), contract_start=START,
                           contract_end=dt.date(2028, 1, 1))
    assert "8" in info.value.issues[0]


# --- plans and evidence ---------------------------------------------------------------------

def test_plan_is_instantiated_and_statements_turn_milestones_done(world):
    from lms.core.db import db
    from lms.xapi.store import iter_statements_for_agent
    from lms.xapi.recorder import actor_for

    ap1, a1 = world["ap1"], world["a1"]
    assert [m.code for m in ap1.milestones] == [m["code"] for m in MILESTONES]
    assert status_of(ap1, "agreement").status == "done"
    assert status_of(world["ap2"], "agreement").status != "done"
    record(progressed(a1, ENTRY + "/lesson-1", "PT40M"), statement(a1, COMPLETED, ENTRY + "/lesson-1", parent=ENTRY))
    row = status_of(ap1, "entry_training")
    assert row.status != "done" and 0 < row.progress < 1
    record(progressed(a1, ENTRY + "/lesson-2", "PT30M"), statement(a1, COMPLETED, ENTRY + "/lesson-2", parent=ENTRY))
    row = status_of(ap1, "entry_training")
    assert row.status == "done" and row.done_on is not None and row.statement_id
    # the apprentice's other statements do not touch the other apprentice
    assert status_of(world["ap2"], "entry_training").progress == 0
    # the completion is an xAPI statement under the platform's apprenticeship namespace
    verbs = [(s.verb_id, s.object_id) for s in iter_statements_for_agent(actor_for(a1))]
    assert any(v == COMPLETED and "/apprenticeship/programmes/" in o and o.endswith("/milestones/entry_training")
               for v, o in verbs)
    record(statement(a1, PASSED, EXAM, score=0.8), statement(a1, AWARDED, "http://example.com/certificates/x"))
    assert status_of(ap1, "level_exam").status == "done"
    assert status_of(ap1, "certificate").status == "done"
    db.session.rollback()


def test_voiding_retracts_evidence_but_never_erases_a_reached_milestone(world):
    from competency.apprenticeship.models import LearningFact
    from lms.core.db import db

    a1, ap1 = world["a1"], world["ap1"]
    record(progressed(a1, ENTRY + "/1", "PT1H"))
    ids = record(statement(a1, COMPLETED, ENTRY + "/1", parent=ENTRY),
                 statement(a1, COMPLETED, ENTRY + "/2", parent=ENTRY))
    assert status_of(ap1, "entry_training").status == "done"
    from lms.xapi.recorder import actor_for, record as rec

    rec({"actor": actor_for(a1), "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
         "object": {"objectType": "StatementRef", "id": ids[0]}})
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LearningFact).filter_by(statement_id=ids[0])) == 0
    assert status_of(ap1, "entry_training").status == "done"


def test_apprentice_who_joins_later_gets_the_plan_and_their_earlier_statements(world, create_user):
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    late = create_user("learner", world["ent"])
    record(progressed(late, ENTRY + "/1", "PT2H"), statement(late, COMPLETED, ENTRY + "/1", parent=ENTRY),
           statement(late, COMPLETED, ENTRY + "/2", parent=ENTRY))
    ap, _ = ops.add_apprentice(world["admin"], world["cohort"], user=late, enterprise_mentor=world["mentor2"],
                               school_mentor=world["teacher"], contract_start=dt.date(2026, 3, 1),
                               contract_end=dt.date(2027, 3, 1), joined_on=dt.date(2026, 3, 1),
                               today=dt.date(2026, 3, 1))
    db.session.commit()
    assert status_of(ap, "entry_training").status == "done"
    assert status_of(ap, "workplace_tasks").due_date == dt.date(2026, 3, 1) + dt.timedelta(days=120)


# --- mentors ---------------------------------------------------------------------------------

def test_signoffs_are_immutable_attributed_and_corrected_by_new_records(world):
    from competency.apprenticeship import operations as ops
    from competency.apprenticeship.models import SignOff
    from lms.core.db import db

    ap1 = world["ap1"]
    first = ops.sign_off(world["mentor"], ap1, task_code="wiring-1", task_title="配电箱接线", comment="good")
    db.session.commit()
    assert first.statement_id and first.signed_by_id == world["mentor"].id
    assert status_of(ap1, "workplace_tasks").status == "done"
    first.comment = "changed"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()
    fix = ops.sign_off(world["mentor"], ap1, task_code="wiring-1", comment="withdrawn: wrong apprentice",
                       approved=False, corrects=db.session.get(SignOff, first.id))
    db.session.commit()
    assert fix.corrects_id == first.id
    assert db.session.get(SignOff, first.id).comment == "good"
    # a reached milestone stays reached; the correction is on record
    assert status_of(ap1, "workplace_tasks").status == "done"
    with pytest.raises(ops.ApprenticeshipError) as info:
        ops.sign_off(world["mentor"], ap1, task_code="wiring-1", corrects=db.session.get(SignOff, first.id))
    assert info.value.code == "already_corrected"
    with pytest.raises(ops.ApprenticeshipError) as info:  # the school mentor does not sign workplace tasks
        ops.sign_off(world["teacher"], ap1, task_code="wiring-2")
    assert info.value.status == 403
    score = ops.sign_off(world["teacher"], ap1, kind="practical_assessment", task_code="mid", score=72)
    assert score.score == 72


def test_a_mentor_cannot_see_or_sign_off_another_mentors_apprentice(world, client, auth, api_token):
    from competency.apprenticeship import operations as ops

    ap2 = world["ap2"]
    with pytest.raises(ops.ApprenticeshipError) as info:
        ops.sign_off(world["mentor"], ap2, task_code="wiring-1")
    assert info.value.status == 403
    headers = api_token(world["mentor"])
    assert client.get(f"/api/v1/apprenticeship/apprentices/{ap2.id}", headers=headers).status_code == 404
    resp = client.post(f"/api/v1/apprenticeship/apprentices/{ap2.id}/signoffs", json={"task_code": "wiring-1"},
                       headers=headers)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    listed = client.get(f"/api/v1/apprenticeship/cohorts/{world['cohort'].id}", headers=headers).get_json()
    assert [a["id"] for a in listed["apprentices"]] == [world["ap1"].id]
    auth.login(world["mentor"])
    assert client.get(f"/competency/apprenticeship/apprentices/{ap2.id}").status_code == 404
    page = client.get(f"/competency/apprenticeship/apprentices/{world['ap1'].id}")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    resp = client.post(f"/competency/apprenticeship/apprentices/{ap2.id}/signoffs",
                       data={"csrf_token": token, "so-task_code": "wiring-1", "so-decision": "approve"})
    assert resp.status_code == 404
    dash = client.get(f"/competency/apprenticeship/cohorts/{world['cohort'].id}").get_data(as_text=True)
    assert "李一" in dash and "李二" not in dash
    # and the mentor's own apprentice can be signed off through the page
    resp = client.post(f"/competency/apprenticeship/apprentices/{world['ap1'].id}/signoffs",
                       data={"csrf_token": token, "so-task_code": "wiring-1", "so-task_title": "接线",
                             "so-comment": "ok", "so-decision": "approve",
                             "so-attachment": (io.BytesIO(b"%PDF-1.4 test"), "report.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    assert status_of(world["ap1"], "workplace_tasks").status == "done"


def test_an_enterprise_cannot_see_another_enterprises_cohort(world, client, auth, api_token):
    cid, pid = world["cohort"].id, world["programme"].id
    headers = api_token(world["other_admin"])
    assert client.get(f"/api/v1/apprenticeship/cohorts/{cid}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/apprenticeship/programmes/{pid}", headers=headers).status_code == 404
    assert client.get("/api/v1/apprenticeship/cohorts", headers=headers).get_json()["items"] == []
    resp = client.post(f"/api/v1/apprenticeship/cohorts/{cid}/apprentices", headers=headers, json={})
    assert resp.status_code == 404
    auth.login(world["other_admin"])
    assert client.get(f"/competency/apprenticeship/cohorts/{cid}").status_code == 404
    assert client.get(f"/competency/apprenticeship/cohorts/{cid}/export/subsidy.xlsx").status_code == 404
    assert "2026 春季班" not in client.get("/competency/apprenticeship/").get_data(as_text=True)


def test_school_supervisor_and_apprentice_scopes(world, client, api_token):
    cid = world["cohort"].id
    school = client.get(f"/api/v1/apprenticeship/cohorts/{cid}", headers=api_token(world["school_admin"])).get_json()
    assert len(school["apprentices"]) == 2
    sup = api_token(world["supervisor"])
    assert len(client.get(f"/api/v1/apprenticeship/cohorts/{cid}", headers=sup).get_json()["apprentices"]) == 2
    resp = client.post(f"/api/v1/apprenticeship/apprentices/{world['ap1'].id}/signoffs", headers=sup,
                       json={"task_code": "x"})
    assert resp.status_code == 403  # read-only
    me = api_token(world["a1"])
    mine = client.get(f"/api/v1/apprenticeship/cohorts/{cid}", headers=me).get_json()
    assert [a["id"] for a in mine["apprentices"]] == [world["ap1"].id]
    assert client.get(f"/api/v1/apprenticeship/apprentices/{world['ap2'].id}", headers=me).status_code == 404


# --- due dates, notifications --------------------------------------------------------------------

def test_daily_task_turns_milestones_at_risk_then_overdue_and_notifies(world, client, auth):
    from competency.apprenticeship.models import ApprenticeshipNotification
    from competency.apprenticeship.tasks import due_check_task
    from lms.core import mail
    from lms.core.db import db

    mail.outbox.clear()
    due_check_task("2026-01-25")  # agreement of apprentice 2 due 2026-02-04: at risk
    assert status_of(world["ap2"], "agreement").status == "at_risk"
    due_check_task("2026-02-05")
    assert status_of(world["ap2"], "agreement").status == "overdue"
    assert status_of(world["ap1"], "agreement").status == "done"
    from competency.apprenticeship.models import ApprenticeMilestone

    of_ap2 = (sa.select(ApprenticeshipNotification).join(ApprenticeMilestone)
              .where(ApprenticeMilestone.apprentice_id == world["ap2"].id,
                     ApprenticeshipNotification.status == "overdue"))
    notes = db.session.scalars(of_ap2).all()
    assert {n.user_id for n in notes} == {world["a2"].id, world["mentor2"].id, world["teacher"].id}
    assert any("overdue" in m["Subject"].lower() or "逾期" in m["Subject"] for m in mail.outbox)
    due_check_task("2026-02-06")  # no second notice for the same state
    assert len(db.session.scalars(of_ap2).all()) == 3
    auth.login(world["mentor2"])
    home = client.get("/").get_data(as_text=True)
    assert "李二" in home and 'data-testid="appr-notifications"' in home


# --- template changes ------------------------------------------------------------------------

def test_template_change_after_start_applies_only_when_chosen_and_keeps_progress(world, client, auth):
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    programme, cohort = world["programme"], world["cohort"]
    ops.save_milestone(world["admin"], programme, code="agreement", due_offset_days=45,
                       criteria={"all": [{"type": "agreement_signed"}, {"type": "signoff", "min": 1}]},
                       subsidy_part="advance", today=dt.date(2026, 2, 1))
    ops.save_milestone(world["admin"], programme, code="safety_quiz", due_offset_days=90,
                       criteria={"type": "activity_completed", "iri": "http://example.com/quiz"},
                       today=dt.date(2026, 2, 1))
    db.session.commit()
    assert programme.template_version == 2 and cohort.template_version == 1
    assert len(world["ap1"].milestones) == 5  # untouched until an admin applies it
    auth.login(world["admin"])
    page = client.get(f"/competency/apprenticeship/cohorts/{cohort.id}")
    assert "apply-template" in page.get_data(as_text=True)
    resp = client.post(f"/competency/apprenticeship/cohorts/{cohort.id}/apply-template",
                       data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    db.session.expire_all()
    assert cohort.template_version == 2
    codes = {m.code: m for m in world["ap1"].milestones}
    assert "safety_quiz" in codes
    # the agreement was reached before; the stricter criteria do not erase it
    assert codes["agreement"].status == "done" and codes["agreement"].due_date == START + dt.timedelta(days=45)


# --- CSV import ----------------------------------------------------------------------------------

def test_csv_import_names_bad_lines_and_adds_nothing_then_adds_all(world, create_user, client, auth):
    from competency.apprenticeship.models import Apprentice
    from lms.core.db import db

    n1, n2 = create_user("learner", world["ent"]), create_user("learner", world["ent"])
    head = "login,enterprise_mentor,school_mentor,contract_start,contract_end,agreement_number,agreement_signed_on\n"
    bad = head + (f"{n1.login},{world['mentor2'].login},{world['teacher'].login},2026-01-05,2027-01-05,A1,\n"
                  f"nobody@example.com,{world['mentor2'].login},{world['teacher'].login},2026-01-05,2027-01-05,,\n"
                  f"{n2.login},{world['mentor2'].login},{world['teacher'].login},2026-01-05,2026-05-05,,\n")
    auth.login(world["admin"])
    page = client.get(f"/competency/apprenticeship/cohorts/{world['cohort'].id}").get_data(as_text=True)
    token = csrf_token_from(page)
    resp = client.post(f"/competency/apprenticeship/cohorts/{world['cohort'].id}/import",
                       data={"csrf_token": token, "imp-csv_text": bad})
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "3" in text and "nobody@example.com" in text and "4" in text
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Apprentice))
    assert count == 2
    good = head + (f"{n1.login},{world['mentor2'].login},{world['teacher'].login},2026-01-05,2027-01-05,A1,2026-01-05\n"
                   f"{n2.login},{world['mentor2'].login},{world['teacher'].login},2026-01-05,2027-01-05,,\n")
    resp = client.post(f"/competency/apprenticeship/cohorts/{world['cohort'].id}/import",
                       data={"csrf_token": token, "imp-csv_file": (io.BytesIO(good.encode("utf-8-sig")), "a.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Apprentice)) == 4


# --- reports ----------------------------------------------------------------------------------

def test_subsidy_claim_rows_hold_months_hours_milestones_and_amounts(world, app):
    from openpyxl import load_workbook

    from competency.apprenticeship import operations as ops
    from competency.apprenticeship import reports
    from lms.core.db import db

    a1, ap1 = world["a1"], world["ap1"]
    record(progressed(a1, ENTRY + "/1", "PT1H30M"), statement(a1, COMPLETED, ENTRY + "/1", parent=ENTRY),
           statement(a1, AWARDED, "http://example.com/certificates/1"))
    ops.log_hours(world["mentor"], ap1, kind="workplace", hours=8, on_date=dt.date(2026, 2, 1))
    ops.log_hours(world["teacher"], ap1, kind="classroom", hours=4, on_date=dt.date(2026, 2, 2))
    db.session.commit()
    # The default language is Simplified Chinese: the workbook handed in is in Chinese.
    data = reports.subsidy_workbook(world["cohort"], [ap1, world["ap2"]], today=dt.date(2026, 4, 10))
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    row = {h: c.value for h, c in zip(header, ws[2])}
    assert row["学徒"] == "李一" and row["在培月数"] == 4
    assert row["线上学时"] == 1.5 and row["线下学时"] == 12 and row["总学时"] == 13.5
    assert "签订培养协议" in row["已达成的里程碑"] and "取得证书" in row["已达成的里程碑"]
    assert row["应补贴金额（元）"] == 5000 and row["预拨金额（元）"] == 2500 and row["结业拨付金额（元）"] == 2500
    row2 = {h: c.value for h, c in zip(header, ws[3])}
    assert row2["学徒"] == "李二" and row2["预拨金额（元）"] == 0 and row2["取得证书"] == "否"
    assert ws["A4"].value == "合计" and ws["N4"].value == 5000
    app.config["LMS_APPRENTICE_SUBSIDY_PER_YEAR"] = 6000
    try:
        ws = load_workbook(io.BytesIO(reports.subsidy_workbook(world["cohort"], [ap1]))).active
        assert ws["K2"].value == 6000
    finally:
        app.config["LMS_APPRENTICE_SUBSIDY_PER_YEAR"] = 5000.0
    progress = load_workbook(io.BytesIO(reports.progress_workbook(world["cohort"], [ap1]))).active
    assert progress["A2"].value == "李一" and progress["D2"].value == "已完成"


# --- API ------------------------------------------------------------------------------------

def test_api_creates_programme_cohort_apprentice_and_reports_errors(world, client, api_token):
    headers = api_token(world["admin"])
    resp = client.post("/api/v1/apprenticeship/programmes", headers=headers, json={
        "title": "数字化运维", "enterprise_id": world["ent"].id, "school_id": world["school"].id,
        "target_rung": 3, "duration_months": 24, "hours_per_year": 700, "online_hours_per_year": 200})
    assert resp.status_code == 201, resp.get_json()
    prog = resp.get_json()
    assert len(prog["milestones"]) == 7 and prog["milestones"][0]["code"] == "agreement"
    resp = client.post("/api/v1/apprenticeship/programmes", headers=headers, json={
        "title": "x", "enterprise_id": world["ent"].id, "school_id": world["school"].id, "hours_per_year": 100,
        "online_hours_per_year": 20})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "policy_violation"
    assert client.post("/api/v1/apprenticeship/programmes", headers=headers, data="x").status_code == 400
    resp = client.post(f"/api/v1/apprenticeship/programmes/{prog['id']}/cohorts", headers=headers,
                       json={"name": "秋季班", "start_date": "2026-09-01"})
    assert resp.status_code == 201
    cohort = resp.get_json()
    resp = client.post(f"/api/v1/apprenticeship/cohorts/{cohort['id']}/apprentices", headers=headers, json={
        "user": world["a2"].login, "enterprise_mentor": world["mentor2"].login,
        "school_mentor": world["teacher"].login, "contract_start": "2026-09-01", "contract_end": "2027-08-31"})
    assert resp.status_code == 201 and len(resp.get_json()["milestones"]) == 7
    resp = client.put(f"/api/v1/apprenticeship/programmes/{prog['id']}/milestones/units", headers=headers,
                      json={"due_offset_days": 600, "criteria": {"type": "bogus"}})
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "criteria"
    resp = client.post(f"/api/v1/apprenticeship/cohorts/{cohort['id']}/apprentices", headers=headers,
                       json={"user": world["a2"].login, "contract_start": "soon"})
    assert resp.status_code == 400
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/apprenticeship/cohorts/{cohort_id}" in paths
    assert "post" in paths["/api/v1/apprenticeship/apprentices/{apprentice_id}/signoffs"]


def test_pages_render_for_each_role(world, client, auth):
    for who, path in (("admin", "/competency/apprenticeship/"),
                      ("admin", f"/competency/apprenticeship/programmes/{world['programme'].id}"),
                      ("admin", f"/competency/apprenticeship/cohorts/{world['cohort'].id}?status=done"),
                      ("mentor", f"/competency/apprenticeship/apprentices/{world['ap1'].id}"),
                      ("a1", f"/competency/apprenticeship/apprentices/{world['ap1'].id}"),
                      ("supervisor", f"/competency/apprenticeship/cohorts/{world['cohort'].id}"),
                      ("school_admin", "/competency/apprenticeship/")):
        auth.login(world[who])
        resp = client.get(path)
        assert resp.status_code == 200, (who, path)
        auth.logout()
    auth.login(world["admin"])
    resp = client.get(f"/competency/apprenticeship/cohorts/{world['cohort'].id}/export/progress.xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    auth.logout()
    auth.login(world["mentor"])
    assert client.get(f"/competency/apprenticeship/cohorts/{world['cohort'].id}/export/subsidy.xlsx").status_code == 403
    assert client.get("/competency/apprenticeship/programmes/new").status_code == 403



def test_statements_from_another_system_identified_by_mbox_count_as_evidence(world):
    from tests.competency.records_support import MOODLE, store_from

    a1 = world["a1"]
    for k in (1, 2):
        store_from(MOODLE, {"actor": {"objectType": "Agent", "mbox": f"mailto:{a1.email.upper()}"},
                            "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
                            "object": {"objectType": "Activity", "id": f"http://moodle.example.org/mod/{k}"},
                            "context": {"registration": str(uuid.uuid4()),
                                        "contextActivities": {"grouping": [{"id": ENTRY}]}},
                            "result": {"duration": "PT45M"}})
    row = status_of(world["ap1"], "entry_training")
    assert row.status == "done" and row.done_on is not None


def test_mentors_log_hours_and_scores_through_the_api(world, client, api_token):
    ap1 = world["ap1"]
    teacher = api_token(world["teacher"])
    resp = client.post(f"/api/v1/apprenticeship/apprentices/{ap1.id}/hours", headers=teacher,
                       json={"kind": "classroom", "hours": 6, "on_date": "2026-02-01", "note": "电工基础"})
    assert resp.status_code == 201
    resp = client.post(f"/api/v1/apprenticeship/apprentices/{ap1.id}/hours", headers=teacher,
                       json={"kind": "classroom", "hours": 30, "on_date": "2026-02-01"})
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "hours"
    resp = client.post(f"/api/v1/apprenticeship/apprentices/{ap1.id}/signoffs", headers=teacher,
                       json={"kind": "practical_assessment", "task_code": "mid", "score": 120})
    assert resp.status_code == 400
    resp = client.post(f"/api/v1/apprenticeship/apprentices/{ap1.id}/signoffs", headers=teacher,
                       json={"kind": "practical_assessment", "task_code": "mid", "score": 78, "comment": "良好"})
    assert resp.status_code == 201 and resp.get_json()["signed_by_id"] == world["teacher"].id
    first = resp.get_json()["id"]
    resp = client.post(f"/api/v1/apprenticeship/apprentices/{ap1.id}/signoffs", headers=teacher,
                       json={"kind": "practical_assessment", "task_code": "mid", "score": 68, "corrects_id": first})
    assert resp.status_code == 201 and resp.get_json()["corrects_id"] == first
    items = client.get(f"/api/v1/apprenticeship/apprentices/{ap1.id}/signoffs", headers=teacher).get_json()["items"]
    assert [i["score"] for i in items] == [78, 68]
    # the apprentice sees their plan but may not log hours
    me = api_token(world["a1"])
    assert client.get(f"/api/v1/apprenticeship/apprentices/{ap1.id}", headers=me).status_code == 200
    assert client.post(f"/api/v1/apprenticeship/apprentices/{ap1.id}/hours", headers=me,
                       json={"kind": "workplace", "hours": 1, "on_date": "2026-02-01"}).status_code == 403


def test_level_coverage_award_and_certificate_come_from_the_competency_engine(world):
    """The default template's last milestones read the competency engine's attainments."""
    from competency.apprenticeship import operations as ops
    from competency.models import Certificate, Framework, FrameworkLevel, LevelAttainment, Occupation
    from competency.operations.reference import ensure_ladder
    from lms.core.db import db

    ensure_ladder()
    occ = Occupation(code="6-31-01-03", name_zh="电工")
    db.session.add(occ)
    db.session.flush()
    fw = Framework(occupation_id=occ.id, edition="2026", title="电工国家职业技能标准")
    db.session.add(fw)
    db.session.flush()
    level = FrameworkLevel(framework_id=fw.id, rung=2)
    db.session.add(level)
    db.session.flush()
    programme, _w = ops.create_programme(world["admin"], title="标准模板", enterprise=world["ent"],
                                         school=world["school"], framework_id=fw.id, target_rung=2)
    cohort = ops.create_cohort(world["admin"], programme, name="框架班", start_date=START)
    ap, _ = ops.add_apprentice(world["admin"], cohort, user=world["a2"], enterprise_mentor=world["mentor2"],
                               school_mentor=world["teacher"], contract_start=START, contract_end=dt.date(2028, 1, 1),
                               today=START)
    with pytest.raises(ops.ApprenticeshipError):
        ops.create_programme(world["admin"], title="x", enterprise=world["ent"], school=world["school"],
                             framework_id=fw.id + 100)
    att = LevelAttainment(learner_key=f"user:{world['a2'].id}", user_id=world["a2"].id, framework_id=fw.id,
                          level_id=level.id, rung=2, coverage=0.85, status="eligible")
    db.session.add(att)
    db.session.flush()
    ops.recompute([ap.id], today=START)
    assert status_of(ap, "units").status == "done"
    assert status_of(ap, "level_exam").status != "done"
    att.status = "certified"
    db.session.add(Certificate(attainment_id=att.id, user_id=world["a2"].id, verification_code="ABCD-1234"))
    db.session.flush()
    ops.recompute([ap.id], today=START)
    assert status_of(ap, "level_exam").status == "done" and status_of(ap, "certificate").status == "done"
    db.session.commit()


def test_programme_form_shows_policy_refusal_and_creates_a_compliant_programme(world, client, auth):
    from competency.apprenticeship.models import Programme
    from lms.core.db import db

    auth.login(world["admin"])
    page = client.get("/competency/apprenticeship/programmes/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "title": "新班", "enterprise_id": world["ent"].id,
            "school_id": world["school"].id, "framework_id": 0, "target_rung": 3, "duration_months": 24,
            "hours_per_year": 400, "online_hours_per_year": 100}
    resp = client.post("/competency/apprenticeship/programmes/new", data=data)
    assert resp.status_code == 400 and "600" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Programme)) == 1
    resp = client.post("/competency/apprenticeship/programmes/new", data={**data, "hours_per_year": 640})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Programme)) == 2


def test_signoff_attachment_is_stored_and_served_only_to_those_who_see_the_apprentice(world, client, auth):
    from werkzeug.datastructures import FileStorage

    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    record_ = ops.sign_off(world["mentor"], world["ap1"], task_code="wiring-1", comment="ok",
                           attachment=FileStorage(io.BytesIO(b"%PDF-1.4 ok"), filename="验收单.pdf"))
    db.session.commit()
    with pytest.raises(ops.ApprenticeshipError) as info:
        ops.sign_off(world["mentor"], world["ap1"], task_code="wiring-2",
                     attachment=FileStorage(io.BytesIO(b"MZ"), filename="virus.exe"))
    assert info.value.field == "attachment"
    db.session.rollback()
    auth.login(world["a1"])
    resp = client.get(f"/competency/apprenticeship/signoffs/{record_.id}/attachment")
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4 ok"
    auth.logout()
    auth.login(world["mentor2"])
    assert client.get(f"/competency/apprenticeship/signoffs/{record_.id}/attachment").status_code == 404


GARBAGE = ["", "a\x00b", str(10 ** 40), "1e309", "nan", "-inf", "²３٣", "长" * 5000, "2026-13-45"]


def test_garbage_in_every_apprenticeship_form_and_query_never_gives_a_500(world, client, auth):
    ap1, cohort, programme = world["ap1"], world["cohort"], world["programme"]
    posts = {
        f"/competency/apprenticeship/apprentices/{ap1.id}/signoffs": ("so", ["task_code", "task_title", "comment",
                                                                          "corrects_id", "decision"]),
        f"/competency/apprenticeship/apprentices/{ap1.id}/scores": ("sc", ["task_code", "score", "corrects_id"]),
        f"/competency/apprenticeship/apprentices/{ap1.id}/hours": ("hr", ["kind", "hours", "on_date", "note"]),
        f"/competency/apprenticeship/apprentices/{ap1.id}/agreement": ("ag", ["signed_on", "agreement_number"]),
        f"/competency/apprenticeship/cohorts/{cohort.id}/apprentices": ("ap", ["login", "enterprise_mentor",
                                                                            "contract_start", "contract_end"]),
        f"/competency/apprenticeship/cohorts/{cohort.id}/import": ("imp", ["csv_text"]),
        f"/competency/apprenticeship/programmes/{programme.id}": ("ms", ["code", "due_offset_days", "criteria"]),
        "/competency/apprenticeship/programmes/new": ("", ["title", "enterprise_id", "school_id", "target_rung",
                                                          "duration_months", "hours_per_year"]),
    }
    for who in ("mentor", "admin"):
        auth.login(world[who])
        token = csrf_token_from(client.get("/competency/apprenticeship/").get_data(as_text=True))
        for path, (prefix, fields) in posts.items():
            for value in GARBAGE:
                data = {"csrf_token": token}
                data.update({(f"{prefix}-{f}" if prefix else f): value for f in fields})
                resp = client.post(path, data=data)
                assert resp.status_code < 500, (who, path, value[:20])
        for query in ("page=" + "9" * 40, "page=-3", "mentor=" + "9" * 40, "status=\x00", "q=%_'"):
            assert client.get(f"/competency/apprenticeship/cohorts/{cohort.id}?{query}").status_code == 200
        auth.logout()


def test_garbage_json_to_the_api_is_refused_cleanly(world, client, api_token):
    ap1, cohort, programme = world["ap1"], world["cohort"], world["programme"]
    routes = [("post", "/api/v1/apprenticeship/programmes"),
              ("put", f"/api/v1/apprenticeship/programmes/{programme.id}/milestones/x"),
              ("post", f"/api/v1/apprenticeship/programmes/{programme.id}/cohorts"),
              ("post", f"/api/v1/apprenticeship/cohorts/{cohort.id}/apprentices"),
              ("post", f"/api/v1/apprenticeship/apprentices/{ap1.id}/signoffs"),
              ("post", f"/api/v1/apprenticeship/apprentices/{ap1.id}/hours")]
    bodies = [[], "text", 12, None, {"enterprise_id": 10 ** 30, "school_id": "x", "title": ["a"]},
              {"user": 10 ** 30, "enterprise_mentor": None, "contract_start": "2026-02-30", "contract_end": 5},
              {"task_code": {"a": 1}, "score": 1e308, "corrects_id": 10 ** 30},
              {"kind": "workplace", "hours": 1e308, "on_date": "x"}, {"due_offset_days": "5", "criteria": []},
              {"name": "\x00", "start_date": "²"}]
    for who in ("admin", "mentor", "supervisor"):
        headers = api_token(world[who])
        for method, path in routes:
            for body in bodies:
                resp = getattr(client, method)(path, json=body, headers=headers)
                assert 400 <= resp.status_code < 500, (who, path, body, resp.status_code)
                assert "error" in resp.get_json()
