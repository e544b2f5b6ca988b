"""Celery tasks of delivery: statements stored by outside content (external activities)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="courses.apply_external_statements")
def apply_external_statements(statement_ids: list[str]) -> int:
    """Complete external lessons and credit study time from statements their content sent."""
    from courses.delivery.operations import apply_external_statements as apply
    from lms.core.db import db

    applied = apply(statement_ids)
    db.session.commit()
    return applied
