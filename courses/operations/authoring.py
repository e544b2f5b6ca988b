"""Authoring rules: courses, modules, lessons, questions, ordering, publication.

Every function takes the acting user, checks they may edit the course, and only flushes.

Learners' records are never lost by an edit: a module, lesson or question that learners already
studied or answered is *archived* (hidden, kept) instead of deleted; question edits keep choice
ids stable and never touch stored answers (an answer keeps the points it was awarded).
"""
from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses import content
from courses.models import (BODY_FORMATS, LESSON_KINDS, QUESTION_KINDS, Course, Lesson, LessonProgress,
                            Module, Question, QuizAnswer, QuizAttempt, Submission)
from courses.operations.errors import CourseError
from courses.setup import may_edit_course
from lms.core import permissions
from lms.core.db import db, utcnow

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")
OCCUPATION_RE = re.compile(r"^(\d(-\d{2}){0,3}(-\d{2})?)?$")
URL_RE = re.compile(r"^https?://[^\s<>\"']+$", re.I)

#: Course fields a form or the package importer may set.
COURSE_FIELDS = ("code", "title_zh", "title_en", "description_format", "description_zh_source",
                 "description_en_source", "occupation_code", "levels", "study_hours", "subsidised",
                 "subsidy_catalogue_number", "self_enrolment", "organisation_id")
#: Lesson fields a form or the package importer may set.
LESSON_FIELDS = ("title_zh", "title_en", "required", "body_format", "body_source", "video_url", "video_file",
                 "duration_seconds", "document_file", "launch_url", "pass_mark", "max_attempts",
                 "time_limit_seconds", "shuffle", "task_max_score")


def _require_editor(user, course: Course) -> None:
    if not may_edit_course(user, course) or permissions.is_supervisor(user) and not user.is_system_admin:
        raise CourseError(_l("You may not edit this course."), status=403, code="forbidden")


def _touch(course: Course) -> None:
    course.updated_at = utcnow()


# --- courses ---------------------------------------------------------------------------------


def _clean_course_fields(fields: dict, course: Course | None) -> dict:
    out = {}
    if "code" in fields:
        code = (fields["code"] or "").strip()
        if not CODE_RE.match(code):
            raise CourseError(_l("The code must be 1-50 letters, digits, '.', '_' or '-'."), "code")
        clash = db.session.scalar(sa.select(Course.id).where(Course.code == code))
        if clash is not None and (course is None or clash != course.id):
            raise CourseError(_l("Another course already uses the code %(code)s.", code=code), "code",
                              status=409, code="conflict")
        out["code"] = code
    if "title_zh" in fields:
        title = (fields["title_zh"] or "").strip()
        if not title:
            raise CourseError(_l("The Chinese title is required."), "title_zh")
        out["title_zh"] = title[:200]
    if "title_en" in fields:
        out["title_en"] = (fields["title_en"] or "").strip()[:200]
    if "description_format" in fields:
        if fields["description_format"] not in BODY_FORMATS:
            raise CourseError(_l("Unknown text format."), "description_format")
        out["description_format"] = fields["description_format"]
    for key in ("description_zh_source", "description_en_source", "subsidy_catalogue_number"):
        if key in fields:
            out[key] = (fields[key] or "").strip() if key == "subsidy_catalogue_number" else (fields[key] or "")
    if "occupation_code" in fields:
        occ = (fields["occupation_code"] or "").strip()
        if not OCCUPATION_RE.match(occ):
            raise CourseError(_l("An occupation code looks like 6-31-01-03."), "occupation_code")
        out["occupation_code"] = occ
    if "levels" in fields:
        try:
            levels = sorted({int(v) for v in fields["levels"] or ()})
        except (TypeError, ValueError):
            raise CourseError(_l("Skill levels are numbers from 0 to 7."), "levels") from None
        if any(v < 0 or v > 7 for v in levels):
            raise CourseError(_l("Skill levels are numbers from 0 to 7."), "levels")
        out["levels"] = levels
    if "study_hours" in fields:
        try:
            hours = float(fields["study_hours"] or 0)
        except (TypeError, ValueError):
            raise CourseError(_l("Study hours must be a number."), "study_hours") from None
        if not (0 <= hours <= 10000) or hours != hours:
            raise CourseError(_l("Study hours must be between 0 and 10000."), "study_hours")
        out["study_hours"] = round(hours, 1)
    for key in ("subsidised", "self_enrolment"):
        if key in fields:
            out[key] = bool(fields[key])
    return out


def _render_descriptions(course: Course) -> None:
    course.description_zh = content.render(course.description_zh_source, course.description_format)
    course.description_en = content.render(course.description_en_source, course.description_format)


def create_course(user, *, organisation_id: int | None = None, **fields) -> Course:
    """A new draft course; ``user`` becomes its first teacher."""
    if not permissions.can(user, "courses.author", organisation_id) or (
            permissions.is_supervisor(user) and not user.is_system_admin):
        raise CourseError(_l("You may not create courses in this organisation."), "organisation_id", status=403,
                          code="forbidden")
    if organisation_id is None and not user.is_system_admin:
        orgs = sorted(user.organisation_ids("teacher", "institution_admin"))
        organisation_id = orgs[0] if orgs else None
    values = _clean_course_fields({"code": fields.pop("code", ""), "title_zh": fields.pop("title_zh", ""),
                                   **fields}, None)
    levels = values.pop("levels", [])
    if values.get("subsidised") and not values.get("subsidy_catalogue_number"):
        raise CourseError(_l("A subsidised course needs its catalogue number."), "subsidy_catalogue_number")
    values.setdefault("description_format", "markdown")
    course = Course(organisation_id=organisation_id, created_by_id=user.id, **values)
    course.levels = levels
    _render_descriptions(course)
    db.session.add(course)
    course.teachers.append(user)
    db.session.flush()
    return course


def update_course(user, course: Course, **fields) -> Course:
    _require_editor(user, course)
    fields.pop("organisation_id", None)  # ownership does not move through the edit form
    values = _clean_course_fields(fields, course)
    if "levels" in values:
        course.levels = values.pop("levels")
    for key, value in values.items():
        setattr(course, key, value)
    if course.subsidised and not course.subsidy_catalogue_number:
        raise CourseError(_l("A subsidised course needs its catalogue number."), "subsidy_catalogue_number")
    _render_descriptions(course)
    _touch(course)
    db.session.flush()
    return course


def set_cover_image(user, course: Course, storage_key: str) -> None:
    _require_editor(user, course)
    if storage_key and not any(f.storage_key == storage_key and f.category == "image" for f in course.files):
        raise CourseError(_l("Choose an image uploaded for this course."), "cover_image")
    course.cover_image = storage_key or ""
    _touch(course)
    db.session.flush()


def add_teacher(user, course: Course, teacher) -> None:
    _require_editor(user, course)
    if teacher is None:
        raise CourseError(_l("No account with this login."), "login", status=404, code="not_found")
    if course.organisation_id is not None and "teacher" not in teacher.roles(course.organisation_id) \
            and not teacher.is_system_admin:
        raise CourseError(_l("Only teachers of the course's organisation can teach it."), "login")
    if teacher not in course.teachers:
        course.teachers.append(teacher)
    db.session.flush()


def remove_teacher(user, course: Course, teacher) -> None:
    _require_editor(user, course)
    if teacher in course.teachers:
        if len(course.teachers) == 1:
            raise CourseError(_l("A course keeps at least one teacher."), status=409, code="conflict")
        course.teachers.remove(teacher)
    db.session.flush()


# --- publication -----------------------------------------------------------------------------


def question_problems(q: Question) -> list[str]:
    """What keeps a question from being asked (empty when it is fine)."""
    problems = []
    ids = [c.get("id") for c in q.choices or []]
    correct = list(q.correct or [])
    if not (q.prompt or "").strip():
        problems.append(str(_l("a question has no text")))
    if q.kind in ("single", "multiple"):
        if len(ids) < 2:
            problems.append(str(_l("question “%(q)s” needs at least two choices", q=q.prompt[:40])))
        if not correct or not set(correct) <= set(ids):
            problems.append(str(_l("question “%(q)s” has no correct choice", q=q.prompt[:40])))
        if q.kind == "single" and len(correct) != 1:
            problems.append(str(_l("question “%(q)s” must have exactly one correct choice", q=q.prompt[:40])))
    elif q.kind == "truefalse":
        if correct not in (["true"], ["false"]):
            problems.append(str(_l("question “%(q)s” needs its answer (true or false)", q=q.prompt[:40])))
    elif q.kind == "fillin":
        if not [a for a in correct if str(a).strip()]:
            problems.append(str(_l("question “%(q)s” needs at least one accepted answer", q=q.prompt[:40])))
    return problems


def lesson_problems(lesson: Lesson) -> list[str]:
    name = lesson.title_zh
    problems = []
    if lesson.kind == "text" and not lesson.body_html.strip():
        problems.append(str(_l("text lesson “%(name)s” is empty", name=name)))
    elif lesson.kind == "video" and not (lesson.video_url or lesson.video_file):
        problems.append(str(_l("video lesson “%(name)s” has no video", name=name)))
    elif lesson.kind == "document" and not lesson.document_file:
        problems.append(str(_l("document lesson “%(name)s” has no document", name=name)))
    elif lesson.kind == "external" and not lesson.launch_url:
        problems.append(str(_l("external activity “%(name)s” has no launch URL", name=name)))
    elif lesson.kind == "practical" and not lesson.body_html.strip():
        problems.append(str(_l("practical task “%(name)s” has no instructions", name=name)))
    elif lesson.kind == "quiz":
        questions = lesson.live_questions
        if not questions:
            problems.append(str(_l("quiz “%(name)s” has no question", name=name)))
        elif sum(q.points for q in questions) <= 0:
            problems.append(str(_l("quiz “%(name)s” is worth no points", name=name)))
        for q in questions:
            problems.extend(question_problems(q))
    return problems


def publish_problems(course: Course) -> list[str]:
    """Everything that keeps ``course`` from being published (empty when it may be)."""
    problems = []
    lessons = course.live_lessons
    if not lessons:
        problems.append(str(_l("the course has no lesson")))
    elif not any(lesson.required for lesson in lessons):
        problems.append(str(_l("the course has no required lesson")))
    for module in course.live_modules:
        if not module.live_lessons:
            problems.append(str(_l("module “%(name)s” has no lesson", name=module.title_zh)))
    for lesson in lessons:
        problems.extend(lesson_problems(lesson))
    if course.subsidised and not course.subsidy_catalogue_number:
        problems.append(str(_l("a subsidised course needs its catalogue number")))
    return problems


def publish(user, course: Course) -> Course:
    """Publish (or re-publish) ``course`` after validating it; bumps ``version`` on re-publication."""
    _require_editor(user, course)
    problems = publish_problems(course)
    if problems:
        err = CourseError(_l("The course cannot be published: %(problems)s.", problems="; ".join(problems)),
                          status=409, code="not_publishable")
        err.problems = problems
        raise err
    if course.published_at is not None:
        course.version += 1
    else:
        course.published_at = utcnow()
    course.status = "published"
    _touch(course)
    db.session.flush()
    return course


def archive(user, course: Course) -> Course:
    """Withdraw ``course`` from the catalogue; enrolled learners keep their records."""
    _require_editor(user, course)
    if course.status == "draft":
        raise CourseError(_l("A draft course cannot be archived; it was never published."), status=409,
                          code="conflict")
    course.status = "archived"
    _touch(course)
    db.session.flush()
    return course


# --- modules ---------------------------------------------------------------------------------


def _next_position(rows) -> int:
    return max((r.position for r in rows), default=-1) + 1


def add_module(user, course: Course, title_zh: str, title_en: str = "") -> Module:
    _require_editor(user, course)
    if not (title_zh or "").strip():
        raise CourseError(_l("The Chinese title is required."), "title_zh")
    module = Module(course=course, title_zh=title_zh.strip()[:200], title_en=(title_en or "").strip()[:200],
                    position=_next_position(course.modules))
    db.session.add(module)
    _touch(course)
    db.session.flush()
    return module


def update_module(user, module: Module, title_zh: str, title_en: str = "") -> Module:
    _require_editor(user, module.course)
    if not (title_zh or "").strip():
        raise CourseError(_l("The Chinese title is required."), "title_zh")
    module.title_zh, module.title_en = title_zh.strip()[:200], (title_en or "").strip()[:200]
    _touch(module.course)
    db.session.flush()
    return module


def lesson_has_records(lesson: Lesson) -> bool:
    """Whether any learner progressed in, attempted or submitted work for ``lesson``."""
    for model in (LessonProgress, QuizAttempt, Submission):
        if db.session.scalar(sa.select(sa.exists().where(model.lesson_id == lesson.id))):
            return True
    return False


def question_has_records(question: Question) -> bool:
    return bool(db.session.scalar(sa.select(sa.exists().where(QuizAnswer.question_id == question.id))))


def _check_still_publishable(course: Course) -> None:
    if course.status == "published":
        problems = publish_problems(course)
        if problems:
            raise CourseError(_l("This change would leave the published course broken: %(problems)s.",
                                 problems="; ".join(problems)), status=409, code="conflict")


def remove_module(user, module: Module) -> str:
    """Delete ``module`` (or archive it when learners have records in it); returns what was done."""
    course = module.course
    _require_editor(user, course)
    if any(lesson_has_records(lesson) for lesson in module.lessons):
        module.archived_at = utcnow()
        done = "archived"
    else:
        db.session.delete(module)
        done = "deleted"
    db.session.flush()
    db.session.expire(course, ["modules"])
    _check_still_publishable(course)
    _touch(course)
    return done


# --- lessons ---------------------------------------------------------------------------------


def _clean_lesson_fields(fields: dict, kind: str) -> dict:
    out = {}
    for key, value in fields.items():
        if key not in LESSON_FIELDS:
            raise CourseError(f"unknown lesson field {key}")
        out[key] = value
    if "title_zh" in out:
        out["title_zh"] = (out["title_zh"] or "").strip()[:200]
        if not out["title_zh"]:
            raise CourseError(_l("The Chinese title is required."), "title_zh")
    if "title_en" in out:
        out["title_en"] = (out["title_en"] or "").strip()[:200]
    if "body_format" in out and out["body_format"] not in BODY_FORMATS:
        raise CourseError(_l("Unknown text format."), "body_format")
    for key in ("video_url", "launch_url"):
        if key in out:
            out[key] = (out[key] or "").strip()
            if out[key] and not URL_RE.match(out[key]):
                raise CourseError(_l("Enter an http:// or https:// address."), key)
    for key, low, high in (("duration_seconds", 0, 100 * 3600), ("pass_mark", 0, 100), ("max_attempts", 0, 1000),
                           ("time_limit_seconds", 0, 24 * 3600)):
        if key in out:
            try:
                out[key] = int(out[key] or 0)
            except (TypeError, ValueError):
                raise CourseError(_l("Enter a whole number."), key) from None
            if not low <= out[key] <= high:
                raise CourseError(_l("Enter a number from %(low)s to %(high)s.", low=low, high=high), key)
    if "task_max_score" in out:
        try:
            out["task_max_score"] = float(out["task_max_score"] or 0)
        except (TypeError, ValueError):
            raise CourseError(_l("Enter a number."), "task_max_score") from None
        if not 0 < out["task_max_score"] <= 1000:
            raise CourseError(_l("Enter a number from %(low)s to %(high)s.", low=1, high=1000), "task_max_score")
    for key in ("required", "shuffle"):
        if key in out:
            out[key] = bool(out[key])
    return out


def _check_file_key(course: Course, key: str, category: str, field: str) -> None:
    if key and not any(f.storage_key == key and f.category == category for f in course.files):
        raise CourseError(_l("Choose a file uploaded for this course."), field)


def add_lesson(user, module: Module, kind: str, **fields) -> Lesson:
    course = module.course
    _require_editor(user, course)
    if kind not in LESSON_KINDS:
        raise CourseError(_l("Unknown lesson kind."), "kind")
    values = _clean_lesson_fields({"title_zh": fields.pop("title_zh", ""), **fields}, kind)
    _check_file_key(course, values.get("video_file", ""), "video", "video_file")
    _check_file_key(course, values.get("document_file", ""), "document", "document_file")
    values.setdefault("body_format", "markdown")
    values.setdefault("body_source", "")
    lesson = Lesson(module=module, course=course, kind=kind, position=_next_position(module.lessons), **values)
    lesson.body_html = content.render(lesson.body_source, lesson.body_format)
    db.session.add(lesson)
    _touch(course)
    db.session.flush()
    return lesson


def update_lesson(user, lesson: Lesson, **fields) -> Lesson:
    course = lesson.course
    _require_editor(user, course)
    values = _clean_lesson_fields(fields, lesson.kind)
    _check_file_key(course, values.get("video_file", ""), "video", "video_file")
    _check_file_key(course, values.get("document_file", ""), "document", "document_file")
    for key, value in values.items():
        setattr(lesson, key, value)
    lesson.body_html = content.render(lesson.body_source, lesson.body_format)
    lesson.updated_at = utcnow()
    db.session.flush()
    _check_still_publishable(course)
    _touch(course)
    return lesson


def remove_lesson(user, lesson: Lesson) -> str:
    """Delete ``lesson`` (or archive it when learners have records in it); returns what was done."""
    course, module = lesson.course, lesson.module
    _require_editor(user, course)
    if lesson_has_records(lesson):
        lesson.archived_at = utcnow()
        done = "archived"
    else:
        db.session.delete(lesson)
        done = "deleted"
    db.session.flush()
    db.session.expire(module, ["lessons"])
    _check_still_publishable(course)
    _touch(course)
    return done


# --- questions -------------------------------------------------------------------------------


def new_choice_id() -> str:
    return "c" + secrets.token_hex(4)


def parse_choice_lines(text: str) -> list[tuple[str, str, bool]]:
    """Choices typed one per line, ``*`` in front of correct ones, ``中文 | English``.

    Returns ``[(text_zh, text_en, is_correct), ...]``.
    """
    out = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        correct = line.startswith("*")
        if correct:
            line = line[1:].strip()
        zh, _sep, en = line.partition(" | ")
        if zh.strip():
            out.append((zh.strip()[:500], en.strip()[:500], correct))
    return out


def choice_lines(question: Question) -> str:
    """The inverse of :func:`parse_choice_lines`, to fill the edit form."""
    correct = set(question.correct or [])
    lines = []
    for c in question.choices or []:
        line = ("* " if c["id"] in correct else "") + c.get("text", "")
        if c.get("text_en"):
            line += " | " + c["text_en"]
        lines.append(line)
    return "\n".join(lines)


def _merge_choices(old: list[dict], parsed: list[tuple[str, str, bool]]) -> tuple[list[dict], list[str]]:
    """New choices, keeping the ids of choices whose text (or place) is unchanged."""
    by_text = {}
    for c in old:
        by_text.setdefault(c.get("text"), c["id"])
    new_texts = {p[0] for p in parsed}
    used: set[str] = set()
    choices, correct = [], []
    for i, (zh, en, is_correct) in enumerate(parsed):
        cid = by_text.get(zh)
        if cid is None or cid in used:
            # an edited text keeps the id of the choice that stood in its place
            if i < len(old) and old[i]["id"] not in used and old[i].get("text") not in new_texts:
                cid = old[i]["id"]
            else:
                cid = new_choice_id()
        used.add(cid)
        choice = {"id": cid, "text": zh}
        if en:
            choice["text_en"] = en
        choices.append(choice)
        if is_correct:
            correct.append(cid)
    return choices, correct


def _question_values(kind: str, *, prompt: str, prompt_en: str = "", choices_text: str = "",
                     truefalse_answer: str | None = None, accepted_answers: str = "", case_sensitive: bool = False,
                     points=1, explanation: str = "", old_choices=None) -> dict:
    if kind not in QUESTION_KINDS:
        raise CourseError(_l("Unknown question kind."), "kind")
    prompt = (prompt or "").strip()
    if not prompt:
        raise CourseError(_l("The question text is required."), "prompt")
    try:
        points = float(points)
    except (TypeError, ValueError):
        raise CourseError(_l("Enter a number."), "points") from None
    if not 0 < points <= 1000:
        raise CourseError(_l("Enter a number from %(low)s to %(high)s.", low=0.5, high=1000), "points")
    values = {"kind": kind, "prompt": prompt, "prompt_en": (prompt_en or "").strip(), "points": points,
              "explanation": (explanation or "").strip(), "case_sensitive": bool(case_sensitive)}
    if kind in ("single", "multiple"):
        parsed = parse_choice_lines(choices_text)
        if len(parsed) < 2:
            raise CourseError(_l("Give at least two choices, one per line."), "choices_text")
        if len({p[0] for p in parsed}) != len(parsed):
            raise CourseError(_l("Two choices have the same text."), "choices_text")
        choices, correct = _merge_choices(old_choices or [], parsed)
        if not correct:
            raise CourseError(_l("Mark the correct choice with * at the start of its line."), "choices_text")
        if kind == "single" and len(correct) != 1:
            raise CourseError(_l("A single-choice question has exactly one correct choice."), "choices_text")
        values.update(choices=choices, correct=correct)
    elif kind == "truefalse":
        if truefalse_answer not in ("true", "false"):
            raise CourseError(_l("Choose the correct answer."), "truefalse_answer")
        values.update(choices=[{"id": "true", "text": "正确", "text_en": "True"},
                               {"id": "false", "text": "错误", "text_en": "False"}],
                      correct=[truefalse_answer])
    else:
        answers = [a.strip()[:200] for a in (accepted_answers or "").splitlines() if a.strip()]
        if not answers:
            raise CourseError(_l("Give at least one accepted answer, one per line."), "accepted_answers")
        values.update(choices=[], correct=answers)
    return values


def add_question(user, lesson: Lesson, kind: str, **fields) -> Question:
    _require_editor(user, lesson.course)
    if lesson.kind != "quiz":
        raise CourseError(_l("Questions belong to quiz lessons."), status=409, code="conflict")
    values = _question_values(kind, **fields)
    question = Question(lesson=lesson, position=_next_position(lesson.questions), **values)
    db.session.add(question)
    _touch(lesson.course)
    db.session.flush()
    return question


def update_question(user, question: Question, **fields) -> Question:
    """Edit a question. Stored answers keep their response and points; choice ids stay stable."""
    course = question.lesson.course
    _require_editor(user, course)
    kind = fields.pop("kind", question.kind)
    if kind != question.kind and question_has_records(question):
        raise CourseError(_l("Learners already answered this question, so its kind cannot change; "
                             "add a new question instead."), "kind", status=409, code="conflict")
    values = _question_values(kind, old_choices=question.choices, **fields)
    for key, value in values.items():
        setattr(question, key, value)
    db.session.flush()
    _check_still_publishable(course)
    _touch(course)
    return question


def remove_question(user, question: Question) -> str:
    lesson = question.lesson
    _require_editor(user, lesson.course)
    if question_has_records(question):
        question.archived_at = utcnow()
        done = "archived"
    else:
        db.session.delete(question)
        done = "deleted"
    db.session.flush()
    db.session.expire(lesson, ["questions"])
    _check_still_publishable(lesson.course)
    _touch(lesson.course)
    return done


# --- ordering --------------------------------------------------------------------------------


def move(user, item, direction: str) -> None:
    """Move a module, lesson or question one place ``up`` or ``down`` among its live siblings."""
    if isinstance(item, Module):
        course, siblings = item.course, item.course.live_modules
    elif isinstance(item, Lesson):
        course, siblings = item.course, item.module.live_lessons
    elif isinstance(item, Question):
        course, siblings = item.lesson.course, item.lesson.live_questions
    else:  # pragma: no cover - programming error
        raise TypeError(item)
    _require_editor(user, course)
    if direction not in ("up", "down"):
        raise CourseError(_l("Unknown direction."))
    i = siblings.index(item)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(siblings):
        siblings[i], siblings[j] = siblings[j], siblings[i]
    for pos, row in enumerate(siblings):
        row.position = pos
    _touch(course)
    db.session.flush()


def move_lesson_to_module(user, lesson: Lesson, module: Module) -> None:
    """Move a lesson into another module of the same course (at its end)."""
    _require_editor(user, lesson.course)
    if module.course_id != lesson.course_id or module.archived_at is not None:
        raise CourseError(_l("Choose a module of this course."), "module_id")
    if module.id == lesson.module_id:
        return
    old = lesson.module
    lesson.position = _next_position(module.lessons)
    lesson.module = module  # re-parenting, not an orphan: the lesson and its records stay
    db.session.flush()
    db.session.expire(old, ["lessons"])
    for pos, row in enumerate(old.live_lessons):
        row.position = pos
    db.session.flush()
    _check_still_publishable(lesson.course)
    _touch(lesson.course)
