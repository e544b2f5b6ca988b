"""Privacy provider of the competency plugin: evidence, unit and level states, exams, certificates,
qualifications, notifications, apprenticeships.

Apprenticeship records are subsidy records (paid per apprentice per year): they are kept under the
``subsidy_evidence`` retention rule for the configured years after the apprenticeship ended (a
mentor named on them stays named); everything else about the learner is deleted."""
from __future__ import annotations

import datetime as dt

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
        ended = sa.func.coalesce(apprentices.c.left_on, apprentices.c.contract_end)
        clause = (apprentices.c.user_id == user.id) & (ended >= retention.cutoff("subsidy_evidence").date())
        for (end,) in db.session.execute(sa.select(ended).where(clause)):
            if isinstance(end, str):  # SQLite returns the coalesced date as text
                end = dt.date.fromisoformat(end)
            report.retained.append(RetainedData(
                "competency_apprentices", "subsidy_evidence", 1,
                retention.until("subsidy_evidence", dt.datetime.combine(end, dt.time(), dt.timezone.utc))))
        keep["competency_apprentices"] = clause
        # A mentor's name on an apprentice's record is part of the subsidy record as well.
        mentored = db.session.scalar(sa.select(sa.func.count()).select_from(apprentices).where(
            sa.or_(apprentices.c.enterprise_mentor_id == user.id, apprentices.c.school_mentor_id == user.id)))
        if mentored:
            report.retained.append(RetainedData("competency_apprentices (mentor)", "subsidy_evidence", mentored))
    keys, hashes = learner_keys(user)
    erase_tables("competency_", user, keys, hashes, report, keep=keep)
    return report


def register(app) -> None:
    registries(app).privacy_providers["competency"] = PrivacyProvider(
        "competency", _l("Competency and skill levels"), export, erase)
