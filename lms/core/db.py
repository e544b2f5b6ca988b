"""The database handle, the declarative base and column types shared by every package.

Operations only ``flush``; the request (or task, or CLI command) commits once: for requests,
:func:`init_request_boundary` commits when the view's response is a success and rolls back
otherwise; views never commit.
"""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


#: The largest row id of an ``INTEGER`` primary key: a larger id from a URL or a body cannot exist,
#: and PostgreSQL refuses to compare an ``INTEGER`` column with it (an error, not "no row").
MAX_ID = 2 ** 31 - 1


def valid_id(value) -> bool:
    """Whether ``value`` is an int that can be a row id (not a bool, 1..MAX_ID)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def contains_text(text: str, *columns):
    """A condition: any of ``columns`` contains ``text``, case-insensitively, with LIKE's ``%``
    and ``_`` taken literally (a search for ``%%%`` finds names holding ``%%%``, not everyone).
    Every search box of the platform filters through this."""
    return sa.or_(*(column.icontains(text, autoescape=True) for column in columns))


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite has no time zones; PostgreSQL stores ``timestamptz``. Both give back aware UTC values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class GUID(sa.types.TypeDecorator):
    """A UUID stored as ``uuid`` on PostgreSQL and as 36-character text elsewhere."""

    impl = sa.String(36)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=True))
        return dialect.type_descriptor(sa.String(36))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, uuid.UUID):
            value = uuid.UUID(str(value))
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value, dialect):
        if value is None or isinstance(value, uuid.UUID):
            return value
        return uuid.UUID(value)


#: JSON column: ``jsonb`` on PostgreSQL, JSON text on SQLite.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def init_sqlite_pragmas(engine) -> None:
    """Turn on WAL and foreign keys for every SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite run
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(conn, _name):
        # Python's sqlite3 module opens a transaction only before the first INSERT/UPDATE/DELETE.
        # A SAVEPOINT issued before that would open one itself, and its RELEASE would then commit
        # everything: begin the real transaction first, so a later rollback undoes it all.
        dbapi = conn.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            dbapi.execute("BEGIN IMMEDIATE")  # a SAVEPOINT is there to write: take the lock now


def init_app(app) -> None:
    db.init_app(app)
    with app.app_context():
        init_sqlite_pragmas(db.engine)

    @app.teardown_request
    def _rollback_uncommitted(exc):
        # A request that raised never commits half its work.
        if exc is not None:
            db.session.rollback()


def keep_changes_on_refusal() -> None:
    """Ask the request boundary to commit although the response refuses (4xx): what the request
    counted or logged about the refusal (failed attempts, rate limits, a refused share view) stays."""
    from flask import g

    g.lms_commit_on_refusal = True


def commit_with_retry(fn, *, retry_on: tuple, attempts: int = 2, on_exhausted=None):
    """Run ``fn()`` and commit its work; when the work or the commit raises one of ``retry_on`` (two
    writers raced on one unique key), roll back and run it again; after ``attempts`` tries raise
    ``on_exhausted()`` (or the error). For request handlers whose answer depends on winning a race
    (the LRS); everything else leaves the commit to the request boundary."""
    for attempt in range(1, attempts + 1):
        try:
            result = fn()
            db.session.commit()
            return result
        except retry_on:
            db.session.rollback()
            if attempt == attempts:
                if on_exhausted is None:
                    raise
                raise on_exhausted() from None
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def init_request_boundary(app) -> None:
    """The one commit of a request, after its view (registered last, so it runs before the other
    after-request hooks decorate the response): a response below 400 commits, a refusal rolls back
    unless the view called :func:`keep_changes_on_refusal`. A commit that hits a unique constraint
    (a concurrent duplicate) answers 409 instead of 500."""
    from flask import g
    from werkzeug.exceptions import Conflict

    @app.after_request
    def _commit_or_roll_back(response):
        if not db.session().in_transaction():
            return response
        if response.status_code >= 400 and not g.get("lms_commit_on_refusal"):
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return app.handle_http_exception(Conflict(
                "This conflicts with a request made at the same time; reload and try again."))
        return response


# --- one effect per intent -------------------------------------------------------------------


def lock_row(instance):
    """Take the write lock on ``instance``'s row and reload it, so a check made afterwards (already
    graded? already certified?) sees what a concurrent request committed and holds until commit.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the row. SQLite has no row locks: the transaction
    takes the database's single write lock (other writers wait, see ``busy_timeout``), and the
    reload then reads the latest committed state.
    Call it before changing the instance (pending changes to it are discarded by the reload).
    """
    db.session.flush()
    if begin_write():
        db.session.refresh(instance)
    else:
        db.session.refresh(instance, with_for_update=True)
    return instance


def begin_write() -> bool:
    """On SQLite, make sure the session's transaction is a write transaction (True); on other
    databases do nothing (False).

    The sqlite3 module begins a transaction only before the first INSERT/UPDATE/DELETE, so a
    transaction that has written holds the database's write lock until it ends; one that has not
    is begun here with ``BEGIN IMMEDIATE``, which waits for the lock (``busy_timeout``). This
    also keeps a SAVEPOINT inside a transaction: issued outside one, SQLite's SAVEPOINT would
    begin a transaction of its own that its RELEASE commits.
    """
    conn = db.session.connection()
    if conn.dialect.name != "sqlite":
        return False
    raw = conn.connection.dbapi_connection
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")
    return True


def insert_once(instance, find):
    """Add ``instance`` in a SAVEPOINT; when a unique constraint says a concurrent (or earlier)
    request already made the same row, undo only this insert and return ``find()`` instead.

    Returns ``(row, created)``. ``find`` is a callable returning the existing row (or ``None``,
    in which case the IntegrityError is re-raised: it was not a duplicate).
    """
    from sqlalchemy.exc import IntegrityError

    begin_write()
    savepoint = db.session.begin_nested()
    try:
        db.session.add(instance)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        existing = find()
        if existing is None:
            raise
        return existing, False
    savepoint.commit()
    return instance, True
