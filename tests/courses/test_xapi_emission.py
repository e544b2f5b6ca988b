"""The statements delivery records: vocabulary, activity definitions, context, study time."""
import datetime as dt

from courses.delivery import operations as ops
from lms.records.durations import parse_duration
from lms.core.db import db, utcnow
from lms.xapi import vocab
from tests.courses.delivery_support import build_world, correct_form, statements_for, world, wrong_form  # noqa: F401


def _study(world, t0):
    text, video, quiz = world.lesson("text"), world.lesson("video"), world.lesson("quiz")
    ops.open_lesson(world.learner, text.id, now=t0)
    ops.open_lesson(world.learner, video.id, now=t0)
    ops.report_media(world.learner, video.id, position=0, watched=0, duration=100, event="start", now=t0)
    ops.report_media(world.learner, video.id, position=92, watched=92, duration=100, event="ended",
                     now=t0 + dt.timedelta(seconds=100))
    a1 = ops.start_attempt(world.learner, quiz.id, now=t0)
    ops.submit_attempt(world.learner, a1.id, wrong_form(world.questions), now=t0 + dt.timedelta(seconds=30))
    a2 = ops.start_attempt(world.learner, quiz.id, now=t0 + dt.timedelta(seconds=40))
    ops.submit_attempt(world.learner, a2.id, correct_form(world.questions), now=t0 + dt.timedelta(seconds=100))
    db.session.commit()


def test_enrolment_is_registered_in_its_registration(world):
    [st] = statements_for(world.learner, "registered")
    assert st.object_id == world.course.activity_iri
    assert st.registration == str(world.enrolment.registration)


def test_a_full_journey_emits_the_expected_statements(world):
    _study(world, utcnow())
    sts = statements_for(world.learner)
    verbs = [s.verb_id.rsplit("/", 1)[-1] for s in sts]
    for expected in ("registered", "launched", "experienced", "initialized", "progressed", "attempted", "answered",
                     "failed", "passed", "completed"):
        assert expected in verbs, expected
    assert verbs.count("answered") == 8
    assert all(s.registration == str(world.enrolment.registration) for s in sts)
    course_done = [s for s in sts if s.verb_id == vocab.VERB_COMPLETED and s.object_id == world.course.activity_iri]
    assert len(course_done) == 1
    assert parse_duration(course_done[0].result["duration"]) == world.enrolment.seconds_credited


def test_lesson_statements_carry_context_and_bilingual_definitions(world):
    _study(world, utcnow())
    video = world.lesson("video")
    [progressed, *_] = statements_for(world.learner, "progressed", video.activity_iri)
    full = progressed.full
    assert full["object"]["definition"]["name"] == {"zh-CN": "video课", "en-US": "video lesson"}
    assert full["object"]["definition"]["type"] == vocab.ACTIVITY_TYPE_LESSON
    ctx = full["context"]
    assert ctx["platform"] == "职业技能培训平台" and ctx["language"] == "zh-CN"
    assert ctx["contextActivities"]["parent"][0]["id"] == world.module.activity_iri
    assert ctx["contextActivities"]["grouping"][0]["id"] == world.course.activity_iri
    progress = full["result"]["extensions"][vocab.EXT_PROGRESS]
    assert isinstance(progress, int) and 0 <= progress <= 100
    assert parse_duration(full["result"]["duration"]) > 0


def test_answered_statements_are_cmi_interactions(world):
    _study(world, utcnow())
    single, multiple, tf, fill = world.questions
    [_wrong, right] = statements_for(world.learner, "answered", multiple.activity_iri)
    definition = right.full["object"]["definition"]
    assert definition["type"] == vocab.ACTIVITY_TYPE_INTERACTION
    assert definition["interactionType"] == "choice"
    assert {c["id"] for c in definition["choices"]} == {c["id"] for c in multiple.choices}
    assert all(set(c["description"]) == {"zh-CN", "en-US"} for c in definition["choices"])
    assert definition["correctResponsesPattern"] == ["[,]".join(c["id"] for c in multiple.choices if c["id"] in multiple.correct)]
    assert right.result["success"] is True and right.result["score"]["raw"] == 2
    assert right.result["response"] == definition["correctResponsesPattern"][0]
    assert _wrong.result["success"] is False
    ctx = right.full["context"]["contextActivities"]
    assert ctx["parent"][0]["id"] == world.lesson("quiz").activity_iri
    assert world.course.activity_iri in {a["id"] for a in ctx["grouping"]}
    tf_def = statements_for(world.learner, "answered", tf.activity_iri)[0].full["object"]["definition"]
    assert tf_def["interactionType"] == "true-false" and tf_def["correctResponsesPattern"] == ["false"]
    fill_def = statements_for(world.learner, "answered", fill.activity_iri)[0].full["object"]["definition"]
    assert fill_def["interactionType"] == "fill-in"


def test_quiz_results_carry_scores_and_durations(world):
    _study(world, utcnow())
    quiz = world.lesson("quiz")
    [failed] = statements_for(world.learner, "failed", quiz.activity_iri)
    [passed] = statements_for(world.learner, "passed", quiz.activity_iri)
    assert failed.result["score"] == {"scaled": 0.0, "raw": 0.0, "min": 0.0, "max": 5.0}
    assert passed.result["score"]["scaled"] == 1.0 and passed.result["success"] is True
    assert parse_duration(failed.result["duration"]) == 30 and parse_duration(passed.result["duration"]) == 60
    assert passed.full["object"]["definition"]["type"] == vocab.ACTIVITY_TYPE_ASSESSMENT


def test_study_time_is_the_sum_of_statement_durations(world):
    _study(world, utcnow())
    e = db.session.get(type(world.enrolment), world.enrolment.id)
    assert e.seconds_credited == 92 + 30 + 60
    assert ops.study_seconds_from_statements(e) == e.seconds_credited


def test_a_rolled_back_change_leaves_no_statement(world):
    ops.open_lesson(world.learner, world.lesson("text").id)
    db.session.rollback()
    assert statements_for(world.learner, "launched") == []
