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

Everything the engine knows about a statement's learner, score and provenance comes from the
learning-record layer (:mod:`lms.records`): an actor whose learner key
(:func:`lms.records.identity.learner_key`) stands for an account -- its platform account, or an
identity verified or linked to it -- is keyed ``user:<id>``; any other actor keeps its evidence
under the learner key itself until the key is linked to an account, when ``identity_linked``
moves it (:func:`claim_identities`). Scores are :func:`lms.records.scores.result_scaled`. The
trust policy (:mod:`lms.records.trust`) decides which sources count: evidence only from sources
trusted for ``completion``, exam results only from sources trusted for ``exam_result``, and a
rule may ask for a minimum source (:attr:`~competency.models.EvidenceRule.min_source`).

``recompute_learner`` / ``recompute_framework`` rebuild the same state from the stored
statements; a test checks they agree with the incremental path on randomised histories.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.records import identity, scores, trust
from lms.xapi.vocab import VERB_FAILED, VERB_PASSED, VERB_VOIDED


# --- learners --------------------------------------------------------------------------------


def user_key(user_or_id) -> str:
    """The learner key of a platform user in the engine's tables: ``user:<id>``."""
    return f"user:{getattr(user_or_id, 'id', user_or_id)}"


def _resolve_learners(statements, batch: "Batch") -> None:
    """Fill ``batch.learners`` (``{learner key: (engine key, user id)}``) for the actors of many
    statements with one :func:`lms.records.identity.users_for_keys` call."""
    keys = {identity.learner_key(st.actor) for st in statements}
    keys = [k for k in keys if k and k not in batch.learners]
    if not keys:
        return
    found = identity.users_for_keys(keys)
    for key in keys:
        uid = found.get(key)
        batch.learners[key] = (user_key(uid), uid) if uid is not None else (key, None)


def _learner_of(st, batch: "Batch") -> tuple[str | None, int | None]:
    key = identity.learner_key(st.actor)
    return batch.learners.get(key, (None, None)) if key else (None, None)


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
    #: Provenance: the trust-policy key of the source (see ``lms.xapi.store.StoredStatement``).
    source: str = "platform"
    #: Provenance: the source's name as shown to users (empty for the platform).
    source_label: str = ""


def statement_from_dict(d: dict, *, source: str = "platform", source_label: str = "") -> StatementView:
    """A :class:`StatementView` from an xAPI statement dict (id and timestamp must be present)."""
    obj = d.get("object") or {}
    ts = d.get("timestamp") or utcnow()
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return StatementView(id=str(d["id"]), actor=d.get("actor") or {}, verb_id=(d.get("verb") or {}).get("id", ""),
                         object_type=obj.get("objectType", "Activity"), object_id=obj.get("id"),
                         result=d.get("result"), context=d.get("context"), timestamp=ts, full=d,
                         authority=d.get("authority"), source=source, source_label=source_label)


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
    return scores.result_scaled(st.result)


def _source_policy(st) -> str:
    return getattr(st, "source", None) or "platform"


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
        self._trust: dict = {}

    def trusted(self, source: str, fact: str) -> bool:
        """Whether the trust policy lets ``source`` produce ``fact`` (read once per batch)."""
        if (source, fact) not in self._trust:
            self._trust[(source, fact)] = trust.allowed(source, fact)
        return self._trust[(source, fact)]

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
    _resolve_learners(statements, batch)
    for st in statements:
        if getattr(st, "voided", False) or st.verb_id == VERB_VOIDED:
            continue
        learner_key, user_id = _learner_of(st, batch)
        if learner_key is None or (only_key is not None and learner_key != only_key):
            continue
        todo.append((st, learner_key, user_id))
    if not todo:
        return
    # The trust policy: evidence only from sources trusted for completions.
    matched = _match_batch([t[0] for t in todo if batch.trusted(_source_policy(t[0]), "completion")], batch)
    ids = [st.id for st, _k, _u in todo]
    have = set()
    if matched:
        have = set(db.session.execute(sa.select(Evidence.statement_id, Evidence.unit_id)
                                      .where(Evidence.statement_id.in_(list(matched)))).all())
    # ... and exam results only from sources trusted for them.
    exam_iris = {st.object_id for st, _k, _u in todo if st.verb_id in (VERB_PASSED, VERB_FAILED) and st.object_id
                 and batch.trusted(_source_policy(st), "exam_result")}
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
                              source_label=(getattr(st, "source_label", "") or "")[:200],
                              scaled=_scaled_of(st), occurred_at=st.timestamp)
                db.session.add(ev)
                have.add((st.id, unit_id))
                out.evidence_added += 1
                touched_units.setdefault((learner_key, user_id, unit_id), (ev, st.id, "evidence"))
        mark = marks.get(st.object_id) if st.verb_id in (VERB_PASSED, VERB_FAILED) \
            and batch.trusted(_source_policy(st), "exam_result") else None
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


# --- identities linked to an account ---------------------------------------------------------


def claim_identities(user, keys) -> int:
    """Move the evidence and state kept under learner ``keys`` (just linked to ``user`` by
    :func:`lms.records.identity.link`) to ``user:<id>``, then re-evaluate the learner.

    Run on ``identity_linked`` only, i.e. after an address was verified or an identity linked,
    never on registration. Idempotent (a second run finds nothing under the keys). Where both the
    key and the account have a state for the same unit or level, the account's stays unless the
    key's level was awarded and the account's was not; the re-evaluation recomputes it from the
    merged evidence. Returns the evidence rows moved. Flushes only.
    """
    from competency.models import Evidence, ExamResult, LevelAttainment, StateChange, UnitState

    keys = [k for k in dict.fromkeys(keys) if k and not k.startswith("user:")]
    if not keys:
        return 0
    target = user_key(user)
    db.session.flush()
    moved = db.session.execute(sa.update(Evidence).where(Evidence.learner_key.in_(keys))
                               .values(learner_key=target, user_id=user.id)).rowcount or 0
    db.session.execute(sa.update(ExamResult).where(ExamResult.learner_key.in_(keys))
                       .values(learner_key=target, user_id=user.id))
    db.session.execute(sa.update(StateChange).where(StateChange.learner_key.in_(keys)).values(learner_key=target))
    own_units = {u: s for u, s in db.session.execute(sa.select(UnitState.unit_id, UnitState.id)
                                                      .where(UnitState.learner_key == target))}
    for state in db.session.scalars(sa.select(UnitState).where(UnitState.learner_key.in_(keys))).all():
        if state.unit_id in own_units:
            db.session.delete(state)
        else:
            state.learner_key, state.user_id = target, user.id
            own_units[state.unit_id] = state.id
        db.session.flush()
    held = ("awarded", "certified")
    own_levels = {a.level_id: a for a in db.session.scalars(sa.select(LevelAttainment)
                                                            .where(LevelAttainment.learner_key == target))}
    for att in db.session.scalars(sa.select(LevelAttainment).where(LevelAttainment.learner_key.in_(keys))).all():
        mine = own_levels.get(att.level_id)
        if mine is not None and (att.status not in held or mine.status in held):
            db.session.delete(att)
            db.session.flush()
            continue
        if mine is not None:
            db.session.delete(mine)
            db.session.flush()
        att.learner_key, att.user_id = target, user.id
        own_levels[att.level_id] = att
        db.session.flush()
    _rebuild_states([target])
    return moved


# --- full recompute --------------------------------------------------------------------------


def learner_keys_for(learner_key: str) -> list[str]:
    """The learning-record keys whose statements belong to an engine learner key: every key of
    the account for ``user:<id>`` (:func:`lms.records.identity.keys_of_user`), else the key."""
    if learner_key.startswith("user:"):
        from lms.accounts.models import User

        user = db.session.get(User, int(learner_key[5:])) if learner_key[5:].isdigit() else None
        return identity.keys_of_user(user) if user is not None else []
    return [learner_key]


def _statement_ids_for_learner(learner_key: str) -> list[str]:
    from lms.records.facts import statement_ids_of_keys

    return statement_ids_of_keys(learner_keys_for(learner_key))


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
    from lms.xapi.store import load_statements

    _reset_learner(learner_key)
    ids = _statement_ids_for_learner(learner_key)
    out = Outcome()
    for i in range(0, len(ids), 500):
        _collect(load_statements(ids[i:i + 500]), batch, out, {}, {}, only_key=learner_key)
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
