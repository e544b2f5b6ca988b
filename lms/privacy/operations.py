"""Export a user's personal data; erase it on an administrator's request."""
from __future__ import annotations
from lms.core.exceptions import DomainError

import logging

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.core.db import db, utcnow
from lms.core.extension_points import ErasureReport, registries
from lms.privacy.models import ErasureRequest

log = logging.getLogger("lms.privacy")


#: The password hash of an erased account (no password verifies against it).
ERASED = "!erased"


class PrivacyError(DomainError, ValueError):
    """A privacy request that cannot be met; ``field`` names the form field at fault."""


def providers() -> list:
    return sorted(registries().privacy_providers.values(), key=lambda p: (p.order, p.name))


def export_user(user) -> dict:
    """Everything every provider holds about ``user``, JSON-serialisable, by provider name."""
    return {"exported_at": utcnow().isoformat(), "user_id": user.id,
            "providers": {p.name: p.export(user) for p in providers()}}


def erase_user(admin, user, reason: str) -> ErasureRequest:
    """Run every provider's ``erase`` for ``user`` (plugins first, the account last) and log it.

    Only a system administrator may; never their own account. Flushes; the caller commits."""
    from lms.accounts.models import User

    if not getattr(admin, "is_system_admin", False):
        raise PrivacyError(_("Only a system administrator may erase an account."))
    # Lock the account: parallel confirmations wait here, then see it erased (one effect).
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update()).all()
    db.session.refresh(user)
    if user.password_hash == ERASED:
        raise PrivacyError(_("This account was erased already."))
    if admin.id == user.id:
        raise PrivacyError(_("You cannot erase your own account."))
    if user.is_system_admin:
        raise PrivacyError(_("Remove the administrator right before erasing this account."))
    reason = (reason or "").strip()
    if not reason:
        raise PrivacyError(_("Give the reason (the worker's request)."), "reason")
    from lms.core.extension_points import user_deleting

    user_deleting.send(user)
    reports: list[ErasureReport] = []
    for provider in providers():
        report = provider.erase(user)
        reports.append(report)
        db.session.flush()
    row = ErasureRequest(user_id=user.id, requested_by_id=admin.id, reason=reason[:1000],
                         reports=[r.as_dict() for r in reports])
    db.session.add(row)
    db.session.flush()
    log.info("erased personal data of user %s at the request of admin %s (erasure %s)", user.id, admin.id, row.id)
    return row


def erasure_log(limit: int = 100) -> list[ErasureRequest]:
    return list(db.session.scalars(sa.select(ErasureRequest).order_by(ErasureRequest.id.desc()).limit(limit)))
