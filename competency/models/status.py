"""Revocation published as W3C Bitstring Status Lists: one list credential shared by many
certificates, each certificate holding one (randomly chosen) bit of one list."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import GUID, UTCDateTime, db, utcnow


class StatusList(db.Model):
    """One Bitstring Status List (131,072 bits), published as a signed credential at a public URL."""

    __tablename__ = "competency_status_lists"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public identifier (the list credential's URL).
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: ``revocation`` (the only purpose used so far).
    purpose: Mapped[str] = mapped_column(sa.String(20), default="revocation")
    #: When the list was opened.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)


class CertificateStatus(db.Model):
    """The bit of a certificate in a status list; the bit is set while the certificate is revoked."""

    __tablename__ = "competency_certificate_statuses"
    __table_args__ = (sa.UniqueConstraint("list_id", "position", name="uq_competency_certificate_statuses_bit"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The certificate (one bit per certificate).
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_certificates.id", ondelete="CASCADE"),
                                                unique=True)
    #: The list holding the bit.
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("competency_status_lists.id", ondelete="CASCADE"),
                                         index=True)
    #: The bit's index (``statusListIndex``), chosen at random so neighbours reveal nothing.
    position: Mapped[int] = mapped_column(sa.Integer)

    status_list = relationship("StatusList")
    certificate = relationship("Certificate")
