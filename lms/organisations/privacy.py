"""Privacy provider of organisations: the user's memberships."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import ErasureReport, PrivacyProvider, registries


def export(user) -> dict:
    from lms.organisations.models import Membership

    rows = db.session.scalars(sa.select(Membership).where(Membership.user_id == user.id)).all()
    return {"memberships": [{"organisation": m.organisation.name, "role": m.role} for m in rows]}


def erase(user) -> ErasureReport:
    from lms.organisations.models import Membership

    report = ErasureReport("organisations")
    n = db.session.execute(sa.delete(Membership).where(Membership.user_id == user.id)).rowcount
    if n:
        report.removed["memberships"] = n
    db.session.expire(user, ["memberships"])
    return report


def register(app) -> None:
    registries(app).privacy_providers["organisations"] = PrivacyProvider(
        "organisations", _l("Organisations"), export, erase, order=900)
