"""Rows shared by many statements (agents, verbs, activities), written with insert-on-conflict.

Concurrent batches naming the same new activity must neither deadlock nor fail: every writer
inserts the rows it needs with ``INSERT .. ON CONFLICT DO NOTHING`` in the same (sorted) order,
then reads the keys back. No get-or-create round trip per row, no ORM flush per row.
"""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import db, utcnow
from lms.xapi.identifiers import sha1
from lms.xapi.models import Activity, Agent, Verb


def _dialect_insert(table):
    name = db.session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _ensure(model, key_col: str, rows: dict[str, dict], extra_cols=(), known: dict | None = None) -> dict[str, tuple]:
    """Make sure a row exists for each key of ``rows``; return ``{key: (pk, *extra_cols)}``.

    ``known`` holds rows the caller has already read (same shape), so they are not read again.
    """
    if not rows:
        return {}
    table = model.__table__
    key = table.c[key_col]
    keys = sorted(rows)
    cols = [table.c.pk, key] + [table.c[c] for c in extra_cols]
    if known is not None:
        found = {k: known[k] for k in keys if k in known}
    else:
        found = {r[1]: (r[0], *r[2:]) for r in db.session.execute(sa.select(*cols).where(key.in_(keys)))}
    missing = [k for k in keys if k not in found]
    if missing:
        stmt = _dialect_insert(table).on_conflict_do_nothing(index_elements=[key_col])
        db.session.execute(stmt, [rows[k] for k in missing])
        for r in db.session.execute(sa.select(*cols).where(key.in_(missing))):
            found[r[1]] = (r[0], *r[2:])
    return found


def ensure_agents(agents: dict[str, tuple[str, str | None]], known: dict | None = None) -> dict[str, int]:
    """``{ifi: (object_type, name)}`` -> ``{ifi: pk}``."""
    rows = {sha1(ifi): {"ifi_hash": sha1(ifi), "ifi": ifi, "object_type": kind, "name": name}
            for ifi, (kind, name) in agents.items()}
    found = _ensure(Agent, "ifi_hash", rows, known=known)
    return {ifi: found[sha1(ifi)][0] for ifi in agents}


def ensure_verbs(verbs: dict[str, dict | None], known: dict | None = None) -> dict[str, int]:
    """``{iri: display}`` -> ``{iri: pk}``."""
    rows = {sha1(iri): {"iri_hash": sha1(iri), "iri": iri, "display": display} for iri, display in verbs.items()}
    found = _ensure(Verb, "iri_hash", rows, known=known)
    return {iri: found[sha1(iri)][0] for iri in verbs}


def _names_text(definition: dict | None) -> str:
    names = (definition or {}).get("name")
    if not isinstance(names, dict):
        return ""
    return "\n".join(str(v).lower() for v in names.values())


def merge_definition(old: dict | None, new: dict | None) -> dict | None:
    """The canonical definition after ``new`` is offered: language maps merged, other keys replaced."""
    if not new:
        return old
    merged = dict(old or {})
    for key, value in new.items():
        if key in ("name", "description") and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key == "extensions" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def ensure_activities(activities: dict[str, dict | None], *, may_define: bool,
                      known: dict | None = None) -> dict[str, int]:
    """``{iri: definition offered}`` -> ``{iri: pk}``.

    A new activity takes the first definition offered. An existing one's canonical definition is
    updated only by writers allowed to define activities (scope ``define``, or the platform).
    """
    now = utcnow()
    rows = {}
    for iri, definition in activities.items():
        rows[sha1(iri)] = {"iri_hash": sha1(iri), "iri": iri, "definition": definition or None,
                           "activity_type": (definition or {}).get("type") if isinstance(definition, dict) else None,
                           "search_text": _names_text(definition), "updated_at": now}
    found = _ensure(Activity, "iri_hash", rows, extra_cols=("definition",), known=known)
    if may_define:
        table = Activity.__table__
        for h in sorted(rows):
            offered = activities[rows[h]["iri"]]
            if not offered:
                continue
            pk, current = found[h]
            merged = merge_definition(current, offered)
            if merged != current:
                db.session.execute(table.update().where(table.c.pk == pk).values(
                    definition=merged, activity_type=merged.get("type"), search_text=_names_text(merged),
                    updated_at=now))
    return {iri: found[sha1(iri)][0] for iri in activities}
