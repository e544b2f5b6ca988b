"""Applications to recognise an outside outcome: the worker applies; the institution decides."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, send_file, url_for

from creditbank.forms import ApplicationForm, DecisionForm
from creditbank.models import Application, Outcome
from creditbank.operations import CreditBankError
from creditbank.operations import applications as ops
from creditbank.views import bp
from lms.core.db import db
from lms.core.forms import submit
from lms.core.permissions import acting_user, require


def _visible_or_404(application_id: int) -> Application:
    row = db.session.scalars(ops.visible_applications(acting_user()).where(Application.id == application_id)).first()
    if row is None:
        abort(404)
    return row


@bp.route("/applications")
@require()
def applications():
    user = acting_user()
    rows = db.session.scalars(ops.visible_applications(user)).all()
    return render_template("creditbank/applications.html", rows=rows, user=user)


@bp.route("/applications/new", methods=["GET", "POST"])
@require()
def apply():
    from lms.organisations.models import Organisation

    user = acting_user()
    form = ApplicationForm()
    form.organisation_id.choices = [(o.id, o.name) for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == "institution").order_by(Organisation.name))]
    form.target_outcome_id.choices = [(o.id, f"{o.code} {o.title_zh}") for o in db.session.scalars(
        sa.select(Outcome).where(Outcome.active.is_(True)).order_by(Outcome.code))]

    def action():
        upload = form.certificate.data
        # Read one byte past the limit: enough to refuse a larger file without holding all of it.
        data = upload.stream.read(int(current_app.config.get("LMS_CREDITBANK_MAX_UPLOAD", ops.DEFAULT_MAX_BYTES)) + 1)
        return ops.submit_application(user, organisation_id=form.organisation_id.data,
                                      target_outcome_id=form.target_outcome_id.data, title=form.title.data,
                                      issuer=form.issuer.data or "", issued_on=form.issued_on.data,
                                      file_name=upload.filename or "", data=data)

    outcome = submit(form, action, errors=(CreditBankError,))
    if outcome.ok:
        return redirect(url_for("creditbank.applications"))
    return render_template("creditbank/apply.html", form=form), outcome.status


@bp.route("/applications/<int:application_id>", methods=["GET", "POST"])
@require()
def application(application_id: int):
    user = acting_user()
    row = _visible_or_404(application_id)
    form = DecisionForm()
    may_decide = ops.may_review(user, row) and row.user_id != user.id and row.status == "pending"
    status = 200
    if request.method == "POST":
        if not ops.may_review(user, row):
            abort(403)
        outcome = submit(form, lambda: ops.decide(user, row.id, approve=form.decision.data == "approve",
                                                  reason=form.reason.data), errors=(CreditBankError,))
        if outcome.ok:
            if outcome.value.status == "approved":
                from creditbank.tasks import evaluate
                from lms.core.events import call_after_commit

                call_after_commit(evaluate.delay, outcome.value.user_id)  # the task reads the decision
            return redirect(url_for("creditbank.application", application_id=row.id))
        status = outcome.status
    return render_template("creditbank/application.html", row=row, form=form, may_decide=may_decide), status


@bp.route("/applications/<int:application_id>/certificate")
@require()
def application_file(application_id: int):
    import os

    row = _visible_or_404(application_id)
    if not row.file_path or not os.path.isfile(ops.file_path(row)):
        abort(404)
    return send_file(ops.file_path(row), mimetype=row.file_type, as_attachment=True,
                     download_name=row.file_name or "certificate")
