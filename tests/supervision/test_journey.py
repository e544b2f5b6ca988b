"""The issue's journey through the pages: an institution applies for a subsidised course and a class,
the authority approves both, learners study (one trainee breaks two study-pattern rules, one is on
an imported pension list), the class completes, employment records are imported, the claim is
screened (exactly the planted hits, each with evidence), the authority sees the institution's pass
and employment rates and exports the claim."""
from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.supervision.conftest import login, study

ZONE = ZoneInfo("Asia/Shanghai")


def _at(day, hour, minute=0):
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def _award(user, fw, rung=1):
    """An assessor's award of level ``rung`` (as competency records it), announced as competency does."""
    from competency.models import LevelAttainment
    from lms.core.db import db, utcnow
    from lms.core.events import send_after_commit
    from lms.core.extension_points import level_awarded
    from lms.records.identity import platform_key

    lv = next(level for level in fw.levels if level.rung == rung)
    att = LevelAttainment(learner_key=platform_key(user), user_id=user.id, framework_id=fw.id, level_id=lv.id,
                          rung=rung, coverage=1.0, coverage_met=True, prerequisites_met=True, exams_met=True,
                          status="awarded", eligible_at=utcnow(), awarded_at=utcnow(), updated_at=utcnow())
    db.session.add(att)
    db.session.flush()
    send_after_commit(level_awarded, att)
    db.session.commit()


def test_supervision_journey(app, world, trainees):
    from courses.delivery import operations as delivery
    from courses.operations.enrolment import enrol
    from lms.core.db import db
    from openpyxl import load_workbook
    from supervision.models import AuditEntry, Claim, CourseApplication, TrainingClass
    from tests.competency.helpers import import_small

    fw = import_small()
    people = trainees(5)
    normal1, normal2, normal3, bad, pensioner = people
    admin, atoken = login(app, world.admin)
    officer, otoken = login(app, world.officer)

    # 1. the institution applies to list its course; the authority approves
    resp = admin.post("/supervision/applications", data={
        "csrf_token": atoken("/supervision/applications"), "organisation_id": world.school.id,
        "course_ref": str(world.course.uuid), "occupation_code": "6-31-01-03", "level": "1", "total_hours": "16",
        "standard_amount": "1600", "online_share": "100"})
    assert resp.status_code == 303
    application = db.session.scalars(sa.select(CourseApplication)).one()
    officer.post(f"/supervision/applications/{application.id}/decide",
                 data={"csrf_token": otoken(), "decision": "approve", "reason": "符合条件"})
    db.session.refresh(application)
    assert application.status == "approved"
    assert "电工上岗培训" in app.test_client().get("/public/training/").get_data(as_text=True)

    # 2. ... and applies to open a class with its roster; the authority opens it
    start, end = dt.date.today() - dt.timedelta(days=20), dt.date.today() - dt.timedelta(days=1)
    resp = admin.post("/supervision/classes", data={
        "csrf_token": atoken("/supervision/classes"), "organisation_id": world.school.id,
        "entry_key": application.entry_key, "name": "2026 第一期电工班", "start_date": start.isoformat(),
        "end_date": end.isoformat(), "teaching_plan": "理论 6 学时、实操 10 学时", "teachers": "王老师（高级技师）",
        "schedule": "工作日 9:00-12:00，实训楼 201", "assessment_plan": "理论考试 + 实操考核",
        "roster": "\n".join(p.login for p in people)})
    assert resp.status_code == 303
    cls = db.session.scalars(sa.select(TrainingClass)).one()
    page = officer.get(f"/supervision/classes/{cls.id}").get_data(as_text=True)
    assert "待审批" in page
    officer.post(f"/supervision/classes/{cls.id}/decide", data={"csrf_token": otoken(), "decision": "approve"})
    db.session.refresh(cls)
    assert cls.status == "open" and cls.enrolled_at_opening == 5

    # 3. the authority imports a pension-recipient list; the institution checks real names
    resp = officer.post("/supervision/imports", data={
        "csrf_token": otoken("/supervision/imports"), "kind": "pension",
        "file": (io.BytesIO(f"id_number,note\n{pensioner.id_card_number},市社保局\n".encode()), "pension.csv")},
        content_type="multipart/form-data")
    assert resp.status_code == 303
    for trainee in cls.trainees:
        admin.post(f"/supervision/trainees/{trainee.id}/real-name", data={"csrf_token": atoken()})

    # 4. learners study; one plays two courses at once for ten hours in a day
    day = start + dt.timedelta(days=2)
    for person in (normal1, normal2, normal3, pensioner):
        study(person, at=_at(day, 12), seconds=3 * 3600)
        study(person, at=_at(day + dt.timedelta(days=1), 12), seconds=3 * 3600)
    for h in range(9, 14):
        study(bad, at=_at(day, h), seconds=3600, registration=uuid.UUID(int=1))
        study(bad, at=_at(day, h), seconds=3600, registration=uuid.UUID(int=2))
    for person in people[:4]:
        enrol(person, world.course, by=person)
        db.session.commit()
        delivery.open_lesson(person, world.lesson.id)
        db.session.commit()
    for person in (normal1, normal2, pensioner):
        _award(person, fw)

    # 5. the class completes; employment records are imported
    admin.post(f"/supervision/classes/{cls.id}/complete", data={"csrf_token": atoken()})
    jobs = "id_number,kind,start_date,employer\n" + "\n".join(
        f"{p.id_card_number},社保,{dt.date.today().isoformat()},华东电气" for p in (normal1, normal3))
    officer.post("/supervision/imports", data={"csrf_token": otoken("/supervision/imports"), "kind": "employment",
                                               "file": (io.BytesIO(jobs.encode()), "jobs.csv")},
                 content_type="multipart/form-data")

    # 6. the institution prepares and screens the claim: exactly the planted hits
    resp = admin.post(f"/supervision/classes/{cls.id}/claim", data={"csrf_token": atoken()})
    claim = db.session.scalars(sa.select(Claim)).one()
    admin.post(f"/supervision/claims/{claim.id}/screen", data={"csrf_token": atoken()})
    db.session.refresh(claim)
    assert {(h.user_id, h.rule) for h in claim.hits} == {(bad.id, "daily_hours"), (bad.id, "overlapping_sessions"),
                                                         (pensioner.id, "exclusion_list")}
    html = admin.get(f"/supervision/claims/{claim.id}").get_data(as_text=True)
    assert "单日学时过多" in html and "学习时段重叠" in html and "养老金领取人员" in html
    assert "10.0" in html  # the evidence: ten hours on that day
    line = {ln.user_id: ln for ln in claim.lines}
    assert str(line[normal1.id].amount) == "800.00"  # 6 h = 8 study hours of 16 -> half the standard

    # 7. the authority sees the institution's pass and employment rates and exports the claim
    dash = officer.get("/supervision/").get_data(as_text=True)
    assert re.search(r'data-testid="pass-rate">60\.0%', dash)
    assert re.search(r'data-testid="employment-rate">40\.0%', dash)
    assert "60%" in dash  # the chart beside the table
    public = app.test_client().get("/public/training/performance").get_data(as_text=True)
    assert "江南技师学院" in public and "60.0%" in public and pensioner.real_name not in public
    resp = officer.get(f"/supervision/claims/{claim.id}/export.xlsx")
    cells = [str(c.value) for ws in load_workbook(io.BytesIO(resp.data)).worksheets for r in ws.iter_rows() for c in r]
    assert bad.id_card_number in cells
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"application.approved", "class.approved", "import.done", "claim.screened", "export.personal"} <= actions
