"""Reading what the LRS stored: the interface plugins (competency, reports) use.

Everything here reads through the indexed columns; nothing scans the statements table.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Iterator

import sqlalchemy as sa

from lms.core.db import UTCDateTime, db
from lms.xapi.identifiers import ifi_of, sha1
from lms.records.models import StatementFact
from lms.xapi.models import Activity, Agent, Statement, Verb

__all__ = ["StoredStatement", "load_statements", "iter_statements_for_agent", "iter_all_statement_ids",
           "get_activity", "search_activities"]


@dataclass
class StoredStatement:
    """A stored statement with its most used parts unpacked."""

    id: str
    actor: dict
    verb_id: str
    object_type: str
    #: Activity IRI, or the statement id of a StatementRef (IFI string for agent objects).
    object_id: str | None
    result: dict | None
    context: dict | None
    timestamp: dt.datetime
    stored: dt.datetime
    voided: bool
    registration: str | None
    #: The statement as stored.
    full: dict
    #: Provenance: the trust-policy key of its source (``platform``, ``launch``, ``system:<level>``,
    #: ``device``; see :mod:`lms.records.trust`).
    source: str = "platform"
    #: Provenance: the source's name as shown to users (empty for the platform).
    source_label: str = ""


def _columns():
    return (Statement.id, Statement.object_type, Statement.object_id, Statement.timestamp, Statement.stored,
            Statement.voided, Statement.registration, Statement.full, Verb.iri, StatementFact.source_policy,
            StatementFact.source_label)


def _joined(stmt):
    """``stmt`` joined with the verb and (outer) the statement's learning-record fact."""
    return (stmt.join(Verb, Verb.pk == Statement.verb_pk)
            .outerjoin(StatementFact, StatementFact.statement_id == Statement.id))


def _from_row(row) -> StoredStatement:
    full = row.full
    return StoredStatement(
        id=str(row.id), actor=full.get("actor"), verb_id=row.iri, object_type=row.object_type,
        object_id=row.object_id, result=full.get("result"), context=full.get("context"),
        timestamp=row.timestamp, stored=row.stored, voided=row.voided,
        registration=str(row.registration) if row.registration else None, full=full,
        source=row.source_policy or "platform", source_label=row.source_label or "")


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def load_statements(ids: list[str]) -> list[StoredStatement]:
    """The statements with these ids, in the order given; unknown (or malformed) ids are skipped."""
    wanted = [u for u in (_uuid_or_none(i) for i in ids) if u is not None]
    if not wanted:
        return []
    found: dict[uuid.UUID, StoredStatement] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start:start + 1000]
        stmt = _joined(sa.select(*_columns())).where(Statement.id.in_(chunk))
        for row in db.session.execute(stmt):
            found[row.id] = _from_row(row)
    return [found[u] for u in wanted if u in found]


def iter_statements_for_agent(actor: dict, *, since: dt.datetime | None = None,
                              include_voided: bool = False, batch: int = 1000) -> Iterator[StoredStatement]:
    """The statements whose actor is ``actor`` (same IFI), ordered by ``stored``.

    ``since`` is exclusive. Read in keyset pages of ``batch`` over the ``(actor, stored, pk)``
    index, so memory stays flat however many there are.
    """
    ifi = ifi_of(actor)
    if ifi is None:
        return
    agent_pk = db.session.scalar(sa.select(Agent.pk).where(Agent.ifi_hash == sha1(ifi)))
    if agent_pk is None:
        return
    cursor = None
    while True:
        stmt = _joined(sa.select(*_columns(), Statement.pk)).where(Statement.actor_pk == agent_pk)
        if since is not None:
            stmt = stmt.where(Statement.stored > since)
        if not include_voided:
            stmt = stmt.where(Statement.voided.is_(False))
        if cursor is not None:
            stmt = stmt.where(sa.tuple_(Statement.stored, Statement.pk) > _after(cursor))
        rows = db.session.execute(stmt.order_by(Statement.stored, Statement.pk).limit(batch)).all()
        for row in rows:
            yield _from_row(row)
        if len(rows) < batch:
            return
        cursor = (rows[-1].stored, rows[-1].pk)


def iter_all_statement_ids(*, batch: int = 5000) -> Iterator[list[str]]:
    """Every non-voided statement id, in stored order, in lists of up to ``batch``."""
    cursor = None
    while True:
        stmt = sa.select(Statement.id, Statement.stored, Statement.pk).where(Statement.voided.is_(False))
        if cursor is not None:
            stmt = stmt.where(sa.tuple_(Statement.stored, Statement.pk) > _after(cursor))
        rows = db.session.execute(stmt.order_by(Statement.stored, Statement.pk).limit(batch)).all()
        if rows:
            yield [str(r.id) for r in rows]
        if len(rows) < batch:
            return
        cursor = (rows[-1].stored, rows[-1].pk)


def _after(cursor):
    return sa.tuple_(sa.literal(cursor[0], UTCDateTime()), sa.literal(cursor[1], sa.BigInteger()))


def _activity_dict(row: Activity) -> dict:
    out = {"objectType": "Activity", "id": row.iri}
    if row.definition:
        out["definition"] = row.definition
    return out


def get_activity(iri: str) -> dict | None:
    """The activity with its canonical definition, or ``None`` if the LRS has never seen it."""
    if not isinstance(iri, str):
        return None
    row = db.session.scalars(sa.select(Activity).where(Activity.iri_hash == sha1(iri))).first()
    return _activity_dict(row) if row else None


def search_activities(text: str, *, limit: int = 20, activity_type: str | None = None) -> list[dict]:
    """Activities whose id or name (any language) contains ``text``, case-insensitively."""
    stmt = sa.select(Activity)
    needle = (text or "").strip().lower()
    if needle:
        like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(sa.func.lower(Activity.iri).like(like, escape="\\"),
                                 Activity.search_text.like(like, escape="\\")))
    if activity_type:
        stmt = stmt.where(Activity.activity_type == activity_type)
    rows = db.session.scalars(stmt.order_by(Activity.iri).limit(max(1, min(limit, 500))))
    return [_activity_dict(r) for r in rows]
