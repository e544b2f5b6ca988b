"""Privacy provider of accounts: the profile, API tokens, login failures.

The ``users`` row is anonymised, not deleted, so that rows other providers keep under a retention
rule (and the erasure log) still point to a valid, no longer identifying account. Runs last."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import ErasureReport, PrivacyProvider, registries


def export(user) -> dict:
    from lms.accounts.models import ApiToken

    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)).all()
    return {
        "profile": {"uuid": str(user.uuid), "email": user.email, "mobile": user.mobile, "real_name": user.real_name,
                    "id_card_number": user.id_card_number, "locale": user.locale,
                    "created_at": user.created_at.isoformat() if user.created_at else None,
                    "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None},
        "api_tokens": [{"name": t.name, "prefix": t.prefix, "created_at": t.created_at.isoformat(),
                        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None} for t in tokens],
    }


def erase(user) -> ErasureReport:
    from lms.accounts.models import ApiToken, LoginFailure
    from lms.privacy.operations import ERASED

    report = ErasureReport("accounts")
    n = db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount
    if n:
        report.removed["api_tokens"] = n
    addresses = [a.lower() for a in (user.email, user.mobile) if a]
    if addresses:
        n = db.session.execute(sa.delete(LoginFailure).where(
            sa.or_(*[sa.func.lower(LoginFailure.key).contains(a) for a in addresses]))).rowcount
        if n:
            report.removed["login_failures"] = n
    user.email = None
    user.mobile = None
    user.real_name = ""
    user.id_card_number = None
    user.locale = ""
    user.last_login_at = None
    user.password_hash = ERASED
    user.is_active_account = False
    user.session_version = (user.session_version or 0) + 1
    user.uuid = uuid.uuid4()  # the old uuid was the platform learner key's name
    report.anonymised["users"] = 1
    return report


def register(app) -> None:
    registries(app).privacy_providers["accounts"] = PrivacyProvider(
        "accounts", _l("Account"), export, erase, order=1000)
