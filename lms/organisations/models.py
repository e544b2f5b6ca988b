"""Organisations and memberships."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, db, utcnow

#: Kinds of organisation.
ORG_KINDS = ("enterprise", "institution", "authority")

#: Roles a member can hold in an organisation. System administration is a flag on the user.
ROLES = ("learner", "teacher", "mentor", "enterprise_admin", "institution_admin", "supervisor")


class Organisation(db.Model):
    """An enterprise (企业), a school or training institution (院校/培训机构) or an authority (人社部门)."""

    __tablename__ = "organisations"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Name in Chinese.
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Optional English name.
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    #: One of :data:`ORG_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Unified social credit code (统一社会信用代码), unique when given.
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    #: Administrative region code or name.
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    #: When created.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    memberships = relationship("Membership", back_populates="organisation", cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint(f"kind IN {ORG_KINDS!r}", name="kind"),)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"


class Membership(db.Model):
    """A user's role in an organisation; a user may hold several roles in several organisations."""

    __tablename__ = "memberships"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The member.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The organisation.
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: One of :data:`ROLES`.
    role: Mapped[str] = mapped_column(sa.String(30))
    #: When granted.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    user = relationship("User", back_populates="memberships")
    organisation = relationship(Organisation, back_populates="memberships", lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("user_id", "organisation_id", "role"),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),
    )
