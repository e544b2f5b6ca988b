"""Retention rules: why personal data survives an erasure request, and for how long.

Rules are data: a name, a description, and the setting that sets their period. A provider that
keeps something reports the rule's name in its :class:`~lms.core.extension_points.RetainedData`.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l

#: name -> (description, setting holding the period in years, or ``None`` for no end)
RULES: dict[str, tuple[object, str | None]] = {
    "subsidy_evidence": (_l("Evidence of subsidised training is kept for audits of the subsidy."),
                         "LMS_RETENTION_SUBSIDY_YEARS"),
    "erasure_log": (_l("The record that an erasure was requested and done is kept as proof."), None),
}


def years(rule: str) -> int | None:
    _desc, setting = RULES[rule]
    return int(current_app.config.get(setting, 0)) if setting else None


def cutoff(rule: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """Rows of ``rule`` that ended after this moment are still kept (``None``: kept forever)."""
    n = years(rule)
    if n is None:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    return now - dt.timedelta(days=365 * n + n // 4)


def until(rule: str, ended: dt.datetime | None) -> str | None:
    n = years(rule)
    if n is None or ended is None:
        return None
    return (ended + dt.timedelta(days=365 * n + n // 4)).date().isoformat()
