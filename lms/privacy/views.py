"""A worker's export (``/account/privacy``) and an administrator's erasure (``/admin/privacy``)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.core.db import db
from lms.core.forms import submit
from lms.core.permissions import acting_user, require, require_admin

bp = Blueprint("privacy", __name__)


class ExportForm(FlaskForm):
    """Only the CSRF token: the export is a POST so a cross-site page cannot trigger it."""


class ErasureForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the worker's request)"), validators=[DataRequired(), Length(max=1000)])
    confirm_login = StringField(_l("Type the account's user id to confirm"), validators=[DataRequired()])


@bp.route("/account/privacy", methods=["GET", "POST"])
@require()
def my_data():
    from lms.privacy.operations import export_user, providers

    user = acting_user()
    form = ExportForm()
    if form.validate_on_submit():
        body = json.dumps(export_user(user), ensure_ascii=False, indent=1, default=str)
        return Response(body, mimetype="application/json",
                        headers={"Content-Disposition": "attachment; filename=my-data.json",
                                 "Cache-Control": "no-store"})
    return render_template("privacy/my_data.html", form=form, providers=providers())


@bp.route("/admin/privacy")
@require_admin
def erasures():
    from lms.privacy.operations import erasure_log

    return render_template("privacy/erasures.html", rows=erasure_log())


@bp.route("/admin/privacy/find")
@require_admin
def find():
    """Find the account to erase by its id, e-mail address or mobile number."""
    import sqlalchemy as sa
    from flask import flash, request

    from lms.accounts.models import User

    q = (request.args.get("q") or "").strip()[:254]
    clause = sa.or_(sa.func.lower(User.email) == q.lower(), User.mobile == q)
    if q.isdigit() and len(q) < 10:
        clause = sa.or_(clause, User.id == int(q))
    user = db.session.scalars(sa.select(User).where(clause)).first() if q else None
    if user is None:
        flash(_l("No such account."), "error")
        return redirect(url_for("privacy.erasures"))
    return redirect(url_for("privacy.erase", user_id=user.id))


@bp.route("/admin/privacy/erase/<int:user_id>", methods=["GET", "POST"])
@require_admin
def erase(user_id: int):
    from lms.accounts.models import User
    from lms.privacy.operations import PrivacyError, erase_user, providers

    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = ErasureForm()

    def action():
        if (form.confirm_login.data or "").strip() != str(user.id):
            raise PrivacyError(_l("Type the account's user id to confirm."), "confirm_login")
        return erase_user(acting_user(), user, form.reason.data)

    outcome = submit(form, action, errors=(PrivacyError,))
    if outcome.ok:
        return redirect(url_for("privacy.erasures"))
    return render_template("privacy/erase.html", form=form, target=user, providers=providers()), outcome.status
