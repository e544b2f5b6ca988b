"""Core JSON API: the caller, users and organisations, and the OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, jsonify

from lms.accounts.models import User
from lms.api import doc, paginate_args
from lms.api.openapi import build_document
from lms.core.db import db
from lms.core.permissions import acting_user, get_visible_or_404, require, visible
from lms.organisations.models import Organisation

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def user_json(user: User, viewer) -> dict:
    from lms.organisations.setup import may_see_id_card

    return {
        "id": user.id, "uuid": str(user.uuid), "email": user.email, "mobile": user.mobile,
        "real_name": user.real_name, "is_system_admin": user.is_system_admin,
        "id_card_number": user.id_card_number if may_see_id_card(viewer, user) else user.id_card_masked,
        "memberships": [{"organisation_id": m.organisation_id, "organisation": m.organisation.name, "role": m.role}
                        for m in user.memberships],
    }


def org_json(org: Organisation) -> dict:
    return {"id": org.id, "name": org.name, "name_en": org.name_en, "kind": org.kind, "region": org.region,
            "credit_code": org.credit_code}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of every route under /api/v1/."""
    return jsonify(build_document())


@bp.get("/me")
@require()
@doc("The calling user", tags=["accounts"])
def me():
    user = acting_user()
    return jsonify(user_json(user, user))


@bp.get("/users")
@require()
@doc("Users the caller may see", params={"limit": "integer", "offset": "integer"}, tags=["accounts"])
def users():
    user = acting_user()
    limit, offset = paginate_args()
    rows = db.session.scalars(visible(user, User).order_by(User.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [user_json(u, user) for u in rows], "limit": limit, "offset": offset})


@bp.get("/users/<int:user_id>")
@require()
@doc("One user, if the caller may see them", tags=["accounts"])
def user_detail(user_id):
    user = acting_user()
    return jsonify(user_json(get_visible_or_404(user, User, user_id), user))


@bp.get("/organisations")
@require()
@doc("Organisations the caller may see", params={"limit": "integer", "offset": "integer"}, tags=["organisations"])
def organisations():
    user = acting_user()
    limit, offset = paginate_args()
    rows = db.session.scalars(visible(user, Organisation).order_by(Organisation.id).limit(limit).offset(offset)).all()
    return jsonify({"items": [org_json(o) for o in rows], "limit": limit, "offset": offset})


@bp.get("/organisations/<int:org_id>")
@require()
@doc("One organisation", tags=["organisations"])
def organisation_detail(org_id):
    return jsonify(org_json(get_visible_or_404(acting_user(), Organisation, org_id)))

