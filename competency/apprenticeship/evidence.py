"""Evidence for milestone criteria: facts from xAPI statements, mentor records, competency attainments.

Statements are reduced once, when stored, to :class:`~.models.LearningFact` rows for apprentices
only (indexed by user, kind and IRI), so computing a milestone never scans statement history.
A voided statement deletes its facts. :func:`collect` gathers the evidence of many apprentices
in a few grouped queries.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict

import sqlalchemy as sa

from competency.apprenticeship.criteria import Evidence, referenced_iris
from competency.apprenticeship.models import Apprentice, HoursEntry, LearningFact, SignOff
from lms.core.db import db

VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
VERB_ACHIEVED = "https://w3id.org/xapi/adl/verbs/achieved"
VERB_MASTERED = "http://adlnet.gov/expapi/verbs/mastered"
VERB_AWARDED = "https://w3id.org/xapi/dod-isd/verbs/awarded"

_DURATION = re.compile(r"^P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?"
                       r"(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?"
                       r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")

#: A single statement's duration is capped (a learner left a page open over night).
MAX_STATEMENT_SECONDS = 12 * 3600


def duration_seconds(text: str | None) -> float:
    """Seconds of an ISO 8601 duration (``PT1H30M``); 0 for anything unparsable."""
    if not text or not isinstance(text, str):
        return 0.0
    m = _DURATION.match(text.strip())
    if not m or text.strip() in ("P", "PT"):
        return 0.0
    g = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
    seconds = (((g["y"] * 365 + g["mo"] * 30 + g["w"] * 7 + g["d"]) * 24 + g["h"]) * 60 + g["mi"]) * 60 + g["s"]
    return min(seconds, MAX_STATEMENT_SECONDS)


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
    score = (result.get("score") or {}).get("scaled")
    # Every row has the same keys, so the insert is one batched executemany.
    base = {"user_id": user_id, "statement_id": statement.id, "occurred_at": statement.timestamp, "seconds": 0.0,
            "score": score if isinstance(score, (int, float)) and not isinstance(score, bool) else None}
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
    seconds = duration_seconds(result.get("duration"))
    if seconds > 0:
        facts.append({**base, "kind": "duration", "iri": "", "via_parent": False, "seconds": seconds})
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

    Idempotent: a statement already reduced is skipped. Returns the user ids affected.
    """
    statements = [st for st in statements if not st.voided]
    users = _resolve_actors([st.actor for st in statements])
    by_user: dict[int, list] = defaultdict(list)
    for st, uid in zip(statements, users):
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
    return {r["user_id"] for r in fresh}


def _resolve_actors(actors: list[dict]) -> list[int | None]:
    """User ids of the agents (``None`` for agents who are not platform users).

    Accounts on the platform's home page (what the platform itself records) are resolved in one
    query by uuid; other identifications (mbox, ...) through the LRS's ``user_for_actor``.
    """
    from flask import current_app

    from lms.accounts.models import User
    from lms.xapi.recorder import user_for_actor

    home = current_app.config["LMS_PUBLIC_URL"].rstrip("/")
    keys: list[object] = []
    uuids: set[uuid.UUID] = set()
    others: dict[str, dict] = {}
    for actor in actors:
        account = (actor or {}).get("account") if isinstance(actor, dict) else None
        if isinstance(account, dict) and str(account.get("homePage", "")).rstrip("/") == home:
            try:
                ident = uuid.UUID(str(account.get("name")))
            except ValueError:
                keys.append(None)
                continue
            uuids.add(ident)
            keys.append(ident)
        else:
            key = repr(sorted((actor or {}).items())) if isinstance(actor, dict) else ""
            others.setdefault(key, actor)
            keys.append(key)
    found: dict[object, int | None] = {}
    ordered = list(uuids)
    for i in range(0, len(ordered), 500):
        for uid, ident in db.session.execute(sa.select(User.id, User.uuid).where(User.uuid.in_(ordered[i:i + 500]))):
            found[ident if isinstance(ident, uuid.UUID) else uuid.UUID(str(ident))] = uid
    for key, actor in others.items():
        user = user_for_actor(actor) if key else None
        found[key] = user.id if user is not None else None
    return [found.get(k) if k is not None else None for k in keys]


def retract(voided_ids) -> set[int]:
    """Delete the facts of voided statements; returns the user ids affected."""
    ids = list(voided_ids or [])
    if not ids:
        return set()
    users = set(db.session.scalars(sa.select(LearningFact.user_id).where(LearningFact.statement_id.in_(ids))))
    db.session.execute(sa.delete(LearningFact).where(LearningFact.statement_id.in_(ids)))
    db.session.flush()
    return users


def backfill(user) -> int:
    """Reduce the whole stored history of ``user`` (an apprentice who just joined); returns facts added."""
    from lms.xapi.recorder import actor_for
    from lms.xapi.store import iter_statements_for_agent

    before = db.session.scalar(sa.select(sa.func.count()).select_from(LearningFact).filter_by(user_id=user.id))
    batch = []
    for st in iter_statements_for_agent(actor_for(user)):
        batch.append(st)
        if len(batch) >= 1000:
            ingest(batch, only_users={user.id})
            batch = []
    if batch:
        ingest(batch, only_users={user.id})
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
    plus the sums of durations and the certificates awarded, so the cost does not grow with the
    number of activities an apprentice did.
    """
    result = {a.id: Evidence(agreement_signed=a.agreement_signed_on is not None) for a in apprentices}
    by_user: dict[int, list[int]] = defaultdict(list)
    for a in apprentices:
        by_user[a.user_id].append(a.id)
    iris = _referenced_iris(apprentices) if iris is None else list(iris)
    user_ids = list(by_user)
    for i in range(0, len(user_ids), 500):
        chunk = user_ids[i:i + 500]
        cols = (LearningFact.user_id, LearningFact.kind, LearningFact.iri, LearningFact.via_parent,
                sa.func.count(), sa.func.max(LearningFact.score), sa.func.sum(LearningFact.seconds))
        queries = [sa.select(*cols).where(LearningFact.user_id.in_(chunk), LearningFact.kind.in_(("duration", "awarded")))
                   .group_by(LearningFact.user_id, LearningFact.kind, LearningFact.iri, LearningFact.via_parent)]
        for j in range(0, len(iris), 200):
            queries.append(sa.select(*cols).where(LearningFact.user_id.in_(chunk),
                                                  LearningFact.kind.in_(("completed", "passed", "achieved")),
                                                  LearningFact.iri.in_(iris[j:j + 200]))
                           .group_by(LearningFact.user_id, LearningFact.kind, LearningFact.iri, LearningFact.via_parent))
        rows = [row for q in queries for row in db.session.execute(q)]
        for uid, kind, iri, via_parent, count, best, seconds in rows:
            for aid in by_user[uid]:
                ev = result[aid]
                if kind == "duration":
                    ev.online_seconds += float(seconds or 0)
                elif kind == "completed":
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
