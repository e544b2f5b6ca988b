"""Administration forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from lms.core.forms import choices
from lms.organisations.setup import KIND_LABELS, ROLE_LABELS


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS), validators=[DataRequired()])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(min=18, max=18)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])


class MembershipForm(FlaskForm):
    login = StringField(_l("Email or mobile number of the user"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS), validators=[DataRequired()])


class AdminUserForm(FlaskForm):
    login = StringField(_l("Email or mobile number"), validators=[DataRequired(), Length(max=254)])
    real_name = StringField(_l("Real name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8, max=200)])
    is_system_admin = BooleanField(_l("System administrator"))


class UserStatusForm(FlaskForm):
    active = BooleanField(_l("Account active"))
    is_system_admin = BooleanField(_l("System administrator"))
