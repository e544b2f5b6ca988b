"""Certificates: issue, revoke, PDF, Open Badges 3.0 credentials signed with the platform's key.

Credentials are signed by the core (:mod:`lms.records.credentials`: a ``DataIntegrityProof`` of
cryptosuite ``eddsa-rdfc-2022``, contexts from local copies, the verification method
dereferenceable at ``/credentials/issuer/key-1``). Revocation is published as a W3C Bitstring
Status List: each certificate holds one bit of a shared, signed ``BitstringStatusListCredential``
(``/competency/status-lists/<uuid>``), set while the certificate is revoked.

Certificates issued before (``eddsa-jcs-2022``, whose published proof lacked the signed
``@context``, and a per-certificate ``1EdTechRevocationList`` URL) are re-signed in the new form
the next time their credential is served (:func:`current_credential`).
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from competency.operations import CompetencyError
from lms.core import extension_points as events
from lms.core.db import db, insert_once, lock_row, utcnow
from lms.core.events import send_after_commit
from lms.records import credentials as vc

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_FONT_INDEX = 2  # the Simplified Chinese face inside the collection
#: Share of a status list's bits handed out before a new list is opened (random picks stay cheap).
STATUS_LIST_FILL = 0.5


# --- keys and proofs (the core's) --------------------------------------------------------------

signing_key = vc.signing_key
public_jwk = vc.public_jwk
public_multibase = vc.public_multibase
issuer_id = vc.issuer_id
key_id = vc.key_id
key_path = vc.key_path


def issuer_document() -> dict:
    """The issuer's controller document (also served at the older ``/competency/issuer`` URL)."""
    return vc.controller_document()


def sign_credential(credential: dict) -> dict:
    """Add an ``eddsa-rdfc-2022`` DataIntegrityProof to ``credential``."""
    return vc.sign(credential)


def verify_credential(credential: dict, public_key=None) -> bool:
    """Check the proof of a credential signed by :func:`sign_credential`."""
    return vc.verify(credential, public_key)


# --- status lists ------------------------------------------------------------------------------


def status_list_url(status_list) -> str:
    return f"{vc.base_url()}/competency/status-lists/{status_list.uuid}"


def _open_list():
    from competency.models import CertificateStatus, StatusList

    current = db.session.scalar(sa.select(StatusList).order_by(StatusList.id.desc()).limit(1))
    if current is not None:
        used = db.session.scalar(sa.select(sa.func.count(CertificateStatus.id))
                                 .where(CertificateStatus.list_id == current.id))
        if used < vc.STATUS_LIST_BITS * STATUS_LIST_FILL:
            return current
    current = StatusList(purpose="revocation")
    db.session.add(current)
    db.session.flush()
    return current


def status_bit(cert):
    """The certificate's bit in a status list, allocated (at random) on first use."""
    from sqlalchemy.exc import IntegrityError

    from competency.models import CertificateStatus

    row = db.session.scalar(sa.select(CertificateStatus).where(CertificateStatus.certificate_id == cert.id))
    if row is not None:
        return row
    for _ in range(20):
        status_list = _open_list()
        row = CertificateStatus(certificate_id=cert.id, list_id=status_list.id,
                                position=secrets.randbelow(vc.STATUS_LIST_BITS))
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:  # that bit is taken (or another request allocated this certificate's)
            existing = db.session.scalar(sa.select(CertificateStatus)
                                         .where(CertificateStatus.certificate_id == cert.id))
            if existing is not None:
                return existing
            continue
        return row
    raise CompetencyError("no free bit in the status list", status=503, code="status_list_full")


def status_list_credential(status_list) -> dict:
    """The signed ``BitstringStatusListCredential`` of ``status_list``: bits of revoked certificates set."""
    from competency.models import Certificate, CertificateStatus

    revoked = db.session.scalars(
        sa.select(CertificateStatus.position).join(Certificate, Certificate.id == CertificateStatus.certificate_id)
        .where(CertificateStatus.list_id == status_list.id, Certificate.revoked_at.is_not(None))).all()
    return vc.status_list_credential(status_list_url(status_list), revoked, valid_from=utcnow(),
                                     purpose=status_list.purpose)


# --- issuing ---------------------------------------------------------------------------------


def _new_code() -> str:
    from competency.models import Certificate

    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
        code = f"{code[:4]}-{code[4:8]}-{code[8:]}"
        if not db.session.scalar(sa.select(Certificate.id).where(Certificate.verification_code == code)):
            return code


def verify_url(code: str) -> str:
    return current_app.config["LMS_PUBLIC_URL"].rstrip("/") + "/competency/verify/" + code


def _credential_for(cert, att) -> dict:
    from competency.models import FrameworkItem
    from competency.models.frameworks import UNIT_KINDS
    from competency.operations.attainment import level_iri
    from competency.operations.frameworks import framework_uri

    level = att.level
    fw = level.framework
    sl = level.skill_level
    base = current_app.config["LMS_PUBLIC_URL"].rstrip("/")
    units = db.session.scalars(sa.select(FrameworkItem).where(FrameworkItem.level_id == level.id,
                                                              FrameworkItem.kind.in_(UNIT_KINDS))
                               .order_by(FrameworkItem.position, FrameworkItem.id)).all()
    bit = status_bit(cert)
    salt = secrets.token_hex(8)
    email = (att.user.email or "") if att.user else ""
    subject = {"type": ["AchievementSubject"],
               "achievement": {
                   "id": level_iri(level), "type": ["Achievement"], "achievementType": "Certificate",
                   # A framework without the vocational overlay: its own level name, never the ladder.
                   "name": (f"{fw.occupation.name_zh} {level.label()}" if fw.vocational else level.label()),
                   "description": (f"{fw.title} — {sl.name_en} ({fw.occupation.code})" if fw.vocational
                                   else f"{fw.title} — {level.label('en')}"),
                   "criteria": {"narrative": "Weighted unit coverage, prerequisites and certification exams "
                                             "(theory and practical, out of 100) under " + fw.title},
                   "alignment": [{"type": ["Alignment"], "targetName": u.title[:200],
                                  "targetUrl": framework_uri(fw, "items", u.identifier),
                                  "targetCode": u.code, "targetFramework": fw.title, "targetType": "CFItem"}
                                 for u in units]}}
    if email:
        subject["identifier"] = [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                                  "salt": salt,
                                  "identityHash": "sha256$" + hashlib.sha256((email.lower() + salt).encode()).hexdigest()}]
    credential = {
        "@context": [vc.VC_V2, vc.OB_V3],
        "id": f"{base}/competency/certificates/{cert.uuid}/credential.json",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": vc.issuer_profile(),
        "validFrom": cert.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": subject["achievement"]["name"],
        "credentialSubject": subject,
        "credentialStatus": vc.status_entry(status_list_url(bit.status_list), bit.position),
        "evidence": [{"type": ["Evidence"], "id": verify_url(cert.verification_code),
                      "name": "Verification page"}],
    }
    return sign_credential(credential)


def valid_certificate(attainment):
    """The attainment's one valid (unrevoked) certificate, or ``None``."""
    from competency.models import Certificate

    return db.session.scalar(sa.select(Certificate).where(Certificate.attainment_id == attainment.id,
                                                          Certificate.revoked_at.is_(None)))


def issue_certificate(attainment, *, actor):
    """Issue the certificate of an awarded attainment (awarded -> certified).

    One valid certificate per attainment: the attainment's row is locked first, and a certified
    attainment is refused (409), so of concurrent identical requests one issues and the others
    are refused (a partial unique index on unrevoked certificates backs this up).
    """
    from competency.models import Certificate, StateChange
    from competency.operations.attainment import _snapshot, may_assess

    if not may_assess(actor, attainment.level.framework.occupation_id):
        raise CompetencyError("you are not authorised to issue this certificate", status=403, code="forbidden")
    lock_row(attainment)
    if attainment.status == "certified" and valid_certificate(attainment) is not None:
        raise CompetencyError(_l("A certificate has already been issued for this level."), status=409,
                              code="already_certified")
    if attainment.status != "awarded":
        raise CompetencyError("a certificate is issued for an awarded level only", status=409, code="not_awarded")
    before = _snapshot(attainment)
    level = attainment.level
    fw = level.framework
    sl = level.skill_level
    cert = Certificate(attainment_id=attainment.id, user_id=attainment.user_id, verification_code=_new_code(),
                       issued_at=utcnow().replace(microsecond=0), issued_by_id=actor.id)
    holder = attainment.user.display_name if attainment.user else attainment.learner_key
    cert.statement = {
        "holder": holder, "occupation_code": fw.occupation.code, "occupation": fw.occupation.name_zh,
        "occupation_en": fw.occupation.name_en, "rung": level.rung, "level": sl.name_zh, "level_en": sl.name_en,
        "grade": sl.grade_zh, "grade_en": sl.grade_en, "framework": fw.title, "edition": fw.edition,
        # Without the vocational overlay: the level's own name, no ladder grade.
        **({} if fw.vocational else {"occupation_code": "", "level": level.label(), "level_en": level.label("en"),
                                     "grade": "", "grade_en": ""}),
        "awarded_at": attainment.awarded_at.date().isoformat() if attainment.awarded_at else None,
        "issued_at": cert.issued_at.date().isoformat(), "issuer": current_app.config.get("LMS_SITE_NAME", "LMS"),
    }
    cert, created = insert_once(cert, lambda: valid_certificate(attainment))
    if not created:
        raise CompetencyError(_l("A certificate has already been issued for this level."), status=409,
                              code="already_certified")
    cert.credential = _credential_for(cert, attainment)
    attainment.status, attainment.certified_at = "certified", cert.issued_at
    db.session.add(StateChange(learner_key=attainment.learner_key, subject="level", level_id=level.id,
                               before=before, after=_snapshot(attainment), reason="certificate", actor_id=actor.id))
    db.session.flush()
    send_after_commit(events.certificate_issued, cert)
    return cert


def revoke_certificate(cert, *, actor, reason: str):
    from competency.operations.attainment import may_assess

    if not may_assess(actor, cert.attainment.level.framework.occupation_id):
        raise CompetencyError("you are not authorised to revoke this certificate", status=403, code="forbidden")
    if not (reason or "").strip():
        raise CompetencyError("give a reason", field="reason")
    lock_row(cert)
    if cert.revoked_at:
        raise CompetencyError("the certificate is already revoked", status=409, code="already_revoked")
    cert.revoked_at, cert.revoked_by_id, cert.revocation_reason = utcnow(), actor.id, reason.strip()[:300]
    db.session.flush()
    send_after_commit(events.certificate_revoked, cert, reason=cert.revocation_reason)
    return cert


def current_credential(cert) -> dict:
    """The certificate's credential, re-signed in the current form when it was issued before
    (``eddsa-jcs-2022``): the caller commits."""
    proof = (cert.credential or {}).get("proof")
    if isinstance(proof, dict) and proof.get("cryptosuite") == vc.CRYPTOSUITE:
        return cert.credential
    cert.credential = _credential_for(cert, cert.attainment)
    db.session.flush()
    return cert.credential


def find_by_code(code: str):
    from competency.models import Certificate

    code = (code or "").strip().upper()
    return db.session.scalar(sa.select(Certificate).where(Certificate.verification_code == code))


def status_of(cert) -> dict:
    return {"id": f"{current_app.config['LMS_PUBLIC_URL'].rstrip('/')}/competency/certificates/{cert.uuid}/status",
            "revoked": cert.revoked_at is not None,
            "revokedAt": cert.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ") if cert.revoked_at else None,
            "reason": cert.revocation_reason or None}


# --- PDF -------------------------------------------------------------------------------------


def certificate_pdf(cert) -> bytes:
    """The certificate as a PDF (A4 landscape), in Chinese when a CJK font is available."""
    from fpdf import FPDF

    s = cert.statement
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    cjk = os.path.exists(CJK_FONT)
    if cjk:
        try:
            pdf.add_font("cjk", fname=CJK_FONT, collection_font_number=CJK_FONT_INDEX)
            font = "cjk"
        except Exception:  # pragma: no cover - a broken or unsupported font file
            cjk, font = False, "helvetica"
    else:
        font = "helvetica"

    def text(zh: str, en: str) -> str:
        return zh if cjk else en

    pdf.set_draw_color(150, 30, 30)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_font(font, size=28)
    pdf.set_y(28)
    pdf.cell(0, 14, text("职业技能等级证书", "Vocational Skill Level Certificate"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=12)
    pdf.cell(0, 8, "Vocational Skill Level Certificate" if cjk else "", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(font, size=16)
    level = text(f"{s['level']}（{s['grade']}）" if s.get("grade") else s["level"],
                 f"{s['level_en']} ({s['grade_en']})" if s.get("grade_en") else s["level_en"])
    rows = [
        (text("持证人", "Holder"), s["holder"] if cjk else s["holder"].encode("ascii", "replace").decode()),
        (text("职业（工种）", "Occupation"), f"{s['occupation'] if cjk else (s['occupation_en'] or '')} {s['occupation_code']}"),
        (text("等级", "Level"), level),
        (text("依据标准", "Standard"), (s["framework"] if cjk else f"edition {s['edition']}")),
        (text("发证日期", "Issued"), s["issued_at"]),
        (text("证书验证码", "Verification code"), cert.verification_code),
    ]
    for label, value in rows:
        pdf.set_x(40)
        pdf.cell(60, 11, label + ("：" if cjk else ":"))
        pdf.cell(0, 11, str(value), new_x="LMARGIN", new_y="NEXT")
    url = verify_url(cert.verification_code)
    try:
        import qrcode

        img = qrcode.make(url).get_image() if hasattr(qrcode.make(url), "get_image") else qrcode.make(url)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        buf.seek(0)
        pdf.image(buf, x=230, y=140, w=45, h=45)
    except Exception:  # pragma: no cover - QR code is a convenience
        pass
    pdf.set_font(font, size=10)
    pdf.set_xy(40, 176)
    pdf.cell(0, 6, text("在线验证：", "Verify at: ") + url)
    if cert.revoked_at:
        pdf.set_text_color(200, 0, 0)
        pdf.set_font(font, size=30)
        pdf.set_xy(20, 95)
        pdf.cell(0, 20, text("已撤销 REVOKED", "REVOKED"), align="C")
    return bytes(pdf.output())
