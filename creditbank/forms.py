"""WTForms of the credit-bank pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, FloatField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.core.forms import choices

KIND_LABELS = {
    "course": _l("course"), "skill_level": _l("skill level"), "special_ability": _l("special ability"),
    "external_certificate": _l("certificate of another body"), "academic_course": _l("academic course"),
}


class CreditTypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=100)])


class AcademicLevelForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=100)])
    rank = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(0, 100)])
    rung = IntegerField(_l("Skill-ladder rung (0-7)"), validators=[InputRequired(), NumberRange(0, 7)])


class OutcomeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=60)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS))
    title_zh = StringField(_l("Title in Chinese"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=200)])
    issuer = StringField(_l("Issuer"), validators=[Optional(), Length(max=200)])
    match_key = StringField(_l("Evidence key"), validators=[Optional(), Length(max=200)])
    credit_value = FloatField(_l("Credits"), default=0, validators=[Optional(), NumberRange(0, 1000)])
    credit_type_id = SelectField(_l("Credit type"), coerce=int, default=0)
    rung = IntegerField(_l("Skill-ladder rung (0-7)"), validators=[Optional(), NumberRange(0, 7)])
    academic_level_id = SelectField(_l("Academic level"), coerce=int, default=0)


class RuleForm(FlaskForm):
    code = StringField(_l("Rule code"), validators=[DataRequired(), Length(max=60)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    operator = SelectField(_l("Sources needed"), choices=choices({"and": _l("all of them (AND)"),
                                                                  "or": _l("any one (OR)")}))
    source_ids = SelectMultipleField(_l("Source outcomes"), coerce=int, validators=[DataRequired()])
    target_outcome_id = SelectField(_l("Target outcome"), coerce=int, default=0)
    credits = FloatField(_l("Or a number of credits"), validators=[Optional(), NumberRange(0, 1000)])
    credit_type_id = SelectField(_l("Credit type"), coerce=int, default=0)
    min_score = FloatField(_l("Minimum score (0-100)"), validators=[Optional(), NumberRange(0, 100)])
    min_rung = IntegerField(_l("Minimum skill-ladder rung"), validators=[Optional(), NumberRange(0, 7)])
    min_attendance = FloatField(_l("Minimum attendance share (0-1)"), validators=[Optional(), NumberRange(0, 1)])
    validity_years = IntegerField(_l("Valid for (years)"), validators=[Optional(), NumberRange(1, 100)])
    max_count = IntegerField(_l("Maximum count per worker"), default=1, validators=[InputRequired(),
                                                                                    NumberRange(1, 100)])
    effective_from = DateField(_l("Effective from"), validators=[InputRequired()])
    effective_to = DateField(_l("Effective until"), validators=[Optional()])
    note = TextAreaField(_l("Reason for this version"), validators=[Optional(), Length(max=500)])


class ApplicationForm(FlaskForm):
    organisation_id = SelectField(_l("Institution that reviews it"), coerce=int, validators=[InputRequired()])
    target_outcome_id = SelectField(_l("Outcome to recognise"), coerce=int, validators=[InputRequired()])
    title = StringField(_l("Certificate"), validators=[DataRequired(), Length(max=200)])
    issuer = StringField(_l("Issued by"), validators=[Optional(), Length(max=200)])
    issued_on = DateField(_l("Issued on"), validators=[Optional()])
    certificate = FileField(_l("Certificate file (PDF, PNG or JPEG)"), validators=[FileRequired()])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices({"approve": _l("approve"), "reject": _l("reject")}))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


class ConfirmForm(FlaskForm):
    """An empty form: only the CSRF token."""
