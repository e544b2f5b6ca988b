"""Subsidy and screening rules as data (:class:`~supervision.models.PolicyRule`), each with the
notice it comes from and its effective dates. A rule without a row in effect takes its default."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db, utcnow
from supervision.operations import SupervisionError, audit

#: code -> (default, label, the kind of value)
RULES: dict[str, tuple[object, object, type]] = {
    "subsidy.prorate_online": (True, _l("Amount = standard x online hours / total hours"), bool),
    "subsidy.max_per_person_year": (3000.0, _l("Most subsidy per person per calendar year (yuan)"), float),
    "subsidy.stepped_by_employment": (False, _l("Pay in steps by the class's employment rate"), bool),
    "subsidy.step_only_employed_below": (0.3, _l("Below this employment rate only the employed are paid (0-1)"),
                                         float),
    "subsidy.step_bonus_from": (0.5, _l("From this employment rate a bonus is paid (0-1)"), float),
    "subsidy.step_bonus_share": (0.1, _l("The bonus as a share of each amount (0-1)"), float),
    "screen.max_daily_hours": (8.0, _l("Most study hours a trainee may credibly study in one day"), float),
    "screen.overlap_minutes": (5.0, _l("Sessions overlapping by more than this many minutes are flagged"), float),
    "screen.bulk_minutes": (10.0, _l("Completions of most of a class within this many minutes are flagged"), float),
    "indicator.employment_months": (6.0, _l("Months after the class within which employment counts"), float),
}


def value(code: str, on: dt.date | None = None):
    """The value of rule ``code`` in effect on ``on`` (default: today)."""
    from supervision.models import PolicyRule

    default, _label, kind = RULES[code]
    on = on or dt.date.today()
    row = db.session.scalars(sa.select(PolicyRule).where(
        PolicyRule.code == code, PolicyRule.effective_from <= on,
        sa.or_(PolicyRule.effective_to.is_(None), PolicyRule.effective_to >= on))
        .order_by(PolicyRule.effective_from.desc(), PolicyRule.id.desc())).first()
    return kind(row.value) if row is not None else default


def record(by, code: str, new_value, *, citation: str, effective_from: dt.date, effective_to: dt.date | None = None):
    """Record a rule (authority officers only; flush only)."""
    from supervision.access import is_officer
    from supervision.models import PolicyRule

    if not is_officer(by):
        raise SupervisionError(_l("Only an authority officer may do this."), status=403)
    if code not in RULES:
        raise SupervisionError(_l("Unknown rule."), "code")
    kind = RULES[code][2]
    try:
        parsed = kind(new_value) if kind is not bool else str(new_value).lower() in ("1", "true", "yes", "y", "on")
    except (TypeError, ValueError):
        raise SupervisionError(_l("Not a valid value for this rule."), "value") from None
    if not (citation or "").strip():
        raise SupervisionError(_l("Cite the notice this rule comes from."), "citation")
    if effective_to is not None and effective_to < effective_from:
        raise SupervisionError(_l("The end date is before the start date."), "effective_to")
    row = PolicyRule(code=code, value=parsed, citation=citation.strip(), effective_from=effective_from,
                     effective_to=effective_to, created_by_id=by.id, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.log(by, "policy.rule", "policy", row.id, summary=f"{code} = {parsed}", citation=citation.strip())
    return row
