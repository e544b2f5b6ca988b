"""Finding, exporting and erasing a user's rows by column, for privacy providers.

A table's *subject* columns say whose row it is: a foreign key to ``users.id`` named ``user_id``
(or listed by the provider), a ``learner_key`` or a ``learner_hash``. Other foreign keys to
``users.id`` (``created_by_id``, ``reviewed_by_id``...) only name the user as an actor: erasure
sets them to null.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid

import sqlalchemy as sa

from lms.core.db import db


def tables(prefix: str) -> list[sa.Table]:
    """Tables whose names start with ``prefix``, parents before children."""
    return [t for t in db.metadata.sorted_tables if t.name.startswith(prefix)]


def user_fk_columns(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)]


def subject_clause(table: sa.Table, user, keys: list[str], hashes: list[str], subject_columns=("user_id",)):
    """A clause selecting ``user``'s own rows of ``table`` (or ``None`` when it has no subject column)."""
    parts = []
    for name in subject_columns:
        if name in table.c:
            parts.append(table.c[name] == user.id)
    if "learner_key" in table.c and keys:
        parts.append(table.c.learner_key.in_(keys))
    if "learner_hash" in table.c and hashes:
        parts.append(table.c.learner_hash.in_(hashes))
    return sa.or_(*parts) if parts else None


def jsonable(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def export_tables(prefix: str, user, keys: list[str], hashes: list[str], subject_columns=("user_id",),
                  skip_columns=("password_hash", "token_hash", "secret_salt")) -> dict:
    """``{table: [row, ...]}`` of the user's own rows in every table starting with ``prefix``."""
    out = {}
    for table in tables(prefix):
        clause = subject_clause(table, user, keys, hashes, subject_columns)
        if clause is None:
            continue
        rows = db.session.execute(sa.select(table).where(clause)).mappings().all()
        if rows:
            out[table.name] = [{k: jsonable(v) for k, v in row.items() if k not in skip_columns} for row in rows]
    return out


def erase_tables(prefix: str, user, keys: list[str], hashes: list[str], report, subject_columns=("user_id",),
                 keep: dict[str, object] | None = None) -> None:
    """Delete the user's own rows (children first) and null the user in actor columns.

    ``keep``: ``{table name: clause}`` of the user's rows a retention rule keeps (the provider
    reports them)."""
    keep = keep or {}
    for table in reversed(tables(prefix)):
        clause = subject_clause(table, user, keys, hashes, subject_columns)
        if clause is not None:
            if table.name in keep:
                clause = sa.and_(clause, sa.not_(keep[table.name]))
            n = db.session.execute(sa.delete(table).where(clause)).rowcount
            if n:
                report.removed[table.name] = report.removed.get(table.name, 0) + n
        for col in user_fk_columns(table):
            if col.name in subject_columns or not col.nullable:
                continue
            n = db.session.execute(sa.update(table).where(col == user.id).values({col.name: None})).rowcount
            if n:
                report.anonymised[table.name] = report.anonymised.get(table.name, 0) + n


def learner_keys(user) -> tuple[list[str], list[str]]:
    """The user's learner keys and their hashes (see :mod:`lms.records.identity`)."""
    from lms.records.identity import key_hash, keys_of_user

    keys = keys_of_user(user)
    return keys, [key_hash(k) for k in keys]
