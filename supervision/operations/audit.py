"""The audit log of supervisory actions (written in the action's transaction)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.core.db import db, utcnow

#: Action codes and how they read.
ACTIONS = {
    "catalogue.version": _l("Catalogue entry changed"),
    "application.submitted": _l("Catalogue application submitted"),
    "application.approved": _l("Catalogue application approved"),
    "application.returned": _l("Catalogue application returned"),
    "class.applied": _l("Class application submitted"),
    "class.approved": _l("Class opened"),
    "class.returned": _l("Class application returned"),
    "class.completed": _l("Class completed"),
    "class.trainee_added": _l("Trainee added after opening"),
    "import.done": _l("Records imported"),
    "realname.checked": _l("Real name checked"),
    "claim.prepared": _l("Claim prepared"),
    "claim.screened": _l("Claim screened"),
    "claim.submitted": _l("Claim submitted"),
    "hit.reviewed": _l("Screening hit reviewed"),
    "hit.answered": _l("Screening hit answered"),
    "export.personal": _l("Export with full ID numbers"),
    "export.masked": _l("Export with masked ID numbers"),
    "indicators.recomputed": _l("Indicators recomputed"),
    "policy.rule": _l("Policy rule recorded"),
    "officer.appointed": _l("Authority officer appointed"),
}


def log(actor, action: str, subject_kind: str, subject_id: int | None = None, *, organisation_id=None,
        summary: str = "", **details):
    """Record one action (flush only)."""
    from supervision.models import AuditEntry

    if action not in ACTIONS:
        raise KeyError(f"unknown audit action {action!r}")
    entry = AuditEntry(actor_id=getattr(actor, "id", None), action=action, subject_kind=subject_kind,
                       subject_id=subject_id, organisation_id=organisation_id, summary=summary[:2000],
                       details=details, created_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return entry
