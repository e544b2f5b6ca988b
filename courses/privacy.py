"""Privacy provider of the courses plugin: enrolments with their progress, attempts and submissions.

Enrolments in subsidised courses are kept under the ``subsidy_evidence`` retention rule for the
configured number of years after completion (or enrolment); their children stay with them."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import ErasureReport, PrivacyProvider, RetainedData, registries
from lms.privacy import retention
from lms.privacy.rows import erase_tables, export_tables, learner_keys


def export(user) -> dict:
    keys, hashes = learner_keys(user)
    return export_tables("courses_", user, keys, hashes)


def _kept(user):
    from courses.models import Course, Enrolment

    cutoff = retention.cutoff("subsidy_evidence")
    ended = sa.func.coalesce(Enrolment.completed_at, Enrolment.enrolled_at)
    subsidised = sa.select(Course.id).where(Course.subsidised.is_(True))
    return Enrolment.__table__.c.course_id.in_(subsidised) & (ended >= cutoff)


def erase(user) -> ErasureReport:
    from courses.models import Enrolment

    report = ErasureReport("courses")
    keep = _kept(user)
    kept = db.session.scalars(sa.select(Enrolment).where(Enrolment.user_id == user.id, keep)).all()
    for row in kept:
        report.retained.append(RetainedData("courses_enrolments", "subsidy_evidence", 1,
                                            retention.until("subsidy_evidence", row.completed_at or row.enrolled_at)))
    keys, hashes = learner_keys(user)
    erase_tables("courses_", user, keys, hashes, report, keep={"courses_enrolments": keep})
    return report


def register(app) -> None:
    registries(app).privacy_providers["courses"] = PrivacyProvider("courses", _l("Courses"), export, erase)
