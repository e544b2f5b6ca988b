"""Catalogue applications and classes: institutions apply, officers decide, everyone scoped."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, render_template, url_for
from flask_babel import gettext as _

from lms.core.db import db
from lms.core.forms import choices
from lms.core.permissions import acting_user, get_visible_or_404, require, visible
from lms.organisations.models import Organisation
from supervision import access
from supervision.forms import (AddTraineeForm, ClassApplicationForm, CourseApplicationForm, DecisionForm,
                               EmptyForm)
from supervision.models import Claim, ClassIndicator, ClassTrainee, CourseApplication, RealNameCheck, TrainingClass
from supervision.operations import catalogue as catalogue_ops
from supervision.operations import classes as class_ops
from supervision.operations import imports as import_ops
from supervision.views import bounce, bp, run


def _my_institutions(user) -> list[Organisation]:
    ids = access.institution_ids(user)
    if user.is_system_admin:
        return db.session.scalars(sa.select(Organisation).where(Organisation.kind == "institution")
                                  .order_by(Organisation.name)).all()
    return db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids or {-1}))
                              .order_by(Organisation.name)).all()


@bp.route("/applications", methods=["GET", "POST"])
@require("supervision.view")
def applications():
    """Applications to list a course as subsidised training; institutions apply here."""
    user = acting_user()
    orgs = _my_institutions(user)
    form = CourseApplicationForm()
    form.organisation_id.choices = choices([(o.id, o.name) for o in orgs])
    courses = []
    for org in orgs:
        courses += [(c["ref"], f"{c['title']} ({c['code']})") for c in catalogue_ops.courses_of(org.id)]
    form.course_ref.choices = choices(courses)
    status = 200
    if form.is_submitted():
        if not orgs:
            abort(403)
        ok, _value = run(form, lambda: catalogue_ops.apply_course(
            user, form.organisation_id.data, course_ref=form.course_ref.data,
            occupation_code=form.occupation_code.data, level=form.level.data, total_hours=form.total_hours.data,
            standard_amount=form.standard_amount.data, online_share=Decimal(form.online_share.data or 0) / 100),
            done=_("The application was submitted."))
        if ok:
            return bounce(url_for("supervision.applications"))
        status = 400
    rows = db.session.scalars(visible(user, CourseApplication).order_by(CourseApplication.created_at.desc())
                              .limit(200)).all()
    return render_template("supervision/applications.html", rows=rows, form=form if orgs else None,
                           decision=DecisionForm(), officer=access.is_officer(user)), status


@bp.route("/applications/<int:application_id>/decide", methods=["POST"])
@require("supervision.view")
def decide_application(application_id: int):
    user = acting_user()
    get_visible_or_404(user, CourseApplication, application_id)
    form = DecisionForm()
    run(form, lambda: catalogue_ops.decide_application(user, application_id, approve=form.decision.data == "approve",
                                                        reason=form.reason.data),
        done=_("The decision was recorded."), back="")
    return bounce(url_for("supervision.applications"))


@bp.route("/classes", methods=["GET", "POST"])
@require("supervision.view")
def classes():
    """Classes: the institution's own (and the application form), or every class for the authority."""
    user = acting_user()
    orgs = _my_institutions(user)
    form = ClassApplicationForm()
    form.organisation_id.choices = choices([(o.id, o.name) for o in orgs])
    org_ids = {o.id for o in orgs}
    form.entry_key.choices = choices([(e.entry_key, f"{e.title} · {e.entry_key}") for e in catalogue_ops.current("training")
                                      if e.organisation_id in org_ids])
    status = 200
    if form.is_submitted():
        if not orgs:
            abort(403)
        ok, value = run(form, lambda: class_ops.apply_class(
            user, form.organisation_id.data, entry_key=form.entry_key.data, name=form.name.data,
            start_date=form.start_date.data, end_date=form.end_date.data, roster=form.roster.data,
            teaching_plan=form.teaching_plan.data, teachers=form.teachers.data, schedule=form.schedule.data,
            assessment_plan=form.assessment_plan.data), done=_("The class application was submitted."))
        if ok:
            return bounce(url_for("supervision.class_page", class_id=value.id))
        status = 400
    rows = db.session.scalars(visible(user, TrainingClass).order_by(TrainingClass.created_at.desc()).limit(300)).all()
    return render_template("supervision/classes.html", rows=rows, form=form if orgs else None), status


@bp.route("/classes/<int:class_id>")
@require("supervision.view")
def class_page(class_id: int):
    user = acting_user()
    cls = get_visible_or_404(user, TrainingClass, class_id)
    trainees = db.session.scalars(sa.select(ClassTrainee).where(ClassTrainee.class_id == cls.id)
                                  .order_by(ClassTrainee.id)).all()
    checked = set(db.session.execute(sa.select(RealNameCheck.user_id, RealNameCheck.id_number).where(
        RealNameCheck.user_id.in_([t.user_id for t in trainees] or [-1]))).all())
    indicator = db.session.get(ClassIndicator, cls.id)
    claim = db.session.scalars(sa.select(Claim).where(Claim.class_id == cls.id)).first()
    entry = catalogue_ops.entry("training", cls.entry_key)
    return render_template("supervision/class.html", cls=cls, trainees=trainees, checked=checked, indicator=indicator,
                           claim=claim, entry=entry, officer=access.is_officer(user),
                           may_act=access.may_act_for(user, cls.organisation_id), decision=DecisionForm(),
                           button=EmptyForm(), add_form=AddTraineeForm())


@bp.route("/classes/<int:class_id>/decide", methods=["POST"])
@require("supervision.view")
def decide_class(class_id: int):
    user = acting_user()
    get_visible_or_404(user, TrainingClass, class_id)
    form = DecisionForm()
    run(form, lambda: class_ops.decide_class(user, class_id, approve=form.decision.data == "approve",
                                             reason=form.reason.data), done=_("The decision was recorded."), back="")
    return bounce(url_for("supervision.class_page", class_id=class_id))


@bp.route("/classes/<int:class_id>/complete", methods=["POST"])
@require("supervision.view")
def complete_class(class_id: int):
    user = acting_user()
    get_visible_or_404(user, TrainingClass, class_id)
    run(EmptyForm(), lambda: class_ops.complete_class(user, class_id), done=_("The class is completed."), back="")
    return bounce(url_for("supervision.class_page", class_id=class_id))


@bp.route("/classes/<int:class_id>/trainees", methods=["POST"])
@require("supervision.view")
def add_trainee(class_id: int):
    user = acting_user()
    get_visible_or_404(user, TrainingClass, class_id)
    form = AddTraineeForm()
    run(form, lambda: class_ops.add_trainee_after_opening(user, class_id, form.login.data),
        done=_("The trainee was added; the change is logged and not counted in the rates."), back="")
    return bounce(url_for("supervision.class_page", class_id=class_id))


@bp.route("/trainees/<int:trainee_id>/real-name", methods=["POST"])
@require("supervision.view")
def real_name_check(trainee_id: int):
    user = acting_user()
    trainee = db.session.get(ClassTrainee, trainee_id)
    if trainee is None:
        abort(404)
    cls = get_visible_or_404(user, TrainingClass, trainee.class_id)
    run(EmptyForm(), lambda: import_ops.record_real_name_check(user, trainee.user, organisation_id=cls.organisation_id),
        done=_("The real-name check was recorded."), back="")
    return bounce(url_for("supervision.class_page", class_id=cls.id))
