"""Evaluation: record achievements from evidence, apply catalogue credits and conversion rules.

Idempotent by construction: achievements and ledger entries carry unique constraints, every
insert runs in a savepoint, and a conflict (another evaluation wrote the same row first) is
skipped. Twenty evaluations of the same evidence at once therefore write one entry.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from creditbank.models import Achievement, ConversionRule, LedgerEntry, Outcome
from lms.core.db import db, utcnow

#: Rules may grant outcomes that other rules convert; evaluation stops after this many rounds.
MAX_ROUNDS = 5


def _parse_time(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return utcnow()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _insert(row) -> bool:
    """Insert ``row`` in a savepoint; ``False`` when a unique constraint says it exists already."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def record_evidence(user_id: int, evidence: dict) -> list[Achievement]:
    """Record the achievements that one piece of evidence proves.

    ``evidence``: ``{"source_kind", "source_ref", "keys": [match keys], "score", "rung", "attendance",
    "achieved_at", "details"}`` (built from a domain event's sender, see :mod:`creditbank.receivers`).
    """
    keys = [str(k) for k in evidence.get("keys") or () if k]
    if not keys:
        return []
    outcomes = db.session.scalars(sa.select(Outcome).where(Outcome.match_key.in_(keys),
                                                           Outcome.active.is_(True))).all()
    made = []
    for outcome in outcomes:
        row = Achievement(user_id=user_id, outcome_id=outcome.id, source_kind=str(evidence["source_kind"])[:40],
                          source_ref=str(evidence["source_ref"])[:200], score=_num(evidence.get("score")),
                          rung=_int(evidence.get("rung")), attendance=_num(evidence.get("attendance")),
                          achieved_at=_parse_time(evidence.get("achieved_at")),
                          details=dict(evidence.get("details") or {}))
        if _insert(row):
            made.append(row)
        else:  # known already: a source that comes back (a level awarded again) is reinstated
            db.session.execute(sa.update(Achievement).where(
                Achievement.user_id == user_id, Achievement.outcome_id == outcome.id,
                Achievement.source_kind == row.source_kind, Achievement.source_ref == row.source_ref,
                Achievement.withdrawn_at.is_not(None)).values(withdrawn_at=None, withdrawn_reason=""))
    return made


def _num(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _int(value):
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


#: Which outcome kinds each condition applies to: a score and an attendance share are measured on
#: courses; a rung on levels, abilities and certificates. A source of another kind is not held to
#: the condition; a source of a measured kind without the measure fails it.
_SCORED = ("course", "academic_course")
_RANKED = ("skill_level", "special_ability", "external_certificate")


def _qualifies(rule: ConversionRule, ach: Achievement, now: dt.datetime) -> bool:
    kind = ach.outcome.kind
    if rule.min_score is not None and kind in _SCORED and (ach.score is None or ach.score < rule.min_score):
        return False
    rung = ach.rung if ach.rung is not None else ach.outcome.rung
    if rule.min_rung is not None and kind in _RANKED and (rung is None or rung < rule.min_rung):
        return False
    if rule.min_attendance is not None and kind in _SCORED and (
            ach.attendance is None or ach.attendance < rule.min_attendance):
        return False
    if rule.validity_years:
        achieved = _parse_time(ach.achieved_at)
        try:
            limit = achieved.replace(year=achieved.year + rule.validity_years)
        except ValueError:  # 29 February
            limit = achieved.replace(year=achieved.year + rule.validity_years, day=28)
        if now > limit:
            return False
    return True


def _evidence(achievements) -> tuple[list[dict], str]:
    items = sorted(achievements, key=lambda a: a.id)
    return ([{"achievement_id": a.id, "outcome": a.outcome.code, "source_kind": a.source_kind,
              "source_ref": a.source_ref} for a in items], ",".join(str(a.id) for a in items))


def _credit(user_id: int, basis: str, max_count: int, evidence_key: str, **values) -> LedgerEntry | None:
    """Write one ledger entry unless this evidence is credited already or the basis is full."""
    active = db.session.execute(sa.select(LedgerEntry.evidence_key, LedgerEntry.slot).where(
        LedgerEntry.user_id == user_id, LedgerEntry.basis == basis, LedgerEntry.reversed_at.is_(None))).all()
    if evidence_key in {key for key, _slot in active}:
        return None
    taken = {slot for _key, slot in active}
    for slot in (n for n in range(1, max_count + 1) if n not in taken):
        row = LedgerEntry(user_id=user_id, basis=basis, evidence_key=evidence_key, slot=slot, **values)
        if _insert(row):
            return row
        # Another evaluation took this slot or credited this evidence: re-check.
        if db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.user_id == user_id,
                                                             LedgerEntry.basis == basis,
                                                             LedgerEntry.evidence_key == evidence_key)):
            return None
    return None


def _grant_outcome(user_id: int, outcome: Outcome, source_ref: str, basis_evidence: list[Achievement]) -> None:
    best_rung = max((a.rung for a in basis_evidence if a.rung is not None), default=None)
    if not _insert(Achievement(user_id=user_id, outcome_id=outcome.id, source_kind="rule",
                               source_ref=source_ref[:200], rung=outcome.rung if outcome.rung is not None else best_rung,
                               achieved_at=utcnow(), details={})):
        # Granted before, withdrawn since, and now justified again.
        db.session.execute(sa.update(Achievement).where(
            Achievement.user_id == user_id, Achievement.outcome_id == outcome.id, Achievement.source_kind == "rule",
            Achievement.source_ref == source_ref[:200]).values(withdrawn_at=None, withdrawn_reason=""))


def evaluate_user(user_id: int, now: dt.datetime | None = None) -> list[LedgerEntry]:
    """Apply catalogue credit values and every effective rule to one worker's achievements."""
    from creditbank.operations.rules import effective_rules

    now = now or utcnow()
    written: list[LedgerEntry] = []
    rules = effective_rules(now.date())
    for _round in range(MAX_ROUNDS):
        achievements = db.session.scalars(sa.select(Achievement).where(Achievement.user_id == user_id,
                                                                       Achievement.withdrawn_at.is_(None))
                                          .order_by(Achievement.achieved_at, Achievement.id)).all()
        before = len(written)
        n_achievements = len(achievements)
        # 1. Catalogue deposits: an achieved outcome's own credit value, once per outcome.
        for ach in achievements:
            outcome = ach.outcome
            if outcome.credit_value and outcome.credit_type_id:
                evidence, key = _evidence([ach])
                row = _credit(user_id, f"outcome:{outcome.id}", 1, key, outcome_id=outcome.id,
                              credit_type_id=outcome.credit_type_id, credits=outcome.credit_value, evidence=evidence)
                if row is not None:
                    written.append(row)
        # 2. Conversion rules.
        by_outcome: dict[int, list[Achievement]] = {}
        for ach in achievements:
            by_outcome.setdefault(ach.outcome_id, []).append(ach)
        for rule in rules:
            qualifying = {s.outcome_id: [a for a in by_outcome.get(s.outcome_id, ()) if _qualifies(rule, a, now)]
                          for s in rule.sources}
            if rule.operator == "and":
                if not all(qualifying.values()):
                    continue
                combos = [[found[0] for found in qualifying.values()]]
            else:
                combos = sorted(([a] for found in qualifying.values() for a in found),
                                key=lambda c: (c[0].achieved_at, c[0].id))
            for combo in combos:
                evidence, key = _evidence(combo)
                target = rule.target_outcome
                row = _credit(user_id, f"rule:{rule.code}", rule.max_count, key, rule_id=rule.id,
                              rule_version=rule.version, outcome_id=target.id if target else None,
                              credit_type_id=rule.credit_type_id if rule.credits else None,
                              credits=(rule.credits if rule.credits else 0.0), evidence=evidence)
                if row is not None:
                    written.append(row)
                    if target is not None:
                        _grant_outcome(user_id, target, f"rule:{rule.code}/v{rule.version}/{key}", combo)
        db.session.flush()
        new_count = db.session.scalar(sa.select(sa.func.count()).select_from(Achievement)
                                      .where(Achievement.user_id == user_id, Achievement.withdrawn_at.is_(None)))
        if len(written) == before and new_count == n_achievements:
            break
    return written


def balances(user_id: int) -> list[dict]:
    """Credits per credit type: ``[{"credit_type": CreditType, "credits": float}]``."""
    from creditbank.models import CreditType

    rows = db.session.execute(sa.select(CreditType, sa.func.sum(LedgerEntry.credits))
                              .join(LedgerEntry, LedgerEntry.credit_type_id == CreditType.id)
                              .where(LedgerEntry.user_id == user_id, LedgerEntry.reversed_at.is_(None))
                              .group_by(CreditType.id).order_by(CreditType.code)).all()
    return [{"credit_type": ct, "credits": float(total or 0)} for ct, total in rows]


def ledger(user_id: int) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.user_id == user_id)
                                   .order_by(LedgerEntry.created_at, LedgerEntry.id)))


def withdraw_evidence(source_kind: str, source_refs, reason: str) -> list[LedgerEntry]:
    """The sources lost their basis (a level retracted, a certificate revoked, a statement voided):
    withdraw the achievements they proved, reverse the ledger entries that cited them (and what a
    rule granted from them, transitively), then re-evaluate the workers concerned."""
    refs = [str(r)[:200] for r in source_refs or ()]
    if not refs:
        return []
    now = utcnow()
    pending = [(source_kind, ref) for ref in refs]
    reversed_rows: list[LedgerEntry] = []
    users: set[int] = set()
    while pending:
        kind, ref = pending.pop()
        withdrawn = db.session.scalars(sa.select(Achievement).where(
            Achievement.source_kind == kind, Achievement.source_ref == ref,
            Achievement.withdrawn_at.is_(None))).all()
        for ach in withdrawn:
            ach.withdrawn_at = now
            ach.withdrawn_reason = (reason or "")[:300]
            users.add(ach.user_id)
            entries = db.session.scalars(sa.select(LedgerEntry).where(
                LedgerEntry.user_id == ach.user_id, LedgerEntry.reversed_at.is_(None))).all()
            for entry in entries:
                if not any(item.get("achievement_id") == ach.id for item in entry.evidence or ()):
                    continue
                if entry.rule is not None and entry.outcome_id is not None:
                    pending.append(("rule", f"rule:{entry.rule.code}/v{entry.rule_version}/{entry.evidence_key}"[:200]))
                entry.reversed_at = now
                entry.reversal_reason = (reason or "")[:300]
                # Release the slot and the evidence key (unique per basis) for later evidence.
                entry.slot = -entry.id
                entry.evidence_key = f"reversed:{entry.id}"
                reversed_rows.append(entry)
        db.session.flush()
    for user_id in sorted(users):
        evaluate_user(user_id)
    return reversed_rows
