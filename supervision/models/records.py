"""Records supervision imports or keeps: real-name checks, employment records, lists of people
who may not be subsidised (pension recipients, full-time students, public payroll), and the
indicators per class."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import JSONType, UTCDateTime, db, utcnow

#: Import kinds: employment records and the three exclusion lists.
IMPORT_KINDS = ("employment", "pension", "student", "payroll")
#: Kinds of employment evidence (never self-declared alone).
EMPLOYMENT_KINDS = ("social_insurance", "contract", "business")


class RealNameCheck(db.Model):
    """A trainee's real name and ID number checked against an identity document or the public
    security interface. A trainee without a check of their current ID number is "unverified"."""

    __tablename__ = "supervision_real_name_checks"
    __table_args__ = (sa.UniqueConstraint("user_id", "id_number"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The account.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The ID number checked.
    id_number: Mapped[str] = mapped_column(sa.String(18))
    #: How: ``document`` (seen in person), ``interface`` (public-security check).
    method: Mapped[str] = mapped_column(sa.String(20), default="document")
    #: Who checked.
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportBatch(db.Model):
    """One imported file (employment records or an exclusion list)."""

    __tablename__ = "supervision_imports"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: One of :data:`IMPORT_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: The uploaded file's name.
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    #: Rows imported.
    rows: Mapped[int] = mapped_column(default=0)
    #: Who imported.
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    imported_by = relationship("User", foreign_keys=[imported_by_id])


class EmploymentRecord(db.Model):
    """Proof of employment or entrepreneurship: a social-insurance contribution, a labour contract
    or a business registration, matched to trainees on the ID number."""

    __tablename__ = "supervision_employment_records"
    __table_args__ = (sa.UniqueConstraint("id_number", "kind", "start_date", "employer"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The import it came from.
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_imports.id", ondelete="CASCADE"), index=True)
    #: ID number (身份证号).
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    #: One of :data:`EMPLOYMENT_KINDS`.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: First month of contributions, contract start or registration date.
    start_date: Mapped[dt.date] = mapped_column(sa.Date())
    #: Employer or business name.
    employer: Mapped[str] = mapped_column(sa.String(200), default="")


class WatchlistEntry(db.Model):
    """A person on an imported pension-recipient, full-time-student or public-payroll list."""

    __tablename__ = "supervision_watchlist"
    __table_args__ = (sa.UniqueConstraint("list_kind", "id_number"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The import it came from.
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_imports.id", ondelete="CASCADE"), index=True)
    #: ``pension``, ``student`` or ``payroll``.
    list_kind: Mapped[str] = mapped_column(sa.String(20))
    #: ID number.
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    #: The list's own note (paying office, school...).
    note: Mapped[str] = mapped_column(sa.String(200), default="")


class ClassIndicator(db.Model):
    """A class's indicators, refreshed whenever one of its trainees' outcomes changes (so pages
    read one row per class instead of scanning history)."""

    __tablename__ = "supervision_class_indicators"
    __table_args__ = (sa.Index("ix_supervision_indicators_group", "organisation_id", "occupation_code", "level"),)

    #: The class.
    class_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_classes.id", ondelete="CASCADE"),
                                          primary_key=True)
    #: The institution (denormalised for grouping).
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    #: Occupation code (denormalised).
    occupation_code: Mapped[str] = mapped_column(sa.String(20))
    #: Rung (denormalised).
    level: Mapped[int] = mapped_column()
    #: The class's last day (the period filter).
    end_date: Mapped[dt.date] = mapped_column(sa.Date(), index=True)
    #: Enrolled at opening (the denominator).
    enrolled: Mapped[int] = mapped_column(default=0)
    #: Of those, completed.
    completed: Mapped[int] = mapped_column(default=0)
    #: Of those, passed (certified at the level).
    passed: Mapped[int] = mapped_column(default=0)
    #: Of those, employed within 2 months after the class ended.
    employed_2m: Mapped[int] = mapped_column(default=0)
    #: ... within 6 months.
    employed_6m: Mapped[int] = mapped_column(default=0)
    #: ... within 12 months.
    employed_12m: Mapped[int] = mapped_column(default=0)
    #: Of those, registered a business within 12 months.
    entrepreneurs: Mapped[int] = mapped_column(default=0)
    #: When computed.
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Free-form extras (targets met...).
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)
