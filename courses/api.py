"""JSON API of the catalogue, course detail and enrolment, under ``/api/v1/courses``.

Progress and results (``/api/v1/courses/my/...``, ``/teaching/...``) are in
:mod:`courses.delivery.api`.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from courses.models import Course, CourseClass, Enrolment
from courses.operations import enrolment as enrol_ops
from courses.operations.errors import CourseError
from courses.views.catalogue import filtered_catalogue
from lms.accounts.models import User
from lms.accounts.operations import find_user
from lms.api import ApiError, doc, paginate_args
from lms.core.db import db, valid_id
from lms.core.permissions import acting_user, get_visible_or_404, require, visible

bp = Blueprint("courses_api", __name__, url_prefix="/api/v1/courses")


def _abs_url(endpoint, **kw) -> str:
    from flask import url_for

    return url_for(endpoint, _external=True, **kw)


def course_summary(course: Course) -> dict:
    return {
        "id": course.id, "uuid": str(course.uuid), "code": course.code, "title_zh": course.title_zh,
        "title_en": course.title_en, "occupation_code": course.occupation_code, "levels": course.levels,
        "study_hours": course.study_hours, "subsidised": course.subsidised,
        "subsidy_catalogue_number": course.subsidy_catalogue_number, "status": course.status,
        "self_enrolment": course.self_enrolment, "organisation_id": course.organisation_id,
        "version": course.version, "activity_id": course.activity_iri,
        "published_at": course.published_at.isoformat() if course.published_at else None,
        "url": _abs_url("courses.course_page", course_id=course.id),
    }


def course_detail(course: Course) -> dict:
    out = course_summary(course)
    out.update({
        "description_zh": course.description_zh, "description_en": course.description_en,
        "teachers": [{"id": t.id, "name": t.display_name} for t in course.teachers],
        "modules": [{
            "id": m.id, "uuid": str(m.uuid), "title_zh": m.title_zh, "title_en": m.title_en,
            "activity_id": m.activity_iri,
            "lessons": [{
                "id": lesson.id, "uuid": str(lesson.uuid), "kind": lesson.kind, "title_zh": lesson.title_zh,
                "title_en": lesson.title_en, "required": lesson.required,
                "duration_seconds": lesson.duration_seconds, "activity_id": lesson.activity_iri,
            } for lesson in m.live_lessons],
        } for m in course.live_modules],
    })
    return out


def enrolment_json(e: Enrolment) -> dict:
    return {"id": e.id, "registration": str(e.registration), "user_id": e.user_id, "course_id": e.course_id,
            "status": e.status, "class_id": e.class_id, "enrolled_at": e.enrolled_at.isoformat(),
            "completed_at": e.completed_at.isoformat() if e.completed_at else None,
            "enrolled_by_id": e.enrolled_by_id, "progress": round(e.progress or 0, 4)}


def _refuse(exc: CourseError):
    db.session.rollback()
    return ApiError(exc.status, exc.code, str(exc.message))


_COURSE_LIST = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}},
                                                 "limit": {"type": "integer"}, "offset": {"type": "integer"}}}


@bp.get("")
@require()
@doc("Catalogue of published courses", tags=["courses"],
     params={"q": "string: text in title, code or occupation", "occupation": "string: occupation code (prefix)",
             "level": "integer 0-7: target skill level", "subsidised": "boolean", "limit": "integer",
             "offset": "integer"},
     response_schema=_COURSE_LIST)
def catalogue():
    user = acting_user()
    level = request.args.get("level")
    if level not in (None, "") and level not in {str(n) for n in range(8)}:
        raise ApiError(400, "invalid_parameter", "level must be an integer from 0 to 7")
    limit, offset = paginate_args()
    rows = db.session.scalars(filtered_catalogue(user, request.args).limit(limit).offset(offset)).all()
    return jsonify({"items": [course_summary(c) for c in rows], "limit": limit, "offset": offset})


@bp.get("/<int:course_id>")
@require()
@doc("One course with its syllabus (modules and lessons)", tags=["courses"])
def detail(course_id):
    return jsonify(course_detail(get_visible_or_404(acting_user(), Course, course_id)))


@bp.get("/<int:course_id>/enrolments")
@require()
@doc("Enrolments in a course that the caller may see (a learner: their own)", tags=["courses"],
     params={"limit": "integer", "offset": "integer"})
def enrolments(course_id):
    user = acting_user()
    course = get_visible_or_404(user, Course, course_id)
    limit, offset = paginate_args()
    rows = db.session.scalars(visible(user, Enrolment).where(Enrolment.course_id == course.id)
                              .order_by(Enrolment.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [enrolment_json(e) for e in rows], "limit": limit, "offset": offset})


@bp.post("/<int:course_id>/enrolments")
@require()
@doc("Enrol in a course: yourself (empty body), or a member of your organisation "
     "(``{\"login\": ...}`` or ``{\"user_id\": ...}``), optionally in a class (``class_id``)",
     tags=["courses"],
     request_schema={"type": "object", "properties": {"login": {"type": "string"}, "user_id": {"type": "integer"},
                                                      "class_id": {"type": "integer"}}})
def enrol(course_id):
    user = acting_user()
    course = get_visible_or_404(user, Course, course_id)
    # An empty body enrols the caller; any other body must be the JSON object (a body that is
    # not JSON is never read as "empty": it would enrol the caller instead of the person named).
    body = request.get_json(silent=True) if request.get_data(cache=True).strip() else {}
    if body is None:
        raise ApiError(400, "invalid_json", "the request body must be JSON (send it as application/json)")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object")
    learner = user
    if body.get("login") is not None:
        if not isinstance(body["login"], str):
            raise ApiError(400, "invalid_body", "login must be a string")
        learner = find_user(body["login"])
    elif body.get("user_id") is not None:
        if not isinstance(body["user_id"], int) or isinstance(body["user_id"], bool):
            raise ApiError(400, "invalid_body", "user_id must be an integer")
        learner = db.session.get(User, body["user_id"]) if valid_id(body["user_id"]) else None
    if learner is None:
        raise ApiError(404, "not_found", "no account with this login or id")
    course_class = None
    if body.get("class_id") is not None:
        if not isinstance(body["class_id"], int) or isinstance(body["class_id"], bool):
            raise ApiError(400, "invalid_body", "class_id must be an integer")
        if not valid_id(body["class_id"]):
            raise ApiError(404, "not_found", "no such class in this course")
        course_class = db.session.scalars(visible(user, CourseClass).where(
            CourseClass.id == body["class_id"], CourseClass.course_id == course.id)).first()
        if course_class is None:
            raise ApiError(404, "not_found", "no such class in this course")
    try:
        enrolment = enrol_ops.enrol(learner, course, by=user, course_class=course_class)
    except CourseError as exc:
        raise _refuse(exc) from None
    db.session.commit()
    return jsonify(enrolment_json(enrolment)), 201


@bp.post("/<int:course_id>/enrolments/bulk")
@require()
@doc("Enrol members of your organisation from CSV text (``login[,class]`` per line), all or nothing; "
     "answers the per-line report", tags=["courses"],
     request_schema={"type": "object", "properties": {"csv": {"type": "string"}}})
def bulk_enrol(course_id):
    user = acting_user()
    course = get_visible_or_404(user, Course, course_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("csv"), str):
        raise ApiError(400, "invalid_body", "send {\"csv\": \"login,class\\n...\"}")
    try:
        report = enrol_ops.bulk_enrol_csv(user, course, body["csv"])
    except CourseError as exc:
        raise _refuse(exc) from None
    out = {"enrolled": [{"line": n, "login": login} for n, login in report.enrolled],
           "skipped": [{"line": n, "login": login} for n, login in report.skipped],
           "errors": [{"line": n, "login": login, "message": msg} for n, login, msg in report.errors]}
    if not report.ok:
        db.session.rollback()
        return jsonify({"error": {"code": "invalid_lines", "message": "some lines are invalid; nobody was enrolled",
                                  **out}}), 400
    db.session.commit()
    return jsonify(out), 201


@bp.post("/enrolments/<int:enrolment_id>/withdraw")
@require()
@doc("Withdraw an enrolment (records are kept)", tags=["courses"])
def withdraw(enrolment_id):
    user = acting_user()
    enrolment = get_visible_or_404(user, Enrolment, enrolment_id)
    try:
        enrol_ops.withdraw(enrolment, by=user)
    except CourseError as exc:
        raise _refuse(exc) from None
    db.session.commit()
    return jsonify(enrolment_json(enrolment))

