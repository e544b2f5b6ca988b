"""The catalogue (browse, search, filter), the course page, enrolment and classes, course files."""
from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from courses import uploads
from courses.forms import AssignClassForm, BulkEnrolForm, ClassForm, EnrolForm
from courses.models import Course, CourseClass, CourseFile, CourseLevel, Enrolment
from courses.operations import enrolment as enrol_ops
from courses.operations.errors import CourseError
from courses.setup import (ADMIN_ROLES, ENROLMENT_STATUS_LABELS, LEVEL_LABELS, STATUS_LABELS, catalogue_stmt,
                           may_edit_course)
from courses.views.common import flash_error, lang, visible_course
from lms.accounts.forms import EmptyForm
from lms.accounts.operations import find_user
from lms.core.db import contains_text, db
from lms.core.forms import apply_error, choices
from lms.core.permissions import acting_user, get_visible_or_404, is_supervisor, require, visible

bp = Blueprint("courses", __name__, url_prefix="/courses")

PAGE_SIZE = 20


def filtered_catalogue(user, args):
    """The catalogue query for the filters in ``args`` (q, occupation, level, subsidised)."""
    stmt = catalogue_stmt(user)
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(contains_text(q, Course.title_zh, Course.title_en, Course.code, Course.occupation_code))
    occupation = (args.get("occupation") or "").strip()
    if occupation:
        stmt = stmt.where(sa.or_(Course.occupation_code == occupation, Course.occupation_code.startswith(occupation + "-", autoescape=True)))
    level = args.get("level", "")
    if str(level) in {str(n) for n in range(8)}:  # the rungs 0..7 (isdigit() also takes "²")
        stmt = stmt.where(Course.id.in_(sa.select(CourseLevel.course_id).where(CourseLevel.level == int(level))))
    subsidised = args.get("subsidised", "")
    if subsidised in ("1", "true", "yes"):
        stmt = stmt.where(Course.subsidised.is_(True))
    elif subsidised in ("0", "false", "no"):
        stmt = stmt.where(Course.subsidised.is_(False))
    return stmt.order_by(Course.published_at.desc(), Course.id.desc())


def my_enrolments(user, course_ids=None) -> dict[int, Enrolment]:
    if not getattr(user, "is_authenticated", False):
        return {}
    stmt = sa.select(Enrolment).where(Enrolment.user_id == user.id)
    if course_ids is not None:
        stmt = stmt.where(Enrolment.course_id.in_(course_ids or [-1]))
    return {e.course_id: e for e in db.session.scalars(stmt)}


@bp.route("/")
def catalogue():
    user = acting_user()
    page = min(max(request.args.get("page", 1, type=int), 1), 10**6)
    rows = db.session.scalars(filtered_catalogue(user, request.args).limit(PAGE_SIZE + 1)
                              .offset((page - 1) * PAGE_SIZE)).all()
    courses = rows[:PAGE_SIZE]
    return render_template("courses/catalogue.html", courses=courses, has_more=len(rows) > PAGE_SIZE, page=page,
                           args=request.args, level_labels=LEVEL_LABELS,
                           enrolments=my_enrolments(user, [c.id for c in courses]), lang=lang())


def _course_for_page(course_id: int) -> Course:
    user = acting_user()
    if getattr(user, "is_authenticated", False):
        return visible_course(course_id)
    course = db.session.scalars(catalogue_stmt(user).where(Course.id == course_id)).first()
    return course or abort(404)


@bp.route("/<int:course_id>")
def course_page(course_id):
    """The course page: description, syllabus with study time, hours, enrolment."""
    user = acting_user()
    course = _course_for_page(course_id)
    enrolment = my_enrolments(user, [course.id]).get(course.id)
    return render_template("courses/course.html", course=course, enrolment=enrolment, empty=EmptyForm(),
                           level_labels=LEVEL_LABELS, status_labels=STATUS_LABELS, lang=lang(),
                           may_manage=_may_manage_enrolments(user, course))


@bp.post("/<int:course_id>/enrol")
@require()
def self_enrol(course_id):
    user = acting_user()
    course = visible_course(course_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        enrol_ops.enrol(user, course, by=user)
    except CourseError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".course_page", course_id=course_id)), 303
    db.session.commit()
    flash(_("You are enrolled. Enjoy the course!"), "success")
    return redirect(url_for(".course_page", course_id=course_id))


@bp.post("/<int:course_id>/withdraw")
@require()
def withdraw(course_id):
    user = acting_user()
    course = visible_course(course_id)
    enrolment = my_enrolments(user, [course.id]).get(course.id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        enrol_ops.withdraw(enrolment, by=user)
    except CourseError as exc:
        db.session.rollback()
        flash_error(exc)
    else:
        db.session.commit()
        flash(_("You have left the course. Your records are kept."), "success")
    return redirect(url_for(".course_page", course_id=course_id))


@bp.route("/<int:course_id>/files/<path:key>")
def course_file(course_id, key):
    """A course file, only for users who may see the course (visitors: images of published courses)."""
    course = _course_for_page(course_id)
    row = db.session.scalars(sa.select(CourseFile).filter_by(course_id=course.id, storage_key=key)).first()
    if row is None:
        abort(404)
    if row.category != "image" and not getattr(acting_user(), "is_authenticated", False):
        abort(404)  # visitors see cover and lesson images of published courses, not the materials
    path = os.path.join(uploads.upload_dir(), row.storage_key)
    if not os.path.isfile(path):
        abort(404)
    resp = send_file(path, mimetype=row.content_type, as_attachment=row.category == "document",
                     download_name=row.original_name, conditional=True, max_age=3600)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


# --- enrolment by administrators, classes ----------------------------------------------------


def _may_manage_enrolments(user, course) -> bool:
    if not getattr(user, "is_authenticated", False) or (is_supervisor(user) and not user.is_system_admin):
        return False
    return user.is_system_admin or bool(user.organisation_ids(*ADMIN_ROLES)) or may_edit_course(user, course)


def _class_choices(user, course):
    rows = db.session.scalars(visible(user, CourseClass).where(CourseClass.course_id == course.id)
                              .order_by(CourseClass.name)).all()
    return rows, choices([(0, "—")] + [(c.id, c.name) for c in rows])


@bp.route("/<int:course_id>/enrolments", methods=["GET", "POST"])
@require()
def enrolments(course_id):
    """Enrol learners one by one or from a CSV; see who is enrolled (as far as the user may)."""
    user = acting_user()
    course = visible_course(course_id)
    if not (_may_manage_enrolments(user, course) or is_supervisor(user)):
        abort(403)
    classes, class_choices = _class_choices(user, course)
    form, bulk = EnrolForm(prefix="one"), BulkEnrolForm(prefix="bulk")
    form.class_id.choices = class_choices
    report = None
    status = 200
    action = request.form.get("action")
    if request.method == "POST" and not _may_manage_enrolments(user, course):
        abort(403)
    if action == "one" and form.validate_on_submit():
        course_class = next((c for c in classes if c.id == form.class_id.data), None)
        try:
            enrol_ops.enrol(find_user(form.login.data), course, by=user, course_class=course_class)
        except CourseError as exc:
            db.session.rollback()
            apply_error(exc, form)
            status = exc.status
        else:
            db.session.commit()
            flash(_("%(login)s is enrolled.", login=form.login.data), "success")
            return redirect(url_for(".enrolments", course_id=course_id))
    elif action == "bulk" and bulk.validate_on_submit():
        upload = bulk.csv_file.data
        try:
            if not upload or not getattr(upload, "filename", ""):
                raise CourseError(_("Choose a CSV file."), "csv_file")
            raw = upload.read(2 * 2**20 + 1)
            if len(raw) > 2 * 2**20:
                raise CourseError(_("The file is too large (at most %(mb)s MB).", mb=2), "csv_file")
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                try:
                    text = raw.decode("gb18030")
                except UnicodeDecodeError:
                    raise CourseError(_("The file must be UTF-8 or GB18030 text."), "csv_file") from None
            report = enrol_ops.bulk_enrol_csv(user, course, text)
        except CourseError as exc:
            db.session.rollback()
            apply_error(exc, bulk)
            status = exc.status
        else:
            if report.ok:
                db.session.commit()
                flash(_("%(n)s learners enrolled, %(s)s already enrolled.", n=len(report.enrolled),
                        s=len(report.skipped)), "success")
                return redirect(url_for(".enrolments", course_id=course_id))
            else:
                db.session.rollback()
                status = 400
    elif request.method == "POST":
        status = 400
    rows = db.session.scalars(
        visible(user, Enrolment).where(Enrolment.course_id == course.id)
        .options(selectinload(Enrolment.user), selectinload(Enrolment.course_class))
        .order_by(Enrolment.enrolled_at.desc()).limit(500)).all()
    return render_template("courses/enrolments.html", course=course, form=form, bulk=bulk, report=report,
                           enrolments=rows, classes=classes, class_choices=class_choices,
                           status_labels=ENROLMENT_STATUS_LABELS, lang=lang(),
                           may_manage=_may_manage_enrolments(user, course)), status


@bp.post("/enrolments/<int:enrolment_id>/class")
@require()
def assign_class(enrolment_id):
    user = acting_user()
    enrolment = get_visible_or_404(user, Enrolment, enrolment_id)
    classes, class_choices = _class_choices(user, enrolment.course)
    form = AssignClassForm()
    form.class_id.choices = class_choices
    if form.validate_on_submit():
        course_class = next((c for c in classes if c.id == form.class_id.data), None)
        try:
            enrol_ops.assign_class(user, enrolment, course_class)
        except CourseError as exc:
            db.session.rollback()
            flash_error(exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
    return redirect(url_for(".enrolments", course_id=enrolment.course_id))


@bp.route("/<int:course_id>/classes", methods=["GET", "POST"])
@require()
def classes(course_id):
    user = acting_user()
    course = visible_course(course_id)
    form = ClassForm()
    orgs = sorted(user.organisation_ids(*ADMIN_ROLES, "teacher"))
    if course.organisation_id and course.organisation_id not in orgs:
        orgs.insert(0, course.organisation_id)
    from lms.organisations.models import Organisation

    org_rows = db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(orgs or [-1]))).all()
    form.organisation_id.choices = choices([(o.id, o.name) for o in org_rows])
    status = 200
    if form.validate_on_submit():
        teacher = find_user(form.teacher_login.data) if form.teacher_login.data else None
        try:
            if form.teacher_login.data and teacher is None:
                raise CourseError(_("No account with this login."), "teacher_login", status=404)
            enrol_ops.create_class(user, course, form.name.data, teacher=teacher,
                                   organisation_id=form.organisation_id.data or None)
        except CourseError as exc:
            db.session.rollback()
            apply_error(exc, form)
            status = exc.status
        else:
            db.session.commit()
            flash(_("Class created."), "success")
            return redirect(url_for(".classes", course_id=course_id))
    elif form.is_submitted():
        status = 400
    rows = db.session.scalars(visible(user, CourseClass).where(CourseClass.course_id == course.id)
                              .order_by(CourseClass.name)).all()
    counts = dict(db.session.execute(sa.select(Enrolment.class_id, sa.func.count()).where(
        Enrolment.class_id.in_([c.id for c in rows] or [-1])).group_by(Enrolment.class_id)).all())
    return render_template("courses/classes.html", course=course, form=form, classes=rows, counts=counts,
                           lang=lang()), status
