"""Celery tasks of the learning-record layer (they receive ids, reload, and commit once)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="lms.records.link_verified_email")
def link_verified_email(user_id: int, address: str) -> list[str]:
    """Link the xAPI identities of a verified e-mail address to the user; returns keys linked.

    Skipped when the user's address changed since (only the verified address is linked) or when
    another account holds the identity already (an administrator can move it).
    """
    from lms.accounts.models import User
    from lms.core.db import db
    from lms.records.identity import IdentityError, email_keys, link

    user = db.session.get(User, user_id)
    if user is None or (user.email or "").lower() != (address or "").lower():
        return []
    try:
        linked = link(user, email_keys(address), source="verified_email")
    except IdentityError:
        db.session.rollback()
        return []
    db.session.commit()
    return linked
