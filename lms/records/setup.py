"""Wires the learning-record layer into the app: models, receivers of account events."""
from __future__ import annotations

#: Settings with their defaults (environment variables of the same name override them).
SETTINGS = {
    #: Minutes of learning that make one study hour (学时); 45 is the usual class hour.
    "LMS_STUDY_HOUR_MINUTES": 45,
}


def init_app(app) -> None:
    from lms.records import models  # noqa: F401  (tables)

    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
