"""Wires the learning-record layer into the app: models, receivers of account events, the identity
and trust-policy pages, their permissions and navigation entries, and ``flask records``."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Settings with their defaults (environment variables of the same name override them).
SETTINGS = {
    #: Minutes of learning that make one study hour (学时); 45 is the usual class hour.
    "LMS_STUDY_HOUR_MINUTES": 45,
    #: Wrong link codes a user may enter before being locked out for a while.
    "LMS_LINK_CODE_MAX_FAILURES": 5,
    #: How long (seconds) the lock-out after too many wrong link codes lasts.
    "LMS_LINK_CODE_LOCKOUT_SECONDS": 900,
}


def init_app(app) -> None:
    from lms.core import permissions
    from lms.core.extension_points import NavEntry, account_verified, registries
    from lms.records import cli, models, record_views, tasks, views  # noqa: F401  (tables, Celery tasks)
    from lms.records.links import ORG_LINK_ROLES

    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    account_verified.connect(_link_verified_address, weak=False)

    app.register_blueprint(views.admin_bp)
    app.register_blueprint(views.account_bp)
    app.register_blueprint(record_views.record_bp)
    permissions.declare(app, "records.view", ("supervisor",),
                        _l("See unmatched learners, identity links and the trust policy (read only)"))
    permissions.declare(app, "records.import_links", ORG_LINK_ROLES,
                        _l("Link foreign learner accounts to the members of one's organisation"))
    permissions.declare(app, "record.read_members", ("enterprise_admin", "institution_admin", "supervisor"),
                        _l("Read the training records of the members of one's organisation (read only)"))
    nav = registries(app).nav
    nav.append(NavEntry("record.my_record", _l("My training record"),
                        lambda u: bool(getattr(u, "is_authenticated", False)), 60))
    nav.append(NavEntry("records_admin.unmatched", _l("Unmatched learners"), views.may_view, 840, section="admin"))
    nav.append(NavEntry("records_admin.import_links", _l("Import identity links"), views.may_import, 845,
                        section="admin"))
    nav.append(NavEntry("records_admin.policy", _l("Trust policy"), views.may_view, 850, section="admin"))
    # Supervisors and organisation administrators have no "Administration" link: give them theirs.
    nav.append(NavEntry("records_admin.unmatched", _l("Unmatched learners"),
                        lambda u: views.may_view(u) and not u.is_system_admin, 710, section="main"))
    nav.append(NavEntry("records_admin.import_links", _l("Import identity links"),
                        lambda u: views.may_import(u) and not views.may_view(u), 720, section="main"))
    cli.init_app(app)


def _link_verified_address(user, channel: str = "", address: str = "", **_kw) -> None:
    """A verified e-mail address: its xAPI identities become the user's (in a task: this runs
    after the verification's commit)."""
    from lms.records.tasks import link_verified_email

    if channel == "email" and address:
        link_verified_email.delay(user.id, address)
