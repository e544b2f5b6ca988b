"""What workers achieved, what they were credited, and their applications."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow

#: ``pending`` (waiting for the institution), ``approved``, ``rejected``.
APPLICATION_STATUSES = ("pending", "approved", "rejected")


class Achievement(db.Model):
    """A worker achieved a catalogue outcome (from a domain event, an approved application or a rule)."""

    __tablename__ = "creditbank_achievements"
    __table_args__ = (sa.UniqueConstraint("user_id", "outcome_id", "source_kind", "source_ref"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The worker.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The outcome achieved.
    outcome_id: Mapped[int] = mapped_column(sa.ForeignKey("creditbank_outcomes.id"), index=True)
    #: Where it came from: the event name (``course_completed``...), ``application`` or ``rule``.
    source_kind: Mapped[str] = mapped_column(sa.String(40))
    #: Identifier of the source object (``enrolment:12``, ``application:3``, ``rule:R1/a5``).
    source_ref: Mapped[str] = mapped_column(sa.String(200))
    #: Normalised score 0-100, when the source has one.
    score: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: Skill-ladder rung, when the source has one.
    rung: Mapped[int | None] = mapped_column()
    #: Attendance share 0-1, when the source has one.
    attendance: Mapped[float | None] = mapped_column(sa.Float(asdecimal=False))
    #: When it was achieved.
    achieved_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: What the source said (title, institution, occupation...), frozen.
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: When its source lost its basis (level retracted, certificate revoked, statement voided).
    withdrawn_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Why.
    withdrawn_reason: Mapped[str] = mapped_column(sa.String(300), default="")

    outcome = relationship("Outcome")


class LedgerEntry(db.Model):
    """Credits (or an outcome) granted to a worker, citing the basis and the evidence.

    ``basis`` is ``outcome:<id>`` (the catalogue credit value of an achieved outcome) or
    ``rule:<code>`` (a conversion rule; ``rule_id`` names the version). The two unique
    constraints make evaluation idempotent: the same evidence is credited once per basis, and a
    basis fills at most ``max_count`` slots per worker, however many evaluations run at once.
    """

    __tablename__ = "creditbank_ledger"
    __table_args__ = (sa.UniqueConstraint("user_id", "basis", "evidence_key"),
                      sa.UniqueConstraint("user_id", "basis", "slot"))

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The worker.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: See the class docstring.
    basis: Mapped[str] = mapped_column(sa.String(80))
    #: The rule version applied (null for catalogue deposits).
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("creditbank_rules.id"))
    #: The rule's version number (denormalised for the record).
    rule_version: Mapped[int | None] = mapped_column()
    #: The outcome deposited or granted.
    outcome_id: Mapped[int | None] = mapped_column(sa.ForeignKey("creditbank_outcomes.id"))
    #: Credit type (null when only an outcome is granted).
    credit_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("creditbank_credit_types.id"))
    #: Number of credits.
    credits: Mapped[float] = mapped_column(sa.Float(asdecimal=False), default=0.0)
    #: The achievements used: ``[{"achievement_id", "outcome", "source_kind", "source_ref"}]``.
    evidence: Mapped[list] = mapped_column(JSONType, default=list)
    #: Sorted achievement ids joined by ``,`` (the idempotency key).
    evidence_key: Mapped[str] = mapped_column(sa.String(200))
    #: 1..max_count: which of the basis' allowed credits this is.
    slot: Mapped[int] = mapped_column(default=1)
    #: When it was written.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: When it was reversed because its evidence was withdrawn (the row stays, for the record;
    #: balances leave it out; its slot and evidence key are released).
    reversed_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Why.
    reversal_reason: Mapped[str] = mapped_column(sa.String(300), default="")

    rule = relationship("ConversionRule")
    outcome = relationship("Outcome")
    credit_type = relationship("CreditType")


class Application(db.Model):
    """A worker's application to recognise an outcome obtained elsewhere, reviewed by an institution."""

    __tablename__ = "creditbank_applications"
    __table_args__ = (sa.CheckConstraint(f"status IN {APPLICATION_STATUSES!r}", name="status"),
                      sa.UniqueConstraint("pending_key"))

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The worker who applies.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The institution asked to review it.
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: The catalogue outcome the worker asks to be recognised.
    target_outcome_id: Mapped[int] = mapped_column(sa.ForeignKey("creditbank_outcomes.id"))
    #: What the certificate is (as the worker describes it).
    title: Mapped[str] = mapped_column(sa.String(200))
    #: Who issued it.
    issuer: Mapped[str] = mapped_column(sa.String(200), default="")
    #: When it was issued.
    issued_on: Mapped[object | None] = mapped_column(sa.Date())
    #: Stored file name under ``LMS_UPLOAD_DIR/creditbank`` (random, never the uploaded name).
    file_path: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The uploaded file's name, cleaned (shown to the reviewer).
    file_name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Media type detected from the content.
    file_type: Mapped[str] = mapped_column(sa.String(50), default="")
    #: Size in bytes.
    file_size: Mapped[int] = mapped_column(default=0)
    #: One of :data:`APPLICATION_STATUSES`.
    status: Mapped[str] = mapped_column(sa.String(20), default="pending", index=True)
    #: The reviewer's reason.
    decision_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: Who decided.
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: ``<user id>:<target outcome id>`` while pending, null once decided: one pending application
    #: per worker and target, however many identical requests arrive at once.
    pending_key: Mapped[str | None] = mapped_column(sa.String(40))
    #: When submitted.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    target_outcome = relationship("Outcome")
    user = relationship("User", foreign_keys=[user_id])
