"""The learner's pages: my learning, the course outline, the lesson player, quiz attempts.

Views parse the request, call :mod:`courses.delivery.operations` with the acting user, commit
once and render. Refusals (:class:`~courses.delivery.operations.DeliveryError`) become the
matching HTTP error with its message, after a rollback, so they change nothing.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from courses.delivery import completion, operations as ops
from lms.records.durations import format_clock
from courses.models import Course, CourseFile, Enrolment, Lesson
from lms.core.db import db
from lms.core.permissions import acting_user, require

bp = Blueprint("courses_delivery", __name__, url_prefix="/learn")

#: Media addresses played in the page's own <video> element (others are linked); audio plays there too.
DIRECT_MEDIA = (".mp4", ".webm", ".ogg", ".ogv", ".m4v", ".mov", ".mp3", ".m4a", ".wav")


def lang() -> str:
    return "en" if str(get_locale() or "").startswith("en") else "zh"


@bp.app_template_filter("lesson_title")
def _lesson_title(obj):
    return obj.title(lang())


@bp.errorhandler(ops.DeliveryError)
def _refused(exc: ops.DeliveryError):
    db.session.rollback()
    if request.is_json or request.path.endswith("/media") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status
    return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status


@bp.errorhandler(IntegrityError)
def _raced(_exc):
    """Two requests of the same learner raced (a double click creating the same attempt): refuse
    the second one cleanly; the first one's work stands."""
    db.session.rollback()
    message = _("This conflicts with a request you just made; please reload the page.")
    if request.path.endswith("/media") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": {"code": "conflict", "message": message}}), 409
    return render_template("errors/error.html", status=409, message=message), 409


# --- my learning and the course outline -------------------------------------------------------


@bp.get("/")
@require()
def my_courses():
    user = acting_user()
    enrolments = list(db.session.scalars(
        sa.select(Enrolment).join(Course).where(Enrolment.user_id == user.id, Enrolment.status != "withdrawn",
                                                Course.status == "published")
        .order_by(Enrolment.enrolled_at.desc())))
    return render_template("courses/delivery/my_courses.html", enrolments=enrolments,
                           hours={e.id: ops.study_hours_of(e) for e in enrolments})


@bp.get("/course/<int:course_id>")
@require()
def course(course_id):
    user = acting_user()
    course = db.session.get(Course, course_id)
    enrolment = ops.studying(user, course)
    progress = ops.progress_map(enrolment)
    lessons = course.live_lessons
    order = [lesson.id for lesson in lessons]
    done = {lid for lid, row in progress.items() if row.status == "completed"}
    resume_id = completion.resume_lesson(order, done, enrolment.last_lesson_id)
    return render_template("courses/delivery/course.html", course=course, enrolment=enrolment, progress=progress,
                           resume_id=resume_id, study_hours=ops.study_hours_of(enrolment),
                           percent=int(round((enrolment.progress or 0) * 100)))


@bp.get("/course/<int:course_id>/resume")
@require()
def resume(course_id):
    user = acting_user()
    course = db.session.get(Course, course_id)
    enrolment = ops.studying(user, course)
    order = [lesson.id for lesson in course.live_lessons]
    target = completion.resume_lesson(order, ops.completed_lesson_ids(enrolment), enrolment.last_lesson_id)
    if target is None:
        return redirect(url_for(".course", course_id=course_id))
    return redirect(url_for(".lesson", lesson_id=target))


# --- the lesson player ----------------------------------------------------------------------


@bp.get("/lesson/<int:lesson_id>")
@require()
def lesson(lesson_id):
    user = acting_user()
    enrolment, lesson, row = ops.lesson_for_player(user, lesson_id)  # a GET changes nothing
    course = lesson.course
    lessons = ops.syllabus_entries(course)
    order = [x.id for x in lessons]
    prev_id, next_id = completion.next_and_previous(order, lesson.id)
    by_id = {x.id: x for x in lessons}
    context = {"course": course, "lesson": lesson, "enrolment": enrolment, "row": row,
               "prev": by_id.get(prev_id), "next": by_id.get(next_id), "position": order.index(lesson.id) + 1,
               "count": len(order), "percent": int(round((enrolment.progress or 0) * 100))}
    if lesson.kind == "video":
        context["video_src"], context["video_link"] = _video_source(lesson)
        context["watched"] = format_clock(row.watched_seconds or 0)
    elif lesson.kind == "document":
        context["document"] = _course_file(lesson, lesson.document_file)
    elif lesson.kind == "quiz":
        context["quiz"] = ops.quiz_summary(enrolment, lesson)
    elif lesson.kind == "practical":
        context["submissions"] = ops.submissions_of(enrolment, lesson)
    return render_template("courses/delivery/lesson.html", **context)


@bp.post("/lesson/<int:lesson_id>/open")
@require()
def open_lesson(lesson_id):
    """Sent by the player when the page has loaded: remembers the lesson for resuming and
    records ``launched`` once per study session (a POST with the CSRF token, unlike the page)."""
    _enrolment, _lesson, row = ops.open_lesson(acting_user(), lesson_id, read=False)
    if row.changed:
        db.session.commit()
    return jsonify({"status": row.status})


@bp.post("/lesson/<int:lesson_id>/complete")
@require()
def mark_read(lesson_id):
    """The learner's explicit "mark as read" of a text or document lesson: completes it."""
    _enrolment, lesson = ops.lesson_for_study(acting_user(), lesson_id)
    if lesson.kind not in completion.COMPLETED_ON_VIEW:
        raise ops.DeliveryError(400, "not_readable", _("Only text and document lessons are marked as read."))
    _enrolment, lesson, row = ops.open_lesson(acting_user(), lesson_id, read=True)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"status": row.status})
    flash(_("Lesson marked as read."), "success")
    return redirect(url_for(".lesson", lesson_id=lesson.id))


def _video_source(lesson: Lesson) -> tuple[str | None, str | None]:
    if lesson.video_file:
        return url_for(".media_file", lesson_id=lesson.id), None
    url = lesson.video_url or ""
    if url.lower().split("?")[0].endswith(DIRECT_MEDIA):
        return url, url
    return None, (url or None)


def _course_file(lesson: Lesson, key: str) -> CourseFile | None:
    if not key:
        return None
    return db.session.scalars(sa.select(CourseFile).where(CourseFile.storage_key == key,
                                                          CourseFile.course_id == lesson.course_id)).first()


def _send_upload(key: str, *, download_name: str | None = None, as_attachment: bool = False):
    root = os.path.realpath(current_app.config["LMS_UPLOAD_DIR"])
    path = os.path.realpath(os.path.join(root, key))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        abort(404)
    return send_from_directory(root, os.path.relpath(path, root), as_attachment=as_attachment,
                               download_name=download_name, conditional=True, max_age=0)


@bp.get("/lesson/<int:lesson_id>/document")
@require()
def document(lesson_id):
    """Download a document lesson's file: only for learners enrolled in the published course."""
    _enrolment, lesson = ops.lesson_for_study(acting_user(), lesson_id)
    if lesson.kind != "document" or not lesson.document_file:
        abort(404)
    f = _course_file(lesson, lesson.document_file)
    return _send_upload(lesson.document_file, as_attachment=True,
                        download_name=f.original_name if f else os.path.basename(lesson.document_file))


@bp.get("/lesson/<int:lesson_id>/media")
@require()
def media_file(lesson_id):
    """The uploaded video of a lesson (byte ranges supported, so the player can seek)."""
    _enrolment, lesson = ops.lesson_for_study(acting_user(), lesson_id)
    if lesson.kind != "video" or not lesson.video_file:
        abort(404)
    return _send_upload(lesson.video_file)


@bp.post("/lesson/<int:lesson_id>/media")
@require()
def media_report(lesson_id):
    """JSON from the player: ``{"event", "position", "watched", "duration"}``."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = request.form.to_dict()
    if not data:
        raise ops.DeliveryError(400, "bad_report", _("The player report is not valid."))
    result = ops.report_media(acting_user(), lesson_id, position=data.get("position", 0),
                              watched=data.get("watched", 0), duration=data.get("duration"),
                              event=str(data.get("event", "progress")))
    db.session.commit()
    return jsonify(result)


# --- quizzes --------------------------------------------------------------------------------


@bp.post("/lesson/<int:lesson_id>/attempts")
@require()
def start_attempt(lesson_id):
    attempt = ops.start_attempt(acting_user(), lesson_id)
    target = url_for(".attempt", attempt_id=attempt.id)  # before the commit expires the attempt
    db.session.commit()
    return redirect(target)


@bp.get("/attempts/<int:attempt_id>")
@require()
def attempt(attempt_id):
    user = acting_user()
    attempt = ops.attempt_for(user, attempt_id)
    enrolment = ops.attempt_enrolment(user, attempt)
    questions = ops.attempt_questions(attempt)
    answers = {a.question_id: a for a in attempt.answers}
    remaining = None
    if attempt.deadline is not None and attempt.submitted_at is None:
        from lms.core.db import utcnow

        remaining = max(0, int((attempt.deadline - utcnow()).total_seconds()))
    return render_template("courses/delivery/attempt.html", attempt=attempt, lesson=attempt.lesson,
                           course=attempt.lesson.course, enrolment=enrolment, questions=questions, answers=answers,
                           choices={q.id: ops.ordered_choices(attempt, q) for q in questions}, remaining=remaining)


@bp.post("/attempts/<int:attempt_id>")
@require()
def submit_attempt(attempt_id):
    responses = {k: request.form.getlist(k) for k in request.form if k.startswith("q")}
    attempt = ops.submit_attempt(acting_user(), attempt_id, responses)
    # The message and the address before the commit, which expires the attempt and the user.
    if attempt.passed:
        message = (_("You passed with %(score)s of %(max)s points.", score=_num(attempt.score),
                     max=_num(attempt.max_score)), "success")
    else:
        message = (_("Not passed: %(score)s of %(max)s points (%(mark)s%% needed).", score=_num(attempt.score),
                     max=_num(attempt.max_score), mark=attempt.pass_mark), "warning")
    target = url_for(".attempt", attempt_id=attempt.id)
    db.session.commit()
    flash(*message)
    return redirect(target)


def _num(x) -> str:
    x = float(x or 0)
    return str(int(x)) if x == int(x) else f"{x:.1f}"


# --- practical tasks and external activities ------------------------------------------------


@bp.post("/lesson/<int:lesson_id>/submission")
@require()
def submit_practical(lesson_id):
    try:
        ops.submit_practical(acting_user(), lesson_id, request.form.get("text", ""),
                             request.files.getlist("files"))
    except ops.DeliveryError as exc:
        if exc.status in (400, 413, 409):
            db.session.rollback()
            flash(exc.message, "danger")
            return redirect(url_for(".lesson", lesson_id=lesson_id))
        raise
    db.session.commit()
    flash(_("Your work has been handed in."), "success")
    return redirect(url_for(".lesson", lesson_id=lesson_id))


@bp.get("/submissions/<int:submission_id>/files/<int:index>")
@require()
def submission_file(submission_id, index):
    """A file of a submission: for its learner and for those who may grade it."""
    from courses.delivery.teaching import may_grade, may_see_enrolment
    from courses.models import Submission

    user = acting_user()
    sub = db.session.get(Submission, submission_id)
    if sub is None or not (sub.enrolment.user_id == user.id or may_grade(user, sub)
                           or may_see_enrolment(user, sub.enrolment)):
        abort(404)
    try:
        f = sub.files[index]
    except IndexError:
        abort(404)
    return _send_upload(f["storage_key"], as_attachment=True, download_name=f["name"])


@bp.post("/lesson/<int:lesson_id>/launch")
@require()
def launch(lesson_id):
    url = ops.launch_external(acting_user(), lesson_id)
    db.session.commit()
    return redirect(url)
