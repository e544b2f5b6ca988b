"""Forms of the identity-link and trust-policy pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.records import trust


class ImportLinksForm(FlaskForm):
    file = FileField(_l("CSV file (UTF-8): homePage,account name,login"), validators=[FileRequired()])


class LinkUserForm(FlaskForm):
    login = StringField(_l("Login of the user (e-mail or mobile number)"), validators=[DataRequired(), Length(max=254)])
    confirmed = HiddenField()


class ActionForm(FlaskForm):
    """A button that posts (CSRF only)."""


class RedeemCodeForm(FlaskForm):
    code = StringField(_l("Link code"), validators=[DataRequired(), Length(max=64)])


def trust_field_name(source: str, fact: str) -> str:
    return "trust_{}_{}".format(trust.SOURCES.index(source), trust.FACTS.index(fact))


class _PolicyBase(FlaskForm):
    max_statement_hours = DecimalField(_l("Most study time one statement may count (hours)"), places=2,
                                       validators=[InputRequired(), NumberRange(min=0, max=24)])
    max_daily_hours = DecimalField(_l("Most study time per learner and day (hours)"), places=2,
                                   validators=[InputRequired(), NumberRange(min=0, max=24)])


def _policy_form_class():
    fields = {trust_field_name(s, f): BooleanField(default=False) for s in trust.SOURCES for f in trust.FACTS}
    return type("PolicyForm", (_PolicyBase,), fields)


PolicyForm = _policy_form_class()


class RecordFilterForm(FlaskForm):
    """The record page's filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
    occupation = SelectField(_l("Occupation"), choices=[], validate_choice=False, validators=[Optional()])


class ShareForm(FlaskForm):
    """Share the record (or the entries ticked) through a link."""

    label = StringField(_l("For whom (only you see this)"), validators=[Optional(), Length(max=100)])
    days = IntegerField(_l("Valid for (days)"), default=30, validators=[InputRequired(), NumberRange(min=1, max=365)])
    request_key = HiddenField()
