"""The outcome catalogue (public) and its administration."""
from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, request, render_template, url_for

from creditbank.forms import KIND_LABELS, AcademicLevelForm, CreditTypeForm, OutcomeForm
from creditbank.models import AcademicLevel, CreditType
from creditbank.operations import CreditBankError
from creditbank.operations import catalogue as ops
from creditbank.views import bp
from lms.core.db import db
from lms.core.forms import submit
from lms.core.permissions import acting_user, require


@bp.route("/catalogue")
def catalogue():
    """Public: every active outcome with its credits, credit types and academic levels."""
    return render_template("creditbank/catalogue.html", outcomes=ops.outcomes(active_only=True),
                           kinds=KIND_LABELS, credit_types=db.session.scalars(sa.select(CreditType)).all(),
                           levels=db.session.scalars(sa.select(AcademicLevel).order_by(AcademicLevel.rank)).all())


def _type_choices():
    return [(0, "—")] + [(t.id, t.name_zh) for t in db.session.scalars(sa.select(CreditType).order_by(CreditType.code))]


@bp.route("/admin", methods=["GET", "POST"])
@require("creditbank.manage")
def admin():
    user = acting_user()
    outcome_form = OutcomeForm(prefix="o")
    outcome_form.credit_type_id.choices = _type_choices()
    outcome_form.academic_level_id.choices = [(0, "—")] + [
        (lv.id, lv.name_zh) for lv in db.session.scalars(sa.select(AcademicLevel).order_by(AcademicLevel.rank))]
    type_form = CreditTypeForm(prefix="t")
    level_form = AcademicLevelForm(prefix="l")
    status = 200
    for form, action in (
        (outcome_form, lambda f: ops.create_outcome(
            user, code=f.code.data, kind=f.kind.data, title_zh=f.title_zh.data, title_en=f.title_en.data or "",
            issuer=f.issuer.data or "", match_key=f.match_key.data or "", credit_value=f.credit_value.data or 0,
            credit_type_id=f.credit_type_id.data or None, rung=f.rung.data,
            academic_level_id=f.academic_level_id.data or None)),
        (type_form, lambda f: ops.create_credit_type(user, f.code.data, f.name_zh.data, f.name_en.data or "")),
        (level_form, lambda f: ops.create_academic_level(user, f.code.data, f.name_zh.data, f.rung.data,
                                                         f.rank.data or 0, f.name_en.data or "")),
    ):
        # Three forms on one page: the one whose prefixed fields were posted is handled.
        if request.method == "POST" and any(k.startswith(form._prefix) for k in request.form):
            outcome = submit(form, lambda f=form, a=action: a(f), errors=(CreditBankError,))
            if outcome.ok:
                return redirect(url_for("creditbank.admin"))
            status = outcome.status
    return render_template("creditbank/admin.html", outcome_form=outcome_form, type_form=type_form,
                           level_form=level_form, outcomes=ops.outcomes(), kinds=KIND_LABELS), status
