"""Forms of the identity-link and trust-policy pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

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
