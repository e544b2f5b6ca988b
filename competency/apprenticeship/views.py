"""Apprenticeship pages: enterprise overview, programme and template, cohort dashboard, apprentice plan."""
from __future__ import annotations

import datetime as dt
import os
from collections import Counter

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from competency.apprenticeship import operations as ops
from competency.apprenticeship import reports
from competency.apprenticeship.evidence import collect
from competency.apprenticeship.forms import (AgreementForm, ApprenticeForm, CohortForm, HoursForm, ImportForm,
                                             MilestoneForm, ProgrammeForm, ScoreForm, SignOffForm)
from competency.apprenticeship.models import (STATUSES, Apprentice, ApprenticeMilestone, ApprenticeshipNotification,
                                              Cohort, HoursEntry, Programme, SignOff)
from lms.accounts.models import User
from lms.core.db import contains_text, db, utcnow
from lms.core.forms import apply_error, choices
from lms.core.permissions import acting_user, can, get_visible_or_404, require, visible
from lms.core.redirects import safe_redirect
from lms.organisations.models import Organisation

bp = Blueprint("competency_apprenticeship", __name__, url_prefix="/competency/apprenticeship")

PAGE_SIZE = 100


@bp.app_context_processor
def _helpers():
    return {"appr_status_labels": ops.STATUS_LABELS, "appr_title": ops.milestone_title,
            "appr_target_labels": ops.TARGET_RUNGS}


def _find_user(login: str):
    login = (login or "").strip().lower()
    return db.session.scalars(sa.select(User).where(sa.or_(User.email == login, User.mobile == login))).first()


def _fail(exc, form=None):
    db.session.rollback()
    if form is not None:
        apply_error(exc, form)
    else:
        flash(exc.message, "danger")
    if exc.status == 403:
        abort(403)


@bp.route("/")
@require("apprenticeship.view")
def overview():
    """Enterprise overview of all cohorts the user may see, with status counts; mentors' apprentices."""
    user = acting_user()
    programmes = db.session.scalars(visible(user, Programme).order_by(Programme.created_at.desc())).all()
    cohorts = db.session.scalars(visible(user, Cohort).order_by(Cohort.start_date.desc())).all()
    counts: dict[int, Counter] = {c.id: Counter() for c in cohorts}
    sizes: dict[int, int] = Counter()
    if cohorts:
        q = (visible(user, ApprenticeMilestone, sa.select(Apprentice.cohort_id, ApprenticeMilestone.status,
                                                          sa.func.count()))
             .join(Apprentice, Apprentice.id == ApprenticeMilestone.apprentice_id)
             .where(Apprentice.cohort_id.in_([c.id for c in cohorts]), ApprenticeMilestone.retired.is_(False))
             .group_by(Apprentice.cohort_id, ApprenticeMilestone.status))
        for cid, status, n in db.session.execute(q):
            counts[cid][status] += n
        for cid, n in db.session.execute(visible(user, Apprentice, sa.select(Apprentice.cohort_id, sa.func.count()))
                                         .group_by(Apprentice.cohort_id)):
            sizes[cid] = n
    mentees = db.session.scalars(visible(user, Apprentice).where(sa.or_(
        Apprentice.enterprise_mentor_id == user.id, Apprentice.school_mentor_id == user.id))
        .order_by(Apprentice.id)).all()
    mine = db.session.scalars(visible(user, Apprentice).where(Apprentice.user_id == user.id)).all()
    manage_orgs = [o for o in db.session.scalars(sa.select(Organisation).where(
        Organisation.id.in_(user.organisation_ids("enterprise_admin") or {-1})))] if not user.is_system_admin else \
        db.session.scalars(sa.select(Organisation).filter_by(kind="enterprise")).all()
    return render_template("competency/apprenticeship/overview.html", programmes=programmes, cohorts=cohorts,
                           counts=counts, sizes=sizes, mentees=mentees, mine=mine, may_create=bool(manage_orgs),
                           statuses=STATUSES)


def _programme_form(user, formdata=None):
    form = ProgrammeForm(formdata)
    ents = (db.session.scalars(sa.select(Organisation).filter_by(kind="enterprise").order_by(Organisation.name)).all()
            if user.is_system_admin else
            db.session.scalars(sa.select(Organisation).where(
                Organisation.id.in_(user.organisation_ids("enterprise_admin") or {-1}),
                Organisation.kind == "enterprise").order_by(Organisation.name)).all())
    schools = db.session.scalars(sa.select(Organisation).filter_by(kind="institution").order_by(Organisation.name)).all()
    form.enterprise_id.choices = choices([(o.id, o.name) for o in ents])
    form.school_id.choices = choices([(o.id, o.name) for o in schools])
    form.target_rung.choices = choices(ops.TARGET_RUNGS)
    frameworks = [(0, _("None yet"))]
    try:
        from competency.models import Framework

        frameworks += [(f.id, f"{f.title} ({f.edition})") for f in db.session.scalars(
            sa.select(Framework).order_by(Framework.title))]
    except ImportError:  # pragma: no cover - the competency models are part of the plugin
        pass
    form.framework_id.choices = choices(frameworks)
    return form


@bp.route("/programmes/new", methods=["GET", "POST"])
@require("apprenticeship.manage")
def new_programme():
    user = acting_user()
    form = _programme_form(user, request.form if request.method == "POST" else None)
    status = 200
    if form.validate_on_submit():
        try:
            programme, warnings = ops.create_programme(
                user, title=form.title.data, enterprise=db.session.get(Organisation, form.enterprise_id.data),
                school=db.session.get(Organisation, form.school_id.data), occupation_code=form.occupation_code.data,
                framework_id=form.framework_id.data or None, target_rung=form.target_rung.data,
                duration_months=form.duration_months.data, hours_per_year=form.hours_per_year.data,
                online_hours_per_year=form.online_hours_per_year.data or 0)
        except ops.ApprenticeshipError as exc:
            _fail(exc, form)  # policy issues are shown on the hours field, all of them
            status = 400
        else:
            db.session.commit()
            for w in warnings:
                flash(w, "warning")
            flash(_("The programme has been created."), "success")
            return redirect(url_for(".programme", programme_id=programme.id))
    elif form.is_submitted():
        status = 400
    return render_template("competency/apprenticeship/programme_form.html", form=form), status


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@require("apprenticeship.view")
def programme(programme_id):
    user = acting_user()
    prog = get_visible_or_404(user, Programme, programme_id)
    may_manage = ops.may_manage(user, prog)
    cohort_form = CohortForm(prefix="cohort")
    milestone_form = MilestoneForm(prefix="ms")
    status = 200
    if request.method == "POST":
        if not may_manage:
            abort(403)
        if "cohort-name" in request.form:
            if cohort_form.validate_on_submit():
                try:
                    cohort = ops.create_cohort(user, prog, name=cohort_form.name.data,
                                               start_date=cohort_form.start_date.data,
                                               extension_months=cohort_form.extension_months.data or 0)
                except ops.ApprenticeshipError as exc:
                    _fail(exc, cohort_form)
                    status = 400
                else:
                    db.session.commit()
                    flash(_("The cohort has been created."), "success")
                    return redirect(url_for(".cohort", cohort_id=cohort.id))
            else:
                status = 400
        else:
            if milestone_form.validate_on_submit():
                try:
                    ops.save_milestone(user, prog, code=milestone_form.code.data, title=milestone_form.title.data,
                                       due_offset_days=milestone_form.due_offset_days.data,
                                       criteria=milestone_form.criteria.parsed,
                                       subsidy_part=milestone_form.subsidy_part.data or "")
                except ops.ApprenticeshipError as exc:
                    _fail(exc, milestone_form)
                    status = 400
                else:
                    db.session.commit()
                    flash(_("The plan template has been saved (version %(v)s).", v=prog.template_version), "success")
                    return redirect(url_for(".programme", programme_id=prog.id))
            else:
                status = 400
    cohorts = db.session.scalars(visible(user, Cohort).where(Cohort.programme_id == prog.id)
                                 .order_by(Cohort.start_date)).all()
    return render_template("competency/apprenticeship/programme.html", programme=prog, cohorts=cohorts,
                           definitions=prog.definitions(), may_manage=may_manage, cohort_form=cohort_form,
                           milestone_form=milestone_form), status


MAX_ID = 2 ** 31 - 1


def _int_arg(args, name, default=None, lo=1, hi=MAX_ID):
    """An integer query parameter within ``lo..hi`` (anything else: ``default``)."""
    value = args.get(name, type=int)
    return value if value is not None and lo <= value <= hi else default


def _cohort_apprentices(user, cohort, args):
    stmt = (visible(user, Apprentice).where(Apprentice.cohort_id == cohort.id)
            .join(User, User.id == Apprentice.user_id).order_by(User.real_name, Apprentice.id))
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(contains_text(q, User.real_name, User.email))
    mentor = _int_arg(args, "mentor")
    if mentor:
        stmt = stmt.where(sa.or_(Apprentice.enterprise_mentor_id == mentor, Apprentice.school_mentor_id == mentor))
    status = args.get("status")
    if status in STATUSES:
        stmt = stmt.where(Apprentice.id.in_(sa.select(ApprenticeMilestone.apprentice_id).where(
            ApprenticeMilestone.status == status, ApprenticeMilestone.retired.is_(False))))
    return stmt


@bp.route("/cohorts/<int:cohort_id>")
@require("apprenticeship.view")
def cohort(cohort_id):
    """The cohort dashboard: apprentices x milestones, status by text and colour, filters, overdue list."""
    user = acting_user()
    c = get_visible_or_404(user, Cohort, cohort_id)
    page = _int_arg(request.args, "page", 1, hi=100000)
    rows = db.session.scalars(_cohort_apprentices(user, c, request.args).limit(PAGE_SIZE + 1)
                              .offset((page - 1) * PAGE_SIZE)
                              .options(sa.orm.joinedload(Apprentice.user), sa.orm.joinedload(Apprentice.enterprise_mentor),
                                       sa.orm.joinedload(Apprentice.school_mentor))).unique().all()
    apprentices = rows[:PAGE_SIZE]
    defs = c.programme.definitions(c.template_version)
    cells: dict[tuple[int, str], ApprenticeMilestone] = {}
    if apprentices:
        for m in db.session.scalars(visible(user, ApprenticeMilestone).where(
                ApprenticeMilestone.apprentice_id.in_([a.id for a in apprentices]))):
            cells[(m.apprentice_id, m.code)] = m
    overdue = db.session.execute(
        visible(user, ApprenticeMilestone, sa.select(ApprenticeMilestone, Apprentice))
        .join(Apprentice, Apprentice.id == ApprenticeMilestone.apprentice_id)
        .where(Apprentice.cohort_id == c.id, ApprenticeMilestone.status == "overdue",
               ApprenticeMilestone.retired.is_(False))
        .order_by(ApprenticeMilestone.due_date).limit(200)).all()
    mentors = db.session.execute(
        visible(user, Apprentice, sa.select(User.id, User.real_name, User.email).distinct().select_from(Apprentice))
        .join(User, sa.or_(User.id == Apprentice.enterprise_mentor_id, User.id == Apprentice.school_mentor_id))
        .where(Apprentice.cohort_id == c.id)).all()
    may_manage = ops.may_manage(user, c.programme)
    return render_template("competency/apprenticeship/cohort.html", cohort=c, apprentices=apprentices,
                           has_more=len(rows) > PAGE_SIZE, page=page, definitions=defs, cells=cells,
                           overdue=overdue, mentors=mentors, statuses=STATUSES, may_manage=may_manage,
                           may_export=_export_allowed(user, c),
                           apprentice_form=ApprenticeForm(prefix="ap"), import_form=ImportForm(prefix="imp"),
                           template_outdated=c.template_version != c.programme.template_version)


@bp.route("/cohorts/<int:cohort_id>/apprentices", methods=["POST"])
@require("apprenticeship.manage")
def add_apprentice(cohort_id):
    user = acting_user()
    c = get_visible_or_404(user, Cohort, cohort_id)
    form = ApprenticeForm(prefix="ap")
    if not form.validate_on_submit():
        for name, errs in form.errors.items():
            for e in errs:
                flash(f"{getattr(form, name).label.text}: {e}", "danger")
        return redirect(url_for(".cohort", cohort_id=c.id))
    try:
        apprentice, warnings = ops.add_apprentice(
            user, c, user=_find_user(form.login.data), enterprise_mentor=_find_user(form.enterprise_mentor.data),
            school_mentor=_find_user(form.school_mentor.data), contract_start=form.contract_start.data,
            contract_end=form.contract_end.data, agreement_number=form.agreement_number.data,
            agreement_signed_on=form.agreement_signed_on.data, joined_on=form.joined_on.data)
    except ops.ApprenticeshipError as exc:
        _fail(exc)
        for issue in exc.details.get("issues", []):
            flash(issue, "danger")
        return redirect(url_for(".cohort", cohort_id=c.id))
    db.session.commit()
    for w in warnings:
        flash(w, "warning")
    flash(_("%(name)s has joined the cohort.", name=apprentice.user.display_name), "success")
    return redirect(url_for(".cohort", cohort_id=c.id))


@bp.route("/cohorts/<int:cohort_id>/import", methods=["POST"])
@require("apprenticeship.manage")
def import_apprentices(cohort_id):
    user = acting_user()
    c = get_visible_or_404(user, Cohort, cohort_id)
    form = ImportForm(prefix="imp")
    if not form.validate_on_submit():
        abort(400)
    text = form.csv_text.data or ""
    if form.csv_file.data and getattr(form.csv_file.data, "filename", ""):
        raw = form.csv_file.data.read(2 * 1024 * 1024)
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    try:
        result = ops.import_apprentices(user, c, text)
    except ops.ApprenticeshipError as exc:
        _fail(exc)
        return redirect(url_for(".cohort", cohort_id=c.id))
    if result.errors:
        db.session.rollback()
        return render_template("competency/apprenticeship/import_errors.html", cohort=c, errors=result.errors), 400
    db.session.commit()
    for w in result.warnings:
        flash(w, "warning")
    flash(_("%(n)s apprentices added.", n=len(result.added)), "success")
    return redirect(url_for(".cohort", cohort_id=c.id))


@bp.route("/cohorts/<int:cohort_id>/apply-template", methods=["POST"])
@require("apprenticeship.manage")
def apply_template(cohort_id):
    user = acting_user()
    c = get_visible_or_404(user, Cohort, cohort_id)
    try:
        ops.apply_template(user, c)
    except ops.ApprenticeshipError as exc:
        _fail(exc)
        return redirect(url_for(".cohort", cohort_id=c.id))
    db.session.commit()
    flash(_("The cohort now follows template version %(v)s; recorded progress is kept.", v=c.template_version),
          "success")
    return redirect(url_for(".cohort", cohort_id=c.id))


def _export_allowed(user, c) -> bool:
    return (user.is_system_admin or "supervisor" in user.roles()
            or can(user, "apprenticeship.export", c.programme.enterprise_id)
            or can(user, "apprenticeship.export", c.programme.school_id))


@bp.route("/cohorts/<int:cohort_id>/export/<kind>.xlsx")
@require("apprenticeship.view")
def export(cohort_id, kind):
    import io

    user = acting_user()
    c = get_visible_or_404(user, Cohort, cohort_id)
    if not _export_allowed(user, c):
        abort(403)
    apprentices = db.session.scalars(visible(user, Apprentice).where(Apprentice.cohort_id == c.id)
                                     .order_by(Apprentice.id)).all()
    if kind == "subsidy":
        data = reports.subsidy_workbook(c, apprentices)
    elif kind == "progress":
        data = reports.progress_workbook(c, apprentices)
    else:
        abort(404)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"cohort-{c.id}-{kind}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/apprentices/<int:apprentice_id>")
@require("apprenticeship.view")
def apprentice(apprentice_id):
    """An apprentice's plan as a timeline, hours, sign-offs and the mentors' forms."""
    user = acting_user()
    a = get_visible_or_404(user, Apprentice, apprentice_id)
    milestones = db.session.scalars(visible(user, ApprenticeMilestone).where(ApprenticeMilestone.apprentice_id == a.id)
                                    .order_by(ApprenticeMilestone.due_date, ApprenticeMilestone.id)).all()
    signoffs = db.session.scalars(visible(user, SignOff).where(SignOff.apprentice_id == a.id)
                                  .order_by(SignOff.signed_at.desc(), SignOff.id.desc())).all()
    hours = db.session.scalars(visible(user, HoursEntry).where(HoursEntry.apprentice_id == a.id)
                               .order_by(HoursEntry.on_date.desc(), HoursEntry.id.desc()).limit(200)).all()
    ev = collect([a])[a.id]
    is_enterprise_mentor = user.id == a.enterprise_mentor_id
    is_mentor = ops.is_mentor_of(user, a)
    return render_template("competency/apprenticeship/apprentice.html", apprentice=a, milestones=milestones,
                           signoffs=signoffs, hours=hours, evidence=ev, is_mentor=is_mentor,
                           is_enterprise_mentor=is_enterprise_mentor, may_manage=ops.may_manage(user, a.cohort.programme),
                           signoff_form=SignOffForm(prefix="so"), score_form=ScoreForm(prefix="sc"),
                           hours_form=HoursForm(prefix="hr", data={"on_date": dt.date.today()}),
                           agreement_form=AgreementForm(prefix="ag"), today=ops.today_utc())


def _mentor_action(apprentice_id, form_cls, prefix, action):
    user = acting_user()
    a = get_visible_or_404(user, Apprentice, apprentice_id)
    form = form_cls(prefix=prefix)
    if not form.validate_on_submit():
        for name, errs in form.errors.items():
            for e in errs:
                flash(f"{getattr(form, name).label.text}: {e}" if hasattr(form, name) else e, "danger")
        return redirect(url_for(".apprentice", apprentice_id=a.id))
    try:
        message = action(user, a, form)
    except ops.ApprenticeshipError as exc:
        _fail(exc)
        return redirect(url_for(".apprentice", apprentice_id=a.id))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".apprentice", apprentice_id=a.id))


def _corrects(user, a, form):
    if not form.corrects_id.data:
        return None
    row = db.session.scalars(visible(user, SignOff).where(SignOff.id == form.corrects_id.data,
                                                          SignOff.apprentice_id == a.id)).first()
    if row is None:
        raise ops.ApprenticeshipError(_("No such record to correct."), "corrects_id", 404, "not_found")
    return row


@bp.route("/apprentices/<int:apprentice_id>/signoffs", methods=["POST"])
@require("apprenticeship.sign_off")
def sign_off(apprentice_id):
    def action(user, a, form):
        ops.sign_off(user, a, kind="workplace_task", task_code=form.task_code.data, task_title=form.task_title.data,
                     comment=form.comment.data, approved=form.decision.data != "withdraw",
                     corrects=_corrects(user, a, form), attachment=form.attachment.data)
        return _("The workplace task has been signed off.")

    return _mentor_action(apprentice_id, SignOffForm, "so", action)


@bp.route("/apprentices/<int:apprentice_id>/scores", methods=["POST"])
@require("apprenticeship.sign_off")
def record_score(apprentice_id):
    def action(user, a, form):
        ops.sign_off(user, a, kind="practical_assessment", task_code=form.task_code.data,
                     task_title=form.task_title.data, comment=form.comment.data, score=float(form.score.data),
                     corrects=_corrects(user, a, form))
        return _("The assessment score has been recorded.")

    return _mentor_action(apprentice_id, ScoreForm, "sc", action)


@bp.route("/apprentices/<int:apprentice_id>/hours", methods=["POST"])
@require("apprenticeship.sign_off")
def log_hours(apprentice_id):
    def action(user, a, form):
        ops.log_hours(user, a, kind=form.kind.data, hours=float(form.hours.data), on_date=form.on_date.data,
                      note=form.note.data)
        return _("The training hours have been logged.")

    return _mentor_action(apprentice_id, HoursForm, "hr", action)


@bp.route("/apprentices/<int:apprentice_id>/agreement", methods=["POST"])
@require("apprenticeship.manage")
def agreement(apprentice_id):
    def action(user, a, form):
        ops.record_agreement(user, a, signed_on=form.signed_on.data, agreement_number=form.agreement_number.data)
        return _("The agreement has been recorded.")

    return _mentor_action(apprentice_id, AgreementForm, "ag", action)


@bp.route("/signoffs/<int:signoff_id>/attachment")
@require("apprenticeship.view")
def attachment(signoff_id):
    user = acting_user()
    row = get_visible_or_404(user, SignOff, signoff_id)
    if not row.attachment_path:
        abort(404)
    path = os.path.join(current_app.config["LMS_UPLOAD_DIR"], row.attachment_path)
    if not os.path.isfile(path):
        abort(404)
    return send_file(path, as_attachment=True, download_name=row.attachment_name or "attachment")


@bp.route("/notifications/<int:note_id>/read", methods=["POST"])
@require()
def read_notification(note_id):
    user = acting_user()
    note = get_visible_or_404(user, ApprenticeshipNotification, note_id)
    note.read_at = note.read_at or utcnow()
    db.session.commit()
    return safe_redirect(request.form.get("next"))
