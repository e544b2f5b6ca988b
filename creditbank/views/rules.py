"""Conversion rules: public list and exports; drafting, new versions and approval."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Response, abort, redirect, render_template, request, url_for

from creditbank.forms import ConfirmForm, RuleForm
from creditbank.models import ConversionRule, CreditType, Outcome
from creditbank.operations import CreditBankError
from creditbank.operations import rules as ops
from creditbank.views import bp
from lms.core.db import db
from lms.core.forms import submit
from lms.core.permissions import acting_user, can, require


@bp.route("/rules")
def rules():
    """Public: every approved version (current and superseded)."""
    drafts = []
    user = acting_user()
    if can(user, "creditbank.manage") or can(user, "creditbank.approve"):
        drafts = db.session.scalars(sa.select(ConversionRule).where(ConversionRule.status == "draft")
                                    .order_by(ConversionRule.code, ConversionRule.version)).all()
    return render_template("creditbank/rules.html", rules=ops.public_rules(), drafts=drafts,
                           may_approve=can(user, "creditbank.approve"))


@bp.route("/rules.<fmt>")
def rules_export(fmt: str):
    """Public: the approved and superseded versions as CSV (formula-safe cells) or JSON."""
    if fmt == "csv":
        return Response("\ufeff" + ops.rules_csv(ops.public_rules()), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=creditbank-rules.csv"})
    if fmt == "json":
        body = json.dumps({"rules": [ops.rule_as_dict(r) for r in ops.public_rules()]}, ensure_ascii=False, indent=1)
        return Response(body, mimetype="application/json",
                        headers={"Content-Disposition": "attachment; filename=creditbank-rules.json"})
    abort(404)


def _rule_form(base: ConversionRule | None = None) -> RuleForm:
    form = RuleForm(obj=None)
    outcomes = db.session.scalars(sa.select(Outcome).order_by(Outcome.code)).all()
    form.source_ids.choices = [(o.id, f"{o.code} {o.title_zh}") for o in outcomes]
    form.target_outcome_id.choices = [(0, "—")] + [(o.id, f"{o.code} {o.title_zh}") for o in outcomes]
    form.credit_type_id.choices = [(0, "—")] + [(t.id, t.name_zh) for t in
                                                db.session.scalars(sa.select(CreditType).order_by(CreditType.code))]
    if base is not None and not form.is_submitted():
        for name in ("code", "title", "operator", "min_score", "min_rung", "min_attendance", "validity_years",
                     "max_count", "effective_from", "effective_to", "credits"):
            getattr(form, name).data = getattr(base, name)
        form.source_ids.data = [s.outcome_id for s in base.sources]
        form.target_outcome_id.data = base.target_outcome_id or 0
        form.credit_type_id.data = base.credit_type_id or 0
    return form


def _save(form: RuleForm):
    return ops.save_rule(acting_user(), code=form.code.data, title=form.title.data, operator=form.operator.data,
                         source_ids=form.source_ids.data, target_outcome_id=form.target_outcome_id.data or None,
                         credits=form.credits.data, credit_type_id=form.credit_type_id.data or None,
                         min_score=form.min_score.data, min_rung=form.min_rung.data,
                         min_attendance=form.min_attendance.data, validity_years=form.validity_years.data,
                         max_count=form.max_count.data, effective_from=form.effective_from.data,
                         effective_to=form.effective_to.data, note=form.note.data or "")


@bp.route("/rules/new", methods=["GET", "POST"])
@bp.route("/rules/<int:rule_id>/new-version", methods=["GET", "POST"])
@require("creditbank.manage")
def rule_form(rule_id: int | None = None):
    base = db.session.get(ConversionRule, rule_id) if rule_id else None
    if rule_id and base is None:
        abort(404)
    form = _rule_form(base)
    if base is not None and form.is_submitted():
        form.code.data = base.code  # a new version keeps the code
    outcome = submit(form, lambda: _save(form), errors=(CreditBankError,))
    if outcome.ok:
        return redirect(url_for("creditbank.rules"))
    return render_template("creditbank/rule_form.html", form=form, base=base), outcome.status


@bp.route("/rules/<int:rule_id>/approve", methods=["POST"])
@require("creditbank.approve")
def rule_approve(rule_id: int):
    rule = db.session.get(ConversionRule, rule_id)
    if rule is None:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.approve_rule(acting_user(), rule)
    except CreditBankError as exc:
        db.session.rollback()
        return render_template("creditbank/message.html", message=exc.message), 409
    db.session.commit()
    return redirect(url_for("creditbank.rules"))
