"""The full recompute (from the stored statements) agrees with the incremental engine."""
from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from lms.core.db import db
from tests.competency.helpers import COMPLETED, FAILED, PASSED, X, import_small, mbox, record, stmt, void

ACTIVITIES = ["wiring", "laws-a", "laws-b", "reversing", "star-delta", "exam/theory", "exam/practical",
              "noise-1", "noise-2"]
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"


def snapshot():
    from competency.models import Evidence, ExamResult, LevelAttainment, UnitState

    units = {(s.learner_key, s.unit_id): (round(s.coverage, 6), s.covered)
             for s in db.session.scalars(sa.select(UnitState)) if s.coverage > 0}
    levels = {(a.learner_key, a.level_id): (a.status, round(a.coverage, 6), a.coverage_met, a.prerequisites_met,
                                            a.exams_met)
              for a in db.session.scalars(sa.select(LevelAttainment))
              if a.coverage > 0 or a.status != "in_progress" or a.exams_met}
    evidence = {(e.learner_key, e.statement_id, e.unit_id, e.rule_id)
                for e in db.session.scalars(sa.select(Evidence).where(Evidence.retracted_at.is_(None)))}
    exams = {(r.learner_key, r.statement_id, r.part, r.passed)
             for r in db.session.scalars(sa.select(ExamResult).where(ExamResult.retracted_at.is_(None)))}
    return {"units": units, "levels": levels, "evidence": evidence, "exams": exams}


def random_history(rng: random.Random, actors: list[dict]) -> None:
    sent: list[tuple[str, dict]] = []
    base = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
    for _batch in range(rng.randint(3, 6)):
        batch = []
        for _ in range(rng.randint(1, 8)):
            actor = rng.choice(actors)
            act = rng.choice(ACTIVITIES)
            verb = rng.choice([PASSED, PASSED, COMPLETED, FAILED])
            kw = {"ts": base + dt.timedelta(hours=rng.randint(0, 600))}
            if rng.random() < 0.7:
                kw["scaled"] = round(rng.uniform(0.3, 1.0), 2)
            if rng.random() < 0.25:
                kw["parent"] = X + "course-connect"
            if rng.random() < 0.2:
                kw["atype"] = ASSESSMENT
            st = stmt(actor, verb, X + act, **kw)
            batch.append(st)
            sent.append((st["id"], actor))
        record(*batch)
        if sent and rng.random() < 0.6:
            sid, actor = rng.choice(sent)
            void(sid, actor)
            sent = [s for s in sent if s[0] != sid]


@pytest.mark.parametrize("seed", list(range(1, 11)))
def test_incremental_state_equals_full_recompute(app, runner, create_user, seed):
    from competency.models import Evidence, ExamResult, LevelAttainment, StateChange, UnitState
    from competency.operations.engine import recompute_learner

    rng = random.Random(seed)
    users = [create_user(login=f"r{seed}-{i}@example.com") for i in range(3)]
    import_small()
    actors = [mbox(u.login) for u in users] + [mbox(f"stranger{seed}@example.com")]
    random_history(rng, actors)
    incremental = snapshot()
    assert incremental["evidence"], "the random history should produce some evidence"

    # 1. the CLI recompute over the existing state changes nothing
    res = runner.invoke(args=["competency", "recompute"])
    assert res.exit_code == 0, res.output
    db.session.rollback()
    assert snapshot() == incremental

    # 2. from scratch: wipe everything derived and rebuild each learner from the statements
    keys = {k for k, _u in incremental["units"]} | {k for k, _l in incremental["levels"]} \
        | {k for k, *_rest in incremental["exams"]}
    for model in (StateChange, Evidence, UnitState, LevelAttainment, ExamResult):
        db.session.execute(sa.delete(model))
    for key in keys:
        recompute_learner(key)
    db.session.commit()
    assert snapshot() == incremental


def test_recompute_cli_for_one_learner_and_one_framework(app, runner, create_user):
    from competency.models import Evidence

    user = create_user(login="one@example.com")
    fw = import_small()
    record(stmt(mbox("one@example.com"), PASSED, X + "wiring", scaled=0.9))
    db.session.execute(sa.delete(Evidence))
    db.session.commit()
    res = runner.invoke(args=["competency", "recompute", "--learner", "one@example.com"])
    assert res.exit_code == 0, res.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence).where(Evidence.user_id == user.id)) == 1
    db.session.execute(sa.delete(Evidence))
    db.session.commit()
    res = runner.invoke(args=["competency", "recompute", "--framework", str(fw.id)])
    assert res.exit_code == 0 and "1 learner" in res.output, res.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1
    res = runner.invoke(args=["competency", "recompute", "--learner", "nobody@example.com"])
    assert res.exit_code != 0 and "no user" in res.output
