"""Statements stored as other sources than the platform (an outside system, launched content),
written through the LRS's own storage with a provenance, as ``/xapi/statements`` does."""
from __future__ import annotations

from lms.core.db import db
from lms.records.provenance import Source

MOODLE = Source(kind="system", trust_level="standard", label="Moodle of the school")
ASSESSOR = Source(kind="system", trust_level="assessment", label="Provincial assessment centre")
UNTRUSTED = Source(kind="system", trust_level="untrusted", label="Unknown app")


def store_from(source: Source, *statements: dict) -> list[str]:
    """Store ``statements`` as ``source`` would (same transaction rules as the LRS) and commit, so
    ``statement_stored`` runs the engine eagerly."""
    from lms.xapi.storage import store_statements

    authority = {"objectType": "Agent", "name": source.label or "platform",
                 "account": {"homePage": "https://lrs-clients.example.org", "name": source.label or "platform"}}
    result = store_statements(list(statements), version="1.0.3", authority=authority, source=source)
    db.session.commit()
    return result.ids
