"""Conversion rules as data, versioned and approved."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, db, utcnow

#: ``draft`` (editable, not applied), ``approved`` (applied within its dates), ``superseded``
#: (a later version was approved).
RULE_STATUSES = ("draft", "approved", "superseded")


class ConversionRule(db.Model):
    """One version of a conversion rule: source outcomes (AND / OR) -> a target outcome or credits.

    Rules with the same ``code`` are versions of one rule; editing writes a new version. Ledger
    entries cite the version that produced them; a rule credits the same evidence once across all
    its versions, and at most ``max_count`` times per worker.
    """

    __tablename__ = "creditbank_rules"
    __table_args__ = (sa.UniqueConstraint("code", "version"),
                      sa.CheckConstraint(f"status IN {RULE_STATUSES!r}", name="status"),
                      sa.CheckConstraint("operator IN ('and', 'or')", name="operator"),
                      sa.CheckConstraint("max_count >= 1", name="max_count"))

    #: Surrogate key (one per version).
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable code shared by every version.
    code: Mapped[str] = mapped_column(sa.String(60), index=True)
    #: Version number, 1 upwards.
    version: Mapped[int] = mapped_column(default=1)
    #: Title (shown in the public list).
    title: Mapped[str] = mapped_column(sa.String(200))
    #: ``and``: every source outcome is needed; ``or``: any one.
    operator: Mapped[str] = mapped_column(sa.String(3), default="and")
    #: The outcome the rule grants, if it grants an outcome.
    target_outcome_id: Mapped[int | None] = mapped_column(sa.ForeignKey("creditbank_outcomes.id"))
    #: Credits the rule grants, if it grants credits.
    credits: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: Type of those credits.
    credit_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("creditbank_credit_types.id"))
    #: Minimum normalised score (0-100) of each source achievement, if any.
    min_score: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: Minimum skill-ladder rung of each source achievement, if any.
    min_rung: Mapped[int | None] = mapped_column()
    #: Minimum attendance share (0-1) of each source achievement, if any.
    min_attendance: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: A source achievement counts only this many years after it was achieved (null: forever).
    validity_years: Mapped[int | None] = mapped_column()
    #: How many times a worker may be credited by this rule.
    max_count: Mapped[int] = mapped_column(default=1)
    #: First day the version applies.
    effective_from: Mapped[object] = mapped_column(sa.Date())
    #: Last day it applies (null: open-ended).
    effective_to: Mapped[object | None] = mapped_column(sa.Date())
    #: One of :data:`RULE_STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    #: Why this version exists (change note).
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    #: Who wrote the version.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who approved it.
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    approved_at: Mapped[object | None] = mapped_column(UTCDateTime())

    target_outcome = relationship("Outcome")
    credit_type = relationship("CreditType")
    sources = relationship("RuleSource", cascade="all, delete-orphan", order_by="RuleSource.id")
    approved_by = relationship("User", foreign_keys=[approved_by_id])


class RuleSource(db.Model):
    """A source outcome of a rule version."""

    __tablename__ = "creditbank_rule_sources"
    __table_args__ = (sa.UniqueConstraint("rule_id", "outcome_id"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The rule version.
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("creditbank_rules.id", ondelete="CASCADE"), index=True)
    #: The source outcome.
    outcome_id: Mapped[int] = mapped_column(sa.ForeignKey("creditbank_outcomes.id"))

    outcome = relationship("Outcome")
