"""Organisation and membership operations (flush only; the caller commits)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts.operations import AccountError
from lms.core.db import db, utcnow
from lms.core.extension_points import membership_changed, user_deleting
from lms.organisations.models import ORG_KINDS, ROLES, Membership, Organisation


def create_organisation(name: str, kind: str, *, name_en: str = "", credit_code: str | None = None,
                        region: str = "") -> Organisation:
    if kind not in ORG_KINDS:
        raise AccountError(_l("Unknown organisation kind."), "kind")
    if not (name or "").strip():
        raise AccountError(_l("The name is required."), "name")
    if credit_code and db.session.scalars(sa.select(Organisation).where(Organisation.credit_code == credit_code)).first():
        raise AccountError(_l("An organisation with this credit code exists."), "credit_code")
    org = Organisation(name=name.strip(), kind=kind, name_en=name_en or "", credit_code=credit_code or None,
                       region=region or "")
    db.session.add(org)
    db.session.flush()
    return org


def update_organisation(org: Organisation, **fields) -> None:
    for key in ("name", "name_en", "region", "credit_code", "kind"):
        if key in fields:
            value = fields[key]
            if key == "kind" and value not in ORG_KINDS:
                raise AccountError(_l("Unknown organisation kind."), "kind")
            setattr(org, key, value or (None if key == "credit_code" else ""))
    db.session.flush()


def add_membership(user, organisation: Organisation, role: str, *, by=None) -> Membership:
    """Give ``user`` ``role`` in ``organisation``. ``by`` is the acting person (None: the system,
    the CLI or the demo): anyone but a system administrator may only give another role to a
    person already in the organisation. Adding someone gives the organisation's staff sight of
    their records, so an unaffiliated account (or the system administrator) is not claimed by
    typing its login."""
    if role not in ROLES:
        raise AccountError(_l("Unknown role."), "role")
    if by is not None and not by.is_system_admin:
        if user.is_system_admin:
            raise AccountError(_l("A system administrator cannot be added to an organisation."), "login")
        if organisation.id not in user.organisation_ids():
            raise AccountError(_l("Only people already in this organisation can be given a role here; "
                                  "ask a system administrator to add someone new."), "login")
    existing = db.session.scalars(sa.select(Membership).filter_by(
        user_id=user.id, organisation_id=organisation.id, role=role)).first()
    if existing:
        return existing
    m = Membership(user_id=user.id, organisation_id=organisation.id, role=role)
    db.session.add(m)
    db.session.flush()
    db.session.refresh(user)
    membership_changed.send(m, action="added")
    return m


def remove_membership(membership: Membership) -> None:
    membership_changed.send(membership, action="removed")
    user = membership.user
    db.session.delete(membership)
    db.session.flush()
    db.session.refresh(user)


def set_account_status(user, *, active: bool, is_system_admin: bool, by) -> None:
    """An administrator (``by``) activates or deactivates an account and grants or takes away
    system administration. Deactivating sends :data:`~lms.core.extension_points.user_deleting`
    first (receivers revoke the account's credentials in the same transaction) and ends the
    account's sessions."""
    if user.id == by.id and not (active and is_system_admin):
        raise AccountError(_l("You cannot deactivate yourself or remove your own administrator rights."))
    if user.is_active_account and not active:
        user_deleting.send(user)
        user.session_version += 1
    user.is_active_account = active
    user.is_system_admin = is_system_admin
    db.session.flush()


def revoke_credentials(user) -> None:
    """Receiver of ``user_deleting``: revoke the user's API tokens and LRS launch credentials."""
    from lms.accounts.models import ApiToken
    from lms.xapi.credentials import revoke_client
    from lms.xapi.models import Client

    now = utcnow()
    for token in db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                              ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
    for client in db.session.scalars(sa.select(Client).where(Client.user_id == user.id, Client.active.is_(True))):
        revoke_client(client)
    db.session.flush()
