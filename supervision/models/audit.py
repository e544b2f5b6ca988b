"""Who may act for the authority, and the audit log of every supervisory action."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow


class AuthorityOfficer(db.Model):
    """A user appointed (by a system administrator) to decide for the labour authority: approve
    catalogue changes, applications and classes, review screening hits, export full ID numbers.
    The ``supervisor`` role alone stays read-only (DESIGN.md section 7)."""

    __tablename__ = "supervision_officers"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The officer.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: The authority (organisation of kind ``authority``) they act for.
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    #: Who appointed them.
    appointed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When appointed.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user = relationship("User", foreign_keys=[user_id])


class AuditEntry(db.Model):
    """One supervisory action (approval, return, catalogue change, import, screening, review,
    export with personal data...), written in the action's own transaction."""

    __tablename__ = "supervision_audit_log"
    __table_args__ = (sa.Index("ix_supervision_audit_subject", "subject_kind", "subject_id"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who acted (``None`` for the system, e.g. a recompute).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: What was done, a code such as ``class.approved`` (translated on the page).
    action: Mapped[str] = mapped_column(sa.String(40))
    #: The kind of thing acted on: ``catalogue``, ``application``, ``class``, ``claim``, ``hit``, ``import``.
    subject_kind: Mapped[str] = mapped_column(sa.String(20))
    #: Its id.
    subject_id: Mapped[int | None] = mapped_column()
    #: The organisation concerned (scopes the log for institutions).
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        index=True)
    #: A short human description (names, counts, reason) -- never a full ID number.
    summary: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Details for auditors (reason codes, row counts).
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: When.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor = relationship("User", foreign_keys=[actor_id])
