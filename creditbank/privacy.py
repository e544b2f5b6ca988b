"""Privacy provider of the credit bank: achievements, ledger, applications (and their files)."""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import ErasureReport, PrivacyProvider, registries
from lms.privacy.rows import erase_tables, export_tables, learner_keys


def export(user) -> dict:
    keys, hashes = learner_keys(user)
    return export_tables("creditbank_", user, keys, hashes)


def erase(user) -> ErasureReport:
    from creditbank.models import Application
    from creditbank.operations.applications import file_path

    report = ErasureReport("creditbank")
    for application in db.session.scalars(sa.select(Application).where(Application.user_id == user.id)):
        path = file_path(application)
        if application.file_path and os.path.exists(path):
            os.remove(path)
            report.removed["files"] = report.removed.get("files", 0) + 1
    keys, hashes = learner_keys(user)
    erase_tables("creditbank_", user, keys, hashes, report)
    return report


def register(app) -> None:
    registries(app).privacy_providers["creditbank"] = PrivacyProvider("creditbank", _l("Credit bank"), export, erase)
