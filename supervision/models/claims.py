"""Subsidy policy as data, claims per class with per-person lines, and screening hits."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow

#: ``draft`` (lines computed) -> ``screened`` -> ``submitted``.
CLAIM_STATUSES = ("draft", "screened", "submitted")
#: States of a screening hit.
HIT_STATES = ("open", "explained", "confirmed", "dismissed")


class PolicyRule(db.Model):
    """One subsidy or screening rule as data, with the notice it comes from and when it applies.
    The rule in effect on a day is the latest one whose dates contain it."""

    __tablename__ = "supervision_policy_rules"
    __table_args__ = (sa.UniqueConstraint("code", "effective_from"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The rule (see :data:`supervision.operations.policy.RULES`).
    code: Mapped[str] = mapped_column(sa.String(40))
    #: Its value (a number or a boolean).
    value: Mapped[object] = mapped_column(JSONType)
    #: The source notice (issuer, number, article).
    citation: Mapped[str] = mapped_column(sa.Text())
    #: In effect from (inclusive).
    effective_from: Mapped[dt.date] = mapped_column(sa.Date())
    #: In effect until (inclusive), or open-ended.
    effective_to: Mapped[dt.date | None] = mapped_column(sa.Date())
    #: Who recorded it.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When recorded.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Claim(db.Model):
    """The subsidy claim of one class (one per class)."""

    __tablename__ = "supervision_claims"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The class (one claim each).
    class_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_classes.id", ondelete="CASCADE"), unique=True)
    #: The institution (denormalised for scoping).
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: One of :data:`CLAIM_STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    #: Sum of the lines' amounts.
    total_amount: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=Decimal("0"))
    #: Who prepared it.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When prepared.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Last screening.
    screened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When submitted.
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Who submitted.
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    training_class = relationship("TrainingClass")
    lines = relationship("ClaimLine", back_populates="claim", order_by="ClaimLine.id", cascade="all, delete-orphan")
    hits = relationship("ScreeningHit", back_populates="claim", order_by="ScreeningHit.id",
                        cascade="all, delete-orphan")


class ClaimLine(db.Model):
    """One trainee's line of a claim: online hours and the amount by the policy."""

    __tablename__ = "supervision_claim_lines"
    __table_args__ = (sa.UniqueConstraint("claim_id", "user_id"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The claim.
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_claims.id", ondelete="CASCADE"), index=True)
    #: The trainee.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: ID number (from the roster).
    id_number: Mapped[str] = mapped_column(sa.String(18), default="", index=True)
    #: Real name (from the roster).
    real_name: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Online study seconds in the class period (the core's study-time rule).
    online_seconds: Mapped[float] = mapped_column(sa.Float(), default=0.0)
    #: Online study hours (学时).
    online_hours: Mapped[Decimal] = mapped_column(sa.Numeric(8, 1), default=Decimal("0"))
    #: Amount before caps.
    base_amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=Decimal("0"))
    #: Amount after the policy's caps (0 when excluded).
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=Decimal("0"))
    #: Excluded by a confirmed screening hit.
    excluded: Mapped[bool] = mapped_column(default=False)

    claim = relationship("Claim", back_populates="lines")
    user = relationship("User")


class ScreeningHit(db.Model):
    """One screening rule that one trainee's line (or the whole claim) broke, with its evidence."""

    __tablename__ = "supervision_screening_hits"
    __table_args__ = (sa.UniqueConstraint("claim_id", "user_id", "rule"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The claim.
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_claims.id", ondelete="CASCADE"), index=True)
    #: The trainee (``None``: a hit about the whole class).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: The rule's code (see :data:`supervision.operations.screening.RULES`).
    rule: Mapped[str] = mapped_column(sa.String(30))
    #: The evidence: a message key and its values (rendered in the reader's language).
    evidence: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: One of :data:`HIT_STATES`.
    state: Mapped[str] = mapped_column(sa.String(10), default="open", index=True)
    #: The institution's answer.
    response: Mapped[str] = mapped_column(sa.Text(), default="")
    #: The reviewer's note.
    note: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Who reviewed.
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When reviewed.
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When found.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    claim = relationship("Claim", back_populates="hits")
    user = relationship("User", foreign_keys=[user_id])
