"""Certificates: issue, revoke, PDF, Open Badges 3.0 credentials signed with the platform's key.

The platform's Ed25519 key lives in ``LMS_BADGE_KEY_PATH`` or, by default, in
``<instance>/competency-badge-key.pem`` (generated on first use). Its public half is published
as a JWK and a DID-style document (see the ``competency.issuer_*`` views). Credentials carry a
``DataIntegrityProof`` (cryptosuite ``eddsa-jcs-2022``: SHA-256 of the canonical JSON of the
proof options and of the credential, signed, multibase base58btc) and a ``credentialStatus``
that points at a URL answering whether the certificate has been revoked.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets

import sqlalchemy as sa
from flask import current_app

from competency.operations import CompetencyError
from lms.core.db import db, utcnow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_FONT_INDEX = 2  # the Simplified Chinese face inside the collection
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --- keys ------------------------------------------------------------------------------------


def key_path() -> str:
    return current_app.config.get("LMS_BADGE_KEY_PATH") or os.path.join(current_app.instance_path,
                                                                         "competency-badge-key.pem")


def signing_key():
    """The platform's Ed25519 private key, generated into the instance folder on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    cached = current_app.extensions.get("competency_badge_key")
    path = key_path()
    if cached and cached[0] == path:
        return cached[1]
    if os.path.exists(path):
        with open(path, "rb") as fh:
            key = serialization.load_pem_private_key(fh.read(), password=None)
    else:
        key = Ed25519PrivateKey.generate()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    current_app.extensions["competency_badge_key"] = (path, key)
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _unb58(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


def public_jwk() -> dict:
    from cryptography.hazmat.primitives import serialization

    raw = signing_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": key_id(), "use": "sig", "alg": "EdDSA"}


def public_multibase() -> str:
    from cryptography.hazmat.primitives import serialization

    raw = signing_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + _b58(b"\xed\x01" + raw)


def issuer_id() -> str:
    return current_app.config["LMS_PUBLIC_URL"].rstrip("/") + "/competency/issuer"


def key_id() -> str:
    return issuer_id() + "#key-1"


def issuer_document() -> dict:
    """The issuer profile with its verification method (a DID-document-like JSON)."""
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": issuer_id(), "type": ["Profile"], "name": current_app.config.get("LMS_SITE_NAME", "LMS"),
        "verificationMethod": [{"id": key_id(), "type": "Multikey", "controller": issuer_id(),
                                "publicKeyMultibase": public_multibase(), "publicKeyJwk": public_jwk()}],
        "assertionMethod": [key_id()],
    }


# --- signing ---------------------------------------------------------------------------------


def canonical(obj) -> bytes:
    """JSON canonicalisation (RFC 8785 for the values used here: sorted keys, no spaces, UTF-8)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_credential(credential: dict) -> dict:
    """Add an ``eddsa-jcs-2022`` DataIntegrityProof to ``credential``."""
    doc = {k: v for k, v in credential.items() if k != "proof"}
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
               "created": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "verificationMethod": key_id(),
               "proofPurpose": "assertionMethod", "@context": doc.get("@context")}
    data = hashlib.sha256(canonical(options)).digest() + hashlib.sha256(canonical(doc)).digest()
    signature = signing_key().sign(data)
    proof = {k: v for k, v in options.items() if k != "@context"}
    proof["proofValue"] = "z" + _b58(signature)
    return {**doc, "proof": [proof]}


def verify_credential(credential: dict, public_key=None) -> bool:
    """Check the proof of a credential signed by :func:`sign_credential`."""
    from cryptography.exceptions import InvalidSignature

    proofs = credential.get("proof") or []
    if isinstance(proofs, dict):
        proofs = [proofs]
    if not proofs:
        return False
    proof = proofs[0]
    doc = {k: v for k, v in credential.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    options["@context"] = doc.get("@context")
    data = hashlib.sha256(canonical(options)).digest() + hashlib.sha256(canonical(doc)).digest()
    key = public_key or signing_key().public_key()
    try:
        key.verify(_unb58(proof["proofValue"][1:]), data)
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


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
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": f"{base}/competency/certificates/{cert.uuid}/credential.json",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": current_app.config.get("LMS_SITE_NAME", "LMS")},
        "validFrom": cert.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": subject["achievement"]["name"],
        "credentialSubject": subject,
        "credentialStatus": {"id": f"{base}/competency/certificates/{cert.uuid}/status",
                             "type": "1EdTechRevocationList"},
        "evidence": [{"type": ["Evidence"], "id": verify_url(cert.verification_code),
                      "name": "Verification page"}],
    }
    return sign_credential(credential)


def issue_certificate(attainment, *, actor):
    """Issue the certificate of an awarded attainment (awarded -> certified)."""
    from competency.models import Certificate, StateChange
    from competency.operations.attainment import _snapshot, may_assess

    if not may_assess(actor, attainment.level.framework.occupation_id):
        raise CompetencyError("you are not authorised to issue this certificate", status=403, code="forbidden")
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
    db.session.add(cert)
    db.session.flush()
    cert.credential = _credential_for(cert, attainment)
    attainment.status, attainment.certified_at = "certified", cert.issued_at
    db.session.add(StateChange(learner_key=attainment.learner_key, subject="level", level_id=level.id,
                               before=before, after=_snapshot(attainment), reason="certificate", actor_id=actor.id))
    db.session.flush()
    return cert


def revoke_certificate(cert, *, actor, reason: str):
    from competency.operations.attainment import may_assess

    if not may_assess(actor, cert.attainment.level.framework.occupation_id):
        raise CompetencyError("you are not authorised to revoke this certificate", status=403, code="forbidden")
    if cert.revoked_at:
        raise CompetencyError("the certificate is already revoked", status=409, code="already_revoked")
    if not (reason or "").strip():
        raise CompetencyError("give a reason", field="reason")
    cert.revoked_at, cert.revoked_by_id, cert.revocation_reason = utcnow(), actor.id, reason.strip()[:300]
    db.session.flush()
    return cert


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
