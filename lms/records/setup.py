"""Wires the learning-record layer into the app: models, receivers of account events."""
from __future__ import annotations

#: Settings with their defaults (environment variables of the same name override them).
SETTINGS = {
    #: Minutes of learning that make one study hour (学时); 45 is the usual class hour.
    "LMS_STUDY_HOUR_MINUTES": 45,
}


def init_app(app) -> None:
    from lms.core.extension_points import account_verified
    from lms.records import models, tasks  # noqa: F401  (tables, Celery tasks)

    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    account_verified.connect(_link_verified_address, weak=False)


def _link_verified_address(user, channel: str = "", address: str = "", **_kw) -> None:
    """A verified e-mail address: its xAPI identities become the user's (in a task: this runs
    after the verification's commit)."""
    from lms.records.tasks import link_verified_email

    if channel == "email" and address:
        link_verified_email.delay(user.id, address)
