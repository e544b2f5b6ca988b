"""The log of erasure requests (kept under the ``erasure_log`` retention rule)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import JSONType, UTCDateTime, db, utcnow


class ErasureRequest(db.Model):
    """An administrator's erasure of one account's personal data, with what each provider did."""

    __tablename__ = "privacy_erasure_requests"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The erased account (its row stays, anonymised, so references stay valid).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The administrator who confirmed the erasure.
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Why (e.g. the worker's written request and its date).
    reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: ``[ErasureReport.as_dict(), ...]`` in the order the providers ran.
    reports: Mapped[list] = mapped_column(JSONType, default=list)
    #: When it was done.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
