"""Applications to recognise an outside outcome: upload, review by an institution, decision."""
from __future__ import annotations

import datetime as dt
import os
import secrets
import unicodedata

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from flask import current_app
from flask_babel import gettext as _

from creditbank.models import Achievement, Application, Outcome
from creditbank.operations import CreditBankError
from lms.core.db import db, utcnow

#: Accepted certificate files, recognised by their first bytes (never by name or declared type).
_SIGNATURES = ((b"%PDF-", "application/pdf", ".pdf"), (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
               (b"\xff\xd8\xff", "image/jpeg", ".jpg"))
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def upload_dir() -> str:
    path = os.path.join(current_app.config["LMS_UPLOAD_DIR"], "creditbank")
    os.makedirs(path, exist_ok=True)
    return path


def _clean_name(name: str) -> str:
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"/\\|?*')
    return name.strip(" .")[:200] or "certificate"


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in _SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def may_review(user, application: Application) -> bool:
    return getattr(user, "is_authenticated", False) and (
        user.is_system_admin or "institution_admin" in user.roles(application.organisation_id))


def submit_application(user, *, organisation_id: int, target_outcome_id: int, title: str, issuer: str = "",
                       issued_on: dt.date | None = None, file_name: str, data: bytes) -> Application:
    """A worker asks an institution to recognise a certificate; the file is checked and stored."""
    from lms.organisations.models import Organisation

    org = db.session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or org.kind != "institution":
        raise CreditBankError(_("Choose a training institution."), "organisation_id")
    outcome = db.session.get(Outcome, target_outcome_id) if target_outcome_id else None
    if outcome is None or not outcome.active:
        raise CreditBankError(_("Choose an outcome of the catalogue."), "target_outcome_id")
    title = (title or "").strip()
    if not title:
        raise CreditBankError(_("Describe the certificate."), "title")
    if issued_on is not None and issued_on > dt.date.today():
        raise CreditBankError(_("The issue date is in the future."), "issued_on")
    limit = int(current_app.config.get("LMS_CREDITBANK_MAX_UPLOAD", DEFAULT_MAX_BYTES))
    if not data:
        raise CreditBankError(_("Attach the certificate (PDF, PNG or JPEG)."), "certificate")
    if len(data) > limit:
        raise CreditBankError(_("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024) or 1), "certificate")
    kind = _sniff(data[:16])
    if kind is None:
        raise CreditBankError(_("Only PDF, PNG or JPEG files are accepted."), "certificate")
    mime, ext = kind
    pending_key = f"{user.id}:{outcome.id}"
    if db.session.scalar(sa.select(Application.id).where(Application.pending_key == pending_key)):
        raise CreditBankError(_("You already have a pending application for this outcome."), "target_outcome_id")
    stored = secrets.token_hex(16) + ext
    app_row = Application(user_id=user.id, organisation_id=org.id, target_outcome_id=outcome.id,
                          title=title[:200], issuer=(issuer or "").strip()[:200], issued_on=issued_on,
                          file_path=stored, file_name=_clean_name(file_name), file_type=mime, file_size=len(data),
                          pending_key=pending_key)
    try:
        with db.session.begin_nested():
            db.session.add(app_row)
    except IntegrityError:  # an identical request won the race
        raise CreditBankError(_("You already have a pending application for this outcome."),
                              "target_outcome_id") from None
    path = os.path.join(upload_dir(), stored)
    with open(path, "xb") as fh:
        fh.write(data)
    return app_row


def decide(user, application_id: int, *, approve: bool, reason: str) -> Application:
    """An institution's decision. Only a pending application can be decided, once: the row is
    updated only while still pending, so parallel decisions have exactly one effect."""
    application = db.session.get(Application, application_id)
    if application is None or not may_review(user, application):
        raise CreditBankError(_("You may not review this application."))
    if application.user_id == user.id:
        raise CreditBankError(_("You may not review your own application."))
    reason = (reason or "").strip()
    if not reason:
        raise CreditBankError(_("Give the reason for the decision."), "reason")
    status = "approved" if approve else "rejected"
    done = db.session.execute(sa.update(Application)
                              .where(Application.id == application.id, Application.status == "pending")
                              .values(status=status, decision_reason=reason[:1000], reviewed_by_id=user.id,
                                      pending_key=None,
                                      reviewed_at=utcnow())
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise CreditBankError(_("This application was decided already."))
    db.session.refresh(application)
    if approve:
        achieved = dt.datetime.combine(application.issued_on, dt.time(), dt.timezone.utc) \
            if application.issued_on else utcnow()
        db.session.add(Achievement(user_id=application.user_id, outcome_id=application.target_outcome_id,
                                   source_kind="application", source_ref=f"application:{application.id}",
                                   achieved_at=achieved, rung=application.target_outcome.rung,
                                   details={"title": application.title, "issuer": application.issuer,
                                            "reviewed_by": user.id}))
    db.session.flush()
    return application


def file_path(application: Application) -> str:
    return os.path.join(upload_dir(), os.path.basename(application.file_path))


def visible_applications(user):
    """Applications ``user`` may see: their own, and those of institutions they administer."""
    stmt = sa.select(Application).order_by(Application.created_at.desc())
    if user.is_system_admin:
        return stmt
    orgs = user.organisation_ids("institution_admin")
    return stmt.where(sa.or_(Application.user_id == user.id, Application.organisation_id.in_(orgs)))
