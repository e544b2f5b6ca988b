"""Privacy provider of the competency plugin: evidence, unit and level states, exams, certificates,
qualifications, notifications, apprenticeships.

Apprenticeship records are subsidy records (paid per apprentice per year): they are kept under the
``subsidy_evidence`` retention rule; everything else about the learner is deleted."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import ErasureReport, PrivacyProvider, RetainedData, registries
from lms.privacy import retention
from lms.privacy.rows import erase_tables, export_tables, learner_keys


def export(user) -> dict:
    keys, hashes = learner_keys(user)
    return export_tables("competency_", user, keys, hashes)


def erase(user) -> ErasureReport:
    report = ErasureReport("competency")
    keep = {}
    apprentices = db.metadata.tables.get("competency_apprentices")
    if apprentices is not None:
        clause = apprentices.c.user_id == user.id
        n = db.session.scalar(sa.select(sa.func.count()).select_from(apprentices).where(clause))
        if n:
            keep["competency_apprentices"] = clause
            report.retained.append(RetainedData("competency_apprentices", "subsidy_evidence", n,
                                                str(retention.years("subsidy_evidence")) + " years"))
    keys, hashes = learner_keys(user)
    erase_tables("competency_", user, keys, hashes, report, keep=keep)
    return report


def register(app) -> None:
    registries(app).privacy_providers["competency"] = PrivacyProvider(
        "competency", _l("Competency and skill levels"), export, erase)
