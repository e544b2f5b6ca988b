"""What the courses plugin offers to other plugins' reports (supervision), through the core's
report-source registry (:data:`lms.core.extension_points.REPORT_SOURCES`): courses, classes with
their rosters, enrolments and completions. Read-only; plain values; a course's ref is its uuid."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from courses.models import Course, CourseClass, Enrolment
from lms.core.db import db
from lms.core.extension_points import add_report_source


def _course(ref: str) -> Course | None:
    try:
        key = uuid.UUID(str(ref))
    except ValueError:
        return None
    return db.session.scalars(sa.select(Course).where(Course.uuid == key)).first()


def _chunks(ids, size: int = 500):
    ids = list(dict.fromkeys(int(i) for i in ids))
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _describe(course: Course) -> dict:
    return {"ref": str(course.uuid), "code": course.code, "title": course.title_zh,
            "occupation_code": course.occupation_code or "", "study_hours": float(course.study_hours or 0),
            "status": course.status, "organisation_id": course.organisation_id}


def of_organisation(organisation_id: int) -> list[dict]:
    rows = db.session.scalars(sa.select(Course).where(Course.organisation_id == organisation_id,
                                                      Course.status != "archived").order_by(Course.code))
    return [_describe(c) for c in rows]


def describe(refs) -> dict[str, dict]:
    keys = []
    for ref in refs:
        try:
            keys.append(uuid.UUID(str(ref)))
        except ValueError:
            continue
    return {str(c.uuid): _describe(c) for c in db.session.scalars(sa.select(Course).where(Course.uuid.in_(keys)))} \
        if keys else {}


def classes(organisation_id: int) -> list[dict]:
    out = []
    for cls in db.session.scalars(sa.select(CourseClass).where(CourseClass.organisation_id == organisation_id)
                                  .order_by(CourseClass.id)):
        learners = db.session.scalars(sa.select(Enrolment.user_id).where(
            Enrolment.class_id == cls.id, Enrolment.status != "withdrawn").order_by(Enrolment.user_id)).all()
        course = db.session.get(Course, cls.course_id)
        out.append({"ref": str(cls.id), "name": cls.name, "course_ref": str(course.uuid) if course else "",
                    "teacher": cls.teacher.display_name if getattr(cls, "teacher", None) else "",
                    "learner_ids": list(learners)})
    return out


def enrolments(course_ref: str, user_ids) -> dict[int, object]:
    course = _course(course_ref)
    out: dict[int, object] = {}
    if course is None:
        return out
    for chunk in _chunks(user_ids):
        for uid, at in db.session.execute(sa.select(Enrolment.user_id, Enrolment.enrolled_at).where(
                Enrolment.course_id == course.id, Enrolment.user_id.in_(chunk), Enrolment.status != "withdrawn")):
            out[uid] = at
    return out


def completions(course_ref: str, user_ids) -> dict[int, object]:
    course = _course(course_ref)
    out: dict[int, object] = {}
    if course is None:
        return out
    for chunk in _chunks(user_ids):
        for uid, at in db.session.execute(sa.select(Enrolment.user_id, Enrolment.completed_at).where(
                Enrolment.course_id == course.id, Enrolment.user_id.in_(chunk),
                Enrolment.completed_at.is_not(None), Enrolment.status != "withdrawn")):
            out[uid] = at
    return out


def register(app) -> None:
    """Offer the sources above (called from the plugin's ``init_app``)."""
    add_report_source(app, "courses.of_organisation", of_organisation)
    add_report_source(app, "courses.describe", describe)
    add_report_source(app, "courses.classes", classes)
    add_report_source(app, "courses.enrolments", enrolments)
    add_report_source(app, "courses.completions", completions)
