"""The outcome catalogue, credit types and academic levels (administrators)."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from creditbank.models import OUTCOME_KINDS, AcademicLevel, CreditType, Outcome
from creditbank.operations import CreditBankError
from lms.core.db import db
from lms.core.permissions import can

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
_MATCH = re.compile(r"^(course:[^\s:]{1,80}|(level|certificate):[^\s:]{1,40}:[0-7]|activity:https?://\S{3,180})$")


def require_manager(user) -> None:
    if not can(user, "creditbank.manage"):
        raise CreditBankError(_("You may not manage the credit bank."))


def _code(value: str, field: str = "code") -> str:
    value = (value or "").strip()
    if not _CODE.match(value):
        raise CreditBankError(_("Use letters, digits, dots, hyphens or underscores."), field)
    return value


def create_credit_type(user, code: str, name_zh: str, name_en: str = "") -> CreditType:
    require_manager(user)
    code = _code(code)
    if db.session.scalar(sa.select(CreditType.id).where(CreditType.code == code)):
        raise CreditBankError(_("This code is already used."), "code")
    row = CreditType(code=code, name_zh=name_zh.strip()[:100], name_en=(name_en or "").strip()[:100])
    db.session.add(row)
    db.session.flush()
    return row


def create_academic_level(user, code: str, name_zh: str, rung: int, rank: int = 0, name_en: str = "") -> AcademicLevel:
    require_manager(user)
    code = _code(code)
    if not isinstance(rung, int) or not 0 <= rung <= 7:
        raise CreditBankError(_("Choose a rung of the skill ladder (0-7)."), "rung")
    if db.session.scalar(sa.select(AcademicLevel.id).where(AcademicLevel.code == code)):
        raise CreditBankError(_("This code is already used."), "code")
    row = AcademicLevel(code=code, name_zh=name_zh.strip()[:100], name_en=(name_en or "").strip()[:100],
                        rung=rung, rank=int(rank or 0))
    db.session.add(row)
    db.session.flush()
    return row


def create_outcome(user, *, code: str, kind: str, title_zh: str, title_en: str = "", issuer: str = "",
                   match_key: str = "", credit_value: float = 0.0, credit_type_id: int | None = None,
                   rung: int | None = None, academic_level_id: int | None = None) -> Outcome:
    """Add an outcome to the catalogue."""
    require_manager(user)
    code = _code(code)
    if kind not in OUTCOME_KINDS:
        raise CreditBankError(_("Unknown kind of outcome."), "kind")
    match_key = (match_key or "").strip()
    if match_key and not _MATCH.match(match_key):
        raise CreditBankError(_("Write course:<code>, level:<occupation or *>:<rung>, "
                                "certificate:<occupation or *>:<rung> or activity:<IRI>."), "match_key")
    try:
        credit_value = float(credit_value or 0)
    except (TypeError, ValueError):
        raise CreditBankError(_("Enter a number."), "credit_value") from None
    if not 0 <= credit_value <= 1000:
        raise CreditBankError(_("Credits must be between 0 and 1000."), "credit_value")
    if credit_value and not (credit_type_id and db.session.get(CreditType, credit_type_id)):
        raise CreditBankError(_("Choose the type of the credits."), "credit_type_id")
    if rung is not None and not 0 <= rung <= 7:
        raise CreditBankError(_("Choose a rung of the skill ladder (0-7)."), "rung")
    if academic_level_id and not db.session.get(AcademicLevel, academic_level_id):
        raise CreditBankError(_("Unknown academic level."), "academic_level_id")
    if db.session.scalar(sa.select(Outcome.id).where(Outcome.code == code)):
        raise CreditBankError(_("This code is already used."), "code")
    row = Outcome(code=code, kind=kind, title_zh=title_zh.strip()[:200], title_en=(title_en or "").strip()[:200],
                  issuer=(issuer or "").strip()[:200], match_key=match_key, credit_value=credit_value,
                  credit_type_id=credit_type_id if credit_value else None, rung=rung,
                  academic_level_id=academic_level_id or None)
    db.session.add(row)
    db.session.flush()
    return row


def outcomes(active_only: bool = False) -> list[Outcome]:
    stmt = sa.select(Outcome).order_by(Outcome.kind, Outcome.code)
    if active_only:
        stmt = stmt.where(Outcome.active.is_(True))
    return list(db.session.scalars(stmt))
