"""Login, registration, password change and reset, profile and API tokens."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts import operations as ops
from lms.accounts.forms import (ApiTokenForm, ChangePasswordForm, EmptyForm, LoginForm, ProfileForm,
                                RegisterForm, ResetPasswordForm, ResetRequestForm)
from lms.accounts.models import ApiToken
from lms.core.db import db
from lms.core.forms import submit
from lms.core.i18n import locale_code
from lms.core.mail import send_mail
from lms.core.redirects import is_local_path, safe_target  # noqa: F401  (is_local_path: kept importable)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    return safe_target(target)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    # A failed attempt is committed too: it counts towards the lockout.
    done = submit(form, lambda: ops.authenticate(form.login.data, form.password.data, request.remote_addr),
                  ops.AccountError, commit_on_error=True)
    if done.ok:
        login_user(done.value, remember=form.remember.data)
        flash(_("Welcome, %(name)s.", name=done.value.display_name), "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), done.status


@bp.route("/logout", methods=["POST"])
def logout():
    EmptyForm().validate_on_submit()  # CSRF is checked globally; nothing else to validate
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    done = submit(form, lambda: ops.register_user(form.login.data, form.password.data, form.real_name.data,
                                                  locale=locale_code(get_locale())), ops.AccountError)
    if done.ok:
        login_user(done.value)
        flash(_("Your account has been created."), "success")
        return redirect(url_for("main.home"))
    return render_template("accounts/register.html", form=form), done.status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    done = submit(form, lambda: ops.update_profile(current_user, real_name=form.real_name.data,
                                                   id_card_number=form.id_card_number.data,
                                                   locale=form.locale.data), ops.AccountError)
    if done.ok:
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("accounts/profile.html", form=form), done.status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    done = submit(form, lambda: ops.change_password(current_user, form.old_password.data, form.password.data),
                  ops.AccountError)
    if done.ok:
        login_user(current_user)  # the session id changed with the password
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("accounts/change_password.html", form=form), done.status


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        allowed = ops.allow_reset_mail(request.remote_addr)
        db.session.commit()
        if not allowed:
            flash(_("Too many attempts; please wait and try again."), "danger")
            return render_template("accounts/reset_request.html", form=form), 429
        user = ops.find_user(form.login.data)
        if user is not None and user.email:
            link = current_app.config["LMS_PUBLIC_URL"].rstrip("/") + url_for(
                "auth.reset_password", token=ops.make_reset_token(user))
            send_mail(user.email, _("Reset your password"),
                      _("Open this link within an hour to choose a new password:\n%(link)s", link=link))
        # Same answer whether or not the account exists.
        flash(_("If an account with this email exists, a reset link has been sent to it."), "info")
        return redirect(url_for("auth.login"))
    return render_template("accounts/reset_request.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    user = ops.user_from_reset_token(token)
    if user is None:
        flash(_("This reset link is invalid or has expired."), "danger")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    done = submit(form, lambda: ops.change_password(user, None, form.password.data), ops.AccountError)
    if done.ok:
        flash(_("Your password has been changed. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("accounts/reset_password.html", form=form), done.status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = ApiTokenForm()
    done = submit(form, lambda: ops.create_api_token(current_user, form.name.data, form.expires_days.data),
                  ops.AccountError)
    new_token = done.value[1] if done.ok else None
    if done.ok:
        flash(_("Copy the token now; it will not be shown again."), "warning")
    status = done.status
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == current_user.id)
                                .order_by(ApiToken.created_at.desc())).all()
    return render_template("accounts/tokens.html", form=form, tokens=tokens, new_token=new_token,
                           revoke_form=EmptyForm()), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id):
    try:
        ops.revoke_api_token(current_user, token_id)
    except ops.AccountError:
        db.session.rollback()
        return render_template("errors/error.html", status=404, message=_("No such token.")), 404
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("auth.api_tokens"))
