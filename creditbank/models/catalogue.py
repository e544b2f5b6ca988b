"""The outcome catalogue: credit types, academic levels mapped to the skill ladder, outcomes."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, db, utcnow

#: Kinds of learning outcome the catalogue holds.
OUTCOME_KINDS = ("course", "skill_level", "special_ability", "external_certificate", "academic_course")


class CreditType(db.Model):
    """A kind of credit (e.g. vocational-theory credit, practical credit, academic credit)."""

    __tablename__ = "creditbank_credit_types"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable short code (used in exports).
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: Name in Chinese.
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    #: Name in English.
    name_en: Mapped[str] = mapped_column(sa.String(100), default="")


class AcademicLevel(db.Model):
    """An academic level an administrator defines (e.g. 中职, 高职专科, 本科), mapped to a rung of
    the national skill ladder (0 学徒工 ... 7 首席技师)."""

    __tablename__ = "creditbank_academic_levels"
    __table_args__ = (sa.CheckConstraint("rung >= 0 AND rung <= 7", name="rung"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable short code.
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: Name in Chinese.
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    #: Name in English.
    name_en: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Order among academic levels (lower first).
    rank: Mapped[int] = mapped_column(default=0)
    #: The skill-ladder rung this academic level corresponds to.
    rung: Mapped[int] = mapped_column()


class Outcome(db.Model):
    """A learning outcome of the catalogue, with its credit value.

    ``match_key`` ties the outcome to evidence arriving by domain events: ``course:<course code>``,
    ``level:<occupation code or *>:<rung>``, ``certificate:<occupation code or *>:<rung>`` (domain
    events), ``activity:<IRI>`` (a completed or passed activity, from statements, see
    :mod:`creditbank.facts`); outcomes
    without a key (certificates of other bodies, academic courses) are reached by applications
    and by conversion rules.
    """

    __tablename__ = "creditbank_outcomes"
    __table_args__ = (sa.CheckConstraint(f"kind IN {OUTCOME_KINDS!r}", name="kind"),
                      sa.CheckConstraint("credit_value >= 0", name="credit_value"))

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public code (e.g. ``CB-WELD-101``).
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    #: One of :data:`OUTCOME_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(30))
    #: Title in Chinese.
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    #: Title in English.
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Who awards it (this platform, another body, a university).
    issuer: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Evidence key that deposits this outcome automatically (see the class docstring), or empty.
    match_key: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    #: Credits deposited when the outcome is achieved (0: none).
    credit_value: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: The type of those credits.
    credit_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("creditbank_credit_types.id"))
    #: The skill-ladder rung of the outcome, when it has one.
    rung: Mapped[int | None] = mapped_column()
    #: The academic level of the outcome, when it has one.
    academic_level_id: Mapped[int | None] = mapped_column(sa.ForeignKey("creditbank_academic_levels.id"))
    #: Whether workers may still apply for it and rules may still produce it.
    active: Mapped[bool] = mapped_column(default=True)
    #: When it was added.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    credit_type = relationship(CreditType)
    academic_level = relationship(AcademicLevel)
