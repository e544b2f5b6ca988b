"""Level attainment: coverage rule, application prerequisites, exams, and the award.

A level is *eligible* when (1) its required units are covered and the weighted coverage of its
units reaches the level's threshold, (2) one alternative set of its prerequisites holds and
(3) its exams are passed and still valid (theory and practical, out of 100, each against its
pass mark; plus the comprehensive review from 技师 up). An authorised assessor (or an
institution admin, or a system admin) then *awards* it; issuing the certificate makes it
*certified*. If evidence an awarded level rested on is voided so that the coverage rule or the
exams no longer hold, the attainment is *retracted* and its certificates revoked.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from flask_babel import lazy_gettext as _l

from competency.operations import CompetencyError
from lms.core import extension_points as events
from lms.core.db import db, lock_row, utcnow
from lms.core.events import send_after_commit

AWARDED = ("awarded", "certified")


@dataclass
class LevelResult:
    changed: bool = False
    became_eligible: bool = False
    attainment: object = None


def level_units(level_id: int) -> list[tuple[int, float, bool]]:
    """``(unit id, weight, required)`` of a level's units."""
    from competency.models import FrameworkItem
    from competency.models.frameworks import UNIT_KINDS

    return list(db.session.execute(sa.select(FrameworkItem.id, FrameworkItem.weight, FrameworkItem.required)
                                   .where(FrameworkItem.level_id == level_id, FrameworkItem.kind.in_(UNIT_KINDS))))


def _coverage(units, states: dict, threshold: float) -> tuple[float, bool, list[int]]:
    total = sum(w for _u, w, _r in units) or 1.0
    coverage = round(sum(w * states.get(u, 0.0) for u, w, _r in units) / total, 6)
    missing_required = [u for u, _w, r in units if r and states.get(u, 0.0) < 1.0 - 1e-9]
    met = bool(units) and coverage >= threshold - 1e-9 and not missing_required
    return coverage, met, missing_required


def coverage_of(learner_key: str, level, units=None) -> tuple[float, bool, list[int]]:
    """``(weighted coverage, rule met, ids of required units not covered)``."""
    from competency.models import UnitState

    units = units if units is not None else level_units(level.id)
    states = dict(db.session.execute(sa.select(UnitState.unit_id, UnitState.coverage)
                                     .where(UnitState.learner_key == learner_key, UnitState.level_id == level.id)).all())
    return _coverage(units, states, level.coverage_threshold)


def _exam_parts(rows, level, at) -> dict:
    parts = ["theory", "practical"] + (["review"] if level.review_required else [])
    rows = sorted(rows, key=lambda r: (r.taken_at, r.id or 0))
    out = {}
    for part in parts:
        mine = [r for r in rows if r.part == part]
        valid = [r for r in mine if r.passed and r.taken_at <= at + dt.timedelta(seconds=1)
                 and (r.valid_until is None or r.valid_until >= at)]
        row = valid[-1] if valid else (mine[-1] if mine else None)
        out[part] = {"passed": bool(valid), "score": row.score if row else None,
                     "taken_at": row.taken_at if row else None, "valid_until": row.valid_until if row else None,
                     "source": row.source if row else None, "expired": bool(mine and not valid and any(r.passed for r in mine))}
    return out


def exam_status(learner_key: str, level, at: dt.datetime | None = None) -> dict:
    """Per part (theory, practical, review if required): the best valid pass, or the latest result.

    Returns ``{part: {"passed": bool, "score", "taken_at", "valid_until", "source", "expired"}}``.
    """
    from competency.models import ExamResult

    rows = db.session.scalars(sa.select(ExamResult).where(ExamResult.learner_key == learner_key,
                                                          ExamResult.level_id == level.id,
                                                          ExamResult.retracted_at.is_(None))).all()
    return _exam_parts(rows, level, at or utcnow())


def _exams_met(rows, level, at) -> bool:
    return (not level.exams_required) or all(p["passed"] for p in _exam_parts(rows, level, at).values())


def exams_met(learner_key: str, level, at=None) -> bool:
    if not level.exams_required:
        return True
    return all(p["passed"] for p in exam_status(learner_key, level, at).values())


def _held_query(learner_keys, occupation_id=None):
    from competency.models import Framework, LevelAttainment

    q = (sa.select(LevelAttainment.learner_key, Framework.occupation_id, LevelAttainment.rung, LevelAttainment.awarded_at)
         .join(Framework, Framework.id == LevelAttainment.framework_id)
         .where(LevelAttainment.learner_key.in_(list(learner_keys)), LevelAttainment.status.in_(AWARDED)))
    if occupation_id is not None:
        q = q.where(Framework.occupation_id == occupation_id)
    return db.session.execute(q).all()


def _quals_query(user_ids):
    from competency.models import LearnerQualification

    if not user_ids:
        return []
    return db.session.scalars(sa.select(LearnerQualification).where(LearnerQualification.user_id.in_(list(user_ids)))).all()


def _held(awarded_rows, quals, occupation_id) -> dict[int, dt.datetime]:
    held = {}
    for _key, occ, rung, when in awarded_rows:
        if occ == occupation_id:
            when = when or utcnow()
            held[rung] = min(held.get(rung, when), when)
    for q in quals:
        if q.kind == "level_held" and q.rung is not None and q.occupation_id in (None, occupation_id):
            held[q.rung] = min(held.get(q.rung, q.since), q.since)
    return held


def held_rungs(learner_key: str, occupation_id: int) -> dict[int, dt.datetime]:
    """Rungs held in an occupation (awarded on the platform or recorded), with the date obtained."""
    quals = _quals_query([int(learner_key[5:])]) if learner_key.startswith("user:") else []
    return _held(_held_query([learner_key], occupation_id), quals, occupation_id)


def _years_between(start, end) -> float:
    return (end - start).days / 365.25


def _prerequisites(level, held: dict, quals) -> tuple[bool, list[list[dict]]]:
    alternatives = level.prerequisites or []
    if not alternatives:
        return True, []
    occupation_id = level.framework.occupation_id
    quals = [q for q in quals if q.occupation_id in (None, occupation_id)]
    now = utcnow()
    report, any_met = [], False
    for alt in alternatives:
        rows, all_met = [], True
        for cond in alt:
            kind = cond.get("kind")
            met = False
            if kind == "level_held":
                met = any(r >= int(cond.get("rung", 0)) for r in held)
            elif kind == "years_since_level":
                rung = max((int(c.get("rung", 0)) for c in alt if c.get("kind") == "level_held"), default=0)
                dates = [d for r, d in held.items() if r >= rung and d]
                met = bool(dates) and _years_between(min(dates), now) >= float(cond.get("years", 0))
            elif kind == "years_in_occupation":
                starts = [q.since for q in quals if q.kind == "occupation_start"]
                met = bool(starts) and _years_between(min(starts), now) >= float(cond.get("years", 0))
            elif kind == "school_qualification":
                want = str(cond.get("value") or "any")
                met = any(q.kind == "school_qualification" and (want == "any" or want in q.detail) for q in quals)
            elif kind == "apprenticeship_completed":
                met = any(q.kind == "apprenticeship_completed" for q in quals)
            rows.append({**cond, "met": met})
            all_met = all_met and met
        report.append(rows)
        any_met = any_met or all_met
    return any_met, report


def prerequisite_report(learner_key: str, level) -> tuple[bool, list[list[dict]]]:
    """Whether one alternative holds, and per alternative each condition with ``met``."""
    if not level.prerequisites:
        return True, []
    occupation_id = level.framework.occupation_id
    quals = _quals_query([int(learner_key[5:])]) if learner_key.startswith("user:") else []
    return _prerequisites(level, _held(_held_query([learner_key], occupation_id), quals, occupation_id), quals)


def _chunks(values, size=500):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def evaluate_levels(items: dict, *, batch=None, actor=None, emit: bool = True, log: bool = True) -> list:
    """Recompute many (learner, level) attainments with a handful of queries.

    ``items`` maps ``(learner_key, user_id, level_id)`` to ``(evidence, statement_id, reason)``.
    Returns a :class:`LevelResult` per item, in order.
    """
    from competency.models import ExamResult, LevelAttainment, StateChange, UnitState
    from competency.operations.engine import Batch

    if not items:
        return []
    batch = batch or Batch()
    keys = {k for k, _u, _l in items}
    level_ids = {lv for _k, _u, lv in items}
    atts, states, exams = {}, {}, {}
    for chunk in _chunks(keys):
        for att in db.session.scalars(sa.select(LevelAttainment).where(LevelAttainment.learner_key.in_(chunk),
                                                                       LevelAttainment.level_id.in_(level_ids))):
            atts[(att.learner_key, att.level_id)] = att
        for key, level_id, unit_id, cov in db.session.execute(
                sa.select(UnitState.learner_key, UnitState.level_id, UnitState.unit_id, UnitState.coverage)
                .where(UnitState.learner_key.in_(chunk), UnitState.level_id.in_(level_ids))):
            states.setdefault((key, level_id), {})[unit_id] = cov
        for row in db.session.scalars(sa.select(ExamResult).where(ExamResult.learner_key.in_(chunk),
                                                                  ExamResult.level_id.in_(level_ids),
                                                                  ExamResult.retracted_at.is_(None))):
            exams.setdefault((row.learner_key, row.level_id), []).append(row)
    need_prereq = any(batch.level(lv).prerequisites for lv in level_ids)
    held_rows, quals = {}, {}
    if need_prereq:
        for chunk in _chunks(keys):
            for row in _held_query(chunk):
                held_rows.setdefault(row[0], []).append(row)
        user_ids = {int(k[5:]) for k in keys if k.startswith("user:")}
        for q in _quals_query(user_ids):
            quals.setdefault(q.user_id, []).append(q)
    results = []
    now = utcnow()
    for (learner_key, user_id, level_id), (evidence, statement_id, reason) in items.items():
        level, units = batch.level(level_id), batch.units_of_level(level_id)
        att = atts.get((learner_key, level_id))
        coverage, cov_met, _missing = _coverage(units, states.get((learner_key, level_id), {}), level.coverage_threshold)
        exam_rows = exams.get((learner_key, level_id), [])
        if att is None:
            if coverage == 0.0 and not exam_rows:
                results.append(LevelResult())
                continue
            att = LevelAttainment(learner_key=learner_key, user_id=user_id, framework_id=level.framework_id,
                                  level_id=level.id, rung=level.rung, status="in_progress", coverage=0.0,
                                  coverage_met=False, prerequisites_met=False, exams_met=False)
            db.session.add(att)
            atts[(learner_key, level_id)] = att
        if user_id and not att.user_id:
            att.user_id = user_id
        before = _snapshot(att)
        if level.prerequisites:
            my_quals = quals.get(int(learner_key[5:]), []) if learner_key.startswith("user:") else []
            held = _held(held_rows.get(learner_key, []), my_quals, level.framework.occupation_id)
            pre_met, _report = _prerequisites(level, held, my_quals)
        else:
            pre_met = True
        at = att.awarded_at if att.status in AWARDED and att.awarded_at else now
        ex_met = _exams_met(exam_rows, level, at)
        att.coverage, att.coverage_met, att.prerequisites_met, att.exams_met = coverage, cov_met, pre_met, ex_met
        result = LevelResult(attainment=att)
        if att.status in AWARDED:
            if not (cov_met and ex_met):
                att.status, att.retracted_at = "retracted", now
                _revoke_certificates(att, "evidence withdrawn (statement voided)")
                send_after_commit(events.level_retracted, att, reason="evidence withdrawn")
        else:
            eligible = cov_met and pre_met and ex_met
            if eligible and att.status != "eligible":
                att.status, att.eligible_at, att.retracted_at = "eligible", now, None
                result.became_eligible = True
                send_after_commit(events.level_eligible, att)
            elif not eligible and att.status == "eligible":
                att.status = "in_progress"
        after = _snapshot(att)
        if after != before:
            att.updated_at = now
            result.changed = True
            if log:
                db.session.add(StateChange(learner_key=learner_key, subject="level", level_id=level.id, before=before,
                                           after=after, evidence_id=getattr(evidence, "id", None),
                                           statement_id=statement_id, reason=reason,
                                           actor_id=getattr(actor, "id", None)))
        results.append(result)
    if emit and any(r.became_eligible for r in results):
        db.session.flush()
        for r in results:
            if r.became_eligible:
                emit_level_statement(r.attainment, "achieved")
    return results


def evaluate_level(learner_key: str, user_id, level_id: int, *, evidence=None, statement_id=None,
                   reason: str = "evidence", actor=None, emit: bool = True, log: bool = True,
                   batch=None) -> LevelResult:
    """Recompute one learner's attainment of one framework level and log any change."""
    db.session.flush()
    return evaluate_levels({(learner_key, user_id, level_id): (evidence, statement_id, reason)}, batch=batch,
                           actor=actor, emit=emit, log=log)[0]


def _has_exam(learner_key, level_id) -> bool:
    from competency.models import ExamResult

    return db.session.scalar(sa.select(ExamResult.id).where(ExamResult.learner_key == learner_key,
                                                            ExamResult.level_id == level_id).limit(1)) is not None


def _snapshot(att) -> dict:
    return {"status": att.status, "coverage": att.coverage, "coverage_met": bool(att.coverage_met),
            "prerequisites_met": bool(att.prerequisites_met), "exams_met": bool(att.exams_met)}


def _revoke_certificates(att, reason: str, actor=None) -> None:
    from competency.models import Certificate

    for cert in db.session.scalars(sa.select(Certificate).where(Certificate.attainment_id == att.id,
                                                                Certificate.revoked_at.is_(None))):
        cert.revoked_at, cert.revocation_reason, cert.revoked_by_id = utcnow(), reason, getattr(actor, "id", None)
        send_after_commit(events.certificate_revoked, cert, reason=reason)


def level_iri(level) -> str:
    from competency.operations.frameworks import framework_uri

    return framework_uri(level.framework, "levels", level.rung)


def emit_level_statement(att, what: str, actor=None) -> str | None:
    """Record an xAPI statement for an attainment step (``achieved`` or ``awarded``); None for
    learners without an account (their actor is not ours to speak for)."""
    if not att.user_id:
        return None
    from lms.accounts.models import User
    from lms.xapi import vocab
    from lms.xapi.recorder import actor_for, record

    user = db.session.get(User, att.user_id)
    level = att.level
    verb = vocab.VERBS[vocab.VERB_ACHIEVED if what == "achieved" else vocab.VERB_AWARDED]
    fw = level.framework
    sl = level.skill_level
    statement = {
        "actor": actor_for(user), "verb": verb,
        "object": {"objectType": "Activity", "id": level_iri(level), "definition": {
            "type": "https://w3id.org/xapi/competency/activity-types/competency-level",
            "name": ({"zh-CN": f"{fw.occupation.name_zh} {sl.name_zh}",
                      "en-US": f"{fw.occupation.name_en or fw.occupation.name_zh} {sl.name_en}"} if fw.vocational
                     else {"zh-CN": level.label(), "en-US": level.label("en")})}},
        "result": {"success": True, "completion": True},
        "context": {"platform": "LMS competency",
                    "contextActivities": {"parent": [{"id": _framework_iri(fw), "objectType": "Activity"}]},
                    "extensions": {vocab.platform_iri("xapi", "extensions", "coverage"): att.coverage}},
    }
    if actor is not None:
        statement["context"]["instructor"] = actor_for(actor)
    return record(statement)


def _framework_iri(fw) -> str:
    from competency.operations.frameworks import framework_uri

    return framework_uri(fw)


# --- people who may assess -------------------------------------------------------------------


def may_assess(user, occupation_id: int) -> bool:
    """System admins, institution admins and assessors authorised for the occupation."""
    from competency.models import AssessorAuthorisation

    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_system_admin or "institution_admin" in user.roles():
        return True
    return db.session.scalar(sa.select(AssessorAuthorisation.id).where(
        AssessorAuthorisation.user_id == user.id, AssessorAuthorisation.occupation_id == occupation_id)) is not None


def authorise_assessor(user, occupation, *, actor, organisation_id=None):
    from competency.models import AssessorAuthorisation

    if not (actor.is_system_admin or "institution_admin" in actor.roles()):
        raise CompetencyError("only an institution admin may authorise assessors", status=403, code="forbidden")
    row = db.session.scalar(sa.select(AssessorAuthorisation).where(AssessorAuthorisation.user_id == user.id,
                                                                   AssessorAuthorisation.occupation_id == occupation.id))
    if row is None:
        row = AssessorAuthorisation(user_id=user.id, occupation_id=occupation.id, organisation_id=organisation_id,
                                    granted_by_id=actor.id)
        db.session.add(row)
        db.session.flush()
    return row


# --- exam results and award ------------------------------------------------------------------


def record_exam_result(learner, level, part: str, score, *, actor, taken_at=None, passed=None):
    """An assessor enters a result (score out of 100; the review may be pass/fail)."""
    from competency.models import ExamResult
    from competency.operations.engine import user_key

    if not may_assess(actor, level.framework.occupation_id):
        raise CompetencyError("you are not an assessor for this occupation", status=403, code="forbidden")
    if learner.id == actor.id:
        raise CompetencyError(_l("You cannot record exam results for yourself."), status=403, code="self_assessment")
    if part not in ("theory", "practical", "review"):
        raise CompetencyError("part must be theory, practical or review", field="part")
    if part == "review" and not level.review_required:
        raise CompetencyError("this level has no comprehensive review", field="part")
    if score is None or score == "":
        if part != "review" or passed is None:
            raise CompetencyError("enter a score from 0 to 100", field="score")
        score = None
    else:
        try:
            score = float(score)
        except (TypeError, ValueError):
            raise CompetencyError("enter a score from 0 to 100", field="score") from None
        if not 0 <= score <= 100:
            raise CompetencyError("enter a score from 0 to 100", field="score")
    taken_at = taken_at or utcnow()
    if taken_at > utcnow() + dt.timedelta(minutes=5):
        raise CompetencyError("the exam date is in the future", field="taken_at")
    if passed is None:
        mark = level.theory_pass_mark if part == "theory" else level.practical_pass_mark
        passed = score >= mark
    row = ExamResult(learner_key=user_key(learner), user_id=learner.id, level_id=level.id, part=part, score=score,
                     passed=bool(passed), taken_at=taken_at,
                     valid_until=taken_at + dt.timedelta(days=level.exam_validity_days),
                     source="assessor", recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    evaluate_level(user_key(learner), learner.id, level.id, reason="exam", actor=actor)
    send_after_commit(events.exam_result_recorded, row)
    return row


def award_level(attainment, *, actor):
    """Confirm an eligible attainment (eligible -> awarded), recorded with who and when.

    Idempotent: the attainment's row is locked first, so of concurrent identical requests one
    awards and the others find it awarded and return it unchanged.
    """
    from competency.models import StateChange

    level = attainment.level
    if not may_assess(actor, level.framework.occupation_id):
        raise CompetencyError("you are not authorised to award this level", status=403, code="forbidden")
    if attainment.user_id == actor.id:
        raise CompetencyError("you cannot award a level to yourself", status=403, code="forbidden")
    lock_row(attainment)
    if attainment.status in AWARDED:
        return attainment
    evaluate_level(attainment.learner_key, attainment.user_id, level.id, reason="recompute", emit=False)
    if attainment.status != "eligible":
        raise CompetencyError("only an eligible level can be awarded", status=409, code="not_eligible")
    before = _snapshot(attainment)
    attainment.status, attainment.awarded_at, attainment.awarded_by_id = "awarded", utcnow(), actor.id
    db.session.add(StateChange(learner_key=attainment.learner_key, subject="level", level_id=level.id, before=before,
                               after=_snapshot(attainment), reason="award", actor_id=actor.id))
    db.session.flush()
    emit_level_statement(attainment, "awarded", actor=actor)
    send_after_commit(events.level_awarded, attainment)
    return attainment


def record_qualification(learner, kind: str, *, actor, since, detail: str = "", rung=None, occupation=None):
    """Record a fact prerequisites look at (start in the occupation, school qualification...)."""
    from competency.models import LearnerQualification
    from competency.models.attainment import QUALIFICATION_KINDS

    if kind not in QUALIFICATION_KINDS:
        raise CompetencyError(f"kind must be one of {', '.join(QUALIFICATION_KINDS)}", field="kind")
    row = LearnerQualification(user_id=learner.id, kind=kind, since=since, detail=detail or "", rung=rung,
                               occupation_id=getattr(occupation, "id", None), recorded_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    return row
