"""Framework pages: list, detail (tree, weights, prerequisites, rules), import, export, rules."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from competency.forms import ImportFrameworkForm, RuleForm
from competency.operations import CompetencyError
from competency.operations.access import may_edit_rules, may_manage
from competency.views import bp
from lms.core.db import db
from lms.core.forms import apply_error, choices
from lms.core.permissions import acting_user, require


def _framework_or_404(framework_id):
    from competency.models import Framework

    fw = db.session.get(Framework, framework_id)
    if fw is None:
        abort(404)
    return fw


@bp.route("/frameworks")
@require()
def frameworks():
    from competency.models import Framework, Occupation

    rows = db.session.scalars(sa.select(Framework).join(Occupation).order_by(Occupation.code, Framework.created_at.desc())).all()
    return render_template("competency/frameworks.html", frameworks=rows, may_manage=may_manage(acting_user()))


@bp.route("/frameworks/import", methods=["GET", "POST"])
@require()
def import_framework():
    from competency.operations.frameworks import FrameworkImportError, format_error
    from competency.operations.frameworks import import_framework as run

    user = acting_user()
    if not may_manage(user):
        abort(403)
    form = ImportFrameworkForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read(5 * 1024 * 1024 + 1)
        if len(raw) > 5 * 1024 * 1024:
            form.file.errors = [_("The file is larger than 5 MB.")]
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = None
                form.file.errors = [_("The file is not UTF-8 text.")]
            if text is not None:
                try:
                    fw = run(text, upload.filename or "", actor=user)
                except FrameworkImportError as exc:
                    db.session.rollback()
                    problems = [format_error(e) for e in exc.errors]
                else:
                    db.session.commit()
                    flash(_("Framework imported: %(title)s", title=fw.title), "success")
                    return redirect(url_for("competency.framework", framework_id=fw.id))
    status = 400 if request.method == "POST" else 200
    return render_template("competency/import.html", form=form, problems=problems), status


@bp.route("/frameworks/<int:framework_id>")
@require()
def framework(framework_id):
    from competency.models import EvidenceRule, FrameworkItem, LevelExamActivity

    fw = _framework_or_404(framework_id)
    items = db.session.scalars(sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id)
                               .order_by(FrameworkItem.position, FrameworkItem.id)).all()
    children = {}
    for item in items:
        children.setdefault(item.parent_id, []).append(item)
    rules = {}
    for rule in db.session.scalars(sa.select(EvidenceRule).where(EvidenceRule.framework_id == fw.id).order_by(EvidenceRule.id)):
        rules.setdefault(rule.unit_id, []).append(rule)
    exams = {}
    for ex in db.session.scalars(sa.select(LevelExamActivity).where(LevelExamActivity.level_id.in_([lv.id for lv in fw.levels]))):
        exams.setdefault(ex.level_id, []).append(ex)
    from competency.forms import MIN_SOURCE_CHOICES

    return render_template("competency/framework.html", fw=fw, items=items, children=children, rules=rules,
                           exams=exams, may_edit=may_edit_rules(acting_user()), min_source_labels=MIN_SOURCE_CHOICES)


@bp.route("/frameworks/<int:framework_id>/case.json")
@require()
def export_framework(framework_id):
    from competency.operations.frameworks import export_case

    fw = _framework_or_404(framework_id)
    body = json.dumps(export_case(fw), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=framework-{fw.occupation.code}-{fw.id}.json"})


def _unit_choices(fw):
    from competency.models import FrameworkItem
    from competency.models.frameworks import UNIT_KINDS
    from competency.operations.reference import rung_label

    units = db.session.scalars(sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id,
                                                              FrameworkItem.kind.in_(UNIT_KINDS))
                               .order_by(FrameworkItem.level_id, FrameworkItem.position)).all()
    return choices([(u.id, f"{rung_label(u.level.rung)} {u.code} {u.title[:60]}") for u in units])


@bp.route("/frameworks/<int:framework_id>/rules/new", methods=["GET", "POST"])
@require()
def new_rule(framework_id):
    from competency.models import FrameworkItem
    from competency.operations.rules import create_rule

    user = acting_user()
    if not may_edit_rules(user):
        abort(403)
    fw = _framework_or_404(framework_id)
    form = RuleForm()
    form.unit_id.choices = _unit_choices(fw)
    if request.method == "GET":
        if request.args.get("unit_id", "").isdigit():
            form.unit_id.data = int(request.args["unit_id"])
        if request.args.get("match_iri"):
            form.match_iri.data = request.args["match_iri"]
        if request.args.get("match_kind") in ("activity", "parent", "type"):
            form.match_kind.data = request.args["match_kind"]
    query = request.args.get("q", "").strip()
    found = []
    if query:
        from lms.xapi.store import search_activities

        found = search_activities(query, limit=20)
    if form.validate_on_submit():
        unit = db.session.get(FrameworkItem, form.unit_id.data)
        if unit is None or unit.framework_id != fw.id:
            abort(400)
        try:
            create_rule(unit, actor=user, verbs=form.verbs.data, match_kind=form.match_kind.data,
                        match_iri=form.match_iri.data, min_scaled=form.min_scaled.data,
                        success_required=form.success_required.data, weight=float(form.weight.data),
                        min_source=form.min_source.data,
                        group_name=form.group_name.data or "", operator=form.operator.data, name=form.name.data or "")
        except CompetencyError as exc:
            db.session.rollback()
            apply_error(exc, form)
        else:
            db.session.commit()
            flash(_("Rule created. It applies to statements stored from now on; recompute to apply it to history."),
                  "success")
            return redirect(url_for("competency.framework", framework_id=fw.id) + f"#unit-{unit.id}")
    return render_template("competency/rule_form.html", fw=fw, form=form, query=query, found=found)


@bp.route("/rules/<int:rule_id>/delete", methods=["POST"])
@require()
def delete_rule(rule_id):
    from competency.models import EvidenceRule
    from competency.operations.rules import delete_rule as run

    user = acting_user()
    if not may_edit_rules(user):
        abort(403)
    rule = db.session.get(EvidenceRule, rule_id) or abort(404)
    fw_id = rule.framework_id
    run(rule, actor=user)
    db.session.commit()
    flash(_("Rule deleted."), "success")
    return redirect(url_for("competency.framework", framework_id=fw_id))
