"""Wires accounts into the app: blueprint, scope, permissions."""
from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.accounts.models import User
from lms.core import permissions
from lms.core.extension_points import NavEntry, registries

# Roles that administer an organisation's members.
ORG_ADMIN_ROLES = ("enterprise_admin", "institution_admin")


@permissions.scope(User)
def _users_visible(user, stmt):
    """Yourself; the members of organisations you administer or teach / mentor in; all for supervisors."""
    if "supervisor" in user.roles():
        return stmt
    org_ids = user.organisation_ids(*ORG_ADMIN_ROLES, "teacher", "mentor")
    if not org_ids:
        return stmt.where(User.id == user.id)
    from lms.organisations.models import Membership

    members = sa.select(Membership.user_id).where(Membership.organisation_id.in_(org_ids))
    return stmt.where(sa.or_(User.id == user.id, User.id.in_(members)))


#: Endpoints a user who has not accepted the current policy may still reach.
CONSENT_EXEMPT_ENDPOINTS = {"auth.consent", "auth.logout", "auth.legal_terms", "auth.legal_privacy", "static",
                            "main.set_language", "main.healthz"}


def _require_current_consent():
    """A logged-in user who has not accepted the current user agreement and privacy notice is sent
    to accept it first (LRS clients, the JSON API and static files are exempt)."""
    endpoint = request.endpoint or ""
    if (endpoint in CONSENT_EXEMPT_ENDPOINTS or endpoint.endswith(".static")
            or request.path.startswith(("/xapi/", "/api/", "/static/"))):
        return None
    if not current_user.is_authenticated:
        return None
    from lms.accounts.operations import needs_consent

    if not needs_consent(current_user):
        return None
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.consent", next=target.rstrip("?") if target else None))


def init_app(app) -> None:
    from lms.accounts.views import bp

    app.register_blueprint(bp)
    app.before_request(_require_current_consent)

    @app.context_processor
    def _account_helpers():
        from lms.accounts.forms import ID_CARD_STATUS_LABELS
        from lms.accounts.operations import may_check_id_card

        return {"may_check_id_card": may_check_id_card, "id_card_status_labels": ID_CARD_STATUS_LABELS}
    permissions.declare(app, "users.view", ORG_ADMIN_ROLES + ("supervisor",), _l("See member accounts"))
    registries(app).nav.append(NavEntry("auth.profile", _l("My account"), lambda u: u.is_authenticated, 900))
