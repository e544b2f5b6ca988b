"""The evidence engine: rules found through the index, evidence, unit and level state, voiding."""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db
from tests.competency.helpers import COMPLETED, PASSED, X, import_small, level, mbox, record, stmt, unit, void


def _state(learner_key, unit_row):
    from competency.models import UnitState

    return db.session.scalar(sa.select(UnitState).where(UnitState.learner_key == learner_key,
                                                        UnitState.unit_id == unit_row.id))


def test_statement_matching_an_activity_rule_covers_the_unit(app, create_user):
    from competency.models import Evidence, StateChange

    user = create_user(login="wirer@example.com")
    fw = import_small()
    record(stmt(mbox("wirer@example.com"), PASSED, X + "wiring", scaled=0.7, platform="Moodle"))
    u = unit(fw, 1, "1.1.1")
    state = _state(f"user:{user.id}", u)
    assert state is not None and state.covered and state.coverage == 1.0
    ev = db.session.scalars(sa.select(Evidence)).one()
    assert ev.user_id == user.id and ev.source == "Moodle"
    change = db.session.scalars(sa.select(StateChange).where(StateChange.subject == "unit")).one()
    assert change.evidence_id == ev.id and change.after["covered"] is True


def test_score_below_the_minimum_gives_no_evidence(app, create_user):
    from competency.models import Evidence

    create_user(login="low@example.com")
    import_small()
    record(stmt(mbox("low@example.com"), PASSED, X + "wiring", scaled=0.5))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0


def test_parent_rule_weights_add_up_over_distinct_rules_only(app, create_user):
    user = create_user(login="p@example.com")
    fw = import_small()
    u = unit(fw, 1, "1.1.2")
    record(stmt(mbox("p@example.com"), COMPLETED, X + "lesson-1", parent=X + "course-connect"))
    assert _state(f"user:{user.id}", u).coverage == 0.5
    record(stmt(mbox("p@example.com"), COMPLETED, X + "lesson-2", parent=X + "course-connect"))
    # the same rule met twice still counts once
    assert _state(f"user:{user.id}", u).coverage == 0.5


def test_and_group_needs_every_rule_and_or_path_is_an_alternative(app, create_user):
    user = create_user(login="g@example.com")
    fw = import_small()
    u = unit(fw, 1, "2.1.1")
    key = f"user:{user.id}"
    record(stmt(mbox("g@example.com"), COMPLETED, X + "laws-a"))
    assert _state(key, u).coverage == 0.5 and not _state(key, u).covered
    record(stmt(mbox("g@example.com"), COMPLETED, X + "laws-b"))
    assert _state(key, u).covered
    other = create_user(login="h@example.com")
    record(stmt(mbox("h@example.com"), PASSED, X + "some-quiz", scaled=0.95,
                atype="http://adlnet.gov/expapi/activities/assessment"))
    assert _state(f"user:{other.id}", u).covered


def test_evidence_from_two_systems_combines_into_one_state(app, create_user):
    from competency.models import LevelAttainment, UnitState

    user = create_user(login="two@example.com")
    fw = import_small()
    key = f"user:{user.id}"
    record(stmt(mbox("two@example.com"), PASSED, X + "wiring", scaled=0.9, platform="System A"))
    record(stmt(mbox("two@example.com"), COMPLETED, X + "laws-a", platform="System B"),
           stmt(mbox("two@example.com"), COMPLETED, X + "laws-b", platform="System C"))
    states = db.session.scalars(sa.select(UnitState).where(UnitState.learner_key == key)).all()
    assert {s.unit_id for s in states if s.covered} == {unit(fw, 1, "1.1.1").id, unit(fw, 1, "2.1.1").id}
    att = db.session.scalars(sa.select(LevelAttainment).where(LevelAttainment.learner_key == key)).one()
    assert abs(att.coverage - 2 / 3) < 1e-6 and att.coverage_met
    assert att.status == "in_progress"  # exams still missing


def test_same_statement_twice_is_idempotent(app, create_user):
    from competency.models import Evidence
    from competency.operations.engine import apply_statements
    from lms.xapi.store import load_statements

    create_user(login="idem@example.com")
    import_small()
    ids = record(stmt(mbox("idem@example.com"), PASSED, X + "wiring", scaled=0.9))
    apply_statements(load_statements(ids))
    apply_statements(load_statements(ids))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1


def test_exam_statements_and_voiding_retract_evidence_and_eligibility(app, create_user):
    from competency.models import LevelAttainment, StateChange

    user = create_user(login="exam@example.com")
    fw = import_small()
    a = mbox("exam@example.com")
    key = f"user:{user.id}"
    ids = record(stmt(a, PASSED, X + "wiring", scaled=0.9),
                 stmt(a, COMPLETED, X + "laws-a"), stmt(a, COMPLETED, X + "laws-b"),
                 stmt(a, PASSED, X + "exam/theory", scaled=0.72),
                 stmt(a, PASSED, X + "exam/practical", scaled=0.65))
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.learner_key == key,
                                                             LevelAttainment.level_id == level(fw, 1).id))
    assert att.status == "eligible" and att.exams_met and att.prerequisites_met
    void(ids[0], a)  # the wiring statement carried the required unit
    db.session.refresh(att)
    assert att.status == "in_progress" and not att.coverage_met
    assert not _state(key, unit(fw, 1, "1.1.1")).covered
    reasons = [c.reason for c in db.session.scalars(sa.select(StateChange).where(StateChange.learner_key == key))]
    assert "void" in reasons


def test_failed_exam_below_pass_mark_keeps_level_not_eligible(app, create_user):
    from competency.models import ExamResult

    create_user(login="fail@example.com")
    fw = import_small()
    a = mbox("fail@example.com")
    record(stmt(a, PASSED, X + "exam/theory", scaled=0.55))
    row = db.session.scalars(sa.select(ExamResult)).one()
    assert row.score == 55 and row.passed is False and row.level_id == level(fw, 1).id


def test_unknown_actor_evidence_is_claimed_by_a_later_account(app, create_user):
    from competency.models import Evidence, UnitState

    import_small()
    record(stmt(mbox("later@example.com"), PASSED, X + "wiring", scaled=0.9))
    ev = db.session.scalars(sa.select(Evidence)).one()
    assert ev.learner_key == "mbox:mailto:later@example.com" and ev.user_id is None
    user = create_user(login="later@example.com")
    db.session.expire_all()
    ev = db.session.scalars(sa.select(Evidence)).one()
    assert ev.learner_key == f"user:{user.id}" and ev.user_id == user.id
    assert db.session.scalars(sa.select(UnitState)).one().learner_key == f"user:{user.id}"


def test_rule_lookup_goes_through_the_index_not_a_scan(app, create_user):
    """A statement's candidate rules come from index keys: the number of rules does not matter."""
    from competency.operations.rules import candidate_keys, create_rule, rules_for_statement
    from competency.operations.engine import statement_from_dict

    fw = import_small()
    u = unit(fw, 1, "1.1.2")
    for n in range(200):
        create_rule(u, actor=None, verbs=[COMPLETED], match_kind="activity", match_iri=f"{X}noise/{n}")
    db.session.commit()
    st = statement_from_dict(stmt(mbox("x@example.com"), COMPLETED, X + "noise/7", parent=X + "course-connect"))
    assert len(candidate_keys(st)) == 2  # activity + parent (no type given)
    assert {r.match_iri for r in rules_for_statement(st)} == {X + "noise/7", X + "course-connect"}
