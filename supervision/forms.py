"""Forms of the supervision pages (every one CSRF-protected by Flask-WTF)."""
from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from lms.core.forms import choices
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

LEVEL_LABELS = {1: _l("Level 5 / Junior worker (初级工)"), 2: _l("Level 4 / Intermediate worker (中级工)"),
                3: _l("Level 3 / Senior worker (高级工)"), 4: _l("Level 2 / Technician (技师)"),
                5: _l("Level 1 / Senior technician (高级技师)")}


REVIEW_CHOICES = {"confirmed": _l("Confirm: exclude from the claim"), "dismissed": _l("Dismiss: not a problem"),
                  "explained": _l("Explained")}


def _finite(form, field):
    if field.data is not None and not math.isfinite(float(field.data)):
        raise ValidationError(_l("Enter a number."))


class CourseApplicationForm(FlaskForm):
    organisation_id = SelectField(_l("Institution"), coerce=int, validators=[InputRequired()])
    course_ref = SelectField(_l("Course"), validators=[DataRequired()])
    occupation_code = StringField(_l("Occupation code"), validators=[DataRequired(), Length(max=20)])
    level = SelectField(_l("Level"), coerce=int, choices=choices(LEVEL_LABELS), validators=[InputRequired()])
    total_hours = DecimalField(_l("Total study hours"), validators=[InputRequired(), _finite,
                                                                    NumberRange(min=1, max=5000)])
    standard_amount = DecimalField(_l("Standard subsidy per person (yuan)"),
                                   validators=[InputRequired(), _finite, NumberRange(min=0, max=100000)])
    online_share = IntegerField(_l("Largest online share (%)"), default=100,
                                validators=[InputRequired(), NumberRange(min=0, max=100)])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=choices([("approve", _l("Approve")), ("return", _l("Return"))]),
                           validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class ClassApplicationForm(FlaskForm):
    organisation_id = SelectField(_l("Institution"), coerce=int, validators=[InputRequired()])
    entry_key = SelectField(_l("Subsidised training"), validators=[DataRequired()])
    name = StringField(_l("Class name"), validators=[DataRequired(), Length(max=200)])
    start_date = DateField(_l("First day"), validators=[DataRequired()])
    end_date = DateField(_l("Last day"), validators=[DataRequired()])
    teaching_plan = TextAreaField(_l("Teaching plan"), validators=[DataRequired(), Length(max=10000)])
    teachers = TextAreaField(_l("Teachers (one per line)"), validators=[DataRequired(), Length(max=4000)])
    schedule = TextAreaField(_l("Schedule (days, times, place)"), validators=[DataRequired(), Length(max=4000)])
    assessment_plan = TextAreaField(_l("Assessment plan"), validators=[DataRequired(), Length(max=4000)])
    roster = TextAreaField(_l("Roster: one trainee per line (e-mail, mobile or ID number)"),
                           validators=[DataRequired(), Length(max=200000)])


class AddTraineeForm(FlaskForm):
    login = StringField(_l("E-mail, mobile or ID number"), validators=[DataRequired(), Length(max=254)])


class CatalogueVersionForm(FlaskForm):
    catalogue = SelectField(_l("Catalogue"), validators=[DataRequired()])
    entry_key = StringField(_l("Entry number"), validators=[DataRequired(), Length(max=50)])
    title = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    occupation_code = StringField(_l("Occupation code"), validators=[Optional(), Length(max=20)])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    occupations = StringField(_l("Occupations it may train or assess (codes, comma-separated)"),
                              validators=[Optional(), Length(max=1000)])
    capacity = IntegerField(_l("Capacity (trainees per class)"), validators=[Optional(), NumberRange(min=0, max=100000)])
    reason_code = SelectField(_l("Reason"), validators=[DataRequired()])
    reason_note = TextAreaField(_l("Reason in words"), validators=[Optional(), Length(max=2000)])
    effective_from = DateField(_l("In effect from"), validators=[DataRequired()])
    effective_to = DateField(_l("In effect until"), validators=[Optional()])
    remove = BooleanField(_l("Remove the entry"))
    appeal_note = TextAreaField(_l("How to appeal a removal"), validators=[Optional(), Length(max=2000)])


class ImportForm(FlaskForm):
    kind = SelectField(_l("The file contains"), validators=[DataRequired()])
    file = FileField(_l("CSV or Excel file"), validators=[DataRequired()])


class AnswerForm(FlaskForm):
    response = TextAreaField(_l("Explanation"), validators=[DataRequired(), Length(max=4000)])


class ReviewForm(FlaskForm):
    state = SelectField(_l("Decision"), choices=choices(REVIEW_CHOICES), validators=[DataRequired()])
    note = TextAreaField(_l("Reviewer's note"), validators=[DataRequired(), Length(max=4000)])


class PolicyRuleForm(FlaskForm):
    code = SelectField(_l("Rule"), validators=[DataRequired()])
    value = StringField(_l("Value"), validators=[DataRequired(), Length(max=50)])
    citation = TextAreaField(_l("Source notice (issuer, number, article)"), validators=[DataRequired(),
                                                                                         Length(max=1000)])
    effective_from = DateField(_l("In effect from"), validators=[DataRequired()])
    effective_to = DateField(_l("In effect until"), validators=[Optional()])


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token."""
