"""Flask-WTF forms of the courses plugin (authoring, enrolment, classes, packages).

Forms check shapes (required, lengths, numbers); the rules live in :mod:`courses.operations`
and come back to the form through :func:`lms.core.forms.apply_error`.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from courses.setup import LEVEL_LABELS, QUESTION_KIND_LABELS
from lms.core.forms import choices

FORMAT_CHOICES = {"markdown": _l("Markdown"), "html": _l("HTML")}


class CourseForm(FlaskForm):
    code = StringField(_l("Course code"), validators=[DataRequired(), Length(max=50)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=200)])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    description_format = SelectField(_l("Description format"), choices=choices(FORMAT_CHOICES),
                                     default="markdown")
    description_zh_source = TextAreaField(_l("Description (Chinese)"), validators=[Optional(), Length(max=50000)])
    description_en_source = TextAreaField(_l("Description (English)"), validators=[Optional(), Length(max=50000)])
    occupation_code = StringField(_l("Occupation code"), validators=[Optional(), Length(max=20)])
    levels = SelectMultipleField(_l("Target skill levels"), coerce=int,
                                 choices=choices({k: v for k, v in LEVEL_LABELS.items()}), validators=[Optional()])
    study_hours = DecimalField(_l("Study hours (学时)"), places=1, validators=[InputRequired(),
                                                                              NumberRange(min=0, max=10000)],
                               default=0)
    subsidised = BooleanField(_l("In the subsidised training catalogue"))
    subsidy_catalogue_number = StringField(_l("Subsidy catalogue number"), validators=[Optional(), Length(max=50)])
    self_enrolment = BooleanField(_l("Learners may enrol themselves"), default=True)

    def values(self) -> dict:
        return {
            "code": self.code.data, "title_zh": self.title_zh.data, "title_en": self.title_en.data or "",
            "description_format": self.description_format.data,
            "description_zh_source": self.description_zh_source.data or "",
            "description_en_source": self.description_en_source.data or "",
            "occupation_code": self.occupation_code.data or "", "levels": self.levels.data or [],
            "study_hours": float(self.study_hours.data or 0), "subsidised": self.subsidised.data,
            "subsidy_catalogue_number": self.subsidy_catalogue_number.data or "",
            "self_enrolment": self.self_enrolment.data,
        }


class ModuleForm(FlaskForm):
    title_zh = StringField(_l("Module title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Module title (English)"), validators=[Optional(), Length(max=200)])


class LessonForm(FlaskForm):
    """One form for every kind of lesson; the template shows the fields of the lesson's kind."""

    title_zh = StringField(_l("Lesson title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Lesson title (English)"), validators=[Optional(), Length(max=200)])
    required = BooleanField(_l("Required for completing the course"), default=True)
    body_format = SelectField(_l("Text format"), choices=choices(FORMAT_CHOICES), default="markdown")
    body_source = TextAreaField(_l("Text"), validators=[Optional(), Length(max=200000)])
    video_url = StringField(_l("Video address (URL)"), validators=[Optional(), URL(require_tld=False),
                                                                  Length(max=1000)])
    video_upload = FileField(_l("Or upload a video file"))
    document_upload = FileField(_l("Document file"))
    duration_minutes = DecimalField(_l("Expected study time (minutes)"), places=1,
                                    validators=[Optional(), NumberRange(min=0, max=6000)])
    launch_url = StringField(_l("Launch URL of the external activity"),
                             validators=[Optional(), URL(require_tld=False), Length(max=1000)])
    pass_mark = IntegerField(_l("Pass mark (% of the maximum score)"), validators=[Optional(),
                                                                                   NumberRange(min=0, max=100)],
                             default=60)
    max_attempts = IntegerField(_l("Attempts allowed (0 = unlimited)"), validators=[Optional(),
                                                                                   NumberRange(min=0, max=1000)],
                                default=0)
    time_limit_minutes = IntegerField(_l("Time limit in minutes (0 = none)"),
                                      validators=[Optional(), NumberRange(min=0, max=1440)], default=0)
    shuffle = BooleanField(_l("Shuffle questions and choices"))
    task_max_score = DecimalField(_l("Maximum score"), places=1, validators=[Optional(), NumberRange(min=1, max=1000)],
                                  default=100)

    def values(self, kind: str) -> dict:
        out = {"title_zh": self.title_zh.data, "title_en": self.title_en.data or "",
               "required": self.required.data, "body_format": self.body_format.data,
               "body_source": self.body_source.data or "",
               "duration_seconds": int(round(float(self.duration_minutes.data or 0) * 60))}
        if kind == "video":
            out["video_url"] = self.video_url.data or ""
        if kind == "external":
            out["launch_url"] = self.launch_url.data or ""
        if kind == "quiz":
            out.update(pass_mark=self.pass_mark.data if self.pass_mark.data is not None else 60,
                       max_attempts=self.max_attempts.data or 0,
                       time_limit_seconds=(self.time_limit_minutes.data or 0) * 60, shuffle=self.shuffle.data)
        if kind == "practical":
            out["task_max_score"] = float(self.task_max_score.data or 100)
        return out


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Question type"), choices=choices(QUESTION_KIND_LABELS), default="single")
    prompt = TextAreaField(_l("Question (Chinese)"), validators=[DataRequired(), Length(max=5000)])
    prompt_en = TextAreaField(_l("Question (English)"), validators=[Optional(), Length(max=5000)])
    choices_text = TextAreaField(_l("Choices, one per line; start correct ones with *"),
                                 validators=[Optional(), Length(max=10000)])
    truefalse_answer = SelectField(_l("Correct answer"), choices=choices({"": "—", "true": _l("True"),
                                                                          "false": _l("False")}),
                                   validators=[Optional()])
    accepted_answers = TextAreaField(_l("Accepted answers, one per line"), validators=[Optional(), Length(max=5000)])
    case_sensitive = BooleanField(_l("Answers are case-sensitive"))
    points = DecimalField(_l("Points"), places=1, default=1, validators=[InputRequired(),
                                                                        NumberRange(min=0.5, max=1000)])
    explanation = TextAreaField(_l("Explanation shown after answering"), validators=[Optional(), Length(max=5000)])

    def values(self) -> dict:
        return {"prompt": self.prompt.data, "prompt_en": self.prompt_en.data or "",
                "choices_text": self.choices_text.data or "", "truefalse_answer": self.truefalse_answer.data or None,
                "accepted_answers": self.accepted_answers.data or "", "case_sensitive": self.case_sensitive.data,
                "points": float(self.points.data), "explanation": self.explanation.data or ""}


class UploadForm(FlaskForm):
    category = SelectField(_l("Kind of file"), choices=choices({"image": _l("Image"), "video": _l("Video"),
                                                                 "document": _l("Document")}))
    file = FileField(_l("File"))


class CoverForm(FlaskForm):
    cover_image = SelectField(_l("Cover image"), validators=[Optional()])


class TeacherForm(FlaskForm):
    login = StringField(_l("Teacher's login (email or mobile)"), validators=[DataRequired(), Length(max=254)])


class ImportForm(FlaskForm):
    package = FileField(_l("Course package (.zip)"))
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    code = StringField(_l("New course code (if the package's code is taken here)"),
                       validators=[Optional(), Length(max=50)])


class EnrolForm(FlaskForm):
    login = StringField(_l("Learner's login (email or mobile)"), validators=[DataRequired(), Length(max=254)])
    class_id = SelectField(_l("Class"), coerce=int, validators=[Optional()])


class BulkEnrolForm(FlaskForm):
    csv_file = FileField(_l("CSV file (one login per line, optional class name in the second column)"))


class ClassForm(FlaskForm):
    name = StringField(_l("Class name"), validators=[DataRequired(), Length(max=200)])
    teacher_login = StringField(_l("Teacher's login (email or mobile)"), validators=[Optional(), Length(max=254)])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])


class AssignClassForm(FlaskForm):
    class_id = SelectField(_l("Class"), coerce=int, validators=[Optional()])
