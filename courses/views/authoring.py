"""Teacher pages: create and edit courses, modules, lessons and questions; reorder; upload files;
preview as a learner; publish and archive; export and import packages."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from courses import uploads
from courses.forms import (CourseForm, CoverForm, ImportForm, LessonForm, ModuleForm, QuestionForm, TeacherForm,
                           UploadForm)
from courses.models import LESSON_KINDS, Course, course_teachers
from courses.operations import authoring as ops
from courses.operations import packages
from courses.operations.errors import CourseError
from courses.setup import KIND_LABELS, may_edit_course
from courses.views.common import (editable_course, editable_lesson, editable_module, editable_question, flash_error,
                                  lang)
from lms.accounts.forms import EmptyForm
from lms.accounts.operations import find_user
from lms.core.db import db, valid_id
from lms.core.forms import apply_error, choices
from lms.core.permissions import acting_user, can, require, visible
from lms.organisations.models import Organisation

bp = Blueprint("courses_authoring", __name__, url_prefix="/courses/manage")


def _author_orgs(user) -> list[Organisation]:
    if user.is_system_admin:
        return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name)))
    ids = user.organisation_ids("teacher", "institution_admin")
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))


def _org_choices(user):
    return choices([(o.id, o.name) for o in _author_orgs(user)])


def _fail(exc: CourseError, form=None):
    db.session.rollback()
    if form is not None:
        apply_error(exc, form)
    else:
        flash_error(exc)
    return exc.status


@bp.route("/")
@require("courses.author")
def index():
    """The courses the acting user may author."""
    user = acting_user()
    stmt = visible(user, Course).order_by(Course.updated_at.desc())
    if not user.is_system_admin:
        admin_orgs = user.organisation_ids("institution_admin")
        stmt = stmt.where(sa.or_(
            Course.created_by_id == user.id,
            Course.id.in_(sa.select(course_teachers.c.course_id).where(course_teachers.c.user_id == user.id)),
            Course.organisation_id.in_(admin_orgs or {-1})))
    courses = db.session.scalars(stmt).all()
    return render_template("courses/manage/index.html", courses=courses)


@bp.route("/new", methods=["GET", "POST"])
@require("courses.author")
def new_course():
    user = acting_user()
    form = CourseForm()
    form.organisation_id.choices = _org_choices(user)
    status = 200
    if form.validate_on_submit():
        try:
            course = ops.create_course(user, organisation_id=form.organisation_id.data or None, **form.values())
        except CourseError as exc:
            status = _fail(exc, form)
        else:
            db.session.commit()
            flash(_("The course has been created. Now add modules and lessons."), "success")
            return redirect(url_for(".edit_course", course_id=course.id))
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/course_form.html", form=form, course=None), status


@bp.route("/<int:course_id>", methods=["GET", "POST"])
@require()
def edit_course(course_id):
    """The course's settings form and its syllabus (modules, lessons) with every action."""
    user = acting_user()
    course = editable_course(course_id)
    form = CourseForm(obj=course) if request.method == "GET" else CourseForm()
    del form.organisation_id
    if request.method == "GET":
        form.levels.data = course.levels
    status = 200
    if form.validate_on_submit():
        try:
            ops.update_course(user, course, **form.values())
        except CourseError as exc:
            status = _fail(exc, form)
            course = editable_course(course_id)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".edit_course", course_id=course.id))
    elif form.is_submitted():
        status = 400
    cover_form = CoverForm(cover_image=course.cover_image)
    cover_form.cover_image.choices = choices([("", "—")] + [(f.storage_key, f.original_name) for f in course.files
                                                            if f.category == "image"])
    return render_template("courses/manage/course_edit.html", course=course, form=form, module_form=ModuleForm(),
                           cover_form=cover_form, teacher_form=TeacherForm(), empty=EmptyForm(),
                           problems=ops.publish_problems(course), kinds=LESSON_KINDS, kind_labels=KIND_LABELS,
                           ), status


@bp.post("/<int:course_id>/cover")
@require()
def set_cover(course_id):
    course = editable_course(course_id)
    form = CoverForm()
    form.cover_image.choices = choices([("", "—")] + [(f.storage_key, f.original_name) for f in course.files])
    if form.validate_on_submit():
        try:
            ops.set_cover_image(acting_user(), course, form.cover_image.data or "")
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
    return redirect(url_for(".edit_course", course_id=course_id))


@bp.post("/<int:course_id>/teachers")
@require()
def add_teacher(course_id):
    course = editable_course(course_id)
    form = TeacherForm()
    if form.validate_on_submit():
        try:
            ops.add_teacher(acting_user(), course, find_user(form.login.data))
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
    return redirect(url_for(".edit_course", course_id=course_id) + "#teachers")


@bp.post("/<int:course_id>/teachers/<int:user_id>/remove")
@require()
def remove_teacher(course_id, user_id):
    course = editable_course(course_id)
    if EmptyForm().validate_on_submit():
        teacher = next((t for t in course.teachers if t.id == user_id), None) or abort(404)
        try:
            ops.remove_teacher(acting_user(), course, teacher)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
    return redirect(url_for(".edit_course", course_id=course_id) + "#teachers")


@bp.post("/<int:course_id>/publish")
@require()
def publish(course_id):
    course = editable_course(course_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.publish(acting_user(), course)
    except CourseError as exc:
        _fail(exc)
        return redirect(url_for(".edit_course", course_id=course_id)), 303
    db.session.commit()
    flash(_("The course is published (version %(v)s).", v=course.version), "success")
    return redirect(url_for(".edit_course", course_id=course_id))


@bp.post("/<int:course_id>/archive")
@require()
def archive(course_id):
    course = editable_course(course_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.archive(acting_user(), course)
    except CourseError as exc:
        _fail(exc)
    else:
        db.session.commit()
        flash(_("The course is archived: it left the catalogue; learners keep their records."), "success")
    return redirect(url_for(".edit_course", course_id=course_id))


# --- modules ---------------------------------------------------------------------------------


@bp.post("/<int:course_id>/modules")
@require()
def add_module(course_id):
    course = editable_course(course_id)
    form = ModuleForm()
    if form.validate_on_submit():
        try:
            ops.add_module(acting_user(), course, form.title_zh.data, form.title_en.data)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
            flash(_("Module added."), "success")
    else:
        flash(_("The module needs a Chinese title."), "danger")
    return redirect(url_for(".edit_course", course_id=course_id) + "#syllabus")


@bp.route("/modules/<int:module_id>", methods=["GET", "POST"])
@require()
def edit_module(module_id):
    module = editable_module(module_id)
    form = ModuleForm(obj=module)
    status = 200
    if form.validate_on_submit():
        try:
            ops.update_module(acting_user(), module, form.title_zh.data, form.title_en.data)
        except CourseError as exc:
            status = _fail(exc, form)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".edit_course", course_id=module.course_id) + "#syllabus")
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/module_form.html", form=form, module=module, course=module.course), status


@bp.post("/modules/<int:module_id>/remove")
@require()
def remove_module(module_id):
    module = editable_module(module_id)
    course_id = module.course_id
    if EmptyForm().validate_on_submit():
        try:
            done = ops.remove_module(acting_user(), module)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
            flash(_("Module archived: learners had studied it, so their records are kept.") if done == "archived"
                  else _("Module deleted."), "success")
    return redirect(url_for(".edit_course", course_id=course_id) + "#syllabus")


@bp.post("/modules/<int:module_id>/move/<direction>")
@require()
def move_module(module_id, direction):
    module = editable_module(module_id)
    if EmptyForm().validate_on_submit():
        try:
            ops.move(acting_user(), module, direction)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
    return redirect(url_for(".edit_course", course_id=module.course_id) + "#syllabus")


# --- lessons ---------------------------------------------------------------------------------


def _store_lesson_files(user, course, kind, form, values) -> None:
    if kind == "video" and form.video_upload.data and getattr(form.video_upload.data, "filename", ""):
        values["video_file"] = uploads.store_upload(course, form.video_upload.data, "video", by=user).storage_key
    if kind == "document" and form.document_upload.data and getattr(form.document_upload.data, "filename", ""):
        values["document_file"] = uploads.store_upload(course, form.document_upload.data, "document",
                                                       by=user).storage_key


@bp.route("/modules/<int:module_id>/lessons/new", methods=["GET", "POST"])
@require()
def new_lesson(module_id):
    module = editable_module(module_id)
    kind = request.args.get("kind", "text")
    if kind not in LESSON_KINDS:
        abort(404)
    user = acting_user()
    form = LessonForm()
    status = 200
    if form.validate_on_submit():
        values = form.values(kind)
        try:
            _store_lesson_files(user, module.course, kind, form, values)
            lesson = ops.add_lesson(user, module, kind, **values)
        except CourseError as exc:
            status = _fail(exc, form)
            module = editable_module(module_id)
        else:
            db.session.commit()
            flash(_("Lesson added."), "success")
            if kind == "quiz":
                return redirect(url_for(".edit_lesson", lesson_id=lesson.id) + "#questions")
            return redirect(url_for(".edit_course", course_id=module.course_id) + "#syllabus")
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/lesson_form.html", form=form, module=module, course=module.course,
                           lesson=None, kind=kind, kind_labels=KIND_LABELS), status


@bp.route("/lessons/<int:lesson_id>", methods=["GET", "POST"])
@require()
def edit_lesson(lesson_id):
    lesson = editable_lesson(lesson_id)
    user = acting_user()
    form = LessonForm(obj=lesson)
    if request.method == "GET":
        form.duration_minutes.data = round(lesson.duration_seconds / 60, 1)
        form.time_limit_minutes.data = lesson.time_limit_seconds // 60
    status = 200
    if form.validate_on_submit():
        values = form.values(lesson.kind)
        try:
            _store_lesson_files(user, lesson.course, lesson.kind, form, values)
            ops.update_lesson(user, lesson, **values)
        except CourseError as exc:
            status = _fail(exc, form)
            lesson = editable_lesson(lesson_id)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".edit_lesson", lesson_id=lesson.id))
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/lesson_form.html", form=form, module=lesson.module, course=lesson.course,
                           lesson=lesson, kind=lesson.kind, kind_labels=KIND_LABELS, empty=EmptyForm(),
                           problems=ops.lesson_problems(lesson)), status


@bp.post("/lessons/<int:lesson_id>/remove")
@require()
def remove_lesson(lesson_id):
    lesson = editable_lesson(lesson_id)
    course_id = lesson.course_id
    if EmptyForm().validate_on_submit():
        try:
            done = ops.remove_lesson(acting_user(), lesson)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
            flash(_("Lesson archived: learners had studied it, so their records are kept.") if done == "archived"
                  else _("Lesson deleted."), "success")
    return redirect(url_for(".edit_course", course_id=course_id) + "#syllabus")


@bp.post("/lessons/<int:lesson_id>/move/<direction>")
@require()
def move_lesson(lesson_id, direction):
    lesson = editable_lesson(lesson_id)
    if EmptyForm().validate_on_submit():
        try:
            if direction == "to-module":
                module_id = request.form.get("module_id", type=int) or 0
                target = editable_module(module_id if valid_id(module_id) else 0)
                ops.move_lesson_to_module(acting_user(), lesson, target)
            else:
                ops.move(acting_user(), lesson, direction)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
    return redirect(url_for(".edit_course", course_id=lesson.course_id) + "#syllabus")


# --- questions -------------------------------------------------------------------------------


@bp.route("/lessons/<int:lesson_id>/questions/new", methods=["GET", "POST"])
@require()
def new_question(lesson_id):
    lesson = editable_lesson(lesson_id)
    if lesson.kind != "quiz":
        abort(404)
    form = QuestionForm()
    status = 200
    if form.validate_on_submit():
        try:
            ops.add_question(acting_user(), lesson, form.kind.data, **form.values())
        except CourseError as exc:
            status = _fail(exc, form)
            lesson = editable_lesson(lesson_id)
        else:
            db.session.commit()
            flash(_("Question added."), "success")
            return redirect(url_for(".edit_lesson", lesson_id=lesson.id) + "#questions")
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/question_form.html", form=form, lesson=lesson, course=lesson.course,
                           question=None), status


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
@require()
def edit_question(question_id):
    question = editable_question(question_id)
    form = QuestionForm(obj=question)
    if request.method == "GET":
        form.choices_text.data = ops.choice_lines(question)
        if question.kind == "truefalse":
            form.truefalse_answer.data = (question.correct or [""])[0]
        if question.kind == "fillin":
            form.accepted_answers.data = "\n".join(question.correct or [])
    status = 200
    if form.validate_on_submit():
        try:
            ops.update_question(acting_user(), question, kind=form.kind.data, **form.values())
        except CourseError as exc:
            status = _fail(exc, form)
            question = editable_question(question_id)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".edit_lesson", lesson_id=question.lesson_id) + "#questions")
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/question_form.html", form=form, lesson=question.lesson,
                           course=question.lesson.course, question=question), status


@bp.post("/questions/<int:question_id>/remove")
@require()
def remove_question(question_id):
    question = editable_question(question_id)
    lesson_id = question.lesson_id
    if EmptyForm().validate_on_submit():
        try:
            done = ops.remove_question(acting_user(), question)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
            flash(_("Question archived: learners had answered it, so their answers are kept.")
                  if done == "archived" else _("Question deleted."), "success")
    return redirect(url_for(".edit_lesson", lesson_id=lesson_id) + "#questions")


@bp.post("/questions/<int:question_id>/move/<direction>")
@require()
def move_question(question_id, direction):
    question = editable_question(question_id)
    if EmptyForm().validate_on_submit():
        try:
            ops.move(acting_user(), question, direction)
        except CourseError as exc:
            _fail(exc)
        else:
            db.session.commit()
    return redirect(url_for(".edit_lesson", lesson_id=question.lesson_id) + "#questions")


# --- files -----------------------------------------------------------------------------------


@bp.route("/<int:course_id>/files", methods=["GET", "POST"])
@require()
def files(course_id):
    """Upload images (for lesson text and the cover), videos and documents; list them with URLs."""
    course = editable_course(course_id)
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        try:
            row = uploads.store_upload(course, form.file.data, form.category.data, by=acting_user())
        except CourseError as exc:
            status = _fail(exc, form)
            course = editable_course(course_id)
        else:
            db.session.commit()
            flash(_("Uploaded %(name)s.", name=row.original_name), "success")
            return redirect(url_for(".files", course_id=course_id))
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/files.html", course=course, form=form), status


# --- preview ---------------------------------------------------------------------------------


@bp.route("/<int:course_id>/preview")
@require()
def preview(course_id):
    """The course page and syllabus as a learner will see them (drafts included)."""
    course = editable_course(course_id)
    return render_template("courses/manage/preview.html", course=course, lesson=None, lang=lang())


@bp.route("/lessons/<int:lesson_id>/preview")
@require()
def preview_lesson(lesson_id):
    lesson = editable_lesson(lesson_id)
    return render_template("courses/manage/preview.html", course=lesson.course, lesson=lesson, lang=lang())


# --- packages --------------------------------------------------------------------------------


@bp.get("/<int:course_id>/export")
@require()
def export(course_id):
    course = editable_course(course_id)
    try:
        data = packages.export_course(course)
    except CourseError as exc:
        _fail(exc)
        return redirect(url_for(".edit_course", course_id=course_id))
    stamp = dt.date.today().isoformat()
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{course.code}-{stamp}.zip"'})


@bp.route("/import", methods=["GET", "POST"])
@require("courses.author")
def import_package():
    user = acting_user()
    form = ImportForm()
    form.organisation_id.choices = _org_choices(user)
    status = 200
    if form.validate_on_submit():
        upload = form.package.data
        try:
            if not upload or not getattr(upload, "filename", ""):
                raise CourseError(_("Choose a course package (.zip) to import."), "package")
            org_id = form.organisation_id.data or None
            if org_id is not None and not can(user, "courses.author", org_id):
                raise CourseError(_("You may not create courses in this organisation."), "organisation_id",
                                  status=403)
            course = packages.import_course(user, upload.read(packages.MAX_PACKAGE_BYTES + 1),
                                            organisation_id=org_id, code=(form.code.data or "").strip() or None)
        except CourseError as exc:
            status = _fail(exc, form)
        else:
            db.session.commit()
            flash(_("The course has been imported as a draft."), "success")
            return redirect(url_for(".edit_course", course_id=course.id))
    elif form.is_submitted():
        status = 400
    return render_template("courses/manage/import.html", form=form), status


def may_edit(course) -> bool:
    return may_edit_course(acting_user(), course)


@bp.app_context_processor
def _helpers():
    from flask import current_app

    return {"may_edit_course": may_edit, "lesson_kind_labels": KIND_LABELS, "course_file_url": uploads.file_url,
            "has_endpoint": lambda name: name in current_app.view_functions,
            "lambda_url": lambda endpoint, **kw: (lambda direction: url_for(endpoint, direction=direction, **kw))}

