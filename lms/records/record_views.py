"""Public pages of the worker's record: the issuer's keys (so any verifier can dereference the
verification method of the platform's credentials)."""
from __future__ import annotations

from flask import Blueprint, jsonify

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


@record_bp.route("/credentials/issuer/jwks.json")
def issuer_jwks():
    from lms.records.credentials import public_jwk

    return _json_ld({"keys": [public_jwk()]})
