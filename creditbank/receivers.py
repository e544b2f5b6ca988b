"""Receivers of the core's domain events: describe the evidence from the sender, enqueue a task.

The credit bank never imports the plugins that send these events. A sender is read by the
attributes its event documents (``user_id``, ``completed_at``, ``rung``...) with ``getattr``;
what it cannot find stays ``None``. The task gets ids and plain values only.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _get(obj, path: str, default=None):
    for name in path.split("."):
        if obj is None:
            return default
        obj = getattr(obj, name, None)
    return default if obj is None else obj


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else None


def _enqueue(user_id, evidence: dict) -> None:
    from creditbank.tasks import record_and_evaluate

    if not user_id:
        return
    record_and_evaluate.delay(int(user_id), evidence)


def on_course_completed(enrolment, **_kw) -> None:
    """``course_completed``: sender is an Enrolment (``user_id``, ``course.code``, ``completed_at``,
    ``progress`` as the attendance share, ``final_score`` when the course has one)."""
    code = _get(enrolment, "course.code")
    if not code:
        return
    _enqueue(_get(enrolment, "user_id"), {
        "source_kind": "course_completed", "source_ref": f"enrolment:{_get(enrolment, 'id')}",
        "keys": [f"course:{code}"], "score": _get(enrolment, "final_score"),
        "attendance": _get(enrolment, "progress"), "achieved_at": _iso(_get(enrolment, "completed_at")),
        "details": {"course": code, "title": str(_get(enrolment, "course.title_zh", ""))}})


def _level_keys(prefix: str, occupation, rung) -> list[str]:
    if rung is None:
        return []
    keys = [f"{prefix}:*:{int(rung)}"]
    if occupation:
        keys.append(f"{prefix}:{occupation}:{int(rung)}")
    return keys


def on_level_awarded(attainment, **_kw) -> None:
    """``level_awarded``: sender is a LevelAttainment (``user_id``, ``rung``, ``awarded_at``,
    ``framework.occupation.code``)."""
    rung = _get(attainment, "rung")
    occupation = _get(attainment, "framework.occupation.code")
    _enqueue(_get(attainment, "user_id"), {
        "source_kind": "level_awarded", "source_ref": f"attainment:{_get(attainment, 'id')}",
        "keys": _level_keys("level", occupation, rung), "rung": rung,
        "achieved_at": _iso(_get(attainment, "awarded_at")), "details": {"occupation": occupation}})


def on_certificate_issued(certificate, **_kw) -> None:
    """``certificate_issued``: sender is a Certificate (``user_id``, ``attainment.rung``,
    ``issued_at``, ``verification_code``)."""
    rung = _get(certificate, "attainment.rung")
    occupation = _get(certificate, "attainment.framework.occupation.code")
    _enqueue(_get(certificate, "user_id"), {
        "source_kind": "certificate_issued", "source_ref": f"certificate:{_get(certificate, 'id')}",
        "keys": _level_keys("certificate", occupation, rung), "rung": rung,
        "achieved_at": _iso(_get(certificate, "issued_at")),
        "details": {"occupation": occupation, "verification_code": _get(certificate, "verification_code")}})


def on_identity_linked(user, keys=(), **_kw) -> None:
    """``identity_linked``: statements stored under the linked keys are the user's now."""
    from creditbank.tasks import process_linked_keys

    if getattr(user, "id", None):
        process_linked_keys.delay(int(user.id), [str(k) for k in keys or ()])


def on_statement_stored(sender, statement_ids=(), voided_ids=(), **_kw) -> None:
    """``statement_stored``: completed / passed activities may be outcomes (``activity:<IRI>``);
    voided statements withdraw what they proved."""
    from creditbank.tasks import process_statements, withdraw

    if statement_ids:
        process_statements.delay([str(i) for i in statement_ids])
    if voided_ids:
        withdraw.delay("statement", [f"statement:{i}" for i in voided_ids], "statement voided")


def on_level_retracted(attainment, reason="", **_kw) -> None:
    """``level_retracted``: the level lost its basis; its credits are reversed."""
    from creditbank.tasks import withdraw

    withdraw.delay("level_awarded", [f"attainment:{_get(attainment, 'id')}"], str(reason or "level retracted"))


def on_certificate_revoked(certificate, reason="", **_kw) -> None:
    """``certificate_revoked``: the certificate's credits are reversed."""
    from creditbank.tasks import withdraw

    withdraw.delay("certificate_issued", [f"certificate:{_get(certificate, 'id')}"],
                   str(reason or "certificate revoked"))


def connect(app) -> None:
    from lms.core.extension_points import (certificate_issued, certificate_revoked, course_completed,
                                           identity_linked, level_awarded, level_retracted, statement_stored)

    statement_stored.connect(on_statement_stored, sender=app, weak=False)

    course_completed.connect(on_course_completed, weak=False)
    level_awarded.connect(on_level_awarded, weak=False)
    certificate_issued.connect(on_certificate_issued, weak=False)
    identity_linked.connect(on_identity_linked, weak=False)
    level_retracted.connect(on_level_retracted, weak=False)
    certificate_revoked.connect(on_certificate_revoked, weak=False)
