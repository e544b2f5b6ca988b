"""WTForms of the competency pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.core.forms import choices
from lms.xapi import vocab

VERB_CHOICES = {
    vocab.VERB_COMPLETED: _l("completed"),
    vocab.VERB_PASSED: _l("passed"),
    vocab.VERB_EXPERIENCED: _l("experienced"),
    vocab.VERB_ANSWERED: _l("answered"),
    vocab.VERB_MASTERED: _l("mastered"),
}


#: The minimum source of a rule (``EvidenceRule.min_source``), as teachers read it.
MIN_SOURCE_CHOICES = {
    "any": _l("any source the trust policy allows"),
    "launch": _l("content launched by the platform, registered systems or the platform"),
    "system": _l("registered systems of standard trust or the platform"),
    "assessment": _l("assessments only (the platform or assessment-trusted systems)"),
}


class ImportFrameworkForm(FlaskForm):
    file = FileField(_l("Framework file (CASE JSON or CSV)"), validators=[FileRequired()])
    #: 0 = the system (national standard; system admins only); choices set by the view.
    owner_org_id = SelectField(_l("Owner"), coerce=int, default=0)


class FrameworkForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=300)])
    publisher = StringField(_l("Publisher"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    status = SelectField(_l("Status"), choices=choices({"active": _l("active"), "retired": _l("retired")}))
    published = BooleanField(_l("Published: anyone may pull it from the CASE endpoints (/ims/case/v1p0, v1p1)"))


class RuleForm(FlaskForm):
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[InputRequired()])
    match_kind = SelectField(_l("Match"), choices=choices({
        "activity": _l("this activity"), "parent": _l("any activity under this parent (course, module)"),
        "type": _l("any activity of this type")}), default="activity")
    match_iri = StringField(_l("Activity, parent or type IRI"), validators=[DataRequired(), Length(max=1000)])
    verbs = SelectMultipleField(_l("Verbs"), choices=choices(VERB_CHOICES),
                                default=[vocab.VERB_COMPLETED], validators=[DataRequired()])
    min_scaled = DecimalField(_l("Minimum scaled score (0 to 1, optional)"), places=2, validators=[Optional(),
                              NumberRange(min=-1, max=1)])
    success_required = BooleanField(_l("Success required"))
    min_source = SelectField(_l("Accept statements from"), choices=choices(MIN_SOURCE_CHOICES), default="any")
    weight = DecimalField(_l("Weight (0 to 1)"), places=2, default=1, validators=[InputRequired(),
                          NumberRange(min=0.01, max=1)])
    operator = SelectField(_l("Combine with the unit's other rules in this group"), choices=choices({
        "any": _l("OR: any rule (weights add up)"), "all": _l("AND: all rules of the group")}), default="any")
    group_name = StringField(_l("Criteria group (optional name)"), validators=[Optional(), Length(max=200)])
    name = StringField(_l("Label"), validators=[Optional(), Length(max=300)])
    #: The organisation that will own the rule (shown when the teacher works for several).
    organisation_id = SelectField(_l("Organisation that owns the rule"), coerce=int, default=0)


class ExamResultForm(FlaskForm):
    part = SelectField(_l("Part"), choices=choices({"theory": _l("Theory exam"), "practical": _l("Practical exam"),
                                                   "review": _l("Comprehensive review")}))
    score = DecimalField(_l("Score (out of 100)"), places=1, validators=[Optional(), NumberRange(min=0, max=100)])
    review_passed = BooleanField(_l("Review passed (when no score is given)"))
    taken_on = DateField(_l("Date taken"), validators=[Optional()])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class QualificationForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices({
        "occupation_start": _l("Working in the occupation since"),
        "school_qualification": _l("School qualification"),
        "apprenticeship_completed": _l("Apprenticeship completed"),
        "level_held": _l("Level held (certified elsewhere)")}))
    detail = StringField(_l("Detail"), validators=[Optional(), Length(max=300)])
    rung = SelectField(_l("Level"), coerce=int, choices=choices({i: str(i) for i in range(8)}), default=0)
    since = DateField(_l("Since / obtained on"), validators=[DataRequired()])


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=20)])
