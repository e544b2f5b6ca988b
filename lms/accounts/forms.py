"""Account forms (Flask-WTF: CSRF on every one)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import (DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp,
                                ValidationError)

from lms.accounts import idcard
from lms.core.forms import choices

#: Labels of :data:`lms.accounts.models.ID_CARD_STATUSES`.
ID_CARD_STATUS_LABELS = {
    "unverified": _l("Not checked"),
    "verified": _l("Checked: matches the ID card"),
    "rejected": _l("Rejected: does not match"),
}


def _valid_id_card(form, field):
    if field.data and not idcard.is_valid(field.data):
        raise ValidationError(_l("This is not a valid ID card number."))


class LoginForm(FlaskForm):
    login = StringField(_l("Email or mobile number"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in"))


class RegisterForm(FlaskForm):
    login = StringField(_l("Email or mobile number"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username"})
    real_name = StringField(_l("Real name"), validators=[DataRequired(), Length(max=100)],
                            render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})
    accept_terms = BooleanField(_l("I have read and accept the user agreement and the privacy notice."),
                                validators=[InputRequired(message=_l(
                                    "Please accept the user agreement and the privacy notice to register."))])


class ConsentForm(FlaskForm):
    accept_terms = BooleanField(_l("I have read and accept the user agreement and the privacy notice."),
                                validators=[InputRequired(message=_l(
                                    "Please accept the user agreement and the privacy notice to continue."))])


def _code_field():
    return StringField(_l("Code from the SMS"),
                       validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$", message=_l("Enter the 6-digit code."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6})


def _mobile_field():
    return StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "tel", "inputmode": "tel"})


class MobileCodeForm(FlaskForm):
    code = _code_field()


class SmsResetRequestForm(FlaskForm):
    mobile = _mobile_field()


class SmsResetForm(FlaskForm):
    mobile = _mobile_field()
    code = _code_field()
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})


class IdCardStatusForm(FlaskForm):
    status = SelectField(_l("Real-name check"), choices=choices(ID_CARD_STATUS_LABELS), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    real_name = StringField(_l("Real name"), validators=[DataRequired(), Length(max=100)])
    id_card_number = StringField(_l("ID card number (optional)"),
                                 validators=[Optional(), Length(min=18, max=18), _valid_id_card])
    locale = SelectField(_l("Interface language"), choices=choices([("", _l("Browser default")),
                                                                    ("zh_CN", "简体中文"), ("en", "English")]))


class ChangePasswordForm(FlaskForm):
    old_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})


class ResetRequestForm(FlaskForm):
    login = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "email"})


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
                            render_kw={"autocomplete": "new-password"})


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])
    expires_days = IntegerField(_l("Expires after (days, empty for never)"),
                                validators=[Optional(), NumberRange(min=1, max=3650)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST (logout, revoke, delete)."""
