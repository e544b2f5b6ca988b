"""Organisation and membership operations (flush only; the caller commits)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts.operations import AccountError
from lms.core.db import db
from lms.core.extension_points import membership_changed
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
