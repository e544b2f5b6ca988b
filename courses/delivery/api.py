"""JSON API of delivery under ``/api/v1/courses/``: my enrolments and progress, my quiz results,
a teacher's class results, and the study actions a mobile client needs (video reports, quiz
attempts). Same operations and refusals as the web pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from sqlalchemy.exc import IntegrityError

from courses.delivery import operations as ops
from courses.delivery import teaching
from courses.models import Course, CourseClass, Enrolment, QuizAttempt
from lms.api import ApiError, doc, paginate_args
from lms.core.db import db
from lms.core.permissions import acting_user, require

bp = Blueprint("courses_delivery_api", __name__, url_prefix="/api/v1/courses")


@bp.errorhandler(ops.DeliveryError)
def _refused(exc: ops.DeliveryError):
    db.session.rollback()
    from lms.api import error_response

    return error_response(exc.status, exc.code, exc.message)


@bp.errorhandler(IntegrityError)
def _raced(_exc):
    db.session.rollback()
    from lms.api import error_response

    return error_response(409, "conflict", "This conflicts with a request you just made; retry.")


def enrolment_json(e: Enrolment, *, lessons: bool = False) -> dict:
    out = {
        "id": e.id, "registration": str(e.registration), "course_id": e.course_id, "course_code": e.course.code,
        "course_title": e.course.title_zh, "course_title_en": e.course.title_en, "status": e.status,
        "enrolled_at": e.enrolled_at.isoformat(), "completed_at": e.completed_at.isoformat() if e.completed_at else None,
        "progress": round(e.progress or 0, 4), "last_lesson_id": e.last_lesson_id,
        "study_seconds": e.seconds_credited or 0, "study_hours": float(ops.study_hours_of(e)),
        "class_id": e.class_id,
    }
    if lessons:
        progress = ops.progress_map(e)
        out["lessons"] = [{
            "lesson_id": lesson.id, "module_id": lesson.module_id, "kind": lesson.kind, "title": lesson.title_zh,
            "required": lesson.required, "status": progress[lesson.id].status if lesson.id in progress else "not_started",
            "progress": round(progress[lesson.id].progress, 4) if lesson.id in progress else 0.0,
            "seconds_spent": progress[lesson.id].seconds_spent if lesson.id in progress else 0,
            "completed_at": (progress[lesson.id].completed_at.isoformat()
                             if lesson.id in progress and progress[lesson.id].completed_at else None),
        } for lesson in e.course.live_lessons]
    return out


def attempt_json(a: QuizAttempt) -> dict:
    return {"id": a.id, "lesson_id": a.lesson_id, "course_id": a.lesson.course_id, "number": a.number,
            "started_at": a.started_at.isoformat(), "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
            "deadline": a.deadline.isoformat() if a.deadline else None, "score": a.score, "max_score": a.max_score,
            "scaled": a.scaled, "passed": a.passed, "pass_mark": a.pass_mark}


_ENROLMENT_SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}


@bp.get("/my/enrolments")
@require()
@doc("My enrolments with progress and study hours", params={"limit": "integer", "offset": "integer"},
     response_schema=_ENROLMENT_SCHEMA, tags=["courses"])
def my_enrolments():
    user = acting_user()
    limit, offset = paginate_args()
    rows = db.session.scalars(sa.select(Enrolment).where(Enrolment.user_id == user.id)
                              .order_by(Enrolment.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [enrolment_json(e) for e in rows], "limit": limit, "offset": offset})


@bp.get("/my/enrolments/<int:enrolment_id>")
@require()
@doc("One of my enrolments with per-lesson progress", tags=["courses"])
def my_enrolment(enrolment_id):
    e = db.session.get(Enrolment, enrolment_id)
    if e is None or e.user_id != acting_user().id:
        raise ApiError(404, "not_found", "No such enrolment.")
    return jsonify(enrolment_json(e, lessons=True))


@bp.get("/my/results")
@require()
@doc("My quiz attempts (results), newest first", params={"course_id": "integer", "limit": "integer",
                                                          "offset": "integer"}, tags=["courses"])
def my_results():
    user = acting_user()
    limit, offset = paginate_args()
    stmt = (sa.select(QuizAttempt).join(Enrolment, Enrolment.id == QuizAttempt.enrolment_id)
            .where(Enrolment.user_id == user.id))
    if request.args.get("course_id"):
        raw = request.args["course_id"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise ApiError(400, "invalid_parameter", "course_id must be an integer")
        stmt = stmt.where(Enrolment.course_id == int(raw))
    rows = db.session.scalars(stmt.order_by(QuizAttempt.id.desc()).limit(limit).offset(offset)).all()
    return jsonify({"items": [attempt_json(a) for a in rows], "limit": limit, "offset": offset})


@bp.post("/lessons/<int:lesson_id>/media")
@require()
@doc("Report video playback (position, seconds played since the last report, duration, event)",
     request_schema={"type": "object", "properties": {"event": {"type": "string"}, "position": {"type": "number"},
                                                      "watched": {"type": "number"}, "duration": {"type": "number"}}},
     tags=["courses"])
def media(lesson_id):
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "A JSON object is expected.")
    result = ops.report_media(acting_user(), lesson_id, position=data.get("position", 0),
                              watched=data.get("watched", 0), duration=data.get("duration"),
                              event=str(data.get("event", "progress")))
    db.session.commit()
    return jsonify(result)


@bp.post("/lessons/<int:lesson_id>/attempts")
@require()
@doc("Start a quiz attempt (or get the one in progress): questions in this attempt's order", tags=["courses"])
def start_attempt(lesson_id):
    attempt = ops.start_attempt(acting_user(), lesson_id)
    db.session.commit()
    questions = []
    for q in ops.attempt_questions(attempt):
        questions.append({"id": q.id, "kind": q.kind, "prompt": q.prompt, "prompt_en": q.prompt_en, "points": q.points,
                          "choices": [{"id": c["id"], "text": c.get("text", ""), "text_en": c.get("text_en", "")}
                                      for c in ops.ordered_choices(attempt, q)]})
    return jsonify({**attempt_json(attempt), "questions": questions}), 201


@bp.post("/attempts/<int:attempt_id>/submit")
@require()
@doc("Submit answers: {\"answers\": {\"<question id>\": [\"<choice id>\"] or [\"text\"]}}",
     request_schema={"type": "object", "properties": {"answers": {"type": "object"}}}, tags=["courses"])
def submit_attempt(attempt_id):
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict):
        raise ApiError(400, "bad_request", "Expected {\"answers\": {question id: [values]}}.")
    responses = {}
    for qid, values in data.get("answers", {}).items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ApiError(400, "bad_response", "Each answer is a list of strings.")
        responses[f"q{qid}"] = values
    attempt = ops.submit_attempt(acting_user(), attempt_id, responses)
    db.session.commit()
    return jsonify(attempt_json(attempt))


@bp.get("/teaching/courses/<int:course_id>/results")
@require("courses.view_results")
@doc("Gradebook of a course I teach (optionally one class): progress, study hours and best results",
     params={"class_id": "integer"}, tags=["courses"])
def course_results(course_id):
    user = acting_user()
    course = db.session.get(Course, course_id)
    if course is None or course not in teaching.taught_courses(user):
        raise ApiError(404, "not_found", "No such course among those you teach.")
    class_id = request.args.get("class_id")
    if class_id:
        try:
            class_id = int(class_id)
        except ValueError:
            raise ApiError(400, "invalid_parameter", "class_id must be an integer") from None
        if class_id not in {c.id for c in teaching.visible_classes(user, course)}:
            raise ApiError(404, "not_found", "No such class among yours.")
    return jsonify(_results(course, teaching.visible_enrolments(user, course, class_id or None)))


@bp.get("/teaching/classes/<int:class_id>/results")
@require("courses.view_results")
@doc("Results of one class I am in charge of", tags=["courses"])
def class_results(class_id):
    user = acting_user()
    cls = db.session.get(CourseClass, class_id)
    if cls is None or cls.id not in {c.id for c in teaching.visible_classes(user, cls.course)}:
        raise ApiError(404, "not_found", "No such class among yours.")
    return jsonify({"class_id": cls.id, "class_name": cls.name,
                    **_results(cls.course, teaching.visible_enrolments(user, cls.course, cls.id))})


def _results(course: Course, enrolments) -> dict:
    columns, rows = teaching.gradebook(course, enrolments)
    return {
        "course_id": course.id, "course_code": course.code,
        "assessments": [{"lesson_id": lesson.id, "kind": lesson.kind, "title": lesson.title_zh} for lesson in columns],
        "items": [{
            **enrolment_json(r.enrolment),
            "learner": {"id": r.enrolment.user.id, "name": r.enrolment.user.display_name},
            "completed_lessons": r.completed_lessons,
            "results": {str(lesson.id): {"best": r.cells[lesson.id], "passed": r.passed[lesson.id]} for lesson in columns},
        } for r in rows],
    }
