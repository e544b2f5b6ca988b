"""Privacy provider of the learning-record layer: identities, link codes and log, statement facts.

Runs after the plugins (they resolve the user's learner keys through the identities it erases)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.extension_points import ErasureReport, PrivacyProvider, registries
from lms.privacy.rows import erase_tables, export_tables, learner_keys


def export(user) -> dict:
    keys, hashes = learner_keys(user)
    return {"learner_keys": keys, "tables": export_tables("records_", user, keys, hashes)}


def erase(user) -> ErasureReport:
    report = ErasureReport("records")
    keys, hashes = learner_keys(user)
    erase_tables("records_", user, keys, hashes, report)
    return report


def register(app) -> None:
    registries(app).privacy_providers["records"] = PrivacyProvider(
        "records", _l("Learning records"), export, erase, order=800)
