"""The evidence engine: xAPI statements -> evidence -> unit state -> level state.

Incremental path (``apply_statements``), run by the Celery task that the ``statement_stored``
receiver enqueues:

1. for each statement, the candidate rules come from the rule index (verb x activity, verb x
   activity type, verb x contextActivities parent/grouping) -- never a scan of rules or history;
2. one evidence row per (statement, unit), written idempotently (a statement seen twice adds
   nothing); ``passed``/``failed`` statements on activities marked as level exams become exam
   results;
3. only the affected learner's affected units are recomputed, from that learner's evidence for
   that unit, then the levels those units belong to; every change is logged
   (:class:`~competency.models.StateChange`) with the evidence that caused it;
4. voided statements retract their evidence and exam results, and the same recomputation
   follows (an awarded level whose basis is gone is retracted and its certificates revoked).

Learners: an actor that ``lms.xapi.recorder.user_for_actor`` maps to an account is keyed
``user:<id>``; any other actor keeps its evidence under its normalised IFI so that an account
registered later with that e-mail claims it (:func:`claim_actor_evidence`).

``recompute_learner`` / ``recompute_framework`` rebuild the same state from the stored
statements; a test checks they agree with the incremental path on randomised histories.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from lms.core.db import db, utcnow

VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
VERB_FAILED = "http://adlnet.gov/expapi/verbs/failed"


# --- learners --------------------------------------------------------------------------------


def actor_key(actor: dict) -> str | None:
    """The normalised IFI of an xAPI agent (None for groups without IFI or bad input)."""
    if not isinstance(actor, dict):
        return None
    if actor.get("mbox"):
        return "mbox:" + str(actor["mbox"]).strip().lower()
    if actor.get("mbox_sha1sum"):
        return "sha1:" + str(actor["mbox_sha1sum"]).strip().lower()
    if actor.get("openid"):
        return "openid:" + str(actor["openid"]).strip()
    acc = actor.get("account")
    if isinstance(acc, dict) and acc.get("name"):
        return f"account:{str(acc.get('homePage', '')).rstrip('/')}|{acc['name']}"
    return None


def actor_from_key(key: str) -> dict | None:
    """The inverse of :func:`actor_key` (for recomputing an unknown actor's state)."""
    kind, _, value = key.partition(":")
    if kind == "mbox":
        return {"mbox": value}
    if kind == "sha1":
        return {"mbox_sha1sum": value}
    if kind == "openid":
        return {"openid": value}
    if kind == "account":
        home, _, name = value.partition("|")
        return {"account": {"homePage": home, "name": name}}
    return None


def user_key(user_or_id) -> str:
    return f"user:{getattr(user_or_id, 'id', user_or_id)}"


def user_actors(user) -> list[dict]:
    """Every IFI under which statements about ``user`` may be stored."""
    from lms.xapi.recorder import actor_for

    actors = [actor_for(user)]
    if user.email:
        mbox = "mailto:" + user.email.lower()
        actors += [{"mbox": mbox}, {"mbox_sha1sum": hashlib.sha1(mbox.encode()).hexdigest()}]
    return actors


def resolve_learner(actor: dict, cache: dict | None = None) -> tuple[str | None, int | None]:
    """``(learner_key, user_id)`` for a statement actor."""
    key = actor_key(actor)
    if key is None:
        return None, None
    if cache is not None and key in cache:
        return cache[key]
    try:
        from lms.xapi.recorder import user_for_actor

        user = user_for_actor(actor)
    except ImportError:  # the LRS is not installed: keep actor keys
        user = None
    out = (user_key(user), user.id) if user is not None else (key, None)
    if cache is not None:
        cache[key] = out
    return out


# --- statements as the engine sees them ------------------------------------------------------


@dataclass
class StatementView:
    """The fields of ``lms.xapi.store.StoredStatement`` the engine reads (tests build these from dicts)."""

    id: str
    actor: dict
    verb_id: str
    object_type: str
    object_id: str | None
    result: dict | None
    context: dict | None
    timestamp: dt.datetime
    stored: dt.datetime | None = None
    voided: bool = False
    registration: str | None = None
    full: dict = field(default_factory=dict)
    authority: dict | None = None


def statement_from_dict(d: dict) -> StatementView:
    """A :class:`StatementView` from an xAPI statement dict (id and timestamp must be present)."""
    obj = d.get("object") or {}
    ts = d.get("timestamp") or utcnow()
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return StatementView(id=str(d["id"]), actor=d.get("actor") or {}, verb_id=(d.get("verb") or {}).get("id", ""),
                         object_type=obj.get("objectType", "Activity"), object_id=obj.get("id"),
                         result=d.get("result"), context=d.get("context"), timestamp=ts, full=d,
                         authority=d.get("authority"))


def _name_of(definition: dict | None) -> str:
    names = (definition or {}).get("name") or {}
    for lang in ("zh-CN", "zh", "en-US", "en"):
        if names.get(lang):
            return str(names[lang])[:500]
    return str(next(iter(names.values()), ""))[:500] if names else ""


def _source_of(st) -> str:
    ctx = st.context or {}
    if ctx.get("platform"):
        return str(ctx["platform"])[:300]
    auth = getattr(st, "authority", None) or (st.full or {}).get("authority") or {}
    if isinstance(auth, dict):
        if auth.get("name"):
            return str(auth["name"])[:300]
        for member in auth.get("member") or []:
            if isinstance(member, dict) and member.get("name"):
                return str(member["name"])[:300]
    return "xAPI"


def _scaled_of(st) -> float | None:
    score = (st.result or {}).get("score") or {}
    if isinstance(score.get("scaled"), (int, float)):
        return float(score["scaled"])
    if isinstance(score.get("raw"), (int, float)) and isinstance(score.get("max"), (int, float)) and score["max"]:
        low = score.get("min", 0) or 0
        return (float(score["raw"]) - low) / (float(score["max"]) - low)
    return None


@dataclass
class Outcome:
    """What one run of the engine changed (for tests, logs and the benchmark)."""

    evidence_added: int = 0
    evidence_retracted: int = 0
    exam_results: int = 0
    unit_changes: int = 0
    level_changes: int = 0
    eligible: list = field(default_factory=list)


_LEVEL_UNITS: dict = {}


class Batch:
    """Per-run caches, so a batch of statements costs a few queries rather than a few per statement."""

    def __init__(self):
        self.learners: dict = {}
        self.activities: dict = {}
        self.groups: dict = {}
        self.unit_level: dict = {}
        self.levels: dict = {}
        self.level_units: dict = {}
        self._type_rules = None

    def activity(self, iri: str):
        if iri not in self.activities:
            try:
                from lms.xapi.store import get_activity
            except ImportError:  # pragma: no cover
                self.activities[iri] = None
            else:
                self.activities[iri] = get_activity(iri)
        return self.activities[iri]

    def has_type_rules(self) -> bool:
        if self._type_rules is None:
            from competency.models import EvidenceRule

            self._type_rules = db.session.scalar(sa.select(EvidenceRule.id).where(
                EvidenceRule.match_kind == "type", EvidenceRule.active.is_(True)).limit(1)) is not None
        return self._type_rules

    def level(self, level_id: int):
        if level_id not in self.levels:
            from competency.models import FrameworkLevel

            self.levels[level_id] = db.session.get(FrameworkLevel, level_id)
        return self.levels[level_id]

    def units_of_level(self, level_id: int):
        if level_id not in self.level_units:
            from competency.operations.attainment import level_units

            # A level's units never change after import: cache them by the level's identifier
            # (unique per import, so a re-used row id never hits a stale entry).
            ident = self.level(level_id).identifier
            if ident not in _LEVEL_UNITS:
                if len(_LEVEL_UNITS) > 5000:
                    _LEVEL_UNITS.clear()
                _LEVEL_UNITS[ident] = level_units(level_id)
            self.level_units[level_id] = _LEVEL_UNITS[ident]
        return self.level_units[level_id]


def _resolve_learners(actors, batch: Batch) -> None:
    """Fill ``batch.learners`` for many actors at once: accounts on our home page by uuid and
    ``mbox`` by e-mail in one query each (the rules of ``user_for_actor``); others one by one."""
    import uuid as uuid_mod

    from flask import current_app

    from lms.accounts.models import User

    home = str(current_app.config.get("LMS_PUBLIC_URL", "")).rstrip("/")
    by_email, by_uuid = {}, {}
    for actor in actors:
        key = actor_key(actor)
        if key is None or key in batch.learners:
            continue
        if key.startswith("mbox:mailto:"):
            by_email[key[12:]] = key
        elif key.startswith("account:"):
            homepage, _, name = key[8:].partition("|")
            try:
                ident = uuid_mod.UUID(name)
            except ValueError:
                continue
            if homepage == home:
                by_uuid[ident] = key
    found = {}
    emails = sorted(by_email)
    for i in range(0, len(emails), 500):
        for uid, email in db.session.execute(sa.select(User.id, User.email).where(User.email.in_(emails[i:i + 500]))):
            found[by_email[email.lower()]] = uid
    uuids = list(by_uuid)
    for i in range(0, len(uuids), 500):
        for uid, ident in db.session.execute(sa.select(User.id, User.uuid).where(User.uuid.in_(uuids[i:i + 500]))):
            found[by_uuid[ident]] = uid
    for key in list(by_email.values()) + list(by_uuid.values()):
        uid = found.get(key)
        batch.learners[key] = (user_key(uid), uid) if uid else (key, None)


def _activity_type(st, batch: Batch) -> str | None:
    obj = (st.full or {}).get("object") or {}
    atype = (obj.get("definition") or {}).get("type")
    if atype or not st.object_id or st.object_type not in (None, "Activity") or not batch.has_type_rules():
        return atype
    return ((batch.activity(st.object_id) or {}).get("definition") or {}).get("type")


def _match_batch(statements, batch: Batch) -> dict:
    """Statement id -> the rules it matches, with ONE index lookup for the whole batch."""
    from competency.models import EvidenceRule, RuleIndexEntry
    from competency.operations.rules import candidate_keys

    keys_of = {st.id: candidate_keys(st, _activity_type(st, batch)) for st in statements}
    all_keys = sorted({k for keys in keys_of.values() for k in keys})
    by_key: dict[str, list] = {}
    for i in range(0, len(all_keys), 500):
        rows = db.session.execute(sa.select(RuleIndexEntry.lookup_key, EvidenceRule)
                                  .join(EvidenceRule, EvidenceRule.id == RuleIndexEntry.rule_id)
                                  .where(RuleIndexEntry.lookup_key.in_(all_keys[i:i + 500]),
                                         EvidenceRule.active.is_(True))).all()
        for key, rule in rows:
            by_key.setdefault(key, []).append(rule)
    out = {}
    for st in statements:
        seen, rules = set(), []
        for key in keys_of[st.id]:
            for rule in by_key.get(key, ()):
                if rule.id not in seen and rule.matches(st):
                    seen.add(rule.id)
                    rules.append(rule)
        if rules:
            out[st.id] = sorted(rules, key=lambda r: r.id)
    return out


def _collect(statements, batch: Batch, out: Outcome, touched_units: dict, touched_levels: dict,
             only_key: str | None = None) -> None:
    """Evidence and exam results for a batch of statements (idempotent)."""
    from competency.models import Evidence, ExamResult, FrameworkLevel, LevelExamActivity

    todo = []
    _resolve_learners([st.actor for st in statements], batch)
    for st in statements:
        if getattr(st, "voided", False) or st.verb_id == "http://adlnet.gov/expapi/verbs/voided":
            continue
        learner_key, user_id = resolve_learner(st.actor, batch.learners)
        if learner_key is None or (only_key is not None and learner_key != only_key):
            continue
        todo.append((st, learner_key, user_id))
    if not todo:
        return
    matched = _match_batch([t[0] for t in todo], batch)
    ids = [st.id for st, _k, _u in todo]
    have = set()
    if matched:
        have = set(db.session.execute(sa.select(Evidence.statement_id, Evidence.unit_id)
                                      .where(Evidence.statement_id.in_(list(matched)))).all())
    exam_iris = {st.object_id for st, _k, _u in todo if st.verb_id in (VERB_PASSED, VERB_FAILED) and st.object_id}
    marks, exam_done = {}, set()
    if exam_iris:
        for mark in db.session.scalars(sa.select(LevelExamActivity).where(LevelExamActivity.activity_iri.in_(exam_iris))
                                       .order_by(LevelExamActivity.id)):
            marks.setdefault(mark.activity_iri, mark)
        if marks:
            exam_done = set(db.session.scalars(sa.select(ExamResult.statement_id).where(ExamResult.statement_id.in_(ids))))
    for st, learner_key, user_id in todo:
        rules = matched.get(st.id)
        if rules:
            best: dict[int, object] = {}
            for rule in rules:
                cur = best.get(rule.unit_id)
                if cur is None or rule.weight > cur.weight:
                    best[rule.unit_id] = rule
            name = None
            for unit_id, rule in best.items():
                if (st.id, unit_id) in have:
                    continue
                if name is None:
                    # The statement's own name; the profile looks up the LRS's definition when empty.
                    name = _name_of(((st.full or {}).get("object") or {}).get("definition"))
                ev = Evidence(statement_id=st.id, learner_key=learner_key, user_id=user_id, unit_id=unit_id,
                              rule_id=rule.id, group_id=rule.group_id, weight=rule.weight, verb_iri=st.verb_id[:1000],
                              activity_iri=(st.object_id or "")[:1000], activity_name=name, source=_source_of(st),
                              scaled=_scaled_of(st), occurred_at=st.timestamp)
                db.session.add(ev)
                have.add((st.id, unit_id))
                out.evidence_added += 1
                touched_units.setdefault((learner_key, user_id, unit_id), (ev, st.id, "evidence"))
        mark = marks.get(st.object_id) if st.verb_id in (VERB_PASSED, VERB_FAILED) else None
        if mark is not None and st.id not in exam_done:
            level = batch.level(mark.level_id)
            scaled = _scaled_of(st)
            score = round(scaled * 100, 2) if scaled is not None else None
            pass_mark = level.theory_pass_mark if mark.part == "theory" else level.practical_pass_mark
            passed = st.verb_id == VERB_PASSED and (score is None or mark.part == "review" or score >= pass_mark)
            db.session.add(ExamResult(learner_key=learner_key, user_id=user_id, level_id=level.id, part=mark.part,
                                      score=score, passed=passed, taken_at=st.timestamp,
                                      valid_until=st.timestamp + dt.timedelta(days=level.exam_validity_days),
                                      source="xapi", statement_id=st.id))
            exam_done.add(st.id)
            out.exam_results += 1
            touched_levels.setdefault((learner_key, user_id, level.id), (None, st.id, "exam"))


def apply_statements(statements, voided_ids=(), *, emit: bool = True, log: bool = True) -> Outcome:
    """Apply stored statements (and the voiding of ``voided_ids``) to evidence and state.

    ``statements`` are :class:`lms.xapi.store.StoredStatement` (or :class:`StatementView`).
    Flushes only; the caller commits.
    """
    from competency.models import Evidence, ExamResult

    out = Outcome()
    batch = Batch()
    touched_units: dict = {}
    touched_levels: dict = {}
    _collect(list(statements), batch, out, touched_units, touched_levels)
    voided_ids = [str(v) for v in voided_ids or ()]
    if voided_ids:
        now = utcnow()
        for ev in db.session.scalars(sa.select(Evidence).where(Evidence.statement_id.in_(voided_ids),
                                                               Evidence.retracted_at.is_(None))):
            ev.retracted_at = now
            out.evidence_retracted += 1
            touched_units[(ev.learner_key, ev.user_id, ev.unit_id)] = (ev, ev.statement_id, "void")
        for ex in db.session.scalars(sa.select(ExamResult).where(ExamResult.statement_id.in_(voided_ids),
                                                                 ExamResult.retracted_at.is_(None))):
            ex.retracted_at = now
            touched_levels[(ex.learner_key, ex.user_id, ex.level_id)] = (None, ex.statement_id, "void")
    db.session.flush()
    from competency.operations.attainment import evaluate_levels

    for (learner_key, user_id, level_id), cause in update_unit_states(touched_units, batch=batch, log=log):
        out.unit_changes += 1
        touched_levels.setdefault((learner_key, user_id, level_id), cause)
    for (item, result) in zip(touched_levels, evaluate_levels(touched_levels, batch=batch, emit=emit, log=log)):
        if result.changed:
            out.level_changes += 1
        if result.became_eligible:
            out.eligible.append((item[0], item[2]))
    db.session.flush()
    return out


def unit_coverage(evidence_rows, groups: dict) -> float:
    """Coverage of a unit from its active evidence.

    ``groups`` maps group id -> (operator, {rule_id: weight} of the group's active rules). An
    ``any`` group adds the weights of its distinct rules met (capped at 1); an ``all`` group is
    the weighted share of its rules met. The unit takes its best group.
    """
    met: dict[int, set] = {}
    for ev in evidence_rows:
        if ev.group_id in groups and ev.rule_id in groups[ev.group_id][1]:
            met.setdefault(ev.group_id, set()).add(ev.rule_id)
    best = 0.0
    for gid, rule_ids in met.items():
        operator, rules = groups[gid]
        if operator == "all":
            total = sum(rules.values()) or 1.0
            value = sum(rules[r] for r in rule_ids) / total
        else:
            value = sum(rules[r] for r in rule_ids)
        best = max(best, min(1.0, value))
    return round(best, 6)


def _prefetch_units(unit_ids, batch: Batch) -> None:
    from competency.models import CriteriaGroup, EvidenceRule, FrameworkItem

    missing = [u for u in unit_ids if u not in batch.groups]
    for i in range(0, len(missing), 500):
        chunk = missing[i:i + 500]
        for u in chunk:
            batch.groups[u] = {}
        rows = db.session.execute(sa.select(CriteriaGroup.unit_id, CriteriaGroup.id, CriteriaGroup.operator,
                                            EvidenceRule.id, EvidenceRule.weight)
                                  .join(EvidenceRule, EvidenceRule.group_id == CriteriaGroup.id)
                                  .where(CriteriaGroup.unit_id.in_(chunk), EvidenceRule.active.is_(True)))
        for unit_id, gid, op, rid, w in rows:
            batch.groups[unit_id].setdefault(gid, (op, {}))[1][rid] = w
    missing = [u for u in unit_ids if u not in batch.unit_level]
    for i in range(0, len(missing), 500):
        batch.unit_level.update(db.session.execute(sa.select(FrameworkItem.id, FrameworkItem.level_id)
                                                   .where(FrameworkItem.id.in_(missing[i:i + 500]))).all())


def update_unit_states(items: dict, *, batch: Batch | None = None, log: bool = True, reason_override=None):
    """Recompute many (learner, unit) states from the learners' evidence, with a few queries.

    ``items`` maps ``(learner_key, user_id, unit_id)`` to ``(evidence, statement_id, reason)``.
    Yields ``((learner_key, user_id, level_id), cause)`` for each state that changed.
    """
    from competency.models import Evidence, StateChange, UnitState

    if not items:
        return []
    batch = batch or Batch()
    keys = sorted({k for k, _u, _n in items})
    units = sorted({n for _k, _u, n in items})
    _prefetch_units(units, batch)
    evidence: dict = {}
    states: dict = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for ev in db.session.scalars(sa.select(Evidence).where(Evidence.learner_key.in_(chunk),
                                                               Evidence.unit_id.in_(units),
                                                               Evidence.retracted_at.is_(None))):
            evidence.setdefault((ev.learner_key, ev.unit_id), []).append(ev)
        for st in db.session.scalars(sa.select(UnitState).where(UnitState.learner_key.in_(chunk),
                                                                UnitState.unit_id.in_(units))):
            states[(st.learner_key, st.unit_id)] = st
    changed = []
    now = utcnow()
    for (learner_key, user_id, unit_id), (ev, statement_id, reason) in items.items():
        rows = evidence.get((learner_key, unit_id), [])
        coverage = unit_coverage(rows, batch.groups.get(unit_id, {})) if rows else 0.0
        covered = coverage >= 1.0 - 1e-9
        state = states.get((learner_key, unit_id))
        level_id = batch.unit_level.get(unit_id)
        if state is None:
            if coverage == 0.0:
                continue
            state = UnitState(learner_key=learner_key, user_id=user_id, unit_id=unit_id, level_id=level_id,
                              coverage=0.0, covered=False)
            db.session.add(state)
            states[(learner_key, unit_id)] = state
        before = {"coverage": state.coverage or 0.0, "covered": bool(state.covered)}
        if before == {"coverage": coverage, "covered": covered}:
            continue
        state.coverage, state.updated_at = coverage, now
        if user_id and not state.user_id:
            state.user_id = user_id
        if covered and not state.covered:
            state.covered_at = max((r.occurred_at for r in rows), default=now)
        state.covered = covered
        if log:
            db.session.add(StateChange(learner_key=learner_key, subject="unit", unit_id=unit_id, before=before,
                                       after={"coverage": coverage, "covered": covered},
                                       evidence_id=getattr(ev, "id", None), statement_id=statement_id,
                                       reason=reason_override or reason))
        changed.append(((learner_key, user_id or state.user_id, level_id), (ev, statement_id, reason)))
    return changed


# --- claiming an unknown actor's evidence ----------------------------------------------------


def claim_actor_evidence(user) -> int:
    """Move evidence and state kept under ``user``'s e-mail IFIs to the account; returns rows moved."""
    from competency.models import Evidence, ExamResult, LevelAttainment, UnitState

    if not user.email:
        return 0
    mbox = "mailto:" + user.email.lower()
    keys = ["mbox:" + mbox, "sha1:" + hashlib.sha1(mbox.encode()).hexdigest()]
    db.session.flush()
    moved = 0
    for model in (Evidence, UnitState, LevelAttainment, ExamResult):
        res = db.session.execute(sa.update(model).where(model.learner_key.in_(keys))
                                 .values(learner_key=user_key(user), user_id=user.id))
        moved += res.rowcount or 0
    return moved


# --- full recompute --------------------------------------------------------------------------


def _statements_for_learner(learner_key: str):
    from lms.xapi import store

    actors = []
    if learner_key.startswith("user:"):
        from lms.accounts.models import User

        user = db.session.get(User, int(learner_key[5:]))
        if user is None:
            return []
        actors = user_actors(user)
    else:
        actor = actor_from_key(learner_key)
        actors = [actor] if actor else []
    seen, out = set(), []
    for actor in actors:
        for st in store.iter_statements_for_agent(actor):
            if st.id not in seen and not st.voided:
                seen.add(st.id)
                out.append(st)
    out.sort(key=lambda s: (s.stored or s.timestamp, s.id))
    return out


def _reset_learner(learner_key: str, unit_filter=None) -> None:
    from competency.models import Evidence, ExamResult

    q = sa.delete(Evidence).where(Evidence.learner_key == learner_key)
    if unit_filter is not None:
        q = q.where(Evidence.unit_id.in_(unit_filter))
    db.session.execute(q)
    if unit_filter is None:
        db.session.execute(sa.delete(ExamResult).where(ExamResult.learner_key == learner_key,
                                                       ExamResult.source == "xapi"))
    db.session.flush()


def _rebuild_states(learner_keys, framework_id=None, batch: Batch | None = None) -> None:
    """Recompute every unit and level state of ``learner_keys`` from their evidence."""
    from competency.models import Evidence, ExamResult, LevelAttainment, UnitState
    from competency.operations.attainment import evaluate_levels

    batch = batch or Batch()
    db.session.flush()
    for key in learner_keys:
        user_id_any = int(key[5:]) if key.startswith("user:") else None
        units: dict = {}
        for unit_id, user_id in db.session.execute(sa.select(Evidence.unit_id, Evidence.user_id).where(
                Evidence.learner_key == key, Evidence.retracted_at.is_(None))):
            units[unit_id] = user_id or units.get(unit_id)
        for unit_id, user_id in db.session.execute(sa.select(UnitState.unit_id, UnitState.user_id)
                                                   .where(UnitState.learner_key == key)):
            units.setdefault(unit_id, user_id)
        user_id_any = user_id_any or next((u for u in units.values() if u), None)
        items = {(key, user_id_any, unit_id): (None, None, "recompute") for unit_id in units}
        update_unit_states(items, batch=batch)
        db.session.flush()
        levels = {batch.unit_level[u] for u in units if batch.unit_level.get(u)}
        levels |= set(db.session.scalars(sa.select(LevelAttainment.level_id).where(LevelAttainment.learner_key == key)))
        levels |= set(db.session.scalars(sa.select(ExamResult.level_id).where(ExamResult.learner_key == key)))
        if framework_id is not None:
            levels = {lv for lv in levels if batch.level(lv).framework_id == framework_id}
        evaluate_levels({(key, user_id_any, lv): (None, None, "recompute") for lv in sorted(levels)},
                        batch=batch, emit=False)


def recompute_learner(learner_key: str, *, batch: Batch | None = None) -> Outcome:
    """Rebuild one learner's evidence and state from the statements the LRS holds."""
    batch = batch or Batch()
    _reset_learner(learner_key)
    statements = _statements_for_learner(learner_key)
    out = Outcome()
    for i in range(0, len(statements), 500):
        _collect(statements[i:i + 500], batch, out, {}, {}, only_key=learner_key)
    db.session.flush()
    _rebuild_states([learner_key], batch=batch)
    return out


def recompute_framework(framework_id: int, *, batch_size: int = 2000) -> int:
    """Rebuild the evidence of one framework's units for every learner from all stored statements."""
    from competency.models import Evidence, FrameworkItem, UnitState
    from lms.xapi import store

    unit_ids = list(db.session.scalars(sa.select(FrameworkItem.id).where(FrameworkItem.framework_id == framework_id)))
    keys = set(db.session.scalars(sa.select(UnitState.learner_key).where(UnitState.unit_id.in_(unit_ids)))) if unit_ids else set()
    db.session.execute(sa.delete(Evidence).where(Evidence.unit_id.in_(unit_ids)))
    batch, out = Batch(), Outcome()
    unit_set = set(unit_ids)
    for ids in store.iter_all_statement_ids(batch=batch_size):
        touched: dict = {}
        _collect(store.load_statements(ids), batch, out, touched, {})
        keys |= {key for (key, _user, unit_id) in touched if unit_id in unit_set}
        db.session.flush()
    _rebuild_states(sorted(keys), framework_id=framework_id, batch=batch)
    return len(keys)


def learner_keys_of_framework(framework_id: int) -> list[str]:
    from competency.models import LevelAttainment, UnitState, FrameworkItem

    unit_ids = sa.select(FrameworkItem.id).where(FrameworkItem.framework_id == framework_id)
    keys = set(db.session.scalars(sa.select(UnitState.learner_key).where(UnitState.unit_id.in_(unit_ids))))
    keys |= set(db.session.scalars(sa.select(LevelAttainment.learner_key).where(LevelAttainment.framework_id == framework_id)))
    return sorted(keys)
