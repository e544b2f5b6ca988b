"""Who may see a learner's competency record, and the scope of attainments.

A learner sees their own; a system admin and a supervisor see everyone's; a teacher, mentor,
enterprise admin or institution admin sees the learners who are members of an organisation in
which they hold one of those roles.
"""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import MAX_ID, db, valid_id  # noqa: F401  (re-exported)
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
    """Framework import (into the importer's organisation) and assessor management: system and
    institution admins. Editing one framework: :func:`may_edit_framework`."""
    return getattr(user, "is_authenticated", False) and (user.is_system_admin or "institution_admin" in user.roles())


def may_edit_rules(user) -> bool:
    """Whether ``user`` may add rules at all (editing one rule: :func:`may_edit_rule`)."""
    return getattr(user, "is_authenticated", False) and (
        user.is_system_admin or bool(user.roles() & {"teacher", "institution_admin"}))


# --- ownership of frameworks and rules ----------------------------------------------------------
#
# A framework or rule with ``owner_org_id`` null belongs to the system: only system admins edit
# it. Otherwise the staff of the owning organisation holding the permission edit it (frameworks:
# ``competency.manage_frameworks``; rules: ``competency.edit_rules``) and a system admin.


def _in_owner_org(user, owner_org_id, permission: str) -> bool:
    from lms.core.permissions import can

    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_system_admin:
        return True
    return owner_org_id is not None and can(user, permission, owner_org_id)


def may_edit_framework(user, fw) -> bool:
    """Edit or delete the framework itself (not its rules)."""
    return _in_owner_org(user, fw.owner_org_id, "competency.manage_frameworks")


def may_edit_rule(user, rule) -> bool:
    """Change, disable or delete one evidence rule."""
    return _in_owner_org(user, rule.owner_org_id, "competency.edit_rules")


def may_recompute(user, fw) -> bool:
    """Recompute a framework for every learner: it changes the state of every organisation's
    learners, so only the owner organisation's rule editors (system frameworks: system admins)."""
    return _in_owner_org(user, fw.owner_org_id, "competency.edit_rules")


def rule_orgs(user) -> set[int]:
    """Organisations in which ``user`` may create rules."""
    from lms.core.extension_points import registries

    _desc, roles = registries().permissions["competency.edit_rules"]
    return user.organisation_ids(*roles)


def rule_owner_for(user, fw, organisation_id: int | None = None) -> int | None:
    """The owner organisation of a rule ``user`` adds to ``fw``.

    A system admin's rules belong to the framework's owner (the system for national standards).
    A staff member's rules belong to their organisation: the one given, else the framework's
    owner when they work there, else their only organisation with the permission.
    """
    from competency.operations import CompetencyError

    if user is None:
        return fw.owner_org_id
    if user.is_system_admin and organisation_id is None:
        return fw.owner_org_id
    orgs = rule_orgs(user)
    if organisation_id is not None:
        if user.is_system_admin or organisation_id in orgs:
            return organisation_id
        raise CompetencyError("you may not add rules for that organisation", status=403, code="forbidden",
                              field="organisation_id")
    if fw.owner_org_id in orgs:
        return fw.owner_org_id
    if len(orgs) == 1:
        return next(iter(orgs))
    if not orgs:
        raise CompetencyError("only teachers and admins edit rules", status=403, code="forbidden")
    raise CompetencyError("you work for several organisations: say which one owns the rule",
                          field="organisation_id")


def visible_framework_ids(user):
    """A select of the ids of the frameworks ``user`` may see."""
    from competency.models import Framework
    from lms.core.permissions import visible

    return visible(user, Framework, sa.select(Framework.id))


def _register_scopes() -> None:
    from competency.models import Certificate, EvidenceRule, Framework, LevelAttainment

    @scope(LevelAttainment)
    def _attainments(user, stmt):
        ids = visible_learner_ids(user)
        return stmt if ids is None else stmt.where(LevelAttainment.user_id.in_(ids))

    @scope(Framework)
    def _frameworks(user, stmt):
        # National standards (the system's) are everyone's; an organisation's own frameworks are
        # seen by its members; supervisors read everything.
        if _is_supervisor(user):
            return stmt
        return stmt.where(sa.or_(Framework.owner_org_id.is_(None),
                                 Framework.owner_org_id.in_(user.organisation_ids() or [-1])))

    @scope(EvidenceRule)
    def _rules(user, stmt):
        # Rules are seen with their framework (whoever owns them, so lists can show the owner).
        return stmt.where(EvidenceRule.framework_id.in_(visible_framework_ids(user)))

    @scope(Certificate)
    def _certificates(user, stmt):
        ids = visible_learner_ids(user)
        return stmt if ids is None else stmt.where(Certificate.user_id.in_(ids))
