"""Teacher pages: gradebook, per-learner progress, quiz item analysis, grading queue, exports.

Everything is scoped by :mod:`courses.delivery.teaching`: a teacher sees only the courses they
teach and the classes they are in charge of; what is outside their scope is a 404.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from courses.delivery import operations as ops
from courses.delivery import teaching
from courses.delivery.views import lang
from courses.models import Course, Enrolment, Lesson, Submission
from lms.core.db import db
from lms.core.forms import apply_error
from lms.core.permissions import acting_user, can, require

bp = Blueprint("courses_delivery_teacher", __name__, url_prefix="/teach")


class GradeForm(FlaskForm):
    score = FloatField(_l("Score"), validators=[InputRequired(), NumberRange(min=0)])
    passed = BooleanField(_l("Passed"))
    comment = TextAreaField(_l("Comment for the learner"), validators=[Length(max=5000)])


def _course_in_scope(course_id: int) -> Course:
    user = acting_user()
    course = db.session.get(Course, course_id)
    if course is None or course not in teaching.taught_courses(user):
        abort(404)
    return course


def _class_arg(course: Course):
    raw = request.args.get("class_id", "")
    if not raw:
        return None, None
    try:
        class_id = int(raw)
    except ValueError:
        abort(400)
    classes = {c.id: c for c in teaching.visible_classes(acting_user(), course)}
    if class_id not in classes:
        abort(404)
    return class_id, classes[class_id]


@bp.get("/")
@require("courses.view_results")
def index():
    user = acting_user()
    courses = teaching.taught_courses(user)
    queue = teaching.grading_queue(user) if can(user, "courses.grade") else []
    return render_template("courses/delivery/teach_index.html", courses=courses, queue_count=len(queue),
                           classes={c.id: teaching.visible_classes(user, c) for c in courses})


@bp.get("/course/<int:course_id>")
@require("courses.view_results")
def gradebook(course_id):
    course = _course_in_scope(course_id)
    class_id, cls = _class_arg(course)
    enrolments = teaching.visible_enrolments(acting_user(), course, class_id)
    columns, rows = teaching.gradebook(course, enrolments)
    return render_template("courses/delivery/gradebook.html", course=course, columns=columns, rows=rows,
                           classes=teaching.visible_classes(acting_user(), course), class_id=class_id, cls=cls,
                           quizzes=[lesson for lesson in course.live_lessons if lesson.kind == "quiz"])


@bp.get("/course/<int:course_id>/gradebook.<fmt>")
@require("courses.view_results")
def export(course_id, fmt):
    course = _course_in_scope(course_id)
    class_id, _cls = _class_arg(course)
    table = teaching.gradebook_table(course, teaching.visible_enrolments(acting_user(), course, class_id), lang())
    name = f"gradebook-{course.code}" + (f"-class{class_id}" if class_id else "")
    if fmt == "csv":
        return Response(teaching.gradebook_csv(table), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        return Response(teaching.gradebook_xlsx(table, course.code),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    abort(404)


@bp.get("/enrolment/<int:enrolment_id>")
@require("courses.view_results")
def learner(enrolment_id):
    user = acting_user()
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or not teaching.may_see_enrolment(user, enrolment):
        abort(404)
    course = enrolment.course
    progress = ops.progress_map(enrolment)
    attempts = {lesson.id: ops.attempts_of(enrolment, lesson) for lesson in course.live_lessons if lesson.kind == "quiz"}
    submissions = {lesson.id: ops.submissions_of(enrolment, lesson) for lesson in course.live_lessons
                   if lesson.kind == "practical"}
    return render_template("courses/delivery/teach_learner.html", enrolment=enrolment, course=course,
                           progress=progress, attempts=attempts, submissions=submissions,
                           study_hours=ops.study_hours_of(enrolment))


@bp.get("/lesson/<int:lesson_id>/items")
@require("courses.view_results")
def items(lesson_id):
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.kind != "quiz":
        abort(404)
    course = _course_in_scope(lesson.course_id)
    class_id, cls = _class_arg(course)
    user = acting_user()
    enrolments = None
    if class_id is not None or not teaching.teaches_course(user, course):
        enrolments = teaching.visible_enrolments(user, course, class_id)
    return render_template("courses/delivery/items.html", lesson=lesson, course=course, cls=cls,
                           rows=teaching.item_analysis(lesson, enrolments))


@bp.get("/queue")
@require("courses.grade")
def queue():
    return render_template("courses/delivery/queue.html", submissions=teaching.grading_queue(acting_user()))


@bp.route("/submissions/<int:submission_id>", methods=["GET", "POST"])
@require("courses.grade")
def grade(submission_id):
    user = acting_user()
    submission = db.session.get(Submission, submission_id)
    if submission is None or not teaching.may_grade(user, submission):
        abort(404)
    form = GradeForm()
    if submission.status == "submitted" and form.validate_on_submit():
        try:
            ops.grade_submission(user, submission.id, score=form.score.data, passed=form.passed.data,
                                 comment=form.comment.data or "")
        except ops.DeliveryError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            if exc.status in (403, 409):  # own work, or graded meanwhile by a concurrent request
                abort(exc.status, exc.message)
            apply_error(exc, form)
        else:
            db.session.commit()
            flash(_("The grade has been saved."), "success")
            return redirect(url_for(".queue"))
    elif request.method == "POST" and submission.status != "submitted":
        abort(409, _("This submission has already been graded."))
    return render_template("courses/delivery/grade.html", submission=submission, form=form)
