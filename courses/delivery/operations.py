"""Delivery rules: studying lessons, quiz attempts, practical tasks, external activities.

Every function takes the acting user explicitly, checks that the user may do it, changes rows,
records the matching xAPI statements (same transaction) and only flushes; the caller commits.
Refusals raise :class:`DeliveryError` *before* anything is written, so a refused request
changes nothing.
"""
from __future__ import annotations
from lms.core.exceptions import DomainError

import base64
import dataclasses
import datetime as dt
import json
import os
import secrets
import uuid
from urllib.parse import urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from flask import current_app
from sqlalchemy.orm import joinedload, lazyload, load_only
from flask_babel import gettext as _

from courses.delivery import completion, grading, statements
from courses.models import (Course, Enrolment, Lesson, LessonProgress, Module, Question, QuizAnswer, QuizAttempt,
                            Submission)
from lms.core import extension_points as events
from lms.core.db import db, lock_row, utcnow
from lms.core.events import send_after_commit
from lms.xapi import vocab

#: A lesson opened after this long without activity in it starts a new study session (``launched``).
SESSION_GAP = dt.timedelta(minutes=30)
#: Seconds of grace after a quiz deadline (the form's own network time).
DEADLINE_GRACE_SECONDS = 5
#: Quiz time credited as study time is capped at the time limit, or at this without one.
MAX_CREDITED_ATTEMPT_SECONDS = 3600
#: Practical-task uploads: allowed extensions and the size limit per file.
SUBMISSION_EXTENSIONS = {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "jpg", "jpeg", "png", "gif",
                         "webp", "mp4", "zip"}
MAX_SUBMISSION_FILE_BYTES = 50 * 1024 * 1024
MAX_SUBMISSION_FILES = 5


class DeliveryError(DomainError):
    """A refused delivery action: HTTP ``status``, a machine ``code`` and a human ``message``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message, field, status=status, code=code)


# --- access ---------------------------------------------------------------------------------


def enrolment_for(user, course_id: int) -> Enrolment | None:
    """The user's enrolment in a course (active or completed), or ``None``."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalars(sa.select(Enrolment).where(
        Enrolment.user_id == user.id, Enrolment.course_id == course_id,
        Enrolment.status.in_(("active", "completed")))).first()


def studying(user, course: Course | None) -> Enrolment:
    """The enrolment that lets ``user`` study ``course`` now, or a refusal.

    Unpublished (draft or archived) courses do not exist for learners (404); a published course
    the user is not enrolled in is forbidden (403).
    """
    if course is None or course.status != "published":
        raise DeliveryError(404, "not_found", _("This course is not available."))
    enrolment = enrolment_for(user, course.id)
    if enrolment is None:
        raise DeliveryError(403, "not_enrolled", _("You are not enrolled in this course."))
    return enrolment


_cached: dict[str, object] = {}


def _lesson_options():
    # Lesson, module and course in one query; the course's teachers and levels load only if used.
    # Built once: loader options and statements are immutable, and building them costs CPU.
    options = _cached.get("lesson_options")
    if options is None:
        options = _cached["lesson_options"] = (
            joinedload(Lesson.module),
            joinedload(Lesson.course).options(lazyload(Course.teachers), lazyload(Course.level_rows)))
    return options


def _open_lesson_statement():
    """The player's hot path: the lesson (with module and course), the learner's enrolment and
    this lesson's progress row in one query (parameters ``lesson_id`` and ``user_id``)."""
    stmt = _cached.get("open_lesson")
    if stmt is None:
        stmt = _cached["open_lesson"] = (
            sa.select(Lesson, Enrolment, LessonProgress)
            .outerjoin(Enrolment, sa.and_(Enrolment.course_id == Lesson.course_id,
                                          Enrolment.user_id == sa.bindparam("user_id"),
                                          Enrolment.status.in_(("active", "completed"))))
            .outerjoin(LessonProgress, sa.and_(LessonProgress.enrolment_id == Enrolment.id,
                                               LessonProgress.lesson_id == Lesson.id))
            .where(Lesson.id == sa.bindparam("lesson_id")).options(*_lesson_options()))
    return stmt


def _check_live(lesson: Lesson | None) -> Lesson:
    if lesson is None or lesson.archived_at is not None or lesson.module.archived_at is not None:
        raise DeliveryError(404, "not_found", _("This lesson does not exist."))
    return lesson


def _live_lesson(lesson_id: int) -> Lesson:
    return _check_live(db.session.scalars(sa.select(Lesson).where(Lesson.id == lesson_id)
                                          .options(*_lesson_options())).first())


def lesson_for_study(user, lesson_id: int) -> tuple[Enrolment, Lesson]:
    """The lesson, if live, and the enrolment that lets ``user`` study it (else a refusal)."""
    lesson = _live_lesson(lesson_id)
    return studying(user, lesson.course), lesson


def progress_row(enrolment: Enrolment, lesson: Lesson, *, create: bool = True) -> LessonProgress | None:
    row = db.session.scalars(sa.select(LessonProgress).where(
        LessonProgress.enrolment_id == enrolment.id, LessonProgress.lesson_id == lesson.id)).first()
    if row is None and create:
        row = LessonProgress(enrolment=enrolment, lesson=lesson, status="not_started", progress=0.0,
                             seconds_spent=0, furthest_position=0.0, watched_seconds=0.0, media_duration=0.0)
        db.session.add(row)
    return row


def locked_progress_row(enrolment: Enrolment, lesson: Lesson) -> LessonProgress:
    """The progress row of ``enrolment`` and ``lesson``, created if missing, locked for this
    transaction (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers itself)."""
    query = (sa.select(LessonProgress).where(LessonProgress.enrolment_id == enrolment.id,
                                             LessonProgress.lesson_id == lesson.id)
             .with_for_update().execution_options(populate_existing=True))
    row = db.session.scalars(query).first()
    if row is None:
        try:
            with db.session.begin_nested():  # a parallel first report may insert it first
                db.session.add(LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id, status="not_started",
                                              progress=0.0, seconds_spent=0, furthest_position=0.0,
                                              watched_seconds=0.0, media_duration=0.0))
        except IntegrityError:
            pass
        row = db.session.scalars(query).one()
    return row


@dataclasses.dataclass(frozen=True)
class SyllabusEntry:
    """A lesson as the player's outline and next/previous links need it."""

    id: int
    module_id: int
    kind: str
    title_zh: str
    title_en: str
    required: bool

    def title(self, lang: str = "zh") -> str:
        return (self.title_en or self.title_zh) if lang.startswith("en") else self.title_zh


_syllabus_cache: dict[tuple, tuple[SyllabusEntry, ...]] = {}


def syllabus_entries(course: Course) -> tuple[SyllabusEntry, ...]:
    """The live lessons of ``course`` in order, cached per process until the course changes
    (authoring bumps ``Course.updated_at`` on every content edit)."""
    key = (course.id, course.updated_at, course.version)
    entries = _syllabus_cache.get(key)
    if entries is None:
        entries = tuple(SyllabusEntry(x.id, x.module_id, x.kind, x.title_zh, x.title_en, x.required)
                        for x in syllabus(course.id))
        if len(_syllabus_cache) > 500:
            _syllabus_cache.clear()
        _syllabus_cache[key] = entries
    return entries


def syllabus(course_id: int) -> list[Lesson]:
    """The live lessons of a course in syllabus order, in one query (the player's next/previous)."""
    return list(db.session.scalars(
        sa.select(Lesson).options(load_only(Lesson.id, Lesson.module_id, Lesson.course_id, Lesson.kind,
                                            Lesson.title_zh, Lesson.title_en, Lesson.required))
        .join(Module, Module.id == Lesson.module_id)
        .where(Lesson.course_id == course_id, Lesson.archived_at.is_(None), Module.archived_at.is_(None))
        .order_by(Module.position, Module.id, Lesson.position, Lesson.id)))


def progress_map(enrolment: Enrolment) -> dict[int, LessonProgress]:
    rows = db.session.scalars(sa.select(LessonProgress).where(LessonProgress.enrolment_id == enrolment.id))
    return {row.lesson_id: row for row in rows}


def completed_lesson_ids(enrolment: Enrolment) -> set[int]:
    return set(db.session.scalars(sa.select(LessonProgress.lesson_id).where(
        LessonProgress.enrolment_id == enrolment.id, LessonProgress.status == "completed")))


# --- lessons --------------------------------------------------------------------------------


def _player_rows(user, lesson_id: int) -> tuple[Enrolment, Lesson, LessonProgress | None]:
    if not getattr(user, "is_authenticated", False):
        studying(user, _live_lesson(lesson_id).course)  # raises the refusal
    found = db.session.execute(_open_lesson_statement(), {"lesson_id": lesson_id, "user_id": user.id}).first()
    lesson = _check_live(found[0] if found is not None else None)
    enrolment, row = found[1], found[2]
    if lesson.course.status != "published" or enrolment is None:
        studying(user, lesson.course)  # raises the refusal (unpublished: 404, not enrolled: 403)
    return enrolment, lesson, row


def lesson_for_player(user, lesson_id: int) -> tuple[Enrolment, Lesson, LessonProgress]:
    """What the lesson page shows, read only: a GET changes nothing and records no statement (a
    cross-site link must not complete lessons). The page then POSTs :func:`open_lesson`."""
    enrolment, lesson, row = _player_rows(user, lesson_id)
    if row is None:  # not in the session: nothing is written
        row = LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id, status="not_started", progress=0.0,
                             seconds_spent=0, furthest_position=0.0, watched_seconds=0.0, media_duration=0.0,
                             resume_position=0.0)
    return enrolment, lesson, row


def open_lesson(user, lesson_id: int, *, now: dt.datetime | None = None,
                read: bool = True) -> tuple[Enrolment, Lesson, LessonProgress]:
    """The learner opens a lesson (a POST from the player): remember it for resuming; a new
    study session records ``launched``. With ``read`` (the learner's explicit "mark as read"),
    text and document lessons are read (``experienced``) and completed.

    Opening a lesson again within a session changes nothing (the caller need not commit:
    ``row.changed`` is false).
    """
    now = now or utcnow()
    enrolment, lesson, row = _player_rows(user, lesson_id)
    if row is None:
        row = progress_row(enrolment, lesson)
    changed = row.id is None
    if enrolment.last_lesson_id != lesson.id:
        enrolment.last_lesson_id = lesson.id
        changed = True
    new_session = row.started_at is None or row.updated_at is None or now - row.updated_at > SESSION_GAP
    if row.started_at is None:
        row.started_at = now
    if row.status == "not_started":
        row.status = "in_progress"
        changed = True
    if new_session:
        changed = True
        row.updated_at = now
        if lesson.kind != "external":  # external content is launched by its own launch action
            statements.lesson_event(enrolment, lesson, vocab.VERB_LAUNCHED)
    if read and lesson.kind in completion.COMPLETED_ON_VIEW and row.status != "completed":
        statements.lesson_event(enrolment, lesson, vocab.VERB_EXPERIENCED)
        complete_lesson(enrolment, lesson, row, now=now)
        changed = True
    if changed:
        db.session.flush()
    row.changed = changed
    return enrolment, lesson, row


def complete_lesson(enrolment: Enrolment, lesson: Lesson, row: LessonProgress, *, now: dt.datetime | None = None,
                    emit: bool = True) -> None:
    """Mark a lesson completed (once) and re-apply the course completion rule.

    ``emit=False`` when the ``completed`` statement came from the content itself (external activities).
    """
    now = now or utcnow()
    if row.status == "completed":
        return
    row.status = "completed"
    row.progress = 1.0
    row.completed_at = now
    row.updated_at = now
    if emit:
        statements.lesson_completed(enrolment, lesson, row.seconds_spent or None)
    db.session.flush()
    send_after_commit(events.lesson_completed, enrolment, lesson_id=lesson.id)
    update_course_progress(enrolment, now=now)


def update_course_progress(enrolment: Enrolment, *, now: dt.datetime | None = None) -> None:
    """Recompute the share of required lessons done; complete the course when all are.

    A completed enrolment stays completed when a teacher later adds lessons: a learner's result
    is never taken back by an edit.
    """
    course = enrolment.course
    required = [lesson.id for lesson in course.live_lessons if lesson.required]
    done = completed_lesson_ids(enrolment)
    share = completion.course_progress(required, done) / 100
    if enrolment.completed_at is None or share > enrolment.progress:
        enrolment.progress = share
    if enrolment.completed_at is None and completion.course_completed(required, done):
        enrolment.completed_at = now or utcnow()
        enrolment.status = "completed"
        enrolment.progress = 1.0
        statements.course_completed(enrolment, refresh_study_time(enrolment))
        send_after_commit(events.course_completed, enrolment)


def _credit(enrolment: Enrolment, row: LessonProgress | None, seconds: float) -> int:
    """Whole seconds of learning the platform measured for one statement's ``result.duration``;
    kept per lesson for the teacher's view. The enrolment's study time is not added up here: it is
    read from the learning-record layer (:func:`refresh_study_time`) once the statement is recorded."""
    whole = int(round(seconds))
    if row is not None:
        row.seconds_spent = (row.seconds_spent or 0) + whole
    return whole


def refresh_study_time(enrolment: Enrolment) -> int:
    """Set ``Enrolment.seconds_credited`` from :mod:`lms.records.study_time` (the one rule), for
    the statements recorded so far in this transaction included; returns it."""
    from lms.records.study_time import seconds_of_user

    db.session.flush()
    enrolment.seconds_credited = int(seconds_of_user(enrolment.user, registration=enrolment.registration))
    return enrolment.seconds_credited


def report_media(user, lesson_id: int, *, position, watched, duration=None, event: str = "progress",
                 now: dt.datetime | None = None) -> dict:
    """Fold a video player report in: ``position`` (s), ``watched`` (seconds played since the last
    report), ``duration`` (s), ``event`` (``start``, ``progress``, ``pause``, ``ended``).

    Records ``initialized`` at the start of playback, ``progressed`` (progress percent and the
    seconds credited as duration) when time was played, and completes the lesson at 90%.
    """
    now = now or utcnow()
    enrolment, lesson = lesson_for_study(user, lesson_id)
    if lesson.kind != "video":
        raise DeliveryError(400, "not_a_video", _("This lesson has no video."))
    if event not in ("start", "progress", "pause", "ended"):
        raise DeliveryError(400, "bad_event", _("Unknown player event."))
    # One report at a time per learner and lesson: parallel reports would each see the same
    # "seconds since the last report" and be credited for the same wall-clock window.
    row = locked_progress_row(enrolment, lesson)
    authored = float(lesson.duration_seconds or 0)
    state = completion.WatchState(furthest=row.furthest_position or 0.0, watched=row.watched_seconds or 0.0,
                                  duration=authored or row.media_duration or 0.0)
    # wall-clock time since the last change to this lesson's progress (a first report: none)
    since = (now - row.updated_at).total_seconds() if row.updated_at is not None else 0.0
    try:
        new_state, credited = completion.accept_watch_report(
            state, position=position, watched_delta=watched,
            duration=None if authored or duration in (None, "") else duration, seconds_since_last_report=since)
    except ValueError:
        raise DeliveryError(400, "bad_report", _("The player report is not valid.")) from None
    if row.started_at is None:
        row.started_at = now
    if row.status == "not_started":
        row.status = "in_progress"
    row.furthest_position = new_state.furthest
    row.watched_seconds = new_state.watched
    row.media_duration = new_state.duration
    row.resume_position = min(float(position), new_state.duration or float(position))
    row.updated_at = now
    percent = completion.video_progress(new_state)
    if row.status != "completed":
        row.progress = percent / 100
    if event == "start":
        statements.lesson_event(enrolment, lesson, vocab.VERB_INITIALIZED)
    if credited >= 0.5:
        statements.progressed(enrolment, lesson, percent, _credit(enrolment, row, credited))
        refresh_study_time(enrolment)
    if row.status != "completed" and completion.video_completed(new_state):
        complete_lesson(enrolment, lesson, row, now=now)
    db.session.flush()
    return {"progress": percent, "completed": row.status == "completed", "credited_seconds": round(credited, 2),
            "watched_seconds": round(row.watched_seconds, 2), "furthest_position": round(row.furthest_position, 2)}


# --- quizzes --------------------------------------------------------------------------------


def question_key(question: Question) -> grading.QuestionKey:
    """How the grader sees a question (its current version)."""
    correct = [str(c) for c in (question.correct or [])]
    if question.kind == "truefalse":
        return grading.QuestionKey(question.id, "truefalse", float(question.points),
                                   correct_bool=bool(correct) and correct[0].lower() == "true")
    if question.kind == "fillin":
        return grading.QuestionKey(question.id, "fillin", float(question.points), accepted_answers=tuple(correct),
                                   case_sensitive=bool(question.case_sensitive))
    return grading.QuestionKey(question.id, question.kind, float(question.points),
                               choice_ids=tuple(str(c["id"]) for c in question.choices or []),
                               correct_choice_ids=frozenset(correct))


def attempts_of(enrolment: Enrolment, lesson: Lesson) -> list[QuizAttempt]:
    return list(db.session.scalars(sa.select(QuizAttempt).where(
        QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.lesson_id == lesson.id).order_by(QuizAttempt.number)))


def _expired(attempt: QuizAttempt, now: dt.datetime) -> bool:
    return (attempt.submitted_at is None and attempt.deadline is not None
            and now > attempt.deadline + dt.timedelta(seconds=DEADLINE_GRACE_SECONDS))


def close_expired_attempts(enrolment: Enrolment, lesson: Lesson, *, now: dt.datetime | None = None) -> None:
    """Attempts left open past their deadline are graded as submitted empty (failed) at the deadline."""
    now = now or utcnow()
    for attempt in attempts_of(enrolment, lesson):
        if _expired(attempt, now):
            _grade_and_store(enrolment, lesson, attempt, {}, attempt.deadline)


def start_attempt(user, lesson_id: int, *, now: dt.datetime | None = None) -> QuizAttempt:
    """Start an attempt (or return the one in progress); refused past the attempt limit."""
    now = now or utcnow()
    enrolment, lesson = lesson_for_study(user, lesson_id)
    if lesson.kind != "quiz":
        raise DeliveryError(400, "not_a_quiz", _("This lesson is not a quiz."))
    questions = lesson.live_questions
    if not questions:
        raise DeliveryError(409, "empty_quiz", _("This quiz has no questions yet."))
    # How many attempts there are and how many are open, without loading them all (a learner may
    # have many); the open ones (rare: a resumed or expired attempt) are loaded only if there are any.
    mine = sa.and_(QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.lesson_id == lesson.id)
    count, open_count = db.session.execute(sa.select(
        sa.func.count(QuizAttempt.id),
        sa.func.count(QuizAttempt.id).filter(QuizAttempt.submitted_at.is_(None))).where(mine)).one()
    if open_count:
        attempts = attempts_of(enrolment, lesson)
        if any(_expired(a, now) for a in attempts):
            close_expired_attempts(enrolment, lesson, now=now)
            attempts = attempts_of(enrolment, lesson)
        for attempt in attempts:
            if attempt.submitted_at is None:
                return attempt
    if lesson.max_attempts and count >= lesson.max_attempts:
        raise DeliveryError(409, "no_attempts_left",
                            _("You have used all %(n)s attempts at this quiz.", n=lesson.max_attempts))
    order = [q.id for q in questions]
    choice_order = {}
    if lesson.shuffle:
        seed = secrets.randbits(64)
        order = grading.shuffled(order, seed)
        for q in questions:
            if q.kind in ("single", "multiple"):
                choice_order[str(q.id)] = grading.shuffled([str(c["id"]) for c in q.choices or []], seed + q.id)
    attempt = QuizAttempt(enrolment=enrolment, lesson=lesson, number=count + 1, started_at=now,
                          deadline=(now + dt.timedelta(seconds=lesson.time_limit_seconds)
                                    if lesson.time_limit_seconds else None),
                          question_order=order, choice_order=choice_order, pass_mark=lesson.pass_mark,
                          max_score=float(sum(q.points for q in questions)))
    db.session.add(attempt)
    row = progress_row(enrolment, lesson)
    if row.status == "not_started":
        row.status = "in_progress"
        row.started_at = row.started_at or now
    statements.lesson_event(enrolment, lesson, vocab.VERB_ATTEMPTED)
    db.session.flush()
    return attempt


def attempt_for(user, attempt_id: int) -> QuizAttempt:
    """The user's own attempt; anybody else's is 404 (its existence is not revealed)."""
    # the attempt with its enrolment, lesson, module and course in one query
    attempt = db.session.scalars(sa.select(QuizAttempt).where(QuizAttempt.id == attempt_id).options(
        joinedload(QuizAttempt.enrolment), joinedload(QuizAttempt.lesson).options(*_lesson_options()))).first()
    if attempt is None or not getattr(user, "is_authenticated", False) or attempt.enrolment.user_id != user.id:
        raise DeliveryError(404, "not_found", _("This attempt does not exist."))
    return attempt


def attempt_enrolment(user, attempt: QuizAttempt) -> Enrolment:
    """``studying(user, attempt.lesson.course)`` without a query when the attempt's own enrolment
    (loaded with it, the user's: see :func:`attempt_for`) is the one that lets the user study."""
    course, enrolment = attempt.lesson.course, attempt.enrolment
    if (course.status != "published" or enrolment.course_id != course.id
            or enrolment.status not in ("active", "completed")):
        return studying(user, course)  # the refusal (or the enrolment it finds)
    return enrolment


def attempt_questions(attempt: QuizAttempt) -> list[Question]:
    """The questions of an attempt in the order shown (questions archived since are left out)."""
    by_id = {q.id: q for q in attempt.lesson.questions if q.archived_at is None}
    return [by_id[qid] for qid in attempt.question_order if qid in by_id]


def ordered_choices(attempt: QuizAttempt, question: Question) -> list[dict]:
    choices = list(question.choices or [])
    order = (attempt.choice_order or {}).get(str(question.id))
    if order:
        rank = {cid: i for i, cid in enumerate(order)}
        choices.sort(key=lambda c: rank.get(str(c["id"]), len(rank)))
    return choices


def submit_attempt(user, attempt_id: int, responses: dict[str, list[str]], *,
                   now: dt.datetime | None = None) -> QuizAttempt:
    """Grade and store an attempt. ``responses`` maps ``q<question id>`` to the posted values.

    Refusals (nothing written): another learner's attempt (404), the course unpublished or the
    learner no longer enrolled (404/403), already submitted (409), past the deadline (409), a
    question not in the attempt or a choice that does not exist (400).
    """
    now = now or utcnow()
    attempt = attempt_for(user, attempt_id)
    lesson = attempt.lesson
    enrolment = attempt_enrolment(user, attempt)
    if enrolment.id != attempt.enrolment_id:
        raise DeliveryError(404, "not_found", _("This attempt does not exist."))
    if attempt.submitted_at is not None:
        raise DeliveryError(409, "already_submitted", _("This attempt has already been submitted."))
    if _expired(attempt, now):
        raise DeliveryError(409, "deadline_passed", _("The time for this attempt is up; answers can no longer be sent."))
    _grade_and_store(enrolment, lesson, attempt, responses, now)
    return attempt


def _parse_responses(attempt: QuizAttempt, questions: list[Question], responses: dict) -> dict[int, list[str]]:
    allowed = {q.id for q in questions}
    parsed: dict[int, list[str]] = {}
    for name, values in (responses or {}).items():
        if not name.startswith("q"):
            continue
        try:
            qid = int(name[1:])
        except ValueError:
            raise DeliveryError(400, "bad_response", _("The answers sent do not match this quiz.")) from None
        if qid not in allowed:
            raise DeliveryError(400, "bad_response", _("The answers sent do not match this quiz."))
        parsed[qid] = [str(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
    return parsed


def _grade_and_store(enrolment: Enrolment, lesson: Lesson, attempt: QuizAttempt, responses: dict,
                     at: dt.datetime) -> None:
    questions = attempt_questions(attempt)
    parsed = _parse_responses(attempt, questions, responses)
    graded = []
    keys = {}
    for q in questions:  # grade everything before writing anything
        keys[q.id] = question_key(q)
        try:
            graded.append(grading.grade(keys[q.id], parsed.get(q.id, [])))
        except grading.ResponseError:
            raise DeliveryError(400, "bad_response", _("An answer refers to a choice that does not exist.")) from None
    max_points = float(sum(q.points for q in questions))
    result = grading.score(graded, max_points, attempt.pass_mark)
    for q, g in zip(questions, graded):
        db.session.add(QuizAnswer(attempt=attempt, question_id=q.id, response=parsed.get(q.id, []),
                                  correct=g.correct, points=g.points, max_points=float(q.points), answered_at=at))
    attempt.submitted_at = at
    attempt.score = result.raw
    attempt.max_score = result.max
    attempt.scaled = result.scaled
    attempt.passed = result.passed
    limit = lesson.time_limit_seconds or MAX_CREDITED_ATTEMPT_SECONDS
    seconds = max(0.0, min((at - attempt.started_at).total_seconds(), float(limit)))
    row = progress_row(enrolment, lesson)
    # one "answered" per question, then "passed"/"failed": stored together (one LRS batch)
    statements.record_all([statements.build_answered(enrolment, lesson, q, keys[q.id], g)
                           for q, g in zip(questions, graded)]
                          + [statements.build_quiz_result(enrolment, lesson, attempt, _credit(enrolment, row, seconds))])
    refresh_study_time(enrolment)
    row.updated_at = at
    # the best submitted attempt, this one included (the query flushes it first)
    best = max(db.session.scalar(sa.select(sa.func.max(sa.func.coalesce(QuizAttempt.scaled, 0.0))).where(
        QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.lesson_id == lesson.id,
        QuizAttempt.submitted_at.is_not(None))) or 0.0, result.scaled)
    if row.status != "completed":
        row.progress = min(1.0, best)
    db.session.flush()
    if result.passed:
        complete_lesson(enrolment, lesson, row, now=at)


def quiz_summary(enrolment: Enrolment, lesson: Lesson, *, now: dt.datetime | None = None) -> dict:
    """What the quiz page shows: attempts, best score, attempts left, whether one is open."""
    now = now or utcnow()
    attempts = attempts_of(enrolment, lesson)
    submitted = [a for a in attempts if a.submitted_at is not None]
    open_attempt = next((a for a in attempts if a.submitted_at is None and not _expired(a, now)), None)
    left = None if not lesson.max_attempts else max(0, lesson.max_attempts - len(attempts))
    return {"attempts": attempts, "submitted": submitted, "open": open_attempt,
            "best": max(submitted, key=lambda a: a.scaled or 0.0) if submitted else None,
            "passed": any(a.passed for a in submitted), "left": left,
            "expired": [a for a in attempts if _expired(a, now)]}


# --- practical tasks ------------------------------------------------------------------------


def submissions_of(enrolment: Enrolment, lesson: Lesson) -> list[Submission]:
    return list(db.session.scalars(sa.select(Submission).where(
        Submission.enrolment_id == enrolment.id, Submission.lesson_id == lesson.id).order_by(Submission.number)))


def submit_practical(user, lesson_id: int, text: str, files=(), *, now: dt.datetime | None = None) -> Submission:
    """Hand in a practical task (text and files). A new submission is allowed when there is none
    yet or the last one was graded as not passed."""
    now = now or utcnow()
    enrolment, lesson = lesson_for_study(user, lesson_id)
    if lesson.kind != "practical":
        raise DeliveryError(400, "not_a_task", _("This lesson is not a practical task."))
    text = (text or "").strip()
    files = [f for f in files if f and getattr(f, "filename", "")]
    if not text and not files:
        raise DeliveryError(400, "empty_submission", _("Write something or attach a file."))
    if len(text) > 20000:
        raise DeliveryError(400, "too_long", _("The text is too long (at most 20000 characters)."))
    if len(files) > MAX_SUBMISSION_FILES:
        raise DeliveryError(400, "too_many_files", _("Attach at most %(n)s files.", n=MAX_SUBMISSION_FILES))
    # One hand-in at a time per learner and task (a double click, two tabs): the second waits for
    # the first and then sees it, before any file is written.
    row = locked_progress_row(enrolment, lesson)
    previous = submissions_of(enrolment, lesson)
    if previous and not (previous[-1].status == "graded" and previous[-1].passed is False):
        raise DeliveryError(409, "already_submitted", _("Your work has been handed in; wait for it to be graded."))
    checked = []
    for f in files:
        name = os.path.basename(f.filename.replace("\\", "/"))
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in SUBMISSION_EXTENSIONS:
            raise DeliveryError(400, "bad_file_type", _("Files of this type cannot be handed in: %(name)s", name=name))
        data = f.read(MAX_SUBMISSION_FILE_BYTES + 1)
        if len(data) > MAX_SUBMISSION_FILE_BYTES:
            raise DeliveryError(413, "file_too_large", _("The file %(name)s is too large.", name=name))
        checked.append((name, ext, data, f.mimetype or "application/octet-stream"))
    stored: list[dict] = []
    try:
        for name, ext, data, mimetype in checked:
            key = f"courses/submissions/{enrolment.registration}/{uuid.uuid4().hex}.{ext}"
            path = os.path.join(current_app.config["LMS_UPLOAD_DIR"], key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            stored.append({"storage_key": key, "name": name, "content_type": mimetype, "size": len(data)})
            with open(path, "wb") as fh:
                fh.write(data)
        with db.session.begin_nested():  # a parallel hand-in that got the number first: a 409
            submission = Submission(enrolment_id=enrolment.id, lesson_id=lesson.id, number=len(previous) + 1,
                                    text=text, files=stored, submitted_at=now, status="submitted")
            db.session.add(submission)
            db.session.flush()
        if row.status == "not_started":
            row.status = "in_progress"
            row.started_at = row.started_at or now
        row.updated_at = now
        statements.practical_submitted(enrolment, lesson, submission)
        db.session.flush()
    except BaseException as exc:
        # A refused hand-in leaves no file behind.
        for f in stored:
            try:
                os.remove(os.path.join(current_app.config["LMS_UPLOAD_DIR"], f["storage_key"]))
            except FileNotFoundError:
                pass
        if isinstance(exc, IntegrityError):
            raise DeliveryError(409, "already_submitted",
                                _("Your work has been handed in; wait for it to be graded.")) from None
        raise
    return submission


def grade_submission(grader, submission_id: int, *, score: float, passed: bool, comment: str = "",
                     now: dt.datetime | None = None) -> Submission:
    """A teacher (or mentor) grades a submission: score, verdict, comment. Recorded as passed or
    failed for the lesson, with the grader as instructor; a pass completes the lesson.

    Graded once: the submission's row is locked before the check, so of concurrent identical
    requests one grades and the others are refused (409); changing a grade is
    :func:`regrade_submission`. Nobody grades their own work.
    """
    return _grade(grader, submission_id, score=score, passed=passed, comment=comment, now=now, regrade=False)


def regrade_submission(grader, submission_id: int, *, score: float, passed: bool, comment: str = "",
                       now: dt.datetime | None = None) -> Submission:
    """Change the grade of a graded submission: an explicit action of its own, never the effect
    of grading twice. Recorded as a new passed or failed statement; a lesson once completed stays
    completed (a learner's result is not taken back)."""
    return _grade(grader, submission_id, score=score, passed=passed, comment=comment, now=now, regrade=True)


def _grade(grader, submission_id: int, *, score, passed, comment, now, regrade: bool) -> Submission:
    from courses.delivery.teaching import may_grade

    now = now or utcnow()
    submission = db.session.get(Submission, submission_id)
    if submission is None or not may_grade(grader, submission):
        raise DeliveryError(404, "not_found", _("This submission does not exist."))
    if submission.enrolment.user_id == grader.id:
        raise DeliveryError(403, "own_submission", _("You cannot grade your own work."))
    lock_row(submission)
    if submission.status == "graded" and not regrade:
        raise DeliveryError(409, "already_graded", _("This submission has already been graded."))
    if submission.status != "graded" and regrade:
        raise DeliveryError(409, "not_graded", _("This submission has not been graded yet."))
    lesson = submission.lesson
    maximum = float(lesson.task_max_score or 0)
    try:
        score = float(score)
    except (TypeError, ValueError):
        raise DeliveryError(400, "bad_score", _("The score must be a number.")) from None
    if not (0 <= score <= maximum):
        raise DeliveryError(400, "bad_score", _("The score must be between 0 and %(max)s.", max=maximum))
    submission.score = score
    submission.max_score = maximum
    submission.passed = bool(passed)
    submission.comment = (comment or "").strip()[:5000]
    submission.status = "graded"
    submission.graded_by_id = grader.id
    submission.graded_at = now
    enrolment = submission.enrolment
    statements.practical_graded(enrolment, lesson, submission, grader)
    row = progress_row(enrolment, lesson)
    row.updated_at = now
    db.session.flush()
    if submission.passed:
        complete_lesson(enrolment, lesson, row, now=now)
    return submission


# --- external activities --------------------------------------------------------------------


def launch_external(user, lesson_id: int, *, now: dt.datetime | None = None) -> str:
    """A cmi5-style launch: a short-lived LRS credential for this learner, registration and
    activity, passed on the launch URL with the endpoint, the actor and the activity id."""
    from lms.xapi.credentials import create_launch_credential, lrs_endpoint
    from lms.xapi.recorder import actor_for

    now = now or utcnow()
    enrolment, lesson = lesson_for_study(user, lesson_id)
    if lesson.kind != "external" or not lesson.launch_url:
        raise DeliveryError(400, "not_external", _("This lesson has no external activity to launch."))
    registration = str(enrolment.registration)
    key, secret = create_launch_credential(user, registration=registration, activity_iri=lesson.activity_iri)
    params = {
        "endpoint": lrs_endpoint(),
        "auth": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
        "actor": json.dumps(actor_for(user), ensure_ascii=False, separators=(",", ":")),
        "registration": registration,
        "activityId": lesson.activity_iri,
    }
    parts = urlsplit(lesson.launch_url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    row = progress_row(enrolment, lesson)
    if row.status == "not_started":
        row.status = "in_progress"
        row.started_at = row.started_at or now
    row.updated_at = now
    enrolment.last_lesson_id = lesson.id
    statements.lesson_event(enrolment, lesson, vocab.VERB_LAUNCHED)
    db.session.flush()
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def apply_external_statements(statement_ids: list[str]) -> int:
    """Statements stored by anyone else: ``completed``/``passed`` for an external lesson, in a
    learner's registration, from a source the trust policy allows to report completions,
    complete that lesson; the enrolment's study time is re-read from the learning-record layer
    (which counts their durations by its one rule). Returns how many statements were applied
    (the caller commits)."""
    from lms.records import trust
    from lms.records.identity import user_for_actor
    from lms.xapi.store import load_statements

    applied = 0
    prefix = vocab.platform_iri("lesson", "")
    touched: dict[int, Enrolment] = {}
    for st in load_statements(statement_ids):
        if st.voided or not st.object_id or not st.object_id.startswith(prefix) or not st.registration:
            continue
        if st.source == "platform":
            continue  # recorded by the platform itself: already applied where it was recorded
        try:
            lesson_uuid = uuid.UUID(st.object_id[len(prefix):])
            registration = uuid.UUID(str(st.registration))
        except ValueError:
            continue
        lesson = db.session.scalars(sa.select(Lesson).where(Lesson.uuid == lesson_uuid)).first()
        if lesson is None or lesson.kind != "external":
            continue
        enrolment = db.session.scalars(sa.select(Enrolment).where(Enrolment.registration == registration)).first()
        user = user_for_actor(st.actor)
        if enrolment is None or user is None or enrolment.user_id != user.id or enrolment.course_id != lesson.course_id:
            continue
        row = progress_row(enrolment, lesson)
        if row.started_at is None:
            row.started_at = st.timestamp
        if row.status == "not_started":
            row.status = "in_progress"
        touched[enrolment.id] = enrolment
        if (st.verb_id in (vocab.VERB_COMPLETED, vocab.VERB_PASSED) and row.status != "completed"
                and trust.allowed(st.source, "completion")):
            complete_lesson(enrolment, lesson, row, emit=False)
        applied += 1
    for enrolment in touched.values():
        refresh_study_time(enrolment)
    db.session.flush()
    return applied


# --- study time -----------------------------------------------------------------------------


def study_seconds_from_statements(enrolment: Enrolment) -> int:
    """Study time of an enrolment in whole seconds as the learning-record layer counts it (the one
    rule of :mod:`lms.records.study_time`); ``Enrolment.seconds_credited`` caches the same figure."""
    from lms.records.study_time import seconds_of_user

    return int(seconds_of_user(enrolment.user, registration=enrolment.registration))


def study_hours_of(enrolment: Enrolment):
    """Study hours (学时) of an enrolment, from its cached study seconds."""
    from lms.records.study_time import study_hours_of_seconds

    return study_hours_of_seconds(enrolment.seconds_credited or 0)
