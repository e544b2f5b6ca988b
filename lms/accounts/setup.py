"""Wires accounts into the app: blueprint, scope, permissions."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

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


def init_app(app) -> None:
    from lms.accounts.views import bp

    app.register_blueprint(bp)
    permissions.declare(app, "users.view", ORG_ADMIN_ROLES + ("supervisor",), _l("See member accounts"))
    registries(app).nav.append(NavEntry("auth.profile", _l("My account"), lambda u: u.is_authenticated, 900))
