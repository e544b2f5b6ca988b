"""Assessor pages: exam results, qualifications, attainments (award), certificates issued."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from competency.forms import ExamResultForm, QualificationForm, RevokeForm
from competency.operations import CompetencyError
from competency.operations.access import may_view_learner
from competency.views import bp
from lms.core.db import db
from lms.core.permissions import acting_user, get_visible_or_404, require, visible
from lms.core.redirects import safe_redirect


def _learner_or_404(user_id):
    from lms.accounts.models import User

    user = db.session.get(User, user_id)
    if user is None or not may_view_learner(acting_user(), user_id):
        abort(404)
    return user


@bp.route("/learners/<int:user_id>/levels/<int:level_id>/exams", methods=["POST"])
@require()
def record_exam(user_id, level_id):
    from competency.models import FrameworkLevel
    from competency.operations.attainment import record_exam_result

    learner = _learner_or_404(user_id)
    level = db.session.get(FrameworkLevel, level_id) or abort(404)
    form = ExamResultForm()
    back = url_for("competency.learner", user_id=user_id, occupation=level.framework.occupation.code,
                   framework=level.framework_id)
    if not form.validate_on_submit():
        flash(_("The exam result was not saved: %(errors)s",
                errors="; ".join(f"{form[k].label.text}: {', '.join(map(str, v))}" for k, v in form.errors.items())),
              "danger")
        return redirect(back)
    taken = (dt.datetime.combine(form.taken_on.data, dt.time(12), tzinfo=dt.timezone.utc)
             if form.taken_on.data else None)
    try:
        record_exam_result(learner, level, form.part.data, form.score.data if form.score.data is not None else None,
                           actor=acting_user(), taken_at=taken,
                           passed=(form.review_passed.data if form.part.data == "review" and form.score.data is None
                                   else None))
    except CompetencyError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403, str(exc.message))
        flash(str(exc.message), "danger")
        return redirect(back)
    db.session.commit()
    flash(_("Exam result saved."), "success")
    return redirect(back)


@bp.route("/learners/<int:user_id>/qualifications", methods=["POST"])
@require()
def record_qualification(user_id):
    from competency.models import LevelAttainment
    from competency.operations.attainment import evaluate_level, record_qualification as run
    from competency.operations.engine import user_key

    learner = _learner_or_404(user_id)
    viewer = acting_user()
    if not (viewer.is_system_admin or viewer.roles() & {"institution_admin", "enterprise_admin"}):
        abort(403)
    form = QualificationForm()
    if form.validate_on_submit():
        since = dt.datetime.combine(form.since.data, dt.time(0), tzinfo=dt.timezone.utc)
        run(learner, form.kind.data, actor=viewer, since=since, detail=form.detail.data or "",
            rung=form.rung.data if form.kind.data == "level_held" else None)
        for att in db.session.scalars(sa.select(LevelAttainment).where(LevelAttainment.learner_key == user_key(learner))):
            evaluate_level(att.learner_key, learner.id, att.level_id, reason="recompute", actor=viewer)
        db.session.commit()
        flash(_("Qualification recorded."), "success")
    else:
        flash(_("The qualification was not saved."), "danger")
    return safe_redirect(request.referrer, url_for("competency.learner", user_id=user_id))


@bp.route("/attainments")
@require()
def attainments():
    from competency.models import LevelAttainment

    status = request.args.get("status", "eligible")
    q = visible(acting_user(), LevelAttainment).order_by(LevelAttainment.updated_at.desc())
    if status in ("in_progress", "eligible", "awarded", "certified", "retracted"):
        q = q.where(LevelAttainment.status == status)
    rows = db.session.scalars(q.limit(300)).all()
    return render_template("competency/attainments.html", rows=rows, status=status)


@bp.route("/attainments/<int:attainment_id>")
@require()
def attainment(attainment_id):
    from competency.models import Certificate, LevelAttainment, StateChange
    from competency.operations.attainment import may_assess

    att = get_visible_or_404(acting_user(), LevelAttainment, attainment_id)
    history = db.session.scalars(sa.select(StateChange).where(StateChange.learner_key == att.learner_key,
                                                              StateChange.level_id == att.level_id)
                                 .order_by(StateChange.id.desc()).limit(100)).all()
    certs = db.session.scalars(sa.select(Certificate).where(Certificate.attainment_id == att.id)).all()
    return render_template("competency/attainment.html", att=att, history=history, certs=certs,
                           assessor=may_assess(acting_user(), att.level.framework.occupation_id),
                           revoke_form=RevokeForm())


@bp.route("/attainments/<int:attainment_id>/award", methods=["POST"])
@require()
def award(attainment_id):
    from competency.models import LevelAttainment
    from competency.operations.attainment import award_level

    att = get_visible_or_404(acting_user(), LevelAttainment, attainment_id)
    try:
        award_level(att, actor=acting_user())
    except CompetencyError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(str(exc.message), "danger")
    else:
        db.session.commit()
        flash(_("Level awarded."), "success")
    return redirect(url_for("competency.attainment", attainment_id=attainment_id))


@bp.route("/attainments/<int:attainment_id>/certificate", methods=["POST"])
@require()
def issue(attainment_id):
    from competency.models import LevelAttainment
    from competency.operations.certificates import issue_certificate

    att = get_visible_or_404(acting_user(), LevelAttainment, attainment_id)
    try:
        cert = issue_certificate(att, actor=acting_user())
    except CompetencyError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(str(exc.message), "danger")
        return redirect(url_for("competency.attainment", attainment_id=attainment_id))
    db.session.commit()
    flash(_("Certificate issued: %(code)s", code=cert.verification_code), "success")
    return redirect(url_for("competency.attainment", attainment_id=attainment_id))
