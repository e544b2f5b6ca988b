"""The worker's record pages.

* ``/record``: the worker's own record (filters, PDF, share links); ``/record/workers/<uuid>``
  the same, read only, for the administrators and supervisors of the worker's organisations.
* ``/record/shared/<token>``: public page of a shared record (signature checked; says when the
  link expired or was revoked); ``.../clr.json`` the signed CLR 2.0 credential. Each view logged.
* ``/credentials/issuer`` and ``/credentials/issuer/key-1``: the issuer's controller document and
  key, so any verifier can dereference the verification method of the platform's credentials.
"""
from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, jsonify, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _

from lms.core.db import keep_changes_on_refusal
from lms.core.permissions import acting_user, require

record_bp = Blueprint("record", __name__)


def _json_ld(document, media_type="application/json"):
    resp = jsonify(document)
    resp.headers["Content-Type"] = media_type
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@record_bp.route("/credentials/issuer")
def issuer():
    """The issuer's controller document: its Multikey and the purposes it may be used for."""
    from lms.records.credentials import controller_document

    return _json_ld(controller_document(), "application/did+ld+json")


@record_bp.route("/credentials/issuer/key-1")
def issuer_key():
    """The Multikey document of the signing key (the ``verificationMethod`` of every proof)."""
    from lms.records.credentials import key_document

    return _json_ld(key_document(), "application/ld+json")


# --- the record page ------------------------------------------------------------------------------


def _worker_or_404(user_uuid):
    import uuid

    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.core.db import db

    try:
        value = uuid.UUID(str(user_uuid))
    except ValueError:
        abort(404)
    worker = db.session.scalar(sa.select(User).where(User.uuid == value))
    if worker is None:
        abort(404)
    return worker


def _filters(form):
    from lms.core.extension_points import RecordFilters

    if not form.validate():
        return RecordFilters()
    return RecordFilters(since=form.since.data, until=form.until.data, occupation=form.occupation.data or "")


def _render_record(worker, viewer):
    from lms.records import record
    from lms.records.forms import ActionForm, RecordFilterForm, ShareForm

    form = RecordFilterForm(request.args)
    everything = record.sections(worker, viewer)
    form.occupation.choices = [("", _("All occupations"))] + [(c, c) for c in record.occupations(everything)]
    filters = _filters(form)
    shown = record.sections(worker, viewer, filters)
    own = viewer.id == worker.id
    shares = []
    share_form = None
    if own:
        import secrets

        import sqlalchemy as sa

        from lms.core.db import db
        from lms.records.models import RecordShare, RecordShareView

        share_form = ShareForm(request_key=secrets.token_urlsafe(24))
        rows = db.session.scalars(sa.select(RecordShare).where(RecordShare.user_id == worker.id)
                                  .order_by(RecordShare.created_at.desc())).all()
        for s in rows:
            views = db.session.scalar(sa.select(sa.func.count(RecordShareView.id))
                                      .where(RecordShareView.share_id == s.id))
            shares.append((s, record.share_state(s), views))
    args = {k: v for k, v in request.args.items() if k in ("since", "until", "occupation")}
    pdf_url = (url_for("record.my_record_pdf", **args) if own
               else url_for("record.worker_record_pdf", user_uuid=worker.uuid, **args))
    resp = make_response(render_template(
        "records/record.html", worker=worker, own=own, pdf_url=pdf_url, sections=shown, form=form, share_form=share_form,
        shares=shares, action_form=ActionForm(), source_labels=record.SOURCE_LABELS,
        verification_labels=record.VERIFICATION_LABELS, new_link=session.pop("record_new_link", None)))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@record_bp.route("/record")
@require()
def my_record():
    """The worker's own record, with their share links."""
    viewer = acting_user()
    return _render_record(viewer, viewer)


@record_bp.route("/record/workers/<user_uuid>")
@require()
def worker_record(user_uuid):
    """A worker's record, read only, for the administrators and supervisors of their organisations."""
    from lms.records.record import may_read

    worker = _worker_or_404(user_uuid)
    if not may_read(acting_user(), worker):
        abort(403)
    return _render_record(worker, acting_user())


def _pdf(worker):
    from lms.records import record
    from lms.records.forms import RecordFilterForm

    form = RecordFilterForm(request.args)
    form.occupation.choices = []
    filters = _filters(form)
    data = record.record_pdf(worker, record.sections(worker, acting_user(), filters), filters=filters)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=training-record.pdf",
                             "Cache-Control": "no-store"})


@record_bp.route("/record.pdf")
@require()
def my_record_pdf():
    return _pdf(acting_user())


@record_bp.route("/record/workers/<user_uuid>/record.pdf")
@require()
def worker_record_pdf(user_uuid):
    from lms.records.record import may_read

    worker = _worker_or_404(user_uuid)
    if not may_read(acting_user(), worker):
        abort(403)
    return _pdf(worker)


# --- share links ------------------------------------------------------------------------------------


@record_bp.route("/record/shares", methods=["POST"])
@require()
def create_share():
    """Make a share link of the whole record or of the entries ticked."""
    from lms.core.db import db
    from lms.records import record
    from lms.records.forms import ShareForm

    form = ShareForm()
    if not form.validate_on_submit():
        flash(_("Check the link's settings."), "danger")
        return redirect(url_for("record.my_record"))
    try:
        share, token = record.create_share(acting_user(), actor=acting_user(), keys=request.form.getlist("entry"),
                                           days=form.days.data, label=form.label.data or "",
                                           request_key=form.request_key.data or "")
    except record.RecordError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(str(exc.message), "danger")
        return redirect(url_for("record.my_record"))
    if token:
        session["record_new_link"] = url_for("record.shared", token=token, _external=True)
        flash(_("Share link made. Copy it now: it is shown only once."), "success")
    return redirect(url_for("record.my_record") + "#shares")


@record_bp.route("/record/shares/<share_uuid>/revoke", methods=["POST"])
@require()
def revoke_share(share_uuid):
    import uuid

    import sqlalchemy as sa

    from lms.core.db import db
    from lms.records import record
    from lms.records.forms import ActionForm
    from lms.records.models import RecordShare

    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        value = uuid.UUID(str(share_uuid))
    except ValueError:
        abort(404)
    share = db.session.scalar(sa.select(RecordShare).where(RecordShare.uuid == value))
    if share is None or share.user_id != acting_user().id:
        abort(404)
    record.revoke_share(share, actor=acting_user())
    flash(_("Share link revoked."), "success")
    return redirect(url_for("record.my_record") + "#shares")


def _qr_data_uri(url: str) -> str:
    import base64
    import io

    import qrcode

    buf = io.BytesIO()
    qrcode.make(url).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@record_bp.route("/record/shared/<token>")
def shared(token):
    """Public: a shared record, its signature checked, or why the link no longer works."""
    from lms.records import record
    from lms.records.credentials import verify

    share = record.share_by_token(token)
    if share is None:
        return render_template("records/shared.html", share=None, state="unknown"), 404
    state = record.share_state(share)
    record.log_view(share, "page" if state == "valid" else "refused", request.headers.get("User-Agent", ""))
    keep_changes_on_refusal()  # a refused view is logged too
    if state != "valid":
        resp = make_response(render_template("records/shared.html", share=share, state=state), 410)
    else:
        credential = share.credential
        subject = credential.get("credentialSubject", {})
        url = url_for("record.shared", token=token, _external=True)
        resp = make_response(render_template(
            "records/shared.html", share=share, state=state, credential=credential, valid=verify(credential),
            achievements=subject.get("achievement", []), credentials=subject.get("verifiableCredential", []),
            associations=subject.get("association", []), qr=_qr_data_uri(url), url=url,
            json_url=url_for("record.shared_clr", token=token)))
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


@record_bp.route("/record/shared/<token>/clr.json")
def shared_clr(token):
    """Public: the shared record as its signed CLR 2.0 credential."""
    from lms.records import record

    share = record.share_by_token(token)
    if share is None:
        abort(404)
    state = record.share_state(share)
    record.log_view(share, "credential" if state == "valid" else "refused", request.headers.get("User-Agent", ""))
    keep_changes_on_refusal()  # a refused view is logged too
    if state != "valid":
        abort(410)
    resp = _json_ld(share.credential, "application/ld+json")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Content-Disposition"] = "attachment; filename=training-record-clr.json"
    return resp
