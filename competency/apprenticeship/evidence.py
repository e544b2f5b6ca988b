"""Evidence for milestone criteria: facts from xAPI statements, mentor records, competency attainments.

What an apprentice's statements say comes from the learning-record layer (:mod:`lms.records`):
who the actor is (:mod:`lms.records.identity`: platform account, verified or linked identities),
their scores (:mod:`lms.records.scores`), which sources the trust policy lets count
(:mod:`lms.records.trust`: completions only from sources trusted for ``completion``) and study
time (:func:`lms.records.study_time.seconds_by_user`, the one rule shared with the course page
and the supervision reports; not windowed, as the milestones and the subsidy export count all of
an apprentice's online learning).

Completions, passes and attainments are reduced once, when stored, to
:class:`~.models.LearningFact` rows for apprentices only (indexed by user, kind and IRI), so
computing a milestone never scans statement history. A voided statement deletes its facts.
:func:`collect` gathers the evidence of many apprentices in a few grouped queries.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

import sqlalchemy as sa

from competency.apprenticeship.criteria import Evidence, referenced_iris
from competency.apprenticeship.models import Apprentice, HoursEntry, LearningFact, SignOff
from lms.core.db import db
from lms.records import identity, scores, study_time, trust
from lms.xapi.vocab import VERB_ACHIEVED, VERB_AWARDED, VERB_COMPLETED, VERB_MASTERED, VERB_PASSED


def facts_of(statement, user_id: int) -> list[dict]:
    """The fact rows (as dicts) one stored statement yields for ``user_id``."""
    facts = []
    obj = statement.object_id if statement.object_type in (None, "Activity") else None
    result = statement.result or {}
    ctx = (statement.context or {}).get("contextActivities") or {}
    parents = []
    for key in ("parent", "grouping"):
        items = ctx.get(key) or []
        if isinstance(items, dict):
            items = [items]
        parents.extend(a.get("id") for a in items if isinstance(a, dict) and a.get("id"))
    # Every row has the same keys, so the insert is one batched executemany.
    base = {"user_id": user_id, "statement_id": statement.id, "occurred_at": statement.timestamp,
            "score": scores.result_scaled(result)}
    verb = statement.verb_id
    kinds = []
    if verb in (VERB_COMPLETED, VERB_PASSED) or result.get("completion") is True:
        kinds.append("completed")
    if verb == VERB_PASSED or (result.get("success") is True and verb == VERB_COMPLETED):
        kinds.append("passed")
    if verb in (VERB_ACHIEVED, VERB_MASTERED):
        kinds.append("achieved")
    if verb == VERB_AWARDED:
        kinds.append("awarded")
    if obj:
        for kind in kinds:
            facts.append({**base, "kind": kind, "iri": obj[:500], "via_parent": False})
            if kind == "completed":
                for p in dict.fromkeys(parents):
                    if p != obj:
                        facts.append({**base, "kind": kind, "iri": p[:500], "via_parent": True})
    return facts


def apprentice_user_ids(user_ids) -> set[int]:
    """Which of ``user_ids`` are apprentices in some cohort (facts are kept only for them)."""
    ids = list(set(user_ids))
    found: set[int] = set()
    for i in range(0, len(ids), 500):
        found |= set(db.session.scalars(sa.select(Apprentice.user_id).where(Apprentice.user_id.in_(ids[i:i + 500]))))
    return found


def ingest(statements, *, only_users: set[int] | None = None) -> set[int]:
    """Store the facts of ``statements`` (StoredStatement objects) for apprentices; flush only.

    Only statements from sources the trust policy allows for ``completion`` count. Idempotent: a
    statement already reduced is skipped. Returns the user ids affected.
    """
    allowed: dict[str, bool] = {}

    def trusted(st) -> bool:
        source = getattr(st, "source", None) or "platform"
        if source not in allowed:
            allowed[source] = trust.allowed(source, "completion")
        return allowed[source]

    statements = [st for st in statements if not st.voided and trusted(st)]
    owners = identity.users_for_keys(identity.learner_key(st.actor) for st in statements)
    by_user: dict[int, list] = defaultdict(list)
    for st in statements:
        uid = owners.get(identity.learner_key(st.actor))
        if uid is not None:
            by_user[uid].append(st)
    wanted = apprentice_user_ids(by_user) if only_users is None else (set(by_user) & only_users)
    if not wanted:
        return set()
    rows = [f for uid in wanted for st in by_user[uid] for f in facts_of(st, uid)]
    ids = list({r["statement_id"] for r in rows})
    known = set()
    for i in range(0, len(ids), 500):
        known |= set(db.session.scalars(sa.select(LearningFact.statement_id)
                                        .where(LearningFact.statement_id.in_(ids[i:i + 500]))))
    fresh = [r for r in rows if r["statement_id"] not in known]
    if fresh:
        # Core executemany (no RETURNING of ids: nothing needs them).
        db.session.execute(LearningFact.__table__.insert(), fresh)
    db.session.flush()
    # Study time is read from the learning-record layer: a statement with a duration and no fact
    # here (a video's "progressed") may still change an apprentice's hours.
    timed = {uid for uid in wanted if any(_has_duration(st) for st in by_user[uid])}
    return {r["user_id"] for r in fresh} | timed


def _has_duration(statement) -> bool:
    return bool((statement.result or {}).get("duration"))


def retract(voided_ids) -> set[int]:
    """Delete the facts of voided statements; returns the user ids affected (their facts, or
    their study time, which no longer counts a voided statement)."""
    from lms.records.models import StatementFact

    ids = [str(i) for i in voided_ids or []]
    if not ids:
        return set()
    uuids = []
    for i in ids:
        try:
            uuids.append(uuid.UUID(i))
        except ValueError:
            continue
    users = set(db.session.scalars(sa.select(LearningFact.user_id).where(LearningFact.statement_id.in_(ids))))
    timed = db.session.scalars(sa.select(StatementFact.learner_key).where(
        StatementFact.statement_id.in_(uuids), StatementFact.time_class != "none"))
    users |= apprentice_user_ids(identity.users_for_keys(timed).values())
    db.session.execute(sa.delete(LearningFact).where(LearningFact.statement_id.in_(ids)))
    db.session.flush()
    return users


def backfill(user, keys=None) -> int:
    """Reduce the stored history of ``user`` (an apprentice who just joined), or of the learner
    ``keys`` just linked to them; returns facts added."""
    from lms.records.facts import statement_ids_of_keys
    from lms.xapi.store import load_statements

    before = db.session.scalar(sa.select(sa.func.count()).select_from(LearningFact).filter_by(user_id=user.id))
    ids = statement_ids_of_keys(identity.keys_of_user(user) if keys is None else keys)
    for i in range(0, len(ids), 1000):
        ingest(load_statements(ids[i:i + 1000]), only_users={user.id})
    return db.session.scalar(sa.select(sa.func.count()).select_from(LearningFact).filter_by(user_id=user.id)) - before


def effective_signoffs(apprentice_ids) -> dict[int, dict[tuple[str, str], SignOff]]:
    """Per apprentice, the latest record per (kind, task): corrections supersede what they correct."""
    out: dict[int, dict[tuple[str, str], SignOff]] = defaultdict(dict)
    ids = list(apprentice_ids)
    for i in range(0, len(ids), 500):
        rows = db.session.scalars(sa.select(SignOff).where(SignOff.apprentice_id.in_(ids[i:i + 500]))
                                  .order_by(SignOff.signed_at, SignOff.id)).all()
        superseded = {r.corrects_id for r in rows if r.corrects_id}
        for r in rows:
            if r.id in superseded:
                continue
            out[r.apprentice_id][(r.kind, r.task_code)] = r
    return out


def offline_hours(apprentice_ids) -> dict[int, float]:
    ids = list(apprentice_ids)
    out: dict[int, float] = {}
    for i in range(0, len(ids), 500):
        for aid, total in db.session.execute(
                sa.select(HoursEntry.apprentice_id, sa.func.sum(HoursEntry.hours))
                .where(HoursEntry.apprentice_id.in_(ids[i:i + 500])).group_by(HoursEntry.apprentice_id)):
            out[aid] = float(total or 0)
    return out


def competency_attainments(user_ids, framework_id: int | None, target_rung: int) -> dict[int, tuple[int, bool, float]]:
    """Per user: (highest rung awarded, certificate issued, coverage of the target level), read from
    the competency engine's tables (limited to the programme's framework when it has one)."""
    from competency.models import Certificate, LevelAttainment

    out: dict[int, list] = defaultdict(lambda: [0, False, 0.0])
    ids = list(user_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        stmt = sa.select(LevelAttainment.user_id, LevelAttainment.rung, LevelAttainment.status,
                         LevelAttainment.coverage, LevelAttainment.id).where(LevelAttainment.user_id.in_(chunk))
        if framework_id:
            stmt = stmt.where(LevelAttainment.framework_id == framework_id)
        attainment_users = {}
        for uid, rung, status, coverage, att_id in db.session.execute(stmt):
            rec = out[uid]
            if status in ("awarded", "certified"):
                rec[0] = max(rec[0], rung)
            if rung == target_rung:
                rec[2] = max(rec[2], float(coverage or 0))
            attainment_users[att_id] = uid
        if attainment_users:
            for att_id in db.session.scalars(sa.select(Certificate.attainment_id).where(
                    Certificate.attainment_id.in_(list(attainment_users)), Certificate.revoked_at.is_(None))):
                out[attainment_users[att_id]][1] = True
    return {k: tuple(v) for k, v in out.items()}


def _referenced_iris(apprentices) -> list[str]:
    """The activity IRIs the milestone criteria of these apprentices' cohorts look at."""
    from competency.apprenticeship.models import MilestoneDefinition

    keys = {(a.cohort.programme_id, a.cohort.template_version) for a in apprentices}
    iris: set[str] = set()
    for programme_id, version in keys:
        for tree in db.session.scalars(sa.select(MilestoneDefinition.criteria).filter_by(
                programme_id=programme_id, version=version)):
            iris |= referenced_iris(tree)
    return sorted(iris)


def collect(apprentices: list[Apprentice], iris: list[str] | None = None) -> dict[int, Evidence]:
    """Evidence of each apprentice (by apprentice id), in a handful of grouped queries.

    Only the facts about ``iris`` (default: the IRIs the cohorts' criteria mention) are read,
    plus the certificates awarded and the study time (:func:`lms.records.study_time.seconds_by_user`),
    so the cost does not grow with the number of activities an apprentice did.
    """
    result = {a.id: Evidence(agreement_signed=a.agreement_signed_on is not None) for a in apprentices}
    by_user: dict[int, list[int]] = defaultdict(list)
    for a in apprentices:
        by_user[a.user_id].append(a.id)
    iris = _referenced_iris(apprentices) if iris is None else list(iris)
    user_ids = list(by_user)
    for uid, seconds in study_time.seconds_by_user(user_ids).items():
        for aid in by_user[uid]:
            result[aid].online_seconds = seconds
    for i in range(0, len(user_ids), 500):
        chunk = user_ids[i:i + 500]
        cols = (LearningFact.user_id, LearningFact.kind, LearningFact.iri, LearningFact.via_parent,
                sa.func.count(), sa.func.max(LearningFact.score))
        queries = [sa.select(*cols).where(LearningFact.user_id.in_(chunk), LearningFact.kind == "awarded")
                   .group_by(LearningFact.user_id, LearningFact.kind, LearningFact.iri, LearningFact.via_parent)]
        for j in range(0, len(iris), 200):
            queries.append(sa.select(*cols).where(LearningFact.user_id.in_(chunk),
                                                  LearningFact.kind.in_(("completed", "passed", "achieved")),
                                                  LearningFact.iri.in_(iris[j:j + 200]))
                           .group_by(LearningFact.user_id, LearningFact.kind, LearningFact.iri, LearningFact.via_parent))
        rows = [row for q in queries for row in db.session.execute(q)]
        for uid, kind, iri, via_parent, count, best in rows:
            for aid in by_user[uid]:
                ev = result[aid]
                if kind == "completed":
                    if via_parent:
                        ev.completed_under[iri] = ev.completed_under.get(iri, 0) + int(count)
                    else:
                        ev.completed.add(iri)
                        ev.completed_under[iri] = ev.completed_under.get(iri, 0) + int(count)
                elif kind == "passed":
                    ev.passed[iri] = best
                elif kind == "achieved":
                    ev.achieved.add(iri)
                elif kind == "awarded":
                    ev.certificate = True
    for aid, total in offline_hours(result).items():
        result[aid].offline_hours = total
    for aid, records in effective_signoffs(result).items():
        ev = result[aid]
        for (kind, task), rec in records.items():
            if not rec.approved:
                continue
            if kind == "workplace_task":
                ev.signed_tasks.add(task)
            elif kind == "practical_assessment" and rec.score is not None:
                ev.practical_scores[task] = rec.score
    # Skill levels and certificates from the competency engine, per programme framework.
    groups: dict[tuple, list[Apprentice]] = defaultdict(list)
    for a in apprentices:
        p = a.cohort.programme
        groups[(p.framework_id, p.target_rung)].append(a)
    for (framework_id, rung), members in groups.items():
        att = competency_attainments({a.user_id for a in members}, framework_id, rung)
        for a in members:
            if a.user_id in att:
                top, cert, coverage = att[a.user_id]
                ev = result[a.id]
                ev.rung = max(ev.rung, top)
                ev.certificate = ev.certificate or cert
                ev.coverage = max(ev.coverage, coverage)
    return result


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` (a started month counts), 0 when ``end`` is earlier."""
    if end < start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day >= start.day:
        months += 1
    return max(months, 0)
