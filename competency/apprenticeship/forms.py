"""Forms of the apprenticeship pages."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from lms.core.forms import choices

HOURS_LABELS = {"workplace": _l("Workplace"), "classroom": _l("Classroom")}


class ProgrammeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    enterprise_id = SelectField(_l("Enterprise"), coerce=int, validators=[DataRequired()])
    school_id = SelectField(_l("Partner school or training institution"), coerce=int, validators=[DataRequired()])
    occupation_code = StringField(_l("Occupation code"), validators=[Optional(), Length(max=20)])
    framework_id = SelectField(_l("Competency framework"), coerce=int, validators=[Optional()])
    target_rung = SelectField(_l("Target level"), coerce=int, validators=[DataRequired()])
    duration_months = IntegerField(_l("Duration (months)"), default=12,
                                   validators=[DataRequired(), NumberRange(min=1, max=36)])
    hours_per_year = IntegerField(_l("Training hours per year"), default=600,
                                  validators=[DataRequired(), NumberRange(min=0, max=5000)])
    online_hours_per_year = IntegerField(_l("Of which online hours per year"), default=200,
                                         validators=[Optional(), NumberRange(min=0, max=5000)])


class CohortForm(FlaskForm):
    name = StringField(_l("Cohort name"), validators=[DataRequired(), Length(max=200)])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    extension_months = IntegerField(_l("Extension (months)"), default=0, validators=[Optional(), NumberRange(min=0, max=24)])


def _finite(form, field):
    """Refuse NaN and infinities before the range check compares them."""
    if field.data is not None and not field.data.is_finite():
        raise ValidationError(_l("Enter a number."))


_RECORD_NO = [Optional(), NumberRange(min=1, max=2 ** 31 - 1)]


def _json_object(form, field):
    try:
        value = json.loads(field.data or "")
    except ValueError:
        raise ValidationError(_l("Enter the criteria as JSON.")) from None
    if not isinstance(value, dict):
        raise ValidationError(_l("Enter the criteria as JSON."))
    field.parsed = value


class MilestoneForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=50)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    due_offset_days = IntegerField(_l("Due (days after start)"), validators=[DataRequired(), NumberRange(min=0, max=1098)])
    criteria = TextAreaField(_l("Criteria (JSON)"), validators=[DataRequired(), _json_object])
    subsidy_part = SelectField(_l("Subsidy part"), choices=choices({"": _l("None"), "advance": _l("Advance"),
                                                                     "completion": _l("Completion")}),
                               validators=[Optional()])


class ApprenticeForm(FlaskForm):
    login = StringField(_l("Apprentice (email or mobile)"), validators=[DataRequired(), Length(max=254)])
    enterprise_mentor = StringField(_l("Enterprise mentor (email or mobile)"), validators=[DataRequired(), Length(max=254)])
    school_mentor = StringField(_l("School mentor (email or mobile)"), validators=[DataRequired(), Length(max=254)])
    contract_start = DateField(_l("Contract start"), validators=[DataRequired()])
    contract_end = DateField(_l("Contract end"), validators=[DataRequired()])
    agreement_number = StringField(_l("Agreement number"), validators=[Optional(), Length(max=100)])
    agreement_signed_on = DateField(_l("Agreement signed on"), validators=[Optional()])
    joined_on = DateField(_l("Joined on (late joiners)"), validators=[Optional()])


class ImportForm(FlaskForm):
    csv_file = FileField(_l("CSV file"))
    csv_text = TextAreaField(_l("Or paste CSV"), validators=[Optional()])


class SignOffForm(FlaskForm):
    task_code = StringField(_l("Task code"), validators=[DataRequired(), Length(max=100)])
    task_title = StringField(_l("Task"), validators=[Optional(), Length(max=200)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])
    attachment = FileField(_l("Attachment (optional)"))
    corrects_id = IntegerField(_l("Corrects record number (optional)"), validators=_RECORD_NO)
    decision = SelectField(_l("Decision"), choices=choices({"approve": _l("Approve"), "withdraw": _l("Withdraw")}),
                           default="approve")


class ScoreForm(FlaskForm):
    task_code = StringField(_l("Assessment code"), validators=[DataRequired(), Length(max=100)])
    task_title = StringField(_l("Assessment"), validators=[Optional(), Length(max=200)])
    score = DecimalField(_l("Score (0-100)"), validators=[DataRequired(), _finite, NumberRange(min=0, max=100)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])
    corrects_id = IntegerField(_l("Corrects record number (optional)"), validators=_RECORD_NO)


class HoursForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(HOURS_LABELS), validators=[DataRequired()])
    hours = DecimalField(_l("Hours"), validators=[DataRequired(), _finite, NumberRange(min=-24, max=24)])
    on_date = DateField(_l("Date"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class AgreementForm(FlaskForm):
    signed_on = DateField(_l("Agreement signed on"), validators=[DataRequired()])
    agreement_number = StringField(_l("Agreement number"), validators=[Optional(), Length(max=100)])
