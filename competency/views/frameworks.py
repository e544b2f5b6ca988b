"""Framework pages: list, detail (tree, weights, prerequisites, rules), import, export, rules."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from competency.forms import FrameworkForm, ImportFrameworkForm, RuleForm
from competency.operations import CompetencyError
from competency.operations.access import (may_edit_framework, may_edit_rule, may_edit_rules, may_manage,
                                          may_recompute, valid_id)
from competency.views import bp
from lms.core.db import db
from lms.core.forms import apply_error, choices
from lms.core.permissions import acting_user, get_visible_or_404, require, visible


def _framework_or_404(framework_id):
    """A framework the acting user may see (404 otherwise)."""
    from competency.models import Framework

    if not valid_id(framework_id):
        abort(404)
    return get_visible_or_404(acting_user(), Framework, framework_id)


def _refused():
    """Refuse an edit the user may not make: a translated flash and a 403; nothing changes."""
    db.session.rollback()
    flash(_("Only staff of the organisation that owns it, or a system admin, may change this."), "danger")
    abort(403)


def _org_names(ids) -> dict:
    from lms.organisations.models import Organisation

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


def _manage_orgs(user) -> list[tuple[int, str]]:
    """Organisations in which ``user`` may import frameworks."""
    from lms.core.extension_points import registries

    _desc, roles = registries().permissions["competency.manage_frameworks"]
    names = _org_names(user.organisation_ids(*roles))
    return sorted(names.items(), key=lambda kv: kv[1])


@bp.route("/frameworks")
@require()
def frameworks():
    from competency.models import Framework, Occupation

    user = acting_user()
    rows = db.session.scalars(visible(user, Framework, sa.select(Framework).join(Occupation)
                                      .order_by(Occupation.code, Framework.created_at.desc()))).all()
    return render_template("competency/frameworks.html", frameworks=rows, may_manage=may_manage(user),
                           owners=_org_names(f.owner_org_id for f in rows))


@bp.route("/frameworks/import", methods=["GET", "POST"])
@require()
def import_framework():
    from competency.operations.frameworks import FrameworkImportError, format_error
    from competency.operations.frameworks import import_framework as run

    user = acting_user()
    if not may_manage(user):
        abort(403)
    form = ImportFrameworkForm()
    owners = ([(0, _("The system (national standard)"))] if user.is_system_admin else []) + _manage_orgs(user)
    form.owner_org_id.choices = choices(owners)
    if "owner_org_id" not in request.form and owners:
        form.owner_org_id.data = owners[0][0]
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
                    fw = run(text, upload.filename or "", actor=user, owner_org_id=form.owner_org_id.data or None)
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
    from competency.operations.changes import changes_of_framework

    user = acting_user()
    fw = _framework_or_404(framework_id)
    items = db.session.scalars(sa.select(FrameworkItem).where(FrameworkItem.framework_id == fw.id)
                               .order_by(FrameworkItem.position, FrameworkItem.id)).all()
    children = {}
    for item in items:
        children.setdefault(item.parent_id, []).append(item)
    rules, editable = {}, set()
    for rule in db.session.scalars(visible(user, EvidenceRule, sa.select(EvidenceRule).where(
            EvidenceRule.framework_id == fw.id).order_by(EvidenceRule.id))):
        rules.setdefault(rule.unit_id, []).append(rule)
        if may_edit_rule(user, rule):
            editable.add(rule.id)
    exams = {}
    for ex in db.session.scalars(sa.select(LevelExamActivity).where(LevelExamActivity.level_id.in_([lv.id for lv in fw.levels]))):
        exams.setdefault(ex.level_id, []).append(ex)
    from competency.forms import MIN_SOURCE_CHOICES

    changes = changes_of_framework(fw.id)
    owners = _org_names([fw.owner_org_id] + [r.owner_org_id for rs in rules.values() for r in rs]
                        + [c.owner_org_id for c in changes])
    return render_template("competency/framework.html", fw=fw, items=items, children=children, rules=rules,
                           exams=exams, may_edit=may_edit_rules(user), editable=editable, owners=owners,
                           may_edit_framework=may_edit_framework(user, fw), may_recompute=may_recompute(user, fw),
                           changes=changes, min_source_labels=MIN_SOURCE_CHOICES)


@bp.route("/frameworks/<int:framework_id>/edit", methods=["GET", "POST"])
@require()
def edit_framework(framework_id):
    from competency.operations.frameworks import update_framework

    user = acting_user()
    fw = _framework_or_404(framework_id)
    if not may_edit_framework(user, fw):
        _refused()
    form = FrameworkForm(obj=fw)
    if form.validate_on_submit():
        try:
            update_framework(fw, actor=user, title=form.title.data or "", title_en=form.title_en.data or "",
                             publisher=form.publisher.data or "", description=form.description.data or "",
                             status=form.status.data, published=bool(form.published.data))
        except CompetencyError as exc:
            db.session.rollback()
            apply_error(exc, form)
        else:
            db.session.commit()
            flash(_("Framework saved."), "success")
            return redirect(url_for("competency.framework", framework_id=fw.id))
    status = 400 if request.method == "POST" else 200
    return render_template("competency/framework_form.html", fw=fw, form=form), status


@bp.route("/frameworks/<int:framework_id>/delete", methods=["POST"])
@require()
def delete_framework(framework_id):
    from competency.operations.frameworks import delete_framework as run

    user = acting_user()
    fw = _framework_or_404(framework_id)
    if not may_edit_framework(user, fw):
        _refused()
    try:
        run(fw, actor=user)
    except CompetencyError as exc:
        db.session.rollback()
        if exc.status == 403:
            _refused()
        flash(str(exc.message), "danger")
        return redirect(url_for("competency.framework", framework_id=framework_id))
    db.session.commit()
    flash(_("Framework deleted."), "success")
    return redirect(url_for("competency.frameworks"))


@bp.route("/frameworks/<int:framework_id>/recompute", methods=["POST"])
@require()
def recompute_framework(framework_id):
    from competency.tasks import recompute_framework as task

    user = acting_user()
    fw = _framework_or_404(framework_id)
    if not may_recompute(user, fw):
        _refused()
    fw_id, user_id = fw.id, user.id
    db.session.commit()  # nothing pending: the task (eager without a broker) runs in its own transaction
    task.delay(fw_id, user_id)
    flash(_("Recompute queued: learners' units and levels of this framework will be rebuilt from their "
            "statements with the current rules."), "success")
    return redirect(url_for("competency.framework", framework_id=fw_id))


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
    return choices([(u.id, f"{u.level.short_label if not fw.vocational else rung_label(u.level.rung)} {u.code} "
                            f"{u.title[:60]}") for u in units])


@bp.route("/frameworks/<int:framework_id>/rules/new", methods=["GET", "POST"])
@require()
def new_rule(framework_id):
    from competency.models import FrameworkItem
    from competency.operations.rules import create_rule

    from competency.operations.access import rule_orgs

    user = acting_user()
    fw = _framework_or_404(framework_id)
    if not may_edit_rules(user):
        _refused()
    from competency.operations.rules import verb_choices

    form = RuleForm()
    form.unit_id.choices = _unit_choices(fw)
    # Any verb of the shared vocabulary or seen by the LRS; ?verb_q= narrows the list (a POST
    # checks against the whole list, and keeps verbs chosen before the search).
    verb_query = request.args.get("verb_q", "").strip() if request.method == "GET" else ""
    options = verb_choices(verb_query, str(get_locale() or "zh"))
    form.verbs.choices = choices(options)
    orgs = _org_names(rule_orgs(user))
    form.organisation_id.choices = choices(([(0, _("The framework's owner"))] if user.is_system_admin else [])
                                           + sorted(orgs.items(), key=lambda kv: kv[1]))
    if "organisation_id" not in request.form and form.organisation_id.choices:
        form.organisation_id.data = form.organisation_id.choices[0].value
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
        unit = db.session.get(FrameworkItem, form.unit_id.data) if valid_id(form.unit_id.data) else None
        if unit is None or unit.framework_id != fw.id:
            abort(400)
        try:
            create_rule(unit, actor=user, verbs=form.verbs.data, match_kind=form.match_kind.data,
                        match_iri=form.match_iri.data, min_scaled=form.min_scaled.data,
                        success_required=form.success_required.data, weight=float(form.weight.data),
                        min_source=form.min_source.data,
                        group_name=form.group_name.data or "", operator=form.operator.data, name=form.name.data or "",
                        organisation_id=form.organisation_id.data or None)
        except CompetencyError as exc:
            db.session.rollback()
            if exc.status == 403:
                _refused()
            apply_error(exc, form)
        else:
            db.session.commit()
            flash(_("Rule created. It applies to statements stored from now on; recompute to apply it to history."),
                  "success")
            return redirect(url_for("competency.framework", framework_id=fw.id) + f"#unit-{unit.id}")
    return render_template("competency/rule_form.html", fw=fw, form=form, query=query, found=found,
                           choose_org=len(form.organisation_id.choices) > 1)


def _rule_for_edit(rule_id):
    """A rule the acting user may see (404) and change (403 with a flash)."""
    from competency.models import EvidenceRule

    user = acting_user()
    if not valid_id(rule_id):
        abort(404)
    rule = get_visible_or_404(user, EvidenceRule, rule_id)
    if not may_edit_rule(user, rule):
        _refused()
    return user, rule


@bp.route("/rules/<int:rule_id>/delete", methods=["GET", "POST"])
@require()
def delete_rule(rule_id):
    """GET: what deleting the rule would change (nothing is written); POST: delete it."""
    from competency.operations.rules import deletion_impact
    from competency.operations.rules import delete_rule as run

    user, rule = _rule_for_edit(rule_id)
    fw_id = rule.framework_id
    if request.method == "GET":
        impact = deletion_impact(rule, viewer=user)
        return render_template("competency/rule_delete.html", rule=rule, impact=impact,
                               owners=_org_names([rule.owner_org_id]))
    try:
        run(rule, actor=user)
    except CompetencyError as exc:
        db.session.rollback()
        if exc.status == 403:
            _refused()
        abort(exc.status)
    db.session.commit()
    flash(_("Rule deleted. Learners' state changes at the next recompute of the framework."), "success")
    return redirect(url_for("competency.framework", framework_id=fw_id))


@bp.route("/rules/<int:rule_id>/active", methods=["POST"])
@require()
def toggle_rule(rule_id):
    """Put a rule out of force (or back): it stays listed and can be re-enabled."""
    from competency.operations.rules import update_rule

    user, rule = _rule_for_edit(rule_id)
    update_rule(rule, actor=user, active=not rule.active)
    db.session.commit()
    flash(_("Rule enabled.") if rule.active else _("Rule disabled."), "success")
    return redirect(url_for("competency.framework", framework_id=rule.framework_id) + f"#unit-{rule.unit_id}")
