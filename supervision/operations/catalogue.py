"""Versioned public catalogues and institutions' applications to list a course.

An entry is never edited: :func:`new_version` adds a version with a reason code, effective dates
and the approving officer. A course enters the subsidised-training catalogue only through
:func:`decide_application` by an officer.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db, utcnow
from lms.core.extension_points import report_source
from supervision.access import is_officer, may_act_for
from supervision.models import CatalogueVersion, CourseApplication
from supervision.models.catalogue import CATALOGUES
from supervision.operations import SupervisionError, audit

CATALOGUE_LABELS = {"training": _l("Subsidised training"), "institution": _l("Training institutions"),
                    "assessment_body": _l("Assessment bodies"), "occupation": _l("Occupations")}
REASONS = {"new": _l("New listing"), "adjust": _l("Adjustment"), "renew": _l("Renewal"),
           "correct": _l("Correction"), "remove_quality": _l("Removed: quality"),
           "remove_fraud": _l("Removed: fraud found"), "remove_request": _l("Removed: at the holder's request")}
REMOVAL_REASONS = ("remove_quality", "remove_fraud", "remove_request")
#: The fields a version may carry (besides the bookkeeping ones).
FIELDS = ("title", "occupation_code", "level", "organisation_id", "course_ref", "total_hours", "standard_amount",
          "online_share", "data")


def _officer(by) -> None:
    if not is_officer(by):
        raise SupervisionError(_l("Only an authority officer may do this."), status=403)


def _latest_versions(catalogue: str, on: dt.date):
    latest = (sa.select(CatalogueVersion.entry_key, sa.func.max(CatalogueVersion.version).label("v"))
              .where(CatalogueVersion.catalogue == catalogue, CatalogueVersion.effective_from <= on)
              .group_by(CatalogueVersion.entry_key).subquery())
    return (sa.select(CatalogueVersion)
            .join(latest, sa.and_(latest.c.entry_key == CatalogueVersion.entry_key, latest.c.v == CatalogueVersion.version))
            .where(CatalogueVersion.catalogue == catalogue))


def current(catalogue: str, on: dt.date | None = None, *, include_removed: bool = False) -> list[CatalogueVersion]:
    """The entries of ``catalogue`` as they stand on ``on`` (default today): each entry's latest
    version already in effect; removed and expired entries are left out unless asked for."""
    if catalogue not in CATALOGUES:
        raise SupervisionError(_l("Unknown catalogue."), "catalogue", status=404)
    on = on or dt.date.today()
    stmt = _latest_versions(catalogue, on).order_by(CatalogueVersion.occupation_code, CatalogueVersion.entry_key)
    rows = db.session.scalars(stmt).all()
    if include_removed:
        return rows
    return [r for r in rows if r.status == "listed" and (r.effective_to is None or r.effective_to >= on)]


def entry(catalogue: str, entry_key: str, on: dt.date | None = None) -> CatalogueVersion | None:
    """One entry as it stands on ``on`` (listed and in effect), or ``None``."""
    on = on or dt.date.today()
    row = db.session.scalars(_latest_versions(catalogue, on).where(CatalogueVersion.entry_key == entry_key)).first()
    if row is None or row.status != "listed" or (row.effective_to is not None and row.effective_to < on):
        return None
    return row


def history(catalogue: str, entry_key: str) -> list[CatalogueVersion]:
    return db.session.scalars(sa.select(CatalogueVersion).where(
        CatalogueVersion.catalogue == catalogue, CatalogueVersion.entry_key == entry_key)
        .order_by(CatalogueVersion.version.desc())).all()


def new_version(by, catalogue: str, entry_key: str, *, reason_code: str, effective_from: dt.date,
                effective_to: dt.date | None = None, reason_note: str = "", appeal_note: str = "",
                remove: bool = False, **fields) -> CatalogueVersion:
    """Add a version of an entry (officers only; flush only). Unset fields keep the previous
    version's values; a removal needs a removal reason and an appeal note."""
    _officer(by)
    if catalogue not in CATALOGUES:
        raise SupervisionError(_l("Unknown catalogue."), "catalogue")
    entry_key = (entry_key or "").strip()
    if not entry_key or len(entry_key) > 50:
        raise SupervisionError(_l("Give the entry's number (at most 50 characters)."), "entry_key")
    if reason_code not in REASONS:
        raise SupervisionError(_l("Choose a reason."), "reason_code")
    if remove and reason_code not in REMOVAL_REASONS:
        raise SupervisionError(_l("A removal needs a removal reason."), "reason_code")
    if not remove and reason_code in REMOVAL_REASONS:
        raise SupervisionError(_l("This reason is only for removals."), "reason_code")
    if remove and not (appeal_note or "").strip():
        raise SupervisionError(_l("Say how the holder may appeal the removal."), "appeal_note")
    if effective_to is not None and effective_to < effective_from:
        raise SupervisionError(_l("The end date is before the start date."), "effective_to")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise KeyError(f"unknown catalogue fields {sorted(unknown)}")
    previous = history(catalogue, entry_key)
    last = previous[0] if previous else None
    if last is None and remove:
        raise SupervisionError(_l("There is no such entry to remove."), "entry_key", status=404)
    values = {f: getattr(last, f) for f in FIELDS} if last is not None else {"data": {}}
    values.update({k: v for k, v in fields.items() if v is not None})
    if not (values.get("title") or "").strip():
        raise SupervisionError(_l("Give the entry a name."), "title")
    if catalogue == "training":
        _check_training(values)
    row = CatalogueVersion(catalogue=catalogue, entry_key=entry_key, version=(last.version + 1) if last else 1,
                           status="removed" if remove else "listed", reason_code=reason_code,
                           reason_note=(reason_note or "").strip(), appeal_note=(appeal_note or "").strip(),
                           effective_from=effective_from, effective_to=effective_to, approved_by_id=by.id,
                           created_at=utcnow(), **values)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        raise SupervisionError(_l("Someone changed this entry at the same time; reload and try again."),
                               status=409) from None
    audit.log(by, "catalogue.version", "catalogue", row.id, organisation_id=row.organisation_id,
              summary=f"{CATALOGUE_LABELS[catalogue]} {entry_key} v{row.version}: {REASONS[reason_code]}",
              reason=reason_code)
    return row


def _check_training(values: dict) -> None:
    if not values.get("occupation_code"):
        raise SupervisionError(_l("Give the occupation code."), "occupation_code")
    if values.get("level") is None or not 0 <= int(values["level"]) <= 7:
        raise SupervisionError(_l("Choose a level."), "level")
    if not values.get("total_hours") or float(values["total_hours"]) <= 0:
        raise SupervisionError(_l("Give the total study hours."), "total_hours")
    amount = values.get("standard_amount")
    if amount is None or Decimal(str(amount)) < 0:
        raise SupervisionError(_l("Give the standard subsidy per person."), "standard_amount")
    share = values.get("online_share")
    if share is None or not 0 <= float(share) <= 1:
        raise SupervisionError(_l("The online share is between 0 and 100 %."), "online_share")


def institution_listing(organisation_id: int, on: dt.date | None = None) -> CatalogueVersion | None:
    """The institution's listing in the training-institutions catalogue, if in effect."""
    for row in current("institution", on):
        if row.organisation_id == organisation_id:
            return row
    return None


def courses_of(organisation_id: int) -> list[dict]:
    """The institution's courses (from the courses report source; empty without one)."""
    source = report_source("courses.of_organisation")
    return list(source(organisation_id)) if source else []


def apply_course(by, organisation_id: int, *, course_ref: str, occupation_code: str, level: int, total_hours,
                 standard_amount, online_share) -> CourseApplication:
    """An institution applies to list one of its courses as subsidised training (flush only)."""
    if not may_act_for(by, organisation_id):
        raise SupervisionError(_l("You may not act for this institution."), status=403)
    listing = institution_listing(organisation_id)
    if listing is None:
        raise SupervisionError(_l("The institution is not in the training-institutions catalogue."))
    allowed = (listing.data or {}).get("occupations") or []
    occupation_code = (occupation_code or "").strip()
    if allowed and occupation_code not in allowed:
        raise SupervisionError(_l("The institution may not train this occupation."), "occupation_code")
    course = next((c for c in courses_of(organisation_id) if c["ref"] == course_ref), None)
    if course is None:
        raise SupervisionError(_l("Choose one of the institution's courses."), "course_ref")
    try:
        amount = Decimal(str(standard_amount)).quantize(Decimal("0.01"))
        hours, share, level = float(total_hours), float(online_share), int(level)
    except (InvalidOperation, TypeError, ValueError):
        raise SupervisionError(_l("Check the numbers.")) from None
    values = {"occupation_code": occupation_code, "level": level, "total_hours": hours, "standard_amount": amount,
              "online_share": share}
    _check_training(values)
    open_key = f"{organisation_id}|{course_ref}|{occupation_code}|{level}"
    row = CourseApplication(organisation_id=organisation_id, course_ref=course_ref, course_title=course["title"][:200],
                            open_key=open_key, created_by_id=by.id, created_at=utcnow(), **values)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        raise SupervisionError(_l("This course already has an open application or listing for this level."),
                               status=409) from None
    audit.log(by, "application.submitted", "application", row.id, organisation_id=organisation_id,
              summary=course["title"][:200])
    return row


def decide_application(by, application_id: int, *, approve: bool, reason: str = "") -> CourseApplication:
    """An officer approves (lists the course in the catalogue) or returns (with a reason) an
    application. Exactly one decision counts, even when sent many times at once (flush only)."""
    _officer(by)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise SupervisionError(_l("Give the reason for returning it."), "reason")
    now = utcnow()
    values = {"status": "approved" if approve else "returned", "decision_reason": reason, "decided_by_id": by.id,
              "decided_at": now}
    if not approve:
        values["open_key"] = None
    done = db.session.execute(sa.update(CourseApplication).where(
        CourseApplication.id == application_id, CourseApplication.status == "pending").values(**values)
        .execution_options(synchronize_session=False)).rowcount
    application = db.session.get(CourseApplication, application_id)
    if application is None:
        raise SupervisionError(_l("No such application."), status=404)
    db.session.refresh(application)
    if done != 1:
        raise SupervisionError(_l("This application has already been decided."), status=409)
    if approve:
        key = f"SUB-{now.year}-{application.id:05d}"
        new_version(by, "training", key, reason_code="new", effective_from=now.date(),
                    reason_note=reason, title=application.course_title, occupation_code=application.occupation_code,
                    level=application.level, organisation_id=application.organisation_id,
                    course_ref=application.course_ref, total_hours=application.total_hours,
                    standard_amount=application.standard_amount, online_share=application.online_share)
        application.entry_key = key
        db.session.flush()
    audit.log(by, "application.approved" if approve else "application.returned", "application", application.id,
              organisation_id=application.organisation_id, summary=f"{application.course_title}: {reason}".strip(": "))
    return application
