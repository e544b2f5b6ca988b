"""Certificates: public verification, PDF, Open Badges credential and status, the issuer's key; revocation."""
from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from competency.forms import RevokeForm, VerifyForm
from competency.operations import CompetencyError
from competency.views import bp
from lms.core.db import db
from lms.core.permissions import acting_user, get_visible_or_404, require


def _cert_by_uuid(cert_uuid):
    import uuid

    import sqlalchemy as sa

    from competency.models import Certificate

    try:
        value = uuid.UUID(str(cert_uuid))
    except ValueError:
        abort(404)
    cert = db.session.scalar(sa.select(Certificate).where(Certificate.uuid == value))
    if cert is None:
        abort(404)
    return cert


@bp.route("/verify", methods=["GET"])
def verify_form():
    """Public: look a certificate up by its verification code."""
    form = VerifyForm(request.args)
    if request.args.get("code") and form.validate():
        return redirect(url_for("competency.verify", code=form.code.data.strip().upper()))
    return render_template("competency/verify_form.html", form=form)


@bp.route("/verify/<code>")
def verify(code):
    """Public: what the certificate states, and whether it is valid or revoked."""
    from competency.operations.certificates import find_by_code

    cert = find_by_code(code)
    if cert is None:
        return render_template("competency/verify.html", cert=None, code=code), 404
    return render_template("competency/verify.html", cert=cert, code=cert.verification_code)


@bp.route("/verify/<code>/certificate.pdf")
def certificate_pdf(code):
    from competency.operations.certificates import certificate_pdf as render, find_by_code

    cert = find_by_code(code)
    if cert is None:
        abort(404)
    return Response(render(cert), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=certificate-{cert.verification_code}.pdf"})


@bp.route("/certificates/<cert_uuid>/credential.json")
def credential(cert_uuid):
    """The signed Open Badges 3.0 credential (older ones are re-signed in the current form here)."""
    from competency.operations.certificates import current_credential

    cert = _cert_by_uuid(cert_uuid)
    document = current_credential(cert)
    db.session.commit()
    resp = jsonify(document)
    resp.headers["Content-Disposition"] = f"attachment; filename=credential-{cert.verification_code}.json"
    return resp


@bp.route("/status-lists/<list_uuid>")
def status_list(list_uuid):
    """Public: the signed Bitstring Status List credential (bits of revoked certificates set)."""
    import uuid

    import sqlalchemy as sa

    from competency.models import StatusList
    from competency.operations.certificates import status_list_credential

    try:
        value = uuid.UUID(str(list_uuid))
    except ValueError:
        abort(404)
    found = db.session.scalar(sa.select(StatusList).where(StatusList.uuid == value))
    if found is None:
        abort(404)
    resp = jsonify(status_list_credential(found))
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/certificates/<cert_uuid>/status")
def credential_status(cert_uuid):
    """The per-certificate status of credentials issued before the status lists (kept for them)."""
    from competency.operations.certificates import status_of

    return jsonify(status_of(_cert_by_uuid(cert_uuid)))


@bp.route("/issuer")
def issuer():
    """The issuer's controller document (the URL of credentials issued before ``/credentials/issuer``)."""
    from competency.operations.certificates import issuer_document

    return jsonify(issuer_document())


@bp.route("/issuer/jwks.json")
def issuer_jwks():
    from competency.operations.certificates import public_jwk

    return jsonify({"keys": [public_jwk()]})


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@require()
def revoke(certificate_id):
    from competency.models import Certificate
    from competency.operations.certificates import revoke_certificate

    cert = get_visible_or_404(acting_user(), Certificate, certificate_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give a reason to revoke the certificate."), "danger")
    else:
        try:
            revoke_certificate(cert, actor=acting_user(), reason=form.reason.data)
        except CompetencyError as exc:
            db.session.rollback()
            if exc.status == 403:
                abort(403)
            flash(str(exc.message), "danger")
        else:
            db.session.commit()
            flash(_("Certificate revoked."), "success")
    return redirect(url_for("competency.attainment", attainment_id=cert.attainment_id))
