"""Who may do what in supervision, and the query scopes of its tables.

* **authority officers** (:class:`~supervision.models.AuthorityOfficer`, appointed by a system
  administrator) decide: catalogue versions, applications, classes, screening reviews, imports,
  exports with full ID numbers;
* **supervisors** (role ``supervisor``) read everything, change nothing;
* **institution administrators** read and act for their own institutions only;
* everyone else, and the public, sees the public catalogue and aggregate rates.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.core import permissions
from lms.core.db import db

INSTITUTION_ROLE = "institution_admin"


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_officer(user) -> bool:
    """An authority officer (or a system administrator)."""
    if not _authenticated(user):
        return False
    if user.is_system_admin:
        return True
    from supervision.models import AuthorityOfficer

    return db.session.scalar(sa.select(AuthorityOfficer.id).where(AuthorityOfficer.user_id == user.id)) is not None


def reads_all(user) -> bool:
    """Officers and supervisors read every organisation's supervision data."""
    return is_officer(user) or permissions.is_supervisor(user)


def institution_ids(user) -> set[int]:
    """Institutions the user administers."""
    return set(user.organisation_ids(INSTITUTION_ROLE)) if _authenticated(user) else set()


def may_view(user) -> bool:
    """May open the supervision pages at all."""
    return reads_all(user) or bool(institution_ids(user))


def may_act_for(user, organisation_id: int) -> bool:
    """May apply, claim and answer for this institution (its administrators; never supervisors)."""
    return _authenticated(user) and (user.is_system_admin or organisation_id in institution_ids(user))


def may_see_full_id_numbers(user) -> bool:
    """Full ID numbers in exports: officers only (every such export is logged)."""
    return is_officer(user)


def _org_scope(column):
    def scope_fn(user, stmt):
        if reads_all(user):
            return stmt
        return stmt.where(column.in_(institution_ids(user) or {-1}))

    return scope_fn


def register(app) -> None:
    """Declare the permissions and register the query scopes."""
    from supervision.models import AuditEntry, Claim, ClassIndicator, CourseApplication, TrainingClass

    permissions.declare(app, "supervision.view", {"supervisor", INSTITUTION_ROLE},
                        _l("See training supervision (own institution, or all for supervisors)"))
    for model in (TrainingClass, Claim, CourseApplication, ClassIndicator, AuditEntry):
        permissions.scope(model)(_org_scope(model.organisation_id))
