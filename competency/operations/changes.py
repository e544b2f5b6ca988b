"""The audit log of evidence rules and frameworks (``competency_rule_changes``).

Every create, update and delete of a rule or a framework writes one row: who, when, what, and a
before/after summary of the row. Rules change who is certified, so the log is shown on the
framework page.
"""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db


def rule_summary(rule) -> dict:
    """What a reader needs to know of a rule to see what a change did."""
    unit = rule.unit
    return {"name": rule.name, "unit_id": rule.unit_id, "unit_code": unit.code if unit is not None else None,
            "verbs": list(rule.verbs or []), "match_kind": rule.match_kind, "match_iri": rule.match_iri,
            "min_scaled": rule.min_scaled, "success_required": bool(rule.success_required),
            "weight": rule.weight, "active": bool(rule.active), "owner_org_id": rule.owner_org_id}


def framework_summary(fw) -> dict:
    return {"title": fw.title, "title_en": fw.title_en, "edition": fw.edition, "publisher": fw.publisher,
            "description": fw.description, "status": fw.status, "owner_org_id": fw.owner_org_id,
            "published": bool(fw.published)}


def log_change(subject: str, action: str, *, actor, framework_id, rule_id=None, owner_org_id=None,
               before: dict | None = None, after: dict | None = None):
    """Write one audit row (flushed with the change it records, so both commit or neither)."""
    from competency.models import RuleChange

    row = RuleChange(subject=subject, action=action, framework_id=framework_id, rule_id=rule_id,
                     actor_id=getattr(actor, "id", None), owner_org_id=owner_org_id,
                     before=before or {}, after=after or {})
    db.session.add(row)
    db.session.flush()
    return row


def changes_of_framework(framework_id: int, limit: int = 50) -> list:
    """The latest changes of a framework and its rules, newest first."""
    from competency.models import RuleChange

    return db.session.scalars(sa.select(RuleChange).where(RuleChange.framework_id == framework_id)
                              .order_by(RuleChange.created_at.desc(), RuleChange.id.desc()).limit(limit)).all()
