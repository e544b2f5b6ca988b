"""Login, registration, consent, verification of e-mail and mobile, password change and reset
(by mail or SMS), profile, real-name status and API tokens."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts import operations as ops
from lms.accounts import sms
from lms.accounts.forms import (ID_CARD_STATUS_LABELS, ApiTokenForm, ChangePasswordForm, ConsentForm, EmptyForm,
                                IdCardStatusForm, LoginForm, MobileCodeForm, ProfileForm, RegisterForm,
                                ResetPasswordForm, ResetRequestForm, SmsResetForm, SmsResetRequestForm)
from lms.accounts.models import ApiToken, User
from lms.core.db import db, keep_changes_on_refusal
from lms.core.events import call_after_commit
from lms.core.forms import apply_error, submit
from lms.core.i18n import locale_code
from lms.core.mail import send_mail
from lms.core.permissions import get_visible_or_404
from lms.core.redirects import is_local_path, safe_target  # noqa: F401  (is_local_path: kept importable)

bp = Blueprint("auth", __name__)
log = logging.getLogger("lms.accounts")


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
    if current_user.is_authenticated:
        # A cookie captured before logout (the session or the one-year remember token) must not
        # open the account afterwards: both carry the session version, which this ends.
        ops.end_sessions(current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    done = submit(form, lambda: ops.register_user(form.login.data, form.password.data, form.real_name.data,
                                                  locale=locale_code(get_locale()),
                                                  consent_version=ops.current_policy_version()), ops.AccountError)
    if done.ok:
        user = done.value
        login_user(user)
        if user.email:
            call_after_commit(_send_verification_mail, user)  # the account exists when the link arrives
        flash(_("Your account has been created. Verify your email or mobile number on your account page."),
              "success")
        return redirect(url_for("auth.profile"))
    return render_template("accounts/register.html", form=form), done.status


def _send_verification_mail(user) -> None:
    link = current_app.config["LMS_PUBLIC_URL"].rstrip("/") + url_for("auth.verify_email",
                                                                      token=ops.make_email_token(user))
    send_mail(user.email, _("Confirm your email address"),
              _("Open this link within three days and confirm that this address is yours:\n%(link)s\n\n"
                "If you did not create an account, ignore this message; nothing will change.", link=link))


@bp.route("/account/verify-email", methods=["POST"])
@login_required
def resend_verification():
    """The account page's "send the link again" button (rate-limited per account)."""
    EmptyForm().validate_on_submit()  # CSRF is checked globally
    if not current_user.email or current_user.email_verified_at is not None:
        return redirect(url_for("auth.profile"))
    allowed = ops.allow_verification_mail(current_user)
    if not allowed:
        flash(_("Too many attempts; please wait and try again."), "danger")
        return redirect(url_for("auth.profile"))
    call_after_commit(_send_verification_mail, current_user._get_current_object())
    flash(_("A verification link has been sent to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("auth.profile"))


@bp.route("/account/verify-email/<token>", methods=["GET", "POST"])
@login_required
def verify_email(token):
    """GET shows what will be confirmed and changes nothing; POST (CSRF) verifies."""
    form = EmptyForm()
    user = ops.user_from_email_token(token)
    if user is None or user.id != current_user.id:
        message = (_("This verification link is invalid or has expired.") if user is None
                   else _("This verification link belongs to another account. Log in with that account to use it."))
        return render_template("accounts/verify_email.html", form=form, error=message, token=token), \
            (400 if user is None else 403)
    if request.method == "POST":
        try:
            ops.verify_email(current_user, token)
        except ops.AccountError as exc:
            db.session.rollback()
            return render_template("accounts/verify_email.html", form=form, error=str(exc.message), token=token), \
                (403 if isinstance(exc, ops.AccountPermissionError) else 400)
        flash(_("Your email address has been verified."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("accounts/verify_email.html", form=form, error=None, token=token)


@bp.route("/account/mobile/code", methods=["POST"])
@login_required
def send_mobile_code():
    EmptyForm().validate_on_submit()  # CSRF is checked globally
    try:
        code = ops.request_mobile_verification(current_user, request.remote_addr)
    except ops.AccountError as exc:
        flash(str(exc.message), "danger")  # the limits count even when refused (a redirect commits)
        return redirect(url_for("auth.profile"))
    db.session.flush()
    if _send_sms(current_user.mobile, code):
        flash(_("A 6-digit code has been sent to your mobile number. It is valid for 10 minutes."), "info")
    return redirect(url_for("auth.profile", _anchor="verify-mobile"))


@bp.route("/account/mobile/verify", methods=["POST"])
@login_required
def verify_mobile():
    form = MobileCodeForm()
    # Wrong codes are committed too: they count towards the code's limit.
    done = submit(form, lambda: ops.verify_mobile(current_user, form.code.data), ops.AccountError,
                  commit_on_error=True)
    if done.ok:
        flash(_("Your mobile number has been verified."), "success")
        return redirect(url_for("auth.profile"))
    return _render_profile(ProfileForm(obj=current_user), code_form=form), 400


def _send_sms(mobile: str, code: str, *, tell_user: bool = True) -> bool:
    try:
        sms.send_code(mobile, code)
    except sms.SmsError:
        log.exception("sms not sent")
        if tell_user:
            flash(_("The SMS could not be sent. Please try again later."), "danger")
        return False
    return True


@bp.route("/account/consent", methods=["GET", "POST"])
@login_required
def consent():
    """Accept a new version of the user agreement and privacy notice before going on."""
    form = ConsentForm()
    done = submit(form, lambda: ops.record_consent(current_user), ops.AccountError)
    if done.ok:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/consent.html", form=form), done.status


@bp.route("/legal/terms")
def legal_terms():
    return render_template("accounts/legal_terms.html", version=ops.current_policy_version())


@bp.route("/legal/privacy")
def legal_privacy():
    return render_template("accounts/legal_privacy.html", version=ops.current_policy_version())


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
    return _render_profile(form), done.status


def _render_profile(form, code_form=None):
    return render_template("accounts/profile.html", form=form, code_form=code_form or MobileCodeForm(formdata=None),
                           id_card_labels=ID_CARD_STATUS_LABELS)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    done = submit(form, lambda: ops.change_password(current_user, form.old_password.data, form.password.data),
                  ops.AccountError)
    if done.ok:
        # the session id changed with the password; pass the user, not the proxy (the locale
        # selector reads current_user while logging in)
        login_user(current_user._get_current_object())
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("accounts/change_password.html", form=form), done.status


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        allowed = ops.allow_reset_mail(request.remote_addr)
        if not allowed:
            keep_changes_on_refusal()  # the limit counts even when refused
            flash(_("Too many attempts; please wait and try again."), "danger")
            return render_template("accounts/reset_request.html", form=form), 429
        user = ops.find_user(form.login.data)
        if user is not None and user.email:
            link = current_app.config["LMS_PUBLIC_URL"].rstrip("/") + url_for(
                "auth.reset_password", token=ops.make_reset_token(user))
            call_after_commit(send_mail, user.email, _("Reset your password"),
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


@bp.route("/reset/sms", methods=["GET", "POST"])
def sms_reset_request():
    """Ask for a reset code by SMS. The answer is the same whether or not the number has an account."""
    form = SmsResetRequestForm()
    if form.validate_on_submit():
        try:
            pending = ops.request_sms_reset(form.mobile.data, request.remote_addr)
        except ops.AccountError as exc:
            keep_changes_on_refusal()  # the limits count even when refused
            apply_error(exc, form)
            status = 429 if exc.field is None else 400
            return render_template("accounts/sms_reset_request.html", form=form), status
        if pending is not None:
            # A provider failure is logged, not shown: the answer must not differ for numbers
            # that have an account. Sent once the code is committed.
            call_after_commit(_send_sms, *pending, tell_user=False)
        flash(_("If an account has this mobile number, a 6-digit code has been sent to it."), "info")
        return redirect(url_for("auth.sms_reset", mobile=ops.normalise_mobile(form.mobile.data)))
    return render_template("accounts/sms_reset_request.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/reset/sms/code", methods=["GET", "POST"])
def sms_reset():
    """Enter the SMS code and a new password."""
    form = SmsResetForm()
    if not form.is_submitted() and request.args.get("mobile"):
        form.mobile.data = request.args["mobile"][:20]
    done = submit(form, lambda: ops.reset_password_by_sms(form.mobile.data, form.code.data, form.password.data),
                  ops.AccountError, commit_on_error=True)
    if done.ok:
        flash(_("Your password has been changed. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("accounts/sms_reset.html", form=form), done.status


@bp.route("/admin/users/<int:user_id>/real-name", methods=["GET", "POST"])
@login_required
def id_card_status(user_id):
    """Mark the real-name check of a member (institution administrators of the member's
    organisations, system administrators)."""
    user = get_visible_or_404(current_user, User, user_id)  # someone you cannot see: 404
    if not ops.may_check_id_card(current_user, user):
        abort(403)
    form = IdCardStatusForm(data={"status": user.id_card_status})
    done = submit(form, lambda: ops.set_id_card_status(current_user, user, form.status.data), ops.AccountError)
    if done.ok:
        flash(_("Saved."), "success")
        return redirect(url_for("auth.id_card_status", user_id=user.id))
    return render_template("accounts/id_card_status.html", user=user, form=form,
                           id_card_labels=ID_CARD_STATUS_LABELS), done.status


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
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("auth.api_tokens"))
