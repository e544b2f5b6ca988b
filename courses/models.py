"""The courses plugin's tables: what teachers author and what learners do with it.

Authoring: :class:`Course` > :class:`Module` > :class:`Lesson` > :class:`Question`, plus the files
uploaded for a course (:class:`CourseFile`). Enrolment: :class:`Enrolment`, grouped in
:class:`CourseClass`. Delivery (written by :mod:`courses.delivery`): :class:`LessonProgress`,
:class:`QuizAttempt`, :class:`QuizAnswer`, :class:`Submission`.

Why content rows are archived, never deleted, once learners touched them: progress, answers and
submissions point at lessons and questions, and a learner's record must survive a later edit of
the course. ``archived_at`` hides a module, lesson or question from authoring and delivery; the
rows (and the learners' records) stay. Answers keep the response and the points awarded at answer
time, so editing a question never rewrites a result.

Every module, lesson and question has a stable ``uuid``; its xAPI activity id is
``activity_iri`` (``<LMS_BASE_IRI>/lesson/<uuid>`` ...). Both the delivery code (which emits
statements) and competency rules (which match them) rely on these never changing.
"""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import GUID, JSONType, UTCDateTime, db, utcnow

# Values are copied (not imported) into the migrations, as the style guide asks.

#: Life cycle of a course.
COURSE_STATUSES = ("draft", "published", "archived")
#: Kinds of lesson.
LESSON_KINDS = ("text", "video", "document", "quiz", "practical", "external")
#: Kinds of quiz question.
QUESTION_KINDS = ("single", "multiple", "truefalse", "fillin")
#: Life cycle of an enrolment.
ENROLMENT_STATUSES = ("active", "completed", "withdrawn")
#: Progress through one lesson.
PROGRESS_STATUSES = ("not_started", "in_progress", "completed")
#: Life cycle of a practical-task submission.
SUBMISSION_STATUSES = ("submitted", "graded")
#: Body formats a text lesson or description is written in.
BODY_FORMATS = ("markdown", "html")
#: The national skill ladder rungs (0 学徒工 ... 7 首席技师) a course may target.
SKILL_LEVELS = tuple(range(8))


def activity_iri(*parts: str) -> str:
    """A platform activity IRI under ``LMS_BASE_IRI``; needs an app context."""
    try:
        from lms.xapi.vocab import platform_iri
    except ImportError:  # the LRS package not there yet: same rule, computed here
        from flask import current_app

        base = current_app.config["LMS_BASE_IRI"]
        return base.rstrip("/") + "/" + "/".join(parts)
    return platform_iri(*parts)


def _in(values) -> str:
    return "(" + ", ".join(repr(v) for v in values) + ")"


#: Which teachers teach (and may edit) which course.
course_teachers = sa.Table(
    "courses_course_teachers",
    db.Model.metadata,
    sa.Column("course_id", sa.ForeignKey("courses_courses.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Course(db.Model):
    """A course: a syllabus of modules and lessons, owned by an organisation, taught by teachers."""

    __tablename__ = "courses_courses"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public identifier; part of the course's xAPI activity id. Kept across export/import.
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: Short course code, unique on this platform (e.g. ``WELD-101``).
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    #: Title in Chinese (required).
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    #: Title in English (optional).
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Format the descriptions were written in (``markdown`` or ``html``).
    description_format: Mapped[str] = mapped_column(sa.String(10), default="markdown")
    #: Description in Chinese as the author wrote it (Markdown or HTML, unsanitised; for editing).
    description_zh_source: Mapped[str] = mapped_column(sa.Text, default="")
    #: Description in English as the author wrote it.
    description_en_source: Mapped[str] = mapped_column(sa.Text, default="")
    #: Description in Chinese, rendered and sanitised HTML (safe to display).
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    #: Description in English, rendered and sanitised HTML.
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    #: National occupation classification code the course trains for (e.g. ``6-31-01-03``).
    occupation_code: Mapped[str] = mapped_column(sa.String(20), default="", index=True)
    #: Study hours (学时) credited for completing the course.
    study_hours: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: Storage key (relative to ``LMS_UPLOAD_DIR``) of the cover image, or empty.
    cover_image: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Owning organisation (a school or training institution, usually).
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    #: Who created it.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Listed in the government subsidised-training catalogue (补贴目录).
    subsidised: Mapped[bool] = mapped_column(default=False)
    #: Number in the subsidised catalogue, when ``subsidised``.
    subsidy_catalogue_number: Mapped[str] = mapped_column(sa.String(50), default="")
    #: One of :data:`COURSE_STATUSES`; only published courses are in the catalogue and enrollable.
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)
    #: Learners may enrol themselves (otherwise an organisation administrator enrols them).
    self_enrolment: Mapped[bool] = mapped_column(default=True)
    #: Content version: starts at 1 and goes up each time the course is (re)published.
    version: Mapped[int] = mapped_column(default=1)
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Last change to the course or its content.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: First publication.
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    organisation = relationship("Organisation")
    created_by = relationship("User", foreign_keys=[created_by_id])
    teachers = relationship("User", secondary=course_teachers, lazy="selectin", order_by="User.id")
    level_rows = relationship("CourseLevel", cascade="all, delete-orphan", lazy="selectin",
                              order_by="CourseLevel.level")
    modules = relationship("Module", back_populates="course", cascade="all, delete-orphan",
                           order_by="Module.position")
    files = relationship("CourseFile", back_populates="course", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint(f"status IN {_in(COURSE_STATUSES)}", name="status"),
        sa.CheckConstraint(f"description_format IN {_in(BODY_FORMATS)}", name="description_format"),
        sa.CheckConstraint("study_hours >= 0", name="study_hours"),
    )

    @property
    def levels(self) -> list[int]:
        """Target skill-ladder rungs (0-7), sorted."""
        return [row.level for row in self.level_rows]

    @levels.setter
    def levels(self, values) -> None:
        wanted = sorted({int(v) for v in values})
        keep = [row for row in self.level_rows if row.level in wanted]
        have = {row.level for row in keep}
        self.level_rows = keep + [CourseLevel(level=v) for v in wanted if v not in have]

    @property
    def live_modules(self) -> list[Module]:
        """Modules not archived, in order."""
        return [m for m in self.modules if m.archived_at is None]

    @property
    def live_lessons(self) -> list[Lesson]:
        """Lessons not archived, in syllabus order (module by module)."""
        return [lesson for m in self.live_modules for lesson in m.live_lessons]

    def title(self, lang: str = "zh") -> str:
        return (self.title_en or self.title_zh) if lang.startswith("en") else self.title_zh

    @property
    def activity_iri(self) -> str:
        """xAPI activity id of the course (needs an app context)."""
        return activity_iri("course", str(self.uuid))

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.code}>"


class CourseLevel(db.Model):
    """A skill-ladder rung (职业技能等级, 0-7) that a course targets; a course may target several."""

    __tablename__ = "courses_course_levels"

    #: The course.
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_courses.id", ondelete="CASCADE"),
                                           primary_key=True)
    #: Rung of the national ladder, 0 (学徒工) to 7 (首席技师).
    level: Mapped[int] = mapped_column(primary_key=True, index=True)

    __table_args__ = (sa.CheckConstraint("level BETWEEN 0 AND 7", name="level"),)


class Module(db.Model):
    """A chapter of a course: an ordered group of lessons."""

    __tablename__ = "courses_modules"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public identifier; part of the module's xAPI activity id.
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The course.
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_courses.id", ondelete="CASCADE"), index=True)
    #: Order within the course (0, 1, 2 ...).
    position: Mapped[int] = mapped_column(default=0)
    #: Title in Chinese.
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    #: Title in English (optional).
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Set when removed from a course that learners already studied; the row is kept.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    course = relationship(Course, back_populates="modules")
    lessons = relationship("Lesson", back_populates="module", cascade="all, delete-orphan",
                           order_by="Lesson.position")

    @property
    def live_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons if lesson.archived_at is None]

    def title(self, lang: str = "zh") -> str:
        return (self.title_en or self.title_zh) if lang.startswith("en") else self.title_zh

    @property
    def activity_iri(self) -> str:
        """xAPI activity id of the module (needs an app context)."""
        return activity_iri("module", str(self.uuid))


class Lesson(db.Model):
    """One step of a course: a text, video, document, quiz, practical task or external activity."""

    __tablename__ = "courses_lessons"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public identifier; part of the lesson's xAPI activity id.
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The module it belongs to.
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_modules.id", ondelete="CASCADE"), index=True)
    #: The course (copied from the module, so progress queries need no join).
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_courses.id", ondelete="CASCADE"), index=True)
    #: Order within the module.
    position: Mapped[int] = mapped_column(default=0)
    #: One of :data:`LESSON_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Title in Chinese.
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    #: Title in English (optional).
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Must be completed (or passed) for the course to be complete.
    required: Mapped[bool] = mapped_column(default=True)
    #: Format of ``body_source`` (``markdown`` or ``html``).
    body_format: Mapped[str] = mapped_column(sa.String(10), default="markdown")
    #: Body as the author wrote it (text lesson, or instructions of any other kind); for editing.
    body_source: Mapped[str] = mapped_column(sa.Text, default="")
    #: Body rendered and sanitised (safe to display).
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    #: Video lesson: address of a video hosted elsewhere (http/https), or empty.
    video_url: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: Video lesson: storage key of an uploaded video file, or empty.
    video_file: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Expected study time in seconds (video length, reading time); feeds study hours.
    duration_seconds: Mapped[int] = mapped_column(default=0)
    #: Document lesson: storage key of the uploaded document.
    document_file: Mapped[str] = mapped_column(sa.String(300), default="")
    #: External activity: launch URL of content hosted elsewhere (cmi5-style launch parameters added).
    launch_url: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: Quiz: percentage of the maximum score needed to pass (0-100).
    pass_mark: Mapped[int] = mapped_column(default=60)
    #: Quiz: attempts allowed per learner; 0 means unlimited.
    max_attempts: Mapped[int] = mapped_column(default=0)
    #: Quiz: time allowed per attempt in seconds; 0 means no limit.
    time_limit_seconds: Mapped[int] = mapped_column(default=0)
    #: Quiz: shuffle question order (and choices) per attempt.
    shuffle: Mapped[bool] = mapped_column(default=False)
    #: Practical task: the maximum score a grader can award.
    task_max_score: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=100.0)
    #: Set when removed after learners studied it; the row (and their records) is kept.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Last edit.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    module = relationship(Module, back_populates="lessons")
    course = relationship(Course)
    questions = relationship("Question", back_populates="lesson", cascade="all, delete-orphan",
                             order_by="Question.position")

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {_in(LESSON_KINDS)}", name="kind"),
        sa.CheckConstraint(f"body_format IN {_in(BODY_FORMATS)}", name="body_format"),
        sa.CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark"),
        sa.CheckConstraint("max_attempts >= 0", name="max_attempts"),
        sa.CheckConstraint("time_limit_seconds >= 0", name="time_limit_seconds"),
        sa.CheckConstraint("duration_seconds >= 0", name="duration_seconds"),
    )

    @property
    def live_questions(self) -> list[Question]:
        return [q for q in self.questions if q.archived_at is None]

    @property
    def max_score(self) -> float:
        """Quiz: sum of the live questions' points; practical task: ``task_max_score``."""
        if self.kind == "practical":
            return self.task_max_score
        return float(sum(q.points for q in self.live_questions))

    def title(self, lang: str = "zh") -> str:
        return (self.title_en or self.title_zh) if lang.startswith("en") else self.title_zh

    @property
    def activity_iri(self) -> str:
        """xAPI activity id of the lesson (needs an app context)."""
        return activity_iri("lesson", str(self.uuid))

    def __repr__(self) -> str:
        return f"<Lesson {self.id} {self.kind} {self.title_zh!r}>"


class Question(db.Model):
    """A quiz question. Choices carry stable ids, so responses stay meaningful after edits.

    ``choices``: ``[{"id": "c1a2b3", "text": "中文", "text_en": "English"}, ...]`` (single and
    multiple; true/false uses the fixed ids ``true`` and ``false``; fill-in has none).
    ``correct``: list of correct choice ids (single: one; multiple: one or more; true/false:
    ``["true"]`` or ``["false"]``); fill-in: list of accepted answers (compared trimmed and
    case-insensitively unless ``case_sensitive``).
    """

    __tablename__ = "courses_questions"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public identifier; part of the question's xAPI (cmi.interaction) activity id.
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The quiz lesson.
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_lessons.id", ondelete="CASCADE"), index=True)
    #: Order within the quiz (before shuffling).
    position: Mapped[int] = mapped_column(default=0)
    #: One of :data:`QUESTION_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Question text in Chinese (plain text).
    prompt: Mapped[str] = mapped_column(sa.Text)
    #: Question text in English (optional).
    prompt_en: Mapped[str] = mapped_column(sa.Text, default="")
    #: Choices with stable ids (see the class docstring).
    choices: Mapped[list] = mapped_column(JSONType, default=list)
    #: Correct choice ids, or accepted fill-in answers (see the class docstring).
    correct: Mapped[list] = mapped_column(JSONType, default=list)
    #: Fill-in: compare answers case-sensitively.
    case_sensitive: Mapped[bool] = mapped_column(default=False)
    #: Points for a correct answer.
    points: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=1.0)
    #: Shown after answering (optional).
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    #: Set when removed after learners answered it; the row (and their answers) is kept.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    lesson = relationship(Lesson, back_populates="questions")

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {_in(QUESTION_KINDS)}", name="kind"),
        sa.CheckConstraint("points >= 0", name="points"),
    )

    def prompt_for(self, lang: str = "zh") -> str:
        return (self.prompt_en or self.prompt) if lang.startswith("en") else self.prompt

    @property
    def activity_iri(self) -> str:
        """xAPI activity id of the question (needs an app context)."""
        return activity_iri("question", str(self.uuid))


class CourseFile(db.Model):
    """A file uploaded for a course (cover, image in a lesson, video, document).

    Files live under ``LMS_UPLOAD_DIR`` at ``storage_key``; they are served only to users who may
    see the course (``/courses/<id>/files/<storage_key>``).
    """

    __tablename__ = "courses_files"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The course the file belongs to.
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_courses.id", ondelete="CASCADE"), index=True)
    #: Path relative to ``LMS_UPLOAD_DIR`` (``courses/<course uuid>/<random>.<ext>``).
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    #: File name as uploaded (shown and used for downloads).
    original_name: Mapped[str] = mapped_column(sa.String(255))
    #: MIME type, guessed from the checked extension.
    content_type: Mapped[str] = mapped_column(sa.String(100))
    #: Size in bytes.
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: ``image``, ``video`` or ``document``.
    category: Mapped[str] = mapped_column(sa.String(20))
    #: Who uploaded it.
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When uploaded.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course = relationship(Course, back_populates="files")

    __table_args__ = (sa.CheckConstraint("category IN ('image', 'video', 'document')", name="category"),)


class CourseClass(db.Model):
    """A class: enrolments of one course grouped under a teacher, in an organisation."""

    __tablename__ = "courses_classes"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The course studied.
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_courses.id", ondelete="CASCADE"), index=True)
    #: Name of the class (e.g. "2026 春季焊工一班").
    name: Mapped[str] = mapped_column(sa.String(200))
    #: The teacher in charge (sees the class gradebook, grades its practical tasks).
    teacher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The organisation the class belongs to (whose admins manage it).
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course = relationship(Course)
    teacher = relationship("User")
    organisation = relationship("Organisation")
    enrolments = relationship("Enrolment", back_populates="course_class")


class Enrolment(db.Model):
    """A learner's enrolment in a course; its ``registration`` is the xAPI context registration."""

    __tablename__ = "courses_enrolments"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: xAPI registration of every statement about this enrolment.
    registration: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The learner.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The course.
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_courses.id", ondelete="CASCADE"), index=True)
    #: One of :data:`ENROLMENT_STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(20), default="active", index=True)
    #: When enrolled.
    enrolled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the completion rules were first met.
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When withdrawn.
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Who enrolled the learner (the learner for self-enrolment, or an administrator).
    enrolled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: The class the learner studies in, if any.
    class_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses_classes.id", ondelete="SET NULL"),
                                                 index=True)
    #: Last lesson opened, to resume there.
    last_lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses_lessons.id", ondelete="SET NULL"))
    #: Share (0-1) of required lessons completed; kept up to date by delivery.
    progress: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: Study time (seconds) credited so far, derived from statement durations by delivery.
    seconds_credited: Mapped[int] = mapped_column(default=0)

    user = relationship("User", foreign_keys=[user_id])
    course = relationship(Course)
    enrolled_by = relationship("User", foreign_keys=[enrolled_by_id])
    course_class = relationship(CourseClass, back_populates="enrolments")
    last_lesson = relationship(Lesson)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id"),
        sa.CheckConstraint(f"status IN {_in(ENROLMENT_STATUSES)}", name="status"),
    )

    def __repr__(self) -> str:
        return f"<Enrolment {self.id} user={self.user_id} course={self.course_id} {self.status}>"


class LessonProgress(db.Model):
    """How far one enrolment got in one lesson."""

    __tablename__ = "courses_lesson_progress"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The enrolment.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_enrolments.id", ondelete="CASCADE"))
    #: The lesson.
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_lessons.id", ondelete="RESTRICT"), index=True)
    #: One of :data:`PROGRESS_STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(20), default="not_started")
    #: Share done, 0-1 (for a video: share watched).
    progress: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: Time spent in the lesson, in seconds.
    seconds_spent: Mapped[int] = mapped_column(default=0)
    #: Where to resume (video position in seconds, or a page), if any.
    resume_position: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: Video: furthest position reached, in seconds.
    furthest_position: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: Video: seconds actually played (replays count again), as accepted by the server.
    watched_seconds: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: Video: its length as the player reported it (0 while unknown).
    media_duration: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: First opened.
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When completed.
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Last change.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    enrolment = relationship(Enrolment)
    lesson = relationship(Lesson)

    __table_args__ = (
        sa.UniqueConstraint("enrolment_id", "lesson_id"),
        sa.CheckConstraint(f"status IN {_in(PROGRESS_STATUSES)}", name="status"),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
    )


class QuizAttempt(db.Model):
    """One attempt at a quiz lesson, graded on the server when submitted."""

    __tablename__ = "courses_quiz_attempts"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public identifier (usable as an xAPI sub-registration or attempt extension).
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The enrolment.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_enrolments.id", ondelete="CASCADE"))
    #: The quiz lesson.
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_lessons.id", ondelete="RESTRICT"), index=True)
    #: 1 for the first attempt, 2 for the second ...
    number: Mapped[int] = mapped_column(default=1)
    #: When started.
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When submitted; ``None`` while in progress.
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Time limit end, if the quiz has one.
    deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Points scored.
    score: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: Points possible at the time of the attempt.
    max_score: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: ``score / max_score`` (0-1).
    scaled: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: Whether the pass mark (as it was at submission) was reached.
    passed: Mapped[bool | None] = mapped_column()
    #: Question ids in the order shown in this attempt.
    question_order: Mapped[list] = mapped_column(JSONType, default=list)
    #: Choice ids per question id in the order shown (``{"12": ["c1", "c3", ...]}``), when shuffled.
    choice_order: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Pass mark (percent) applied to this attempt, copied from the lesson when started.
    pass_mark: Mapped[int] = mapped_column(default=60)

    enrolment = relationship(Enrolment)
    lesson = relationship(Lesson)
    answers = relationship("QuizAnswer", back_populates="attempt", cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("enrolment_id", "lesson_id", "number"),)


class QuizAnswer(db.Model):
    """A learner's answer to one question in one attempt, with the points awarded at that time."""

    __tablename__ = "courses_quiz_answers"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The attempt.
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_quiz_attempts.id", ondelete="CASCADE"))
    #: The question.
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_questions.id", ondelete="RESTRICT"),
                                             index=True)
    #: The response as given: list of choice ids, or ``[text]`` for fill-in.
    response: Mapped[list] = mapped_column(JSONType, default=list)
    #: Whether it was correct when graded.
    correct: Mapped[bool] = mapped_column(default=False)
    #: Points awarded when graded.
    points: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: Points the question was worth when graded.
    max_points: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: When answered.
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    attempt = relationship(QuizAttempt, back_populates="answers")
    question = relationship(Question)

    __table_args__ = (sa.UniqueConstraint("attempt_id", "question_id"),)


class Submission(db.Model):
    """A learner's work for a practical task, and its grading by a teacher or mentor."""

    __tablename__ = "courses_submissions"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public identifier.
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The enrolment.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_enrolments.id", ondelete="CASCADE"),
                                              index=True)
    #: The practical-task lesson.
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("courses_lessons.id", ondelete="RESTRICT"), index=True)
    #: 1 for the first submission, 2 for a resubmission ...
    number: Mapped[int] = mapped_column(default=1)
    #: The learner's text.
    text: Mapped[str] = mapped_column(sa.Text, default="")
    #: Uploaded files: ``[{"storage_key", "name", "content_type", "size"}]``.
    files: Mapped[list] = mapped_column(JSONType, default=list)
    #: When submitted.
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: One of :data:`SUBMISSION_STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(20), default="submitted", index=True)
    #: Score awarded.
    score: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: Maximum score at grading time.
    max_score: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: The grader's verdict.
    passed: Mapped[bool | None] = mapped_column()
    #: The grader's comment.
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    #: Who graded it.
    graded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When graded.
    graded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    enrolment = relationship(Enrolment)
    lesson = relationship(Lesson)
    graded_by = relationship("User")

    __table_args__ = (
        sa.CheckConstraint(f"status IN {_in(SUBMISSION_STATUSES)}", name="status"),
        sa.UniqueConstraint("enrolment_id", "lesson_id", "number"),
        # One hand-in waits for its grade at a time (a resubmission follows a failed grade).
        sa.Index("uq_courses_submissions_awaiting_grade", "enrolment_id", "lesson_id", unique=True,
                 postgresql_where=sa.text("status = 'submitted'"), sqlite_where=sa.text("status = 'submitted'")),
    )
