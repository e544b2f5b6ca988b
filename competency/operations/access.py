"""Who may see a learner's competency record, and the scope of attainments.

A learner sees their own; a system admin and a supervisor see everyone's; a teacher, mentor,
enterprise admin or institution admin sees the learners who are members of an organisation in
which they hold one of those roles.
"""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db
from lms.core.permissions import scope

STAFF_ROLES = ("teacher", "mentor", "enterprise_admin", "institution_admin")


def _is_supervisor(user) -> bool:
    return "supervisor" in user.roles()


def visible_learner_ids(viewer):
    """A select of user ids ``viewer`` may see through organisations (None = everyone)."""
    from lms.organisations.models import Membership

    if viewer.is_system_admin or _is_supervisor(viewer):
        return None
    orgs = viewer.organisation_ids(*STAFF_ROLES)
    q = sa.select(Membership.user_id).where(Membership.organisation_id.in_(orgs or [-1]))
    return sa.union(q, sa.select(sa.literal(viewer.id)))


def may_view_learner(viewer, learner_id: int) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == learner_id or viewer.is_system_admin or _is_supervisor(viewer):
        return True
    from lms.organisations.models import Membership

    orgs = viewer.organisation_ids(*STAFF_ROLES)
    return bool(orgs) and db.session.scalar(sa.select(Membership.id).where(
        Membership.user_id == learner_id, Membership.organisation_id.in_(orgs)).limit(1)) is not None


def may_manage(user) -> bool:
    """Framework import and assessor management: system and institution admins."""
    return getattr(user, "is_authenticated", False) and (user.is_system_admin or "institution_admin" in user.roles())


def may_edit_rules(user) -> bool:
    return getattr(user, "is_authenticated", False) and (
        user.is_system_admin or bool(user.roles() & {"teacher", "institution_admin"}))


def _register_scopes() -> None:
    from competency.models import Certificate, LevelAttainment

    @scope(LevelAttainment)
    def _attainments(user, stmt):
        ids = visible_learner_ids(user)
        return stmt if ids is None else stmt.where(LevelAttainment.user_id.in_(ids))

    @scope(Certificate)
    def _certificates(user, stmt):
        ids = visible_learner_ids(user)
        return stmt if ids is None else stmt.where(Certificate.user_id.in_(ids))
