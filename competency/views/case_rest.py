"""The CASE REST binding, read-only: ``/ims/case/v1p0/...`` and ``/ims/case/v1p1/...``.

``CFDocuments``, ``CFDocuments/{id}``, ``CFPackages/{id}``, ``CFItems/{id}``, ``CFAssociations/{id}``
as the 1EdTech CASE Service specification names them, so other platforms pull frameworks from
this one. Published frameworks are public; an unpublished one is served only to a signed-in
user (or API token) who may see it; anything else is the specification's 404 status object.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, jsonify

from lms.core.db import db
from lms.core.permissions import acting_user, visible

case_bp = Blueprint("competency_case", __name__, url_prefix="/ims/case")
VERSIONS = ("v1p0", "v1p1")


def _status(code: int, minor: str, description: str):
    """The CASE ``imsx_StatusInfo`` error object."""
    body = {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description,
            "imsx_codeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "sourcedId",
                                                        "imsx_codeMinorFieldValue": minor}]}}
    return jsonify(body), code


def _servable():
    """A select of the frameworks the caller may pull."""
    from competency.models import Framework

    user = acting_user()
    stmt = sa.select(Framework)
    if getattr(user, "is_authenticated", False):
        return stmt.where(sa.or_(Framework.published.is_(True),
                                 Framework.id.in_(visible(user, Framework, sa.select(Framework.id)))))
    return stmt.where(Framework.published.is_(True))


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _framework_by(identifier: str):
    from competency.models import Framework

    ident = _uuid(identifier)
    if ident is None:
        return None
    return db.session.scalars(_servable().where(Framework.identifier == ident)).first()


def _framework_of_node(identifier: str):
    """The servable framework that holds the item or association ``identifier``."""
    from competency.models import Framework, FrameworkAssociation, FrameworkItem, FrameworkLevel

    ident = _uuid(identifier)
    if ident is None:
        return None
    for model in (FrameworkItem, FrameworkLevel):
        fw_id = db.session.scalar(sa.select(model.framework_id).where(model.identifier == ident))
        if fw_id is not None:
            return db.session.scalars(_servable().where(Framework.id == fw_id)).first()
    fw_id = db.session.scalar(sa.select(FrameworkAssociation.framework_id)
                              .where(FrameworkAssociation.identifier == str(ident)))
    if fw_id is not None:
        return db.session.scalars(_servable().where(Framework.id == fw_id)).first()
    return None


def _package(fw) -> dict:
    from competency.operations.frameworks import export_case

    return export_case(fw)


@case_bp.get("/<version>/CFDocuments", defaults={"kind": "CFDocuments", "identifier": None})
@case_bp.get("/<version>/<kind>/<identifier>")
def resource(version, kind, identifier):
    """Every CASE resource (one public endpoint: published frameworks are public by design)."""
    if version not in VERSIONS:
        return _status(404, "unknownobject", f"no CASE version {version}")
    if identifier is None:
        from competency.models import Framework

        rows = db.session.scalars(_servable().order_by(Framework.id).limit(1000)).all()
        return jsonify({"CFDocuments": [_package(fw)["CFDocument"] for fw in rows]})
    if kind in ("CFDocuments", "CFPackages"):
        fw = _framework_by(identifier)
        if fw is None:
            return _status(404, "unknownobject", f"no such {kind[:-1]}")
        package = _package(fw)
        return jsonify(package["CFDocument"] if kind == "CFDocuments" else package)
    if kind in ("CFItems", "CFAssociations"):
        fw = _framework_of_node(identifier)
        if fw is not None:
            for obj in _package(fw).get(kind) or []:
                if str(obj.get("identifier", "")).lower() == identifier.lower():
                    return jsonify(obj)
        return _status(404, "unknownobject", f"no such {kind[:-1]}")
    return _status(404, "unknownobject", f"no CASE resource {kind}")
