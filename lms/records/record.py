"""The worker's lifelong training record: who may read it, its sections (contributed by plugins
through the "record sections" registry), its PDF, its verifiable export as a signed 1EdTech CLR 2.0
``ClrCredential``, and the links a worker shares it with.
"""
from __future__ import annotations
from lms.core.exceptions import DomainError

import datetime as dt
import hashlib
import os
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.core.db import db, utcnow
from lms.core.extension_points import RecordFilters, registries
from lms.records import credentials as vc

#: Organisation roles that may read the record of a member of their organisation (read only).
READER_ROLES = ("enterprise_admin", "institution_admin", "supervisor")
#: Longest life of a share link, in days.
MAX_SHARE_DAYS = 365
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_FONT_INDEX = 2

SOURCE_LABELS = {"platform": _l("This platform"), "external": _l("External system"), "import": _l("Imported record")}
VERIFICATION_LABELS = {"signed": _l("Signed credential"), "recorded": _l("Recorded by an institution"),
                       "reported": _l("Reported, not checked"), "revoked": _l("Revoked")}


class RecordError(DomainError):
    """A request about a record that cannot be met; ``status`` is the HTTP status it maps to."""

    def __init__(self, message, status: int = 400, *, code: str | None = None, field: str | None = None):
        super().__init__(message, field, status=status, code=code)


# --- who may read -------------------------------------------------------------------------------


def may_read(viewer, worker) -> bool:
    """The worker themself; system administrators; the administrators and supervisors of an
    organisation the worker belongs to (``record.read_members``)."""
    from lms.core.permissions import can

    if viewer is None or not getattr(viewer, "is_authenticated", False) or worker is None:
        return False
    if viewer.id == worker.id or viewer.is_system_admin:
        return True
    return any(can(viewer, "record.read_members", org_id) for org_id in worker.organisation_ids())


# --- the record ---------------------------------------------------------------------------------


def sections(worker, viewer, filters: RecordFilters | None = None) -> list:
    """The record's sections, in order, from every registered contributor."""
    filters = filters or RecordFilters()
    out = []
    for contribute in registries().record_sections:
        section = contribute(worker, viewer, filters)
        if section is not None and section.entries:
            out.append(section)
    return sorted(out, key=lambda s: (s.order, s.key))


def occupations(sections_) -> list[str]:
    return sorted({e.occupation_code for s in sections_ for e in s.entries if e.occupation_code})


def entries(sections_) -> list:
    return [e for s in sections_ for e in s.entries]


# --- PDF ----------------------------------------------------------------------------------------


def record_pdf(worker, sections_, *, filters: RecordFilters) -> bytes:
    """The record as an A4 PDF in Chinese (the CJK font the certificates use)."""
    from flask_babel import gettext as _
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    font = "helvetica"
    if os.path.exists(CJK_FONT):
        pdf.add_font("cjk", fname=CJK_FONT, collection_font_number=CJK_FONT_INDEX)
        font = "cjk"
    pdf.add_page()

    def line(text, size=10, h=6, bold_color=None):
        pdf.set_font(font, size=size)
        if bold_color:
            pdf.set_text_color(*bold_color)
        pdf.multi_cell(0, h, text if font == "cjk" else text.encode("latin-1", "replace").decode("latin-1"),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)

    line(_("Vocational training record"), size=20, h=12)
    line(f"{_('Worker')}：{worker.display_name}", size=12, h=8)
    period = "—"
    if filters.since or filters.until:
        period = f"{filters.since or '…'} – {filters.until or '…'}"
    line(f"{_('Period')}：{period}    {_('Occupation')}：{filters.occupation or _('All')}", size=10)
    line(f"{_('Printed')}：{utcnow().date().isoformat()}    {current_app.config.get('LMS_SITE_NAME', 'LMS')}", size=10)
    pdf.ln(4)
    for section in sections_:
        line(str(section.title), size=14, h=9, bold_color=(150, 30, 30))
        for entry in section.entries:
            head = entry.title + (f"  （{entry.day.isoformat()}）" if entry.day else "")
            line(head, size=11, h=7)
            facts = "；".join(f"{label}：{value}" for label, value in entry.details)
            source = str(SOURCE_LABELS.get(entry.source, entry.source))
            if entry.source_label:
                source += f"（{entry.source_label}）"
            line(f"{facts}\n{_('Source')}：{source}；{_('Verification')}："
                 f"{VERIFICATION_LABELS.get(entry.verification, entry.verification)}", size=9, h=5)
            pdf.ln(1)
        pdf.ln(2)
    return bytes(pdf.output())


# --- the verifiable export (CLR 2.0) -------------------------------------------------------------


def id_number_identifier(worker) -> list[dict]:
    """``identifier`` entries: the ID card number as a salted SHA-256, never the number."""
    out = []
    number = (getattr(worker, "id_card_number", None) or "").strip().upper()
    if number:
        salt = secrets.token_hex(16)
        out.append({"type": "IdentityObject", "identityType": "nationalIdentityNumber", "hashed": True,
                    "salt": salt, "identityHash": "sha256$" + hashlib.sha256((number + salt).encode()).hexdigest()})
    return out


def _association(kind: str, source: str, target: str) -> dict:
    return {"type": "Association", "associationType": kind, "sourceId": source, "targetId": target}


def clr_credential(worker, selected, *, share_uuid, valid_until=None) -> dict:
    """A signed ``ClrCredential`` of ``selected`` entries: the Open Badges credentials the platform
    signed (levels with certificates) as ``verifiableCredential``, every entry's ``Achievement``,
    and ``association``s: courses → units (the evidence that covered them) → levels, exams → levels."""
    keys = {e.key for e in selected}
    achievements, seen = [], set()
    for e in selected:
        if e.achievement and e.achievement["id"] not in seen:
            seen.add(e.achievement["id"])
            achievements.append(e.achievement)
    associations = []
    for e in selected:
        for parent in e.parents:
            if parent in keys and e.achievement and parent in seen:
                associations.append(_association("isChildOf", e.key, parent))
        for activity in (e.result or {}).get("evidence", ()):
            if activity in keys and activity in seen and e.achievement:
                associations.append(_association("isChildOf", activity, e.key))
    credentials = [e.credential for e in selected if e.credential]
    base = vc.base_url()
    subject = {"type": ["ClrSubject"], "verifiableCredential": credentials}
    identifier = id_number_identifier(worker)
    if identifier:
        subject["identifier"] = identifier
    if achievements:
        subject["achievement"] = achievements
    if associations:
        subject["association"] = associations
    now = utcnow().replace(microsecond=0)
    credential = {
        "@context": [vc.VC_V2, vc.CLR_V2, vc.OB_V3],
        "id": f"urn:uuid:{share_uuid}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": vc.issuer_profile(),
        "validFrom": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": f"{worker.display_name} — 职业技能培训电子档案",
        "credentialSubject": subject,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    return vc.sign(credential)


# --- share links ----------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_share(worker, *, actor, keys, days: int, label: str, request_key: str):
    """Make a share link of ``keys`` (empty: everything) valid ``days`` days. Returns
    ``(share, token)``; the token is shown once. The same ``request_key`` makes one link only:
    a repeat returns ``(existing share, None)``."""
    from sqlalchemy.exc import IntegrityError

    from lms.records.models import RecordShare

    if actor is None or actor.id != worker.id:
        raise RecordError(_l("Only the worker may share their record."), status=403)
    if not request_key or len(request_key) > 64:
        raise RecordError(_l("The form has expired; load the page again."))
    if not 1 <= int(days) <= MAX_SHARE_DAYS:
        raise RecordError(_l("Choose between 1 and %(n)d days.", n=MAX_SHARE_DAYS))
    existing = db.session.scalar(sa.select(RecordShare).where(RecordShare.user_id == worker.id,
                                                              RecordShare.request_key == request_key))
    if existing is not None:
        return existing, None
    everything = entries(sections(worker, actor))
    chosen = [e for e in everything if e.key in set(keys)] if keys else everything
    if keys and len(chosen) != len(set(keys)):
        raise RecordError(_l("Choose entries of your own record."))
    if not chosen:
        raise RecordError(_l("There is nothing to share yet."))
    token = secrets.token_urlsafe(32)
    share = RecordShare(user_id=worker.id, token_hash=_hash(token), request_key=request_key,
                        label=(label or "").strip()[:100], selection=sorted({e.key for e in chosen}) if keys else [],
                        created_at=utcnow(), expires_at=utcnow() + dt.timedelta(days=int(days)))
    import uuid

    share.uuid = uuid.uuid4()
    share.credential = clr_credential(worker, chosen, share_uuid=share.uuid, valid_until=share.expires_at)
    try:
        with db.session.begin_nested():
            db.session.add(share)
            db.session.flush()
    except IntegrityError:  # the same form, submitted at the same moment: the other one won
        existing = db.session.scalar(sa.select(RecordShare).where(RecordShare.user_id == worker.id,
                                                                  RecordShare.request_key == request_key))
        if existing is None:
            raise
        return existing, None
    return share, token


def revoke_share(share, *, actor) -> bool:
    """Revoke a share link; True when this call revoked it (False: it was already revoked)."""
    from lms.records.models import RecordShare

    if actor is None or actor.id != share.user_id:
        raise RecordError(_l("Only the worker may revoke their links."), status=403)
    done = db.session.execute(sa.update(RecordShare).where(RecordShare.id == share.id, RecordShare.revoked_at.is_(None))
                              .values(revoked_at=utcnow()))
    db.session.refresh(share)
    return done.rowcount == 1


def share_by_token(token: str):
    from lms.records.models import RecordShare

    if not token or len(token) > 100:
        return None
    return db.session.scalar(sa.select(RecordShare).where(RecordShare.token_hash == _hash(token)))


def share_state(share) -> str:
    """``valid``, ``revoked`` or ``expired``."""
    if share.revoked_at is not None:
        return "revoked"
    expires = share.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.timezone.utc)
    return "expired" if expires <= utcnow() else "valid"


def log_view(share, outcome: str, user_agent: str = "") -> None:
    from lms.records.models import RecordShareView

    db.session.add(RecordShareView(share_id=share.id, outcome=outcome, user_agent=(user_agent or "")[:200]))
    db.session.flush()
