"""Forwarding statements to other LRSs (an outbox per destination).

Destinations come from the setting ``LMS_XAPI_FORWARD``, a JSON list of::

    {"name": "province", "endpoint": "https://lrs.example.org/xapi/", "username": "key",
     "password": "secret", "version": "1.0.3",
     "filter": {"verbs": ["http://adlnet.gov/expapi/verbs/completed"],
                "activity_prefixes": ["https://lms.example.org/courses/"]}}

How a statement travels:

1. When the LRS stores statements, :func:`enqueue` adds one :class:`ForwardingDelivery` row per
   (statement, matching destination) with the same database session, so the rows commit or roll
   back with the statements themselves (a transactional outbox).
2. After the commit, the ``statement_stored`` signal kicks the Celery task
   ``lms.xapi.forward_deliver``; a beat entry runs the same task every
   ``LMS_XAPI_FORWARD_INTERVAL`` seconds and picks up anything due or left behind.
3. :func:`deliver` claims due rows in small batches (a lease, so two workers never send the same
   row at once and a crashed worker's rows come back), PUTs each statement by its id (so a retry
   never duplicates it on the remote), deletes the row on success and otherwise records the
   reason on that row alone: a permanent 4xx makes it a dead letter at once; a transient failure
   backs off exponentially with jitter and becomes a dead letter after
   ``LMS_XAPI_FORWARD_MAX_ATTEMPTS`` attempts. While a destination is unreachable, or refuses our
   credentials (401, 403), its health row pauses it (with backoff) instead of burning the
   attempts of every queued row.
4. Administrators see each destination's health, backlog and dead letters, and resend them
   (:mod:`lms.xapi.admin_views`, ``flask --app lms lrs forward status|retry``).

Deliberate choices:

* **Version.** Each statement goes out under the version it was stored with when the remote
  speaks it: a delivery run reads the remote's ``about`` once (:func:`choose_version`). A
  statement stored under 2.0.0 sent to a 1.0.x-only remote goes out as 1.0.3 (most 2.0.0
  statements are valid 1.0.3 ones); one the remote refuses (e.g. it uses ``contextAgents``)
  becomes a dead letter whose reason says so. A 1.0.x statement to a 2.0.0-only remote goes
  out as 2.0.0. When ``about`` cannot be read, the destination's configured ``version`` is used.
* **Attachments.** A statement whose attachment contents are stored here is sent as
  ``multipart/mixed`` with those parts (Communication 1.5.2), like a client would; one whose
  attachments are all ``fileUrl`` references goes as JSON.
* **Health.** Each outcome keeps the time it happened, so a batch that delivers some statements
  and then fails records a success *before* the failure; a destination whose last attempt failed
  reads ``failing`` (or ``refused`` after a 401/403) until a later success, never ``ok``.
* **Counting.** ``delivered_total`` is raised by one ``UPDATE ... SET delivered_total =
  delivered_total + n`` counting only the rows this run still held and deleted, so overlapping
  runs neither lose counts nor count a statement twice.
* **Leases.** A batch is leased for ``LMS_XAPI_FORWARD_LEASE`` seconds (at least the longest one
  statement can take: four timeouts), renewed while it is being sent; a worker that dies
  without warning (SIGKILL, power loss) holds its rows for at most that long. A run stopped by an
  exception, ``SystemExit`` or ``KeyboardInterrupt`` (a worker's shutdown) releases its unsent
  rows at once.

Why not the tincan client as is: see :class:`ForwardingClient`.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import random
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column
from tincan.http_request import HTTPRequest
from tincan.lrs_response import LRSResponse
from tincan.remote_lrs import RemoteLRS

from lms.core.db import GUID, UTCDateTime, db, utcnow

log = logging.getLogger(__name__)

#: Settings of the forwarder, with their defaults (each may be overridden in the config or env).
SETTINGS = {
    #: JSON list of destinations (see the module docstring); empty: no forwarding.
    "LMS_XAPI_FORWARD": "[]",
    #: A row becomes a dead letter after this many failed attempts.
    "LMS_XAPI_FORWARD_MAX_ATTEMPTS": 10,
    #: First retry delay in seconds; doubles with each attempt (with jitter).
    "LMS_XAPI_FORWARD_BACKOFF_BASE": 30.0,
    #: Longest delay between two attempts of one row, in seconds.
    "LMS_XAPI_FORWARD_BACKOFF_MAX": 6 * 3600.0,
    #: Longest pause of an unreachable destination, in seconds.
    "LMS_XAPI_FORWARD_PAUSE_MAX": 600.0,
    #: Rows claimed and sent per batch.
    "LMS_XAPI_FORWARD_BATCH": 50,
    #: Socket timeout of one HTTP request, in seconds.
    "LMS_XAPI_FORWARD_TIMEOUT": 10.0,
    #: One delivery task stops starting new batches after this many seconds.
    "LMS_XAPI_FORWARD_TASK_SECONDS": 50.0,
    #: Interval of the periodic delivery task, in seconds.
    "LMS_XAPI_FORWARD_INTERVAL": 60.0,
    #: Lease of a claimed batch, in seconds (at least 4 timeouts); renewed while the batch is
    #: sent, so a crashed worker's statements are due again at most this long after it died.
    "LMS_XAPI_FORWARD_LEASE": 60.0,
}

PENDING = "pending"
DEAD = "dead"
STATES = (PENDING, DEAD)

#: Statuses after which the same request may succeed later. Any other 4xx is permanent.
TRANSIENT_STATUSES = frozenset({404, 408, 425, 429})
#: Failures that say nothing about the statement, only about the destination (unreachable,
#: credentials refused): they pause the destination and do not count as an attempt of the row.
DESTINATION_STATUSES = frozenset({401, 403})
#: The remote refused our credentials (401) or their scope (403): the destination's state reads
#: ``refused`` until a statement gets through, and nothing is spent meanwhile.
REFUSED_STATUSES = frozenset({401, 403})


# --- Models ----------------------------------------------------------------------------------


class ForwardingDelivery(db.Model):
    """One statement still to be delivered to one destination (or given up on: a dead letter).

    Rows are deleted once delivered, so the table holds only the backlog and the dead letters.
    """

    __tablename__ = "xapi_forward_deliveries"

    #: Primary key.
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    #: Name of the destination in ``LMS_XAPI_FORWARD``.
    destination: Mapped[str] = mapped_column(sa.String(100))
    #: Id of the statement to deliver.
    statement_id: Mapped[uuid.UUID] = mapped_column(GUID())
    #: ``pending`` (waiting or being sent) or ``dead`` (given up; resend by hand).
    state: Mapped[str] = mapped_column(sa.String(10), default=PENDING)
    #: Failed attempts so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not sent before this time (backoff); also the end of a worker's lease while it is sent.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Token of the delivery run that holds the row's lease, if any.
    claim: Mapped[str | None] = mapped_column(sa.String(32))
    #: When the row was queued.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When it was last tried.
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: HTTP status of the last attempt (none when the destination could not be reached).
    last_status: Mapped[int | None] = mapped_column()
    #: Why the last attempt failed (for a dead letter: why it was given up).
    last_error: Mapped[str] = mapped_column(sa.Text(), default="")

    __table_args__ = (
        sa.UniqueConstraint("destination", "statement_id"),
        sa.CheckConstraint(f"state IN {STATES!r}", name="state"),
        sa.Index("ix_xapi_forward_deliveries_due", "destination", "state", "next_attempt_at"),
    )


class ForwardingDestination(db.Model):
    """Health of one destination, kept across deliveries (created on first use)."""

    __tablename__ = "xapi_forward_destinations"

    #: Name of the destination in ``LMS_XAPI_FORWARD``.
    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    #: Last statement delivered.
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Last failed attempt.
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: What went wrong last time.
    last_error: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Failures in a row (reset by a success); sets the length of the pause.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    #: While in the future, nothing is sent to this destination.
    paused_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Statements delivered since the destination was first used.
    delivered_total: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    #: HTTP status of the last failure (none when the remote could not be reached).
    last_failure_status: Mapped[int | None] = mapped_column()


# --- Configuration ---------------------------------------------------------------------------


class ForwardingConfigError(ValueError):
    """``LMS_XAPI_FORWARD`` is not a valid list of destinations."""


@dataclass(frozen=True)
class Destination:
    """A remote LRS that receives copies of the statements matching its filter."""

    name: str
    endpoint: str
    username: str = ""
    password: str = field(default="", repr=False)
    version: str = "1.0.3"
    verbs: frozenset[str] = frozenset()
    activity_prefixes: tuple[str, ...] = ()

    def accepts(self, statement: dict) -> bool:
        """Whether ``statement`` passes the filter (no filter: every statement).

        ``verbs``: the statement's verb id is one of them. ``activity_prefixes``: the statement's
        object is an activity whose id starts with one of them. Both must hold when both are given.
        """
        if self.verbs and (statement.get("verb") or {}).get("id") not in self.verbs:
            return False
        if self.activity_prefixes:
            obj = statement.get("object") or {}
            if obj.get("objectType", "Activity") != "Activity":
                return False
            if not str(obj.get("id", "")).startswith(self.activity_prefixes):
                return False
        return True


def setting(name: str, app=None):
    """A forwarding setting, converted to the type of its default."""
    app = app or current_app
    default = SETTINGS[name]
    value = app.config.get(name, default)
    if value is None or value == "":
        return default
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


_parsed_cache: dict[str, tuple[Destination, ...]] = {}


def parse_destinations(raw) -> tuple[Destination, ...]:
    """Read ``LMS_XAPI_FORWARD`` (a JSON string or an already-decoded list)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except ValueError as exc:
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD is not valid JSON: {exc}") from None
    if not isinstance(raw, list):
        raise ForwardingConfigError("LMS_XAPI_FORWARD must be a JSON list of destinations")
    result, names = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD[{i}] must be an object")
        unknown = set(item) - {"name", "endpoint", "username", "password", "version", "filter"}
        if unknown:
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD[{i}]: unknown keys {sorted(unknown)}")
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 100 or "/" in name:
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD[{i}]: 'name' is required (at most 100 characters, no '/')")
        if name in names:
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD: the name {name!r} is used twice")
        names.add(name)
        endpoint = str(item.get("endpoint") or "")
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD[{i}]: 'endpoint' must be an http(s) URL")
        version = str(item.get("version") or "1.0.3")
        if version not in ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"):
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD[{i}]: unsupported version {version!r}")
        flt = item.get("filter") or {}
        if not isinstance(flt, dict) or set(flt) - {"verbs", "activity_prefixes"}:
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD[{i}]: 'filter' takes 'verbs' and 'activity_prefixes'")
        verbs = flt.get("verbs") or []
        prefixes = flt.get("activity_prefixes") or []
        if not all(isinstance(v, str) for v in verbs) or not all(isinstance(p, str) for p in prefixes):
            raise ForwardingConfigError(f"LMS_XAPI_FORWARD[{i}]: filter values must be lists of strings")
        result.append(Destination(name=name, endpoint=endpoint if endpoint.endswith("/") else endpoint + "/",
                                  username=str(item.get("username") or ""), password=str(item.get("password") or ""),
                                  version=version, verbs=frozenset(verbs), activity_prefixes=tuple(prefixes)))
    return tuple(result)


def destinations(app=None) -> tuple[Destination, ...]:
    """The configured destinations (parsed once per distinct setting value)."""
    raw = setting("LMS_XAPI_FORWARD", app)
    key = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True)
    if key not in _parsed_cache:
        _parsed_cache[key] = parse_destinations(raw)
    return _parsed_cache[key]


def destination(name: str) -> Destination | None:
    return next((d for d in destinations() if d.name == name), None)


# --- Backoff ---------------------------------------------------------------------------------


def backoff_delay(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failure: ``base * 2**(attempts-1)``, at most
    ``cap``, with "equal jitter" (a random point in the upper half), so that rows that failed
    together do not all come back at the same moment, and no retry comes sooner than half the
    nominal delay."""
    nominal = min(cap, base * (2 ** max(attempts - 1, 0)))
    rng = rng or random
    return nominal / 2 + rng.uniform(0, nominal / 2)


# --- Writing the outbox (same transaction as the statements) --------------------------------


def enqueue(statements: Iterable[dict], session=None) -> int:
    """Queue every statement (dicts with ``id``) for every destination whose filter accepts it.

    Runs in the caller's transaction (``session`` or ``db.session``): nothing is committed here,
    so the rows exist exactly when the statements do. Returns the number of rows added.
    """
    dests = destinations()
    if not dests:
        return 0
    now = utcnow()
    rows = []
    for st in statements:
        sid = st.get("id")
        if not sid:
            continue
        for dest in dests:
            if dest.accepts(st):
                rows.append({"destination": dest.name, "statement_id": uuid.UUID(str(sid)), "state": PENDING,
                             "attempts": 0, "next_attempt_at": now, "created_at": now, "last_error": ""})
    if rows:
        session = session if session is not None else db.session
        # Core insert: usable from inside a flush event as well as from ordinary code.
        session.connection().execute(sa.insert(ForwardingDelivery.__table__), rows)
    return len(rows)


# --- The HTTP client -------------------------------------------------------------------------


class ForwardingClient(RemoteLRS):
    """tincan's ``RemoteLRS``, adapted for an unattended forwarder.

    tincan 1.0.0 quirks, and what this class does about them:

    * ``RemoteLRS._send_request`` opens a new connection without a timeout for every request, so
      a remote that accepts the connection and never answers would hang a worker forever.
      :meth:`_send_request` is overridden: one keep-alive connection per batch, with a timeout.
    * ``save_statement`` re-serialises the statement through tincan's ``Statement`` class, which
      knows only 1.0.x properties (it would drop or reject 2.0.0 ``contextAgents``) and would
      change what we stored. :meth:`put_statement` PUTs the stored JSON as is, by id.
    * ``about()`` parses the answer with tincan's ``About``, which raises on a version list that
      contains "2.0.0" (as ours does). :meth:`remote_versions` parses the JSON itself.
    * ``save_state`` sends its PUT twice and ``retrieve_state`` reports a 404 as a success; the
      forwarder sends statements only and never calls them.
    * The ``version`` setter refuses "2.0.0"; for a 2.0.0 destination the header is set directly.
    * tincan objects refuse attributes they do not list in ``_props``; ours are listed below.
    """

    _props = [*RemoteLRS._props, "timeout", "conn", "split"]

    def __init__(self, dest: Destination, timeout: float = 10.0):
        super().__init__(endpoint=dest.endpoint, username=dest.username or None, password=dest.password or None)
        if dest.version in self._tincan_versions():
            self.version = dest.version
        else:  # "2.0.0": tincan's setter only knows 1.0.x
            self._version = dest.version
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._split = urlsplit(self.endpoint)

    @staticmethod
    def _tincan_versions():
        from tincan.version import Version

        return Version.supported

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._split.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._split.hostname, self._split.port, timeout=self._timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _send_request(self, request: HTTPRequest) -> LRSResponse:
        # A request may name its own version (per statement); otherwise the destination's.
        headers = {"X-Experience-API-Version": self.version}
        if self.auth is not None:
            headers["Authorization"] = self.auth
        headers.update(request.headers or {})
        path = self._split.path + request.resource
        if request.query_params:
            path += "?" + urlencode({k: str(v) for k, v in request.query_params.items()})
        body = request.content
        if isinstance(body, str):
            body = body.encode("utf-8")
        for retry in (True, False):
            conn = self._connection()
            try:
                conn.request(request.method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server closed meanwhile: reconnect once.
                self.close()
                if not retry:
                    raise
            except BaseException:
                self.close()
                raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return LRSResponse(success=200 <= response.status < 300, request=request, response=response, data=data)

    def put_statement(self, statement_id: str, body: bytes, content_type: str = "application/json",
                      version: str | None = None) -> LRSResponse:
        """PUT one statement by id (idempotent: a retry cannot create a second copy), as JSON or
        as multipart/mixed with its attachments, under ``version`` (default: the destination's)."""
        headers = {"Content-Type": content_type}
        if version:
            headers["X-Experience-API-Version"] = version
        request = HTTPRequest(method="PUT", resource="statements", query_params={"statementId": statement_id},
                              headers=headers)
        request.content = body
        return self._send_request(request)

    def get_statement_json(self, statement_id: str, version: str | None = None) -> dict | None:
        """The remote's statement with this id, or ``None`` when it has none or will not say."""
        request = HTTPRequest(method="GET", resource="statements", query_params={"statementId": statement_id},
                              headers={"X-Experience-API-Version": version} if version else {})
        response = self._send_request(request)
        if response.response.status != 200:
            return None
        try:
            return json.loads(response.data)
        except ValueError:
            return None

    def remote_versions(self) -> list[str]:
        """The versions the remote's ``about`` resource lists (without tincan's ``About``)."""
        response = self._send_request(HTTPRequest(method="GET", resource="about", headers={}, query_params={}))
        if response.response.status != 200:
            raise ForwardingError(f"about: HTTP {response.response.status}", status=response.response.status)
        return list(json.loads(response.data).get("version") or [])


class ForwardingError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def outgoing_body(statement: dict) -> bytes:
    """The JSON sent for a stored statement: as stored, without the properties the receiving
    LRS sets itself (``stored``, and ``version``, which a 1.0.x destination would refuse for a
    2.0.0 statement). ``authority`` stays, so the remote can tell where it came from."""
    out = {k: v for k, v in statement.items() if k not in ("stored", "version")}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def outgoing_request(statement: dict) -> tuple[bytes, str]:
    """Body and Content-Type of the PUT for a stored statement: JSON, or -- when contents of its
    attachments are stored here -- multipart/mixed with the JSON first and each content after it
    (Communication 1.5.2), so the remote gets what a client would have sent it."""
    from lms.xapi import attachments

    body = outgoing_body(statement)
    wanted = [str(a["sha2"]).lower() for a in statement.get("attachments") or ()
              if isinstance(a, dict) and a.get("sha2")]
    if not wanted or not attachments.load(wanted):
        return body, "application/json"
    return attachments.multipart_body(body, [statement])


def statement_family(statement: dict) -> str:
    """``"2.0.0"`` for a statement stored under 2.0.0, else ``"1.0.3"`` (any 1.0.x)."""
    return "2.0.0" if str(statement.get("version") or "1.0.0").startswith("2") else "1.0.3"


def choose_version(statement: dict, remote_versions: list[str] | None, configured: str) -> str:
    """The ``X-Experience-API-Version`` to send ``statement`` with (see the module docstring).

    ``remote_versions``: what the remote's ``about`` lists, or ``None`` when it could not be read
    (then ``configured``, the destination's setting, is used)."""
    if not remote_versions:
        return configured
    speaks_2 = any(v.startswith("2.") for v in remote_versions)
    speaks_1 = sorted((v for v in remote_versions if v.startswith("1.0.")), key=_version_key)
    if statement_family(statement) == "2.0.0":
        return "2.0.0" if speaks_2 or not speaks_1 else ("1.0.3" if "1.0.3" in speaks_1 else speaks_1[-1])
    if speaks_1:
        return "1.0.3" if "1.0.3" in speaks_1 else speaks_1[-1]
    return "2.0.0" if speaks_2 else configured


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


# --- Delivering ------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one call of :func:`deliver` did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    skipped_destinations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"delivered": self.delivered, "retried": self.retried, "dead": self.dead,
                "skipped_destinations": list(self.skipped_destinations)}


def _health(name: str) -> ForwardingDestination:
    """The health row of ``name``, created if missing (insert-or-ignore, safe under concurrency)."""
    row = db.session.get(ForwardingDestination, name)
    if row is None:
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - only PostgreSQL and SQLite are supported
            insert = sa.insert
        db.session.execute(insert(ForwardingDestination).values(
            name=name, last_error="", consecutive_failures=0, delivered_total=0).on_conflict_do_nothing())
        row = db.session.get(ForwardingDestination, name)
    return row


def _claim(dest: Destination, batch: int, lease_seconds: float) -> tuple[str, list[tuple[int, str]]]:
    """Take the lease of up to ``batch`` due rows of ``dest`` and commit it.

    Returns the lease token and ``[(row id, statement id)]`` in queue order."""
    now = utcnow()
    F = ForwardingDelivery
    due = db.session.scalars(
        sa.select(F.id).where(F.destination == dest.name, F.state == PENDING, F.next_attempt_at <= now)
        .order_by(F.next_attempt_at, F.id).limit(batch)).all()
    token = uuid.uuid4().hex
    if not due:
        db.session.commit()
        return token, []
    # The WHERE is checked again under the row lock: a row another worker leased meanwhile has a
    # later next_attempt_at and is left alone.
    db.session.execute(
        sa.update(F).where(F.id.in_(due), F.state == PENDING, F.next_attempt_at <= now)
        .values(claim=token, next_attempt_at=now + dt.timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False))
    db.session.commit()
    claimed = db.session.execute(sa.select(F.id, F.statement_id).where(F.claim == token)
                                 .order_by(F.next_attempt_at, F.id)).all()
    order = {rid: i for i, rid in enumerate(due)}
    return token, sorted(((rid, str(sid)) for rid, sid in claimed), key=lambda r: order.get(r[0], 0))


def _renew(token: str, row_ids: list[int], lease_seconds: float) -> set[int]:
    """Extend the lease of the rows ``row_ids`` this run still holds; returns those it holds."""
    F = ForwardingDelivery
    db.session.execute(sa.update(F).where(F.id.in_(row_ids or [-1]), F.claim == token)
                       .values(next_attempt_at=utcnow() + dt.timedelta(seconds=lease_seconds))
                       .execution_options(synchronize_session=False))
    held = set(db.session.scalars(sa.select(F.id).where(F.id.in_(row_ids or [-1]), F.claim == token)))
    db.session.commit()
    return held


def lease_seconds(timeout: float | None = None) -> tuple[float, float]:
    """(lease of a batch, longest time one statement may take) in seconds.

    One statement takes at most four timeouts: its PUT and, after a 409, a GET, each retried once
    on a dropped keep-alive connection. The lease is never shorter than that and a quarter."""
    timeout = setting("LMS_XAPI_FORWARD_TIMEOUT") if timeout is None else timeout
    one = 4 * timeout
    return max(setting("LMS_XAPI_FORWARD_LEASE"), 1.25 * one), one


def _load_statements(ids: list[str]) -> dict[str, dict]:
    from lms.xapi import store

    return {str(s.id): s.full for s in store.load_statements(ids)}


@dataclass
class _Outcome:
    kind: str  # "delivered", "dead", "retry", "pause"
    status: int | None = None
    error: str = ""
    #: When it happened (a batch's success and its later failure keep their order).
    at: dt.datetime = field(default_factory=utcnow)


def _excerpt(data) -> str:
    text = data if isinstance(data, str) else (data or b"").decode("utf-8", "replace")
    return " ".join(text.split())[:300]


def _send_one(client: ForwardingClient, statement_id: str, statement: dict,
              remote_versions: list[str] | None = None, request: tuple[bytes, str] | None = None) -> _Outcome:
    version = choose_version(statement, remote_versions, client.version)
    body, content_type = request if request is not None else outgoing_request(statement)
    try:
        response = client.put_statement(statement_id, body, content_type, version)
    except (socket.timeout, TimeoutError) as exc:
        return _Outcome("retry", None, f"timeout: {exc or 'no answer'}")
    except (OSError, http.client.HTTPException) as exc:
        return _Outcome("pause", None, f"unreachable: {type(exc).__name__}: {exc}")
    status = response.response.status
    if 200 <= status < 300:
        return _Outcome("delivered", status)
    message = f"HTTP {status}: {_excerpt(response.data)}"
    if status == 409:
        # The remote already holds a statement with this id. A compliant LRS answers 409 (or 204)
        # for a repeat of what it already has, e.g. when our earlier PUT succeeded but its answer
        # was lost. Look: the same statement means delivered; a different one is a dead letter.
        try:
            remote = client.get_statement_json(statement_id, version)
        except (OSError, http.client.HTTPException):
            remote = None
        if remote is not None and not _same_statement(remote, statement):
            return _Outcome("dead", status, "the remote holds a different statement with this id (409)")
        return _Outcome("delivered", status, "the remote already had it (409)")
    if status in REFUSED_STATUSES:
        what = "credentials" if status == 401 else "credentials' scope (statements/write needed)"
        return _Outcome("pause", status, f"credentials refused: the remote refused our {what}; {message}")
    if status in DESTINATION_STATUSES:
        return _Outcome("pause", status, message)
    if status >= 500 or status in TRANSIENT_STATUSES:
        return _Outcome("retry", status, message)
    if version != statement_family(statement):
        message = (f"stored under xAPI {statement_family(statement)}, sent as {version} (the remote does not "
                   f"speak {statement_family(statement)}): {message}")
    return _Outcome("dead", status, message)


def _same_statement(a: dict, b: dict) -> bool:
    def key(s):
        obj = s.get("object") or {}
        return ((s.get("verb") or {}).get("id"), obj.get("objectType", "Activity"), obj.get("id"),
                json.dumps(s.get("actor"), sort_keys=True))

    return key(a) == key(b)


def _pause(health: ForwardingDestination, failure: _Outcome) -> None:
    health.consecutive_failures = (health.consecutive_failures or 0) + 1
    health.last_failure_at = failure.at
    health.last_failure_status = failure.status
    health.last_error = failure.error
    delay = backoff_delay(health.consecutive_failures, setting("LMS_XAPI_FORWARD_BACKOFF_BASE"),
                          setting("LMS_XAPI_FORWARD_PAUSE_MAX"))
    health.paused_until = failure.at + dt.timedelta(seconds=delay)


def _remote_versions(client: ForwardingClient) -> list[str] | None:
    """What the remote's ``about`` lists, or ``None`` when it cannot be read (see choose_version)."""
    try:
        versions = client.remote_versions()
    except (ForwardingError, OSError, http.client.HTTPException, ValueError, AttributeError):
        return None
    return [v for v in versions if isinstance(v, str)] or None


def _deliver_batch(dest: Destination, client: ForwardingClient, report: DeliveryReport,
                   deadline: float | None = None, remote_versions: list[str] | None = None) -> bool:
    """Send one batch of ``dest``; False when there was nothing to send or the batch stopped.

    Past ``deadline`` (``time.monotonic()``) no further row is sent; the rest is released, as it
    is when the run is interrupted by any exception (a worker shutting down included)."""
    batch = setting("LMS_XAPI_FORWARD_BATCH")
    lease, one = lease_seconds()
    token, claimed = _claim(dest, batch, lease_seconds=lease)
    if not claimed:
        return False
    renewed_at = time.monotonic()
    statements = _load_statements([sid for _rid, sid in claimed])
    requests = {sid: outgoing_request(st) for sid, st in statements.items()}
    db.session.commit()  # no transaction stays open while we talk to the remote
    outcomes: dict[int, _Outcome] = {}
    stopped = False
    try:
        for rid, sid in claimed:
            if deadline is not None and time.monotonic() > deadline:
                stopped = True
                break
            if time.monotonic() - renewed_at > (lease - one) / 2:
                # Keep the lease of the whole batch (sent rows are recorded at its end) ahead of
                # the slowest possible next statement; a row another run took meanwhile (our
                # lease ran out) is no longer ours to send.
                held = _renew(token, [r for r, _s in claimed], lease)
                renewed_at = time.monotonic()
                if rid not in held:
                    stopped = True
                    break
            statement = statements.get(sid)
            if statement is None:
                outcomes[rid] = _Outcome("dead", None, "the statement is not in the store")
                continue
            outcome = _send_one(client, sid, statement, remote_versions, requests.get(sid))
            outcomes[rid] = outcome
            if outcome.kind in ("retry", "pause"):
                # The remote is in trouble: stop this batch (the rest is released untouched) and
                # pause the destination; the failed row moves back in the queue, so a statement that
                # always fails cannot hold up the others.
                stopped = True
                break
    except BaseException:
        # Interrupted (an error, or the worker shutting down): record what was sent and release
        # the rest now rather than after the lease.
        db.session.rollback()
        try:
            _record_outcomes(dest, token, claimed, outcomes, report)
        except Exception:  # pragma: no cover - the lease brings the rows back anyway
            db.session.rollback()
            log.exception("xAPI forwarding to %s: could not release an interrupted batch", dest.name)
        raise
    _record_outcomes(dest, token, claimed, outcomes, report)
    return not stopped


def _record_outcomes(dest: Destination, token: str, claimed, outcomes: dict[int, _Outcome],
                     report: DeliveryReport) -> None:
    """Write what happened to one batch (a few statements, whatever the batch size) and commit.

    Only rows this run still holds (``claim == token``) are changed or counted: a row whose lease
    ran out and that another run took is that run's to record."""
    F = ForwardingDelivery
    D = ForwardingDestination
    now = utcnow()
    max_attempts = setting("LMS_XAPI_FORWARD_MAX_ATTEMPTS")
    base, cap = setting("LMS_XAPI_FORWARD_BACKOFF_BASE"), setting("LMS_XAPI_FORWARD_BACKOFF_MAX")
    health = _health(dest.name)
    delivered = [rid for rid, o in outcomes.items() if o.kind == "delivered"]
    released = [rid for rid, _sid in claimed if rid not in outcomes]
    if delivered:
        count = db.session.execute(sa.delete(F).where(F.id.in_(delivered), F.claim == token)
                                   .execution_options(synchronize_session=False)).rowcount
        if count:
            # One UPDATE in the database, not a read then a write: overlapping runs add up.
            db.session.execute(sa.update(D).where(D.name == dest.name)
                               .values(delivered_total=D.delivered_total + count)
                               .execution_options(synchronize_session=False))
            db.session.refresh(health, ["delivered_total"])
        health.last_success_at = max(o.at for rid, o in outcomes.items() if o.kind == "delivered")
        report.delivered += count
    if released:
        # Not tried (the batch stopped): back in the queue as they were, no attempt counted.
        db.session.execute(sa.update(F).where(F.id.in_(released), F.claim == token)
                           .values(claim=None, next_attempt_at=now).execution_options(synchronize_session=False))
    failed = {rid: o for rid, o in outcomes.items() if o.kind != "delivered"}
    for row in db.session.scalars(sa.select(F).where(F.id.in_(list(failed) or [-1]), F.claim == token)):
        outcome = failed[row.id]
        row.claim = None
        row.last_attempt_at, row.last_status, row.last_error = outcome.at, outcome.status, outcome.error
        if outcome.kind == "pause":
            # The destination failed, not the statement: no attempt counted, due again at once
            # (the destination's pause decides when).
            row.next_attempt_at = now
        elif outcome.kind == "dead":
            row.state, row.attempts = DEAD, row.attempts + 1
            report.dead += 1
            log.warning("xAPI forwarding to %s: statement %s is a dead letter: %s", dest.name, row.statement_id,
                        outcome.error)
        else:
            row.attempts += 1
            if row.attempts >= max_attempts:
                row.state = DEAD
                row.last_error = f"gave up after {row.attempts} attempts; last error: {outcome.error}"
                report.dead += 1
            else:
                row.next_attempt_at = now + dt.timedelta(seconds=backoff_delay(row.attempts, base, cap))
                report.retried += 1
    failure = next((o for o in outcomes.values() if o.kind in ("retry", "pause")), None)
    if failure is not None:
        _pause(health, failure)
    elif delivered:
        health.consecutive_failures, health.paused_until = 0, None
    dead = [o for o in outcomes.values() if o.kind == "dead"]
    if dead and failure is None:
        health.last_failure_at, health.last_error = dead[-1].at, dead[-1].error
        health.last_failure_status = dead[-1].status
    db.session.commit()


def deliver(only: str | None = None, *, ignore_pause: bool = False, time_budget: float | None = None) -> DeliveryReport:
    """Send what is due, destination by destination, in batches, and commit after each batch.

    ``only`` limits the run to one destination; ``ignore_pause`` sends even to a paused one
    (an administrator's "retry now"); ``time_budget`` (seconds) bounds the run.
    """
    report = DeliveryReport()
    budget = setting("LMS_XAPI_FORWARD_TASK_SECONDS") if time_budget is None else time_budget
    started = time.monotonic()
    for dest in destinations():
        if only is not None and dest.name != only:
            continue
        health = db.session.get(ForwardingDestination, dest.name)
        if not ignore_pause and health is not None and health.paused_until and health.paused_until > utcnow():
            report.skipped_destinations.append(dest.name)
            continue
        if not _has_due(dest):
            continue
        client = ForwardingClient(dest, timeout=setting("LMS_XAPI_FORWARD_TIMEOUT"))
        try:
            versions = _remote_versions(client)  # once per run and destination (choose_version)
            while time.monotonic() - started < budget:
                if not _deliver_batch(dest, client, report, deadline=started + budget, remote_versions=versions):
                    break
        finally:
            client.close()
    db.session.commit()
    return report


def _has_due(dest: Destination) -> bool:
    F = ForwardingDelivery
    return db.session.scalar(sa.select(F.id).where(F.destination == dest.name, F.state == PENDING,
                                                   F.next_attempt_at <= utcnow()).limit(1)) is not None


# --- Operations for administrators ------------------------------------------------------------


def check_destination(dest: Destination) -> tuple[bool, str]:
    """Ask the destination's ``about`` resource which versions it speaks (no statement is sent).

    Returns ``(ok, message)``: ok when it answers and lists a version we can send (1.0.x or 2.0.0;
    each statement goes out under its own version where the remote speaks it, see choose_version)."""
    client = ForwardingClient(dest, timeout=setting("LMS_XAPI_FORWARD_TIMEOUT"))
    try:
        versions = client.remote_versions()
    except ForwardingError as exc:
        return False, str(exc)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return False, f"unreachable: {type(exc).__name__}: {exc}"
    finally:
        client.close()
    if not any(str(v).startswith(("1.0.", "2.0.")) for v in versions):
        return False, f"the remote speaks {', '.join(map(str, versions)) or 'no version'}, not 1.0.x or 2.0.0"
    return True, f"the remote speaks {', '.join(versions)}"



@dataclass
class DestinationStatus:
    """What the admin page and ``lrs forward status`` show for one destination."""

    destination: Destination
    backlog: int
    due: int
    dead: int
    oldest_pending_at: dt.datetime | None
    health: ForwardingDestination | None

    @property
    def paused(self) -> bool:
        """Nothing is sent before ``health.paused_until`` (in the future)."""
        h = self.health
        return bool(h is not None and h.paused_until and h.paused_until > utcnow())

    @property
    def state(self) -> str:
        """``unused``; ``refused`` (the remote refused our credentials or their scope: 401/403,
        paused until someone fixes them or the pause ends); ``paused`` (unreachable or failing:
        nothing is sent until the pause ends); ``failing`` (the last attempt failed and none has
        succeeded since, pause over); ``ok``."""
        h = self.health
        if h is None or (h.last_success_at is None and h.last_failure_at is None):
            return "unused"
        failing = bool(h.consecutive_failures) or bool(
            h.last_failure_at and (h.last_success_at is None or h.last_failure_at > h.last_success_at))
        if failing and h.consecutive_failures and h.last_failure_status in REFUSED_STATUSES:
            return "refused"
        if self.paused:
            return "paused"
        return "failing" if failing else "ok"


def status(name: str | None = None) -> list[DestinationStatus]:
    """Backlog, dead letters and health of every configured destination (or of one)."""
    now = utcnow()
    F = ForwardingDelivery
    counts = {}
    for dest_name, state, n, due, oldest in db.session.execute(
            sa.select(F.destination, F.state, sa.func.count(),
                      sa.func.sum(sa.case((F.next_attempt_at <= now, 1), else_=0)), sa.func.min(F.created_at))
            .group_by(F.destination, F.state)):
        counts[(dest_name, state)] = (n, int(due or 0), oldest)
    result = []
    for dest in destinations():
        if name is not None and dest.name != name:
            continue
        pending = counts.get((dest.name, PENDING), (0, 0, None))
        dead = counts.get((dest.name, DEAD), (0, 0, None))
        oldest = pending[2]
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.timezone.utc)
        result.append(DestinationStatus(dest, pending[0], pending[1], dead[0], oldest,
                                        db.session.get(ForwardingDestination, dest.name)))
    return result


def dead_letters(name: str, *, limit: int = 50, offset: int = 0) -> list[ForwardingDelivery]:
    return list(db.session.scalars(
        sa.select(ForwardingDelivery).where(ForwardingDelivery.destination == name, ForwardingDelivery.state == DEAD)
        .order_by(ForwardingDelivery.last_attempt_at.desc(), ForwardingDelivery.id.desc()).limit(limit).offset(offset)))


def resend(name: str, delivery_ids: list[int] | None = None) -> int:
    """Queue dead letters of destination ``name`` again (all, or those with ``delivery_ids``),
    with their attempts reset, and lift the destination's pause. Flush only. Returns the count."""
    stmt = (sa.update(ForwardingDelivery)
            .where(ForwardingDelivery.destination == name, ForwardingDelivery.state == DEAD)
            .values(state=PENDING, attempts=0, next_attempt_at=utcnow(), claim=None)
            .execution_options(synchronize_session=False))
    if delivery_ids is not None:
        stmt = stmt.where(ForwardingDelivery.id.in_(delivery_ids or [-1]))
    count = db.session.execute(stmt).rowcount
    health = db.session.get(ForwardingDestination, name)
    if health is not None:
        health.paused_until = None
    db.session.flush()
    return count


def retry_now(name: str | None = None) -> int:
    """Make every pending row (of ``name``, or of all destinations) due now and lift pauses."""
    stmt = (sa.update(ForwardingDelivery).where(ForwardingDelivery.state == PENDING, ForwardingDelivery.claim.is_(None))
            .values(next_attempt_at=utcnow()).execution_options(synchronize_session=False))
    if name is not None:
        stmt = stmt.where(ForwardingDelivery.destination == name)
    count = db.session.execute(stmt).rowcount
    q = sa.update(ForwardingDestination).values(paused_until=None).execution_options(synchronize_session=False)
    if name is not None:
        q = q.where(ForwardingDestination.name == name)
    db.session.execute(q)
    db.session.flush()
    return count
