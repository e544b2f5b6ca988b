"""The xAPI statements the courses plugin emits, built with ``tincan`` and recorded through
:func:`lms.xapi.recorder.record` in the same transaction as the change they describe.

Vocabulary, per learner event:

=====================================  ==============  =========================================
event                                  verb            object (activity type)
=====================================  ==============  =========================================
enrolment                              registered      course (course)
a lesson opened (new study session)    launched        lesson (lesson; quiz: assessment)
video starts playing in a session      initialized     lesson
text / document read                   experienced     lesson
video watched (every ~10 s report)     progressed      lesson; cmi5 progress extension (0-100),
                                                       ``result.duration`` = seconds played since
                                                       the previous report
practical task submitted               attempted       lesson; ``result.response`` = the text
quiz attempt started                   attempted       quiz lesson (assessment)
each question of a submitted attempt   answered        question (cmi.interaction)
quiz attempt graded                    passed/failed   quiz lesson; score scaled/raw/min/max,
                                                       ``result.duration`` = attempt time
practical task graded                  passed/failed   lesson; score, grader as instructor
lesson completed                       completed       lesson
course completed                       completed       course; ``result.duration`` = study time
=====================================  ==============  =========================================

Context: ``registration`` = the enrolment's registration; ``contextActivities.parent`` = the
module (for a lesson) or the quiz (for a question); ``grouping`` = the course (and the module for
a question); platform and language.

**Study time (学时)** is not added up here: the durations these statements carry (video seconds
played between two reports, a quiz attempt's time) are increments that the learning-record layer
counts by its one rule (:mod:`lms.records.study_time`); the ``completed`` statements repeat a total
and do not count. ``Enrolment.seconds_credited`` caches what that layer says for the enrolment's
registration.
"""
from __future__ import annotations

from tincan import (Activity, ActivityDefinition, Agent, Context, ContextActivities, Result, Score, Statement,
                    Verb)

from lms.records.durations import format_duration
from courses.delivery.grading import INTERACTION_TYPES
from lms.xapi import vocab

#: ``context.platform`` of every statement the platform emits.
PLATFORM = "职业技能培训平台"
#: ``context.language``.
LANGUAGE = "zh-CN"


def _vocab():
    return vocab


def _names(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en-US": en or zh}


def _verb(iri: str) -> Verb:
    return Verb(**_vocab().VERBS[iri])


def actor(user) -> Agent:
    from lms.xapi.recorder import actor_for

    return Agent(**{k if k != "objectType" else "object_type": v for k, v in actor_for(user).items()})


def course_activity(course) -> Activity:
    return Activity(id=course.activity_iri, definition=ActivityDefinition(
        name=_names(course.title_zh, course.title_en), type=_vocab().ACTIVITY_TYPE_COURSE))


def module_activity(module) -> Activity:
    return Activity(id=module.activity_iri, definition=ActivityDefinition(
        name=_names(module.title_zh, module.title_en), type=_vocab().ACTIVITY_TYPE_MODULE))


def lesson_activity(lesson) -> Activity:
    v = _vocab()
    kind = v.ACTIVITY_TYPE_ASSESSMENT if lesson.kind == "quiz" else v.ACTIVITY_TYPE_LESSON
    definition = ActivityDefinition(name=_names(lesson.title_zh, lesson.title_en), type=kind)
    if lesson.kind == "external" and lesson.launch_url:
        definition.more_info = lesson.launch_url
    return Activity(id=lesson.activity_iri, definition=definition)


def question_activity(question, key) -> Activity:
    """The cmi.interaction activity of a question, with choices and correct responses."""
    from courses.delivery.grading import correct_responses_pattern

    prompt_en = question.prompt_en or question.prompt
    definition = ActivityDefinition(
        name=_names(_short(question.prompt), _short(prompt_en)),
        description=_names(question.prompt, prompt_en),
        type=_vocab().ACTIVITY_TYPE_INTERACTION,
        interaction_type=INTERACTION_TYPES[question.kind],
        correct_responses_pattern=correct_responses_pattern(key),
    )
    if question.kind in ("single", "multiple"):
        definition.choices = [{"id": c["id"], "description": _names(c.get("text", ""), c.get("text_en", ""))}
                              for c in question.choices]
    return Activity(id=question.activity_iri, definition=definition)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _context(enrolment, *, parent=None, grouping=(), instructor=None) -> Context:
    ctx = Context(registration=str(enrolment.registration), platform=PLATFORM, language=LANGUAGE)
    acts = ContextActivities()
    if parent is not None:
        acts.parent = [parent]
    if grouping:
        acts.grouping = list(grouping)
    if parent is not None or grouping:
        ctx.context_activities = acts
    if instructor is not None:
        ctx.instructor = actor(instructor)
    return ctx


def _lesson_context(enrolment, lesson, **kw) -> Context:
    return _context(enrolment, parent=module_activity(lesson.module), grouping=[course_activity(lesson.course)], **kw)


def _statement(user, verb_iri, obj, context, result=None) -> Statement:
    from lms.core.db import utcnow

    st = Statement(actor=actor(user), verb=_verb(verb_iri), object=obj, context=context, timestamp=utcnow())
    if result is not None:
        st.result = result
    return st


def _record(statement: Statement) -> str:
    from lms.xapi.recorder import record

    return record(statement)


def record_all(items: list[Statement]) -> list[str]:
    """Record several statements in one batch (same transaction, all or none)."""
    from lms.xapi.recorder import record_many

    return record_many(items)


def _score(raw: float, maximum: float) -> Score:
    scaled = (raw / maximum) if maximum else 0.0
    return Score(scaled=round(min(max(scaled, 0.0), 1.0), 4), raw=raw, min=0.0, max=maximum)


# --- builders (return a tincan Statement) ------------------------------------------------------


def build_enrolled(enrolment) -> Statement:
    return _statement(enrolment.user, _vocab().VERB_REGISTERED, course_activity(enrolment.course),
                      _context(enrolment))


def build_lesson_event(enrolment, lesson, verb_iri: str, result: Result | None = None) -> Statement:
    return _statement(enrolment.user, verb_iri, lesson_activity(lesson), _lesson_context(enrolment, lesson), result)


def build_progressed(enrolment, lesson, percent: int, seconds: float) -> Statement:
    result = Result(duration=format_duration(seconds), extensions={_vocab().EXT_PROGRESS: int(percent)})
    return build_lesson_event(enrolment, lesson, _vocab().VERB_PROGRESSED, result)


def build_lesson_completed(enrolment, lesson, seconds: float | None = None) -> Statement:
    result = Result(completion=True, extensions={_vocab().EXT_PROGRESS: 100})
    if seconds is not None:
        result.duration = format_duration(seconds)
    return build_lesson_event(enrolment, lesson, _vocab().VERB_COMPLETED, result)


def build_answered(enrolment, lesson, question, key, graded) -> Statement:
    result = Result(response=graded.response, success=graded.correct,
                    score=_score(graded.points, float(question.points)))
    context = _context(enrolment, parent=lesson_activity(lesson),
                       grouping=[module_activity(lesson.module), course_activity(lesson.course)])
    return _statement(enrolment.user, _vocab().VERB_ANSWERED, question_activity(question, key), context, result)


def build_quiz_result(enrolment, lesson, attempt, seconds: float) -> Statement:
    v = _vocab()
    result = Result(score=_score(attempt.score or 0.0, attempt.max_score or 0.0), success=bool(attempt.passed),
                    completion=True, duration=format_duration(seconds))
    return build_lesson_event(enrolment, lesson, v.VERB_PASSED if attempt.passed else v.VERB_FAILED, result)


def build_practical_graded(enrolment, lesson, submission, grader) -> Statement:
    v = _vocab()
    result = Result(score=_score(submission.score or 0.0, submission.max_score or 0.0),
                    success=bool(submission.passed), completion=True)
    if submission.comment:
        result.extensions = {v.platform_iri("xapi", "extensions", "grader-comment"): submission.comment[:2000]}
    return _statement(enrolment.user, v.VERB_PASSED if submission.passed else v.VERB_FAILED,
                      lesson_activity(lesson), _lesson_context(enrolment, lesson, instructor=grader), result)


def build_course_completed(enrolment, seconds: float) -> Statement:
    result = Result(completion=True, duration=format_duration(seconds), extensions={_vocab().EXT_PROGRESS: 100})
    return _statement(enrolment.user, _vocab().VERB_COMPLETED, course_activity(enrolment.course),
                      _context(enrolment), result)


# --- record (build + record in the caller's transaction) ---------------------------------------


def enrolled(enrolment) -> str:
    """Record ``registered`` for a new enrolment. Called by the enrolment operation (flush only)."""
    return _record(build_enrolled(enrolment))


def lesson_event(enrolment, lesson, verb_iri: str, result: Result | None = None) -> str:
    return _record(build_lesson_event(enrolment, lesson, verb_iri, result))


def progressed(enrolment, lesson, percent: int, seconds: float) -> str:
    return _record(build_progressed(enrolment, lesson, percent, seconds))


def lesson_completed(enrolment, lesson, seconds: float | None = None) -> str:
    return _record(build_lesson_completed(enrolment, lesson, seconds))


def answered(enrolment, lesson, question, key, graded) -> str:
    return _record(build_answered(enrolment, lesson, question, key, graded))


def quiz_result(enrolment, lesson, attempt, seconds: float) -> str:
    return _record(build_quiz_result(enrolment, lesson, attempt, seconds))


def practical_submitted(enrolment, lesson, submission) -> str:
    result = Result(response=(submission.text or "")[:2000], completion=False)
    return _record(build_lesson_event(enrolment, lesson, _vocab().VERB_ATTEMPTED, result))


def practical_graded(enrolment, lesson, submission, grader) -> str:
    return _record(build_practical_graded(enrolment, lesson, submission, grader))


def course_completed(enrolment, seconds: float) -> str:
    return _record(build_course_completed(enrolment, seconds))
