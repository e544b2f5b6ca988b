"""The authority's pages: dashboard with filters and charts, catalogue changes, imports, policy
rules, the audit log. Institutions see their own numbers on the same dashboard."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _

from lms.core.db import db
from lms.core.forms import choices
from lms.core.permissions import acting_user, require, visible
from lms.organisations.models import Organisation
from supervision import access, exports
from supervision.charts import bar_chart
from supervision.forms import LEVEL_LABELS, CatalogueVersionForm, ImportForm, PolicyRuleForm
from supervision.models import AuditEntry, ImportBatch, PolicyRule
from supervision.models.catalogue import CATALOGUES
from supervision.models.records import IMPORT_KINDS
from supervision.operations import audit as audit_ops
from supervision.operations import catalogue as catalogue_ops
from supervision.operations import imports as import_ops
from supervision.operations import indicators, policy
from supervision.views import bounce, bp, run


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None


def _filters() -> dict:
    level = request.args.get("level", type=int)
    return {"region": request.args.get("region", "")[:100], "occupation": request.args.get("occupation", "")[:20],
            "level": level if level in LEVEL_LABELS else None,
            "since": _date_arg("since"), "until": _date_arg("until")}


def _grouped(user, filters):
    ids = None if access.reads_all(user) else access.institution_ids(user)
    return indicators.grouped(organisation_ids=ids, **filters)


@bp.route("/")
@require("supervision.view")
def dashboard():
    """Pass and employment rates per institution x occupation x level, filtered; charts with tables."""
    user = acting_user()
    filters = _filters()
    rows = _grouped(user, filters)
    label = lambda r: f"{r.organisation} {r.occupation_code}"  # noqa: E731
    charts = {
        "pass": bar_chart([(label(r), r.rate("passed")) for r in rows], title=_("Pass rate")),
        "employment": bar_chart([(label(r), r.rate("employed_6m")) for r in rows],
                                title=_("Employed within 6 months")),
    }
    regions = sorted({r for (r,) in db.session.execute(sa.select(Organisation.region).where(
        Organisation.kind == "institution").distinct()) if r})
    pending = {}
    if access.is_officer(user):
        from supervision.models import CourseApplication, TrainingClass

        pending = {"applications": db.session.scalar(sa.select(sa.func.count()).select_from(CourseApplication)
                                                     .where(CourseApplication.status == "pending")),
                   "classes": db.session.scalar(sa.select(sa.func.count()).select_from(TrainingClass)
                                                .where(TrainingClass.status == "applied"))}
    return render_template("supervision/dashboard.html", rows=rows, charts=charts, filters=filters, regions=regions,
                           levels=LEVEL_LABELS, officer=access.is_officer(user), pending=pending)


@bp.route("/dashboard.xlsx")
@require("supervision.view")
def dashboard_export():
    user = acting_user()
    rows = _grouped(user, _filters())
    table = [[_("Institution"), _("Region"), _("Occupation code"), _("Level"), _("Classes"), _("Enrolled at opening"),
              _("Completed"), _("Passed"), _("Pass rate"), _("Employed within 2 months"),
              _("Employed within 6 months"), _("Employed within 12 months"), _("Started a business")]]
    for r in rows:
        table.append([r.organisation, r.region, r.occupation_code, str(LEVEL_LABELS.get(r.level, r.level)), r.classes,
                      r.enrolled, r.completed, r.passed, round(r.rate("passed") or 0, 4), r.employed_2m,
                      r.employed_6m, r.employed_12m, r.entrepreneurs])
    return Response(exports.xlsx_bytes([(_("Indicators"), table)]),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=indicators-{dt.date.today()}.xlsx"})


def _officer_or_403(user) -> None:
    if not access.is_officer(user):
        abort(403)


@bp.route("/catalogue", methods=["GET", "POST"])
@require("supervision.view")
def catalogue_admin():
    """Officers add catalogue versions (new entries, adjustments, removals with appeal notes)."""
    user = acting_user()
    _officer_or_403(user)
    form = CatalogueVersionForm()
    form.catalogue.choices = choices([(c, catalogue_ops.CATALOGUE_LABELS[c]) for c in CATALOGUES if c != "training"])
    form.reason_code.choices = choices(list(catalogue_ops.REASONS.items()))
    form.organisation_id.choices = choices([(0, "—")] + [(o.id, o.name) for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == "institution").order_by(Organisation.name))])
    status = 200
    if form.is_submitted():
        data = None
        if form.occupations.data or form.capacity.data is not None:
            data = {"occupations": [c.strip() for c in (form.occupations.data or "").split(",") if c.strip()],
                    "capacity": form.capacity.data or 0}
        ok, _v = run(form, lambda: catalogue_ops.new_version(
            user, form.catalogue.data, form.entry_key.data, reason_code=form.reason_code.data,
            effective_from=form.effective_from.data, effective_to=form.effective_to.data,
            reason_note=form.reason_note.data, appeal_note=form.appeal_note.data, remove=form.remove.data,
            title=form.title.data or None, occupation_code=form.occupation_code.data or None,
            organisation_id=form.organisation_id.data or None, data=data), done=_("The catalogue was changed."))
        if ok:
            return bounce(url_for("supervision.catalogue_admin"))
        status = 400
    entries = {c: catalogue_ops.current(c, include_removed=True) for c in CATALOGUES}
    return render_template("supervision/catalogue_admin.html", form=form, entries=entries), status


@bp.route("/imports", methods=["GET", "POST"])
@require("supervision.view")
def imports():
    """Officers import employment records and exclusion lists."""
    user = acting_user()
    _officer_or_403(user)
    form = ImportForm()
    form.kind.choices = choices([(k, import_ops.KIND_LABELS[k]) for k in IMPORT_KINDS])
    status = 200
    if form.is_submitted():
        upload = request.files.get("file")
        ok, _v = run(form, lambda: import_ops.import_file(user, form.kind.data, getattr(upload, "filename", "") or "",
                                                          upload.read() if upload else b""),
                     done=_("The file was imported."))
        if ok:
            return bounce(url_for("supervision.imports"))
        status = 400
    batches = db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.created_at.desc()).limit(100)).all()
    return render_template("supervision/imports.html", form=form, batches=batches,
                           kinds=import_ops.KIND_LABELS), status


@bp.route("/policy", methods=["GET", "POST"])
@require("supervision.view")
def policy_rules():
    """Subsidy and screening rules as data, with citations and effective dates."""
    user = acting_user()
    officer = access.is_officer(user)
    form = PolicyRuleForm()
    form.code.choices = choices([(code, label) for code, (_d, label, _k) in policy.RULES.items()])
    status = 200
    if form.is_submitted():
        _officer_or_403(user)
        ok, _v = run(form, lambda: policy.record(user, form.code.data, form.value.data, citation=form.citation.data,
                                                 effective_from=form.effective_from.data,
                                                 effective_to=form.effective_to.data), done=_("The rule was recorded."))
        if ok:
            return bounce(url_for("supervision.policy_rules"))
        status = 400
    rules = db.session.scalars(sa.select(PolicyRule).order_by(PolicyRule.code, PolicyRule.effective_from.desc())).all()
    current = {code: policy.value(code) for code in policy.RULES}
    return render_template("supervision/policy.html", form=form if officer else None, rules=rules, current=current,
                           labels={c: v[1] for c, v in policy.RULES.items()}), status


@bp.route("/audit")
@require("supervision.view")
def audit_log():
    """Every supervisory action (institutions see those concerning them)."""
    user = acting_user()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 10_000)
    rows = db.session.scalars(visible(user, AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                              .offset((page - 1) * 100).limit(101)).all()
    return render_template("supervision/audit.html", rows=rows[:100], has_more=len(rows) > 100, page=page,
                           actions=audit_ops.ACTIONS)
