"""Conversion rules: drafting, versioning (editing writes a new version), approval, publication."""
from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask_babel import gettext as _

from creditbank.models import ConversionRule, CreditType, Outcome, RuleSource
from creditbank.operations import CreditBankError
from creditbank.operations.catalogue import require_manager
from lms.core.db import db, utcnow
from lms.core.permissions import can

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")


def _check(*, operator, source_ids, target_outcome_id, credits, credit_type_id, min_score, min_rung,
           min_attendance, validity_years, max_count, effective_from, effective_to) -> None:
    if operator not in ("and", "or"):
        raise CreditBankError(_("Choose AND or OR."), "operator")
    if not source_ids:
        raise CreditBankError(_("Choose at least one source outcome."), "source_ids")
    found = set(db.session.scalars(sa.select(Outcome.id).where(Outcome.id.in_(source_ids))))
    if found != set(source_ids):
        raise CreditBankError(_("Unknown outcome."), "source_ids")
    if bool(target_outcome_id) == bool(credits):
        raise CreditBankError(_("Grant either a target outcome or a number of credits."), "credits")
    if target_outcome_id:
        if not db.session.get(Outcome, target_outcome_id):
            raise CreditBankError(_("Unknown outcome."), "target_outcome_id")
        if target_outcome_id in source_ids:
            raise CreditBankError(_("A rule cannot grant one of its own sources."), "target_outcome_id")
    if credits:
        if not 0 < credits <= 1000:
            raise CreditBankError(_("Credits must be between 0 and 1000."), "credits")
        if not (credit_type_id and db.session.get(CreditType, credit_type_id)):
            raise CreditBankError(_("Choose the type of the credits."), "credit_type_id")
    if min_score is not None and not 0 <= min_score <= 100:
        raise CreditBankError(_("A score is between 0 and 100."), "min_score")
    if min_rung is not None and not 0 <= min_rung <= 7:
        raise CreditBankError(_("Choose a rung of the skill ladder (0-7)."), "min_rung")
    if min_attendance is not None and not 0 <= min_attendance <= 1:
        raise CreditBankError(_("An attendance share is between 0 and 1."), "min_attendance")
    if validity_years is not None and not 1 <= validity_years <= 100:
        raise CreditBankError(_("Validity is between 1 and 100 years."), "validity_years")
    if not 1 <= (max_count or 0) <= 100:
        raise CreditBankError(_("The maximum count is between 1 and 100."), "max_count")
    if not isinstance(effective_from, dt.date):
        raise CreditBankError(_("Enter the first day the rule applies."), "effective_from")
    if effective_to is not None and effective_to < effective_from:
        raise CreditBankError(_("The end date is before the start date."), "effective_to")


def save_rule(user, *, code: str, title: str, operator: str, source_ids: list[int],
              target_outcome_id: int | None = None, credits: float | None = None,
              credit_type_id: int | None = None, min_score: float | None = None, min_rung: int | None = None,
              min_attendance: float | None = None, validity_years: int | None = None, max_count: int = 1,
              effective_from: dt.date | None = None, effective_to: dt.date | None = None,
              note: str = "") -> ConversionRule:
    """Write a new draft version of rule ``code`` (version 1 if the code is new).

    Versions are never edited in place: approved ones are cited by ledger entries."""
    require_manager(user)
    code = (code or "").strip()
    if not _CODE.match(code):
        raise CreditBankError(_("Use letters, digits, dots, hyphens or underscores."), "code")
    source_ids = sorted({int(i) for i in source_ids or ()})
    _check(operator=operator, source_ids=source_ids, target_outcome_id=target_outcome_id, credits=credits,
           credit_type_id=credit_type_id, min_score=min_score, min_rung=min_rung, min_attendance=min_attendance,
           validity_years=validity_years, max_count=max_count, effective_from=effective_from,
           effective_to=effective_to)
    last = db.session.scalar(sa.select(sa.func.max(ConversionRule.version)).where(ConversionRule.code == code)) or 0
    rule = ConversionRule(code=code, version=last + 1, title=(title or code).strip()[:200], operator=operator,
                          target_outcome_id=target_outcome_id or None, credits=credits or None,
                          credit_type_id=credit_type_id if credits else None, min_score=min_score, min_rung=min_rung,
                          min_attendance=min_attendance, validity_years=validity_years, max_count=max_count,
                          effective_from=effective_from, effective_to=effective_to, status="draft",
                          note=(note or "").strip()[:500], created_by_id=user.id)
    rule.sources = [RuleSource(outcome_id=i) for i in source_ids]
    db.session.add(rule)
    db.session.flush()
    return rule


def approve_rule(user, rule: ConversionRule) -> ConversionRule:
    """Approve a draft version; the rule's previously approved version is superseded.

    The approver must not be the author (four eyes), unless a system administrator."""
    if not can(user, "creditbank.approve"):
        raise CreditBankError(_("You may not approve conversion rules."))
    if rule.created_by_id == user.id and not user.is_system_admin:
        raise CreditBankError(_("Someone other than the author must approve the rule."))
    # Lock the rule's versions so two approvals cannot both win; then re-read the status.
    db.session.execute(sa.select(ConversionRule.id).where(ConversionRule.code == rule.code)
                       .with_for_update()).all()
    db.session.refresh(rule)
    if rule.status != "draft":
        raise CreditBankError(_("Only a draft can be approved."))
    db.session.execute(sa.update(ConversionRule).where(ConversionRule.code == rule.code,
                                                       ConversionRule.status == "approved")
                       .values(status="superseded"))
    rule.status = "approved"
    rule.approved_by_id = user.id
    rule.approved_at = utcnow()
    db.session.flush()
    return rule


def effective_rules(day: dt.date | None = None) -> list[ConversionRule]:
    """Approved rule versions that apply on ``day`` (default: today)."""
    day = day or dt.date.today()
    stmt = (sa.select(ConversionRule).where(ConversionRule.status == "approved",
                                            ConversionRule.effective_from <= day,
                                            sa.or_(ConversionRule.effective_to.is_(None),
                                                   ConversionRule.effective_to >= day))
            .order_by(ConversionRule.code))
    return list(db.session.scalars(stmt))


def public_rules() -> list[ConversionRule]:
    """Every approved or superseded version, for the public list and its exports."""
    stmt = (sa.select(ConversionRule).where(ConversionRule.status.in_(("approved", "superseded")))
            .order_by(ConversionRule.code, ConversionRule.version))
    return list(db.session.scalars(stmt))


def rule_as_dict(rule: ConversionRule) -> dict:
    """The public description of one rule version (JSON export and API)."""
    return {
        "code": rule.code, "version": rule.version, "title": rule.title, "status": rule.status,
        "operator": rule.operator, "sources": [s.outcome.code for s in rule.sources],
        "target_outcome": rule.target_outcome.code if rule.target_outcome else None,
        "credits": rule.credits, "credit_type": rule.credit_type.code if rule.credit_type else None,
        "conditions": {"min_score": rule.min_score, "min_rung": rule.min_rung,
                       "min_attendance": rule.min_attendance, "validity_years": rule.validity_years,
                       "max_count": rule.max_count},
        "effective_from": rule.effective_from.isoformat(),
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
        "approved_by": (rule.approved_by.real_name or "") if rule.approved_by else None,
        "approved_at": rule.approved_at.isoformat() if rule.approved_at else None,
        "note": rule.note,
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def rules_csv(rules) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    header = ["code", "version", "title", "status", "operator", "sources", "target_outcome", "credits",
              "credit_type", "min_score", "min_rung", "min_attendance", "validity_years", "max_count",
              "effective_from", "effective_to", "approved_by", "approved_at", "note"]
    writer.writerow(header)
    for rule in rules:
        d = rule_as_dict(rule)
        d.update(d.pop("conditions"))
        d["sources"] = " ".join(d["sources"])
        writer.writerow([csv_cell(d[h]) for h in header])
    return out.getvalue()
