"""Wires organisations into the app: scopes, permissions, admin pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core import permissions
from lms.core.extension_points import NavEntry, registries
from lms.organisations.models import Organisation

#: Roles, for forms and the CLI, with translatable names.
ROLE_LABELS = {
    "learner": _l("Learner"),
    "teacher": _l("Teacher"),
    "mentor": _l("Enterprise mentor"),
    "enterprise_admin": _l("Enterprise administrator"),
    "institution_admin": _l("Institution administrator"),
    "supervisor": _l("Supervisor"),
}

KIND_LABELS = {
    "enterprise": _l("Enterprise"),
    "institution": _l("School / training institution"),
    "authority": _l("Authority"),
}


@permissions.scope(Organisation)
def _organisations_visible(user, stmt):
    """Supervisors see every organisation; others the organisations they belong to."""
    if "supervisor" in user.roles():
        return stmt
    return stmt.where(Organisation.id.in_(user.organisation_ids() or {-1}))


def may_see_id_card(viewer, user) -> bool:
    """The full ID card number is shown only to its owner and to system administrators."""
    return bool(getattr(viewer, "is_authenticated", False) and (viewer.id == user.id or viewer.is_system_admin))


def _revoke_credentials(user, **_kw) -> None:
    from lms.organisations.operations import revoke_credentials

    revoke_credentials(user)


def init_app(app) -> None:
    from lms.core.extension_points import user_deleting
    from lms.organisations.views import bp

    user_deleting.connect(_revoke_credentials)

    app.register_blueprint(bp)
    permissions.declare(app, "organisations.manage_members", ("enterprise_admin", "institution_admin"),
                        _l("Add and remove members of an organisation"))
    registries(app).nav.append(NavEntry("admin.users", _l("Administration"),
                                        lambda u: getattr(u, "is_authenticated", False) and u.is_system_admin,
                                        800, section="main"))

    @app.context_processor
    def _labels():
        return {"role_labels": ROLE_LABELS, "kind_labels": KIND_LABELS, "may_see_id_card": may_see_id_card}
