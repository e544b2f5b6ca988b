"""LRS client credentials: key and secret for HTTP Basic, scopes, authority, launch credentials.

Secrets are random 256-bit tokens, so they are checked with a keyed hash
(``HMAC-SHA256(salt, secret)``, compared in constant time), not with a password KDF: a KDF
would cost each request tens of milliseconds and protect nothing more. Verified credentials are
cached in-process for :data:`CACHE_SECONDS`; revoking a client clears this process's cache, other
processes drop it within that time.

Two kinds of clients (``Client.kind``): registered external systems, created by an administrator
with a trust level and the account home pages of their learners, and launch credentials, bound to
one learner, one registration and one activity tree. :func:`source_of` says which
:class:`~lms.records.provenance.Source` a client's statements come from.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from lms.core.db import db, utcnow
from lms.records.provenance import LAUNCH, SYSTEM, TRUST_LEVELS, TRUST_STANDARD, Source
from lms.xapi.errors import XAPIValidationError
from lms.xapi.identifiers import ifi_of
from lms.xapi.models import Client

__all__ = ["SCOPES", "ClientInfo", "create_client", "create_launch_credential", "update_client", "revoke_client",
           "authenticate", "lrs_endpoint", "client_authority", "source_of", "normalise_home_page"]

#: Scopes as the specification names them (Communication 4.2).
SCOPES = ("statements/write", "statements/read", "statements/read/mine", "state", "define", "profile",
          "all/read", "all")
#: Scopes of a launch credential (content launched by the courses plugin).
LAUNCH_SCOPES = ("statements/write", "statements/read/mine", "state", "profile")
CACHE_SECONDS = 30.0
#: ``last_request_at`` is written at most this often per client and process.
SEEN_SECONDS = 10.0
#: The label of launched content in provenance (the same for every course and lesson: the
#: client id and the session say which launch it was).
LAUNCH_LABEL = "launched content"
#: Seconds added to the observed session of launched content: the statements of its last
#: moments arrive with the request that ends it.
LAUNCH_SESSION_SLACK = 60


@dataclass(frozen=True)
class ClientInfo:
    """An authenticated client, as the resources need it (no ORM object: it is cached)."""

    id: int
    key: str
    name: str
    scopes: frozenset
    authority: dict
    #: For launch credentials: the only actor it may write and read state for.
    actor: dict | None = None
    registration: str | None = None
    activity_iri: str | None = None
    #: ``system`` or ``launch`` (``lms.records.provenance.SYSTEM`` / ``LAUNCH``).
    kind: str = SYSTEM
    #: Registered systems: one of ``lms.records.provenance.TRUST_LEVELS``.
    trust_level: str = TRUST_STANDARD
    #: Registered systems: the account home pages of their learners (no trailing slash).
    home_pages: tuple = ()
    #: When the client was created (for launch credentials: the launch).
    created_at: dt.datetime | None = None

    def has(self, *scopes: str) -> bool:
        """Whether any of ``scopes`` (or ``all``) is granted."""
        return "all" in self.scopes or any(s in self.scopes for s in scopes)

    @property
    def actor_ifi(self) -> str | None:
        return ifi_of(self.actor) if self.actor else None


def _hash(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def client_authority(name: str, key: str) -> dict:
    """The authority of statements written by a client: an account on the platform."""
    home = current_app.config["LMS_PUBLIC_URL"].rstrip("/")
    return {"objectType": "Agent", "name": name, "account": {"homePage": home, "name": f"lrs-client:{key}"}}


def check_trust_level(value: str) -> str:
    """``value`` if it is a trust level, else ``XAPIValidationError`` listing the levels."""
    if value not in TRUST_LEVELS:
        raise XAPIValidationError(f"unknown trust level {value!r}; use {', '.join(TRUST_LEVELS)}", path="trust_level")
    return value


def normalise_home_page(url: str) -> str:
    """An account ``homePage`` as systems are matched on: an absolute http(s) URL without a trailing
    slash. Raises ``XAPIValidationError`` with the reason for anything else."""
    text = (url or "").strip()
    if not text or len(text) > 500 or any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise XAPIValidationError(f"home page {url!r} must be one URL of at most 500 characters, without spaces",
                                  path="home_page")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.fragment or parts.query:
        raise XAPIValidationError(f"home page {url!r} must be an absolute http(s) URL such as "
                                  "https://moodle.example.com, without query or fragment", path="home_page")
    return text.rstrip("/")


def _home_pages(urls) -> list[str]:
    return list(dict.fromkeys(normalise_home_page(u) for u in urls or ()))


def create_client(name: str, scopes, *, created_by=None, expires_at: dt.datetime | None = None,
                  authority: dict | None = None, user=None, registration: str | None = None,
                  activity_iri: str | None = None, trust_level: str = TRUST_STANDARD,
                  home_pages=()) -> tuple[Client, str, str]:
    """Create a client; return it (flushed), its key and its secret (shown once, never stored).

    With ``user`` it is a launch credential (kind ``launch``), otherwise a registered system with
    ``trust_level`` and the ``home_pages`` of its learners' accounts.
    """
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise XAPIValidationError(f"unknown scope(s): {', '.join(unknown)}; use {', '.join(SCOPES)}"
                                  if unknown else "at least one scope is needed", path="scope")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise XAPIValidationError("a client needs a name (at most 200 characters)", path="name")
    check_trust_level(trust_level)
    home_pages = _home_pages(home_pages)
    key = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    client = Client(name=name, key=key, secret_salt=salt, secret_hash=_hash(salt, secret), scopes=scopes,
                    authority=authority or client_authority(name, key), user_id=getattr(user, "id", None),
                    registration=uuid.UUID(str(registration)) if registration else None,
                    activity_iri=activity_iri, expires_at=expires_at,
                    kind=LAUNCH if user is not None else SYSTEM, trust_level=trust_level, home_pages=home_pages,
                    created_by_id=getattr(created_by, "id", None), active=True, created_at=utcnow())
    db.session.add(client)
    db.session.flush()
    return client, key, secret


def create_launch_credential(user, *, registration: str, activity_iri: str,
                             ttl_seconds: int = 3600) -> tuple[str, str]:
    """Short-lived credentials for launched content: ``(key, secret)`` for HTTP Basic.

    Scopes ``statements/write``, ``statements/read/mine``, ``state`` and ``profile``, limited to
    the user's actor: statements must have that actor, documents that agent. Statements it writes
    have the user's agent as authority, so ``read/mine`` returns that learner's launched records.
    Flushes only; the caller commits.
    """
    from lms.xapi.recorder import actor_for

    actor = actor_for(user)
    client, key, secret = create_client(f"launch {user.display_name}"[:200], LAUNCH_SCOPES, user=user,
                                   registration=registration, activity_iri=activity_iri,
                                   expires_at=utcnow() + dt.timedelta(seconds=ttl_seconds), authority=actor)
    return key, secret


def update_client(client: Client, *, trust_level: str | None = None, home_pages=None) -> None:
    """Change what a registered system declares: its trust level and its learners' home pages
    (``None`` leaves a value as it is). Flushes only; this process forgets the cached client."""
    if client.kind != SYSTEM:
        raise XAPIValidationError("only registered systems have a trust level and home pages", path="kind")
    if trust_level is not None:
        client.trust_level = check_trust_level(trust_level)
    if home_pages is not None:
        client.home_pages = _home_pages(home_pages)
    _cache().pop(client.key, None)
    db.session.flush()


def source_of(client: ClientInfo, now: dt.datetime) -> Source:
    """Where the statements ``client`` sends at ``now`` come from (see :mod:`lms.records.provenance`).

    Launched content: its session is its credential, and no duration it reports counts for more
    than the time the server saw since the launch (plus :data:`LAUNCH_SESSION_SLACK`). Registered
    systems: their name and trust level.
    """
    if client.kind == LAUNCH:
        seconds = (now - client.created_at).total_seconds() + LAUNCH_SESSION_SLACK if client.created_at else None
        return Source(kind=LAUNCH, client_id=client.id, label=LAUNCH_LABEL, session=f"launch:{client.id}",
                      max_session_seconds=seconds)
    return Source(kind=SYSTEM, client_id=client.id, label=client.name, trust_level=client.trust_level)


def revoke_client(client: Client) -> None:
    """Refuse the client from now on (this process at once, others within the cache time)."""
    client.active = False
    _cache().pop(client.key, None)
    db.session.flush()


def lrs_endpoint() -> str:
    """Absolute URL of the LRS, e.g. ``http://127.0.0.1:5000/xapi/``."""
    return current_app.config["LMS_PUBLIC_URL"].rstrip("/") + "/xapi/"


# --- Authentication ----------------------------------------------------------------------------

_lock = threading.Lock()


def _cache() -> dict:
    return current_app.extensions.setdefault("xapi_client_cache", {})


def _load(key: str):
    row = db.session.scalars(sa.select(Client).where(Client.key == key)).first()
    if row is None:
        return None
    actor = None
    if row.kind == LAUNCH or row.user_id is not None:
        actor = row.authority
    info = ClientInfo(id=row.id, key=row.key, name=row.name, scopes=frozenset(row.scopes or ()),
                      authority=row.authority, actor=actor,
                      registration=str(row.registration) if row.registration else None,
                      activity_iri=row.activity_iri, kind=LAUNCH if actor is not None else SYSTEM,
                      trust_level=row.trust_level or TRUST_STANDARD, home_pages=tuple(row.home_pages or ()),
                      created_at=row.created_at)
    return info, row.secret_salt, row.secret_hash, row.active, row.expires_at


def authenticate(key: str, secret: str) -> ClientInfo | None:
    """The client with this key if the secret matches and it is active and not expired."""
    if not key or not secret or len(key) > 64 or len(secret) > 256:
        return None
    cache = _cache()
    now = time.monotonic()
    entry = cache.get(key)
    if entry is None or now - entry[0] > CACHE_SECONDS:
        loaded = _load(key)
        if loaded is None:
            return None
        entry = (now, *loaded)
        with _lock:
            if len(cache) > 10000:
                cache.clear()
            cache[key] = entry
        _touch(key)
    _at, info, salt, digest, active, expires_at = entry
    if not hmac.compare_digest(_hash(salt, secret), digest):
        return None
    if not active or (expires_at is not None and expires_at <= utcnow()):
        return None
    _seen(key, now)
    return info


def _touch(key: str) -> None:
    """Record the last use, at most once per cache period, outside the request's transaction."""
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.update(Client.__table__).where(Client.__table__.c.key == key)
                         .values(last_used_at=utcnow()))
    except sa.exc.OperationalError:  # pragma: no cover - e.g. SQLite busy; the figure is advisory
        pass


def _seen(key: str, now: float) -> None:
    """Record an authenticated request (``last_request_at``), at most every :data:`SEEN_SECONDS`
    per process, outside the request's transaction (a request that rolls back was still seen)."""
    seen = current_app.extensions.setdefault("xapi_client_seen", {})
    last = seen.get(key)
    if last is not None and now - last < SEEN_SECONDS:
        return
    with _lock:
        if len(seen) > 10000:
            seen.clear()
        seen[key] = now
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.update(Client.__table__).where(Client.__table__.c.key == key)
                         .values(last_request_at=utcnow()))
    except sa.exc.OperationalError:  # pragma: no cover - e.g. SQLite busy; the figure is advisory
        pass
