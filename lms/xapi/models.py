"""Tables of the LRS.

A statement is kept exactly as stored (``full``, with ``stored``, ``authority`` and ``version``
set by the LRS) plus the columns and link tables every query filter needs, so a query never
reads the JSON of statements it does not return:

* ``xapi_statements``: one row per statement; indexed on ``(stored, pk)`` (the paging order) and
  on ``(verb, stored, pk)``, ``(registration, stored, pk)``, ``(actor, stored, pk)`` and
  ``(authority, stored, pk)``;
* ``xapi_statement_agents`` / ``xapi_statement_activities``: the agents and activities a statement
  names, ``direct`` for the ``agent`` / ``activity`` filters (actor or object) and not direct for
  the ``related_agents`` / ``related_activities`` ones; each repeats ``stored`` so a filter is one
  ordered index range scan;
* shared rows: ``xapi_agents`` (one per inverse functional identifier), ``xapi_verbs``,
  ``xapi_activities`` (with the canonical definition), keyed by the SHA-1 of the identifier so
  long IRIs never hit index size limits; written with insert-on-conflict in a fixed order;
* ``xapi_documents`` (state, activity profile, agent profile), ``xapi_attachments`` (once per
  SHA-2), ``xapi_clients`` (HTTP Basic credentials with scopes).
"""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import GUID, JSONType, UTCDateTime, db, utcnow

#: A 64-bit key that is still SQLite's rowid alias (autoincrement) there.
BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Agent(db.Model):
    """An agent or identified group, one row per inverse functional identifier (IFI)."""

    __tablename__ = "xapi_agents"

    #: Primary key.
    pk: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-1 (hex) of ``ifi``: the unique key used for lookups and insert-on-conflict.
    ifi_hash: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: The IFI in one string: ``mbox:mailto:..``, ``mbox_sha1sum:..``, ``openid:..``, ``account:<homePage> <name>``.
    ifi: Mapped[str] = mapped_column(sa.Text())
    #: ``Agent`` or ``Group``.
    object_type: Mapped[str] = mapped_column(sa.String(10), default="Agent")
    #: The name last seen with this IFI (for the Person object of ``/xapi/agents``).
    name: Mapped[str | None] = mapped_column(sa.Text())


class Verb(db.Model):
    """A verb IRI used by some statement, with the display last seen."""

    __tablename__ = "xapi_verbs"

    #: Primary key.
    pk: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-1 (hex) of ``iri``.
    iri_hash: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: The verb's IRI.
    iri: Mapped[str] = mapped_column(sa.Text())
    #: Language map shown for the verb (the first one seen).
    display: Mapped[dict | None] = mapped_column(JSONType)


class Activity(db.Model):
    """An activity the LRS knows, with its canonical definition."""

    __tablename__ = "xapi_activities"

    #: Primary key.
    pk: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-1 (hex) of ``iri``.
    iri_hash: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: The activity id (an IRI).
    iri: Mapped[str] = mapped_column(sa.Text())
    #: Canonical definition (merged from statements of clients allowed to define activities).
    definition: Mapped[dict | None] = mapped_column(JSONType)
    #: ``definition.type``, for searches by activity type.
    activity_type: Mapped[str | None] = mapped_column(sa.Text())
    #: Lower-cased names in every language, joined by newlines, for text search.
    search_text: Mapped[str] = mapped_column(sa.Text(), default="")
    #: Last time the definition changed.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Statement(db.Model):
    """One stored statement: the JSON as stored plus the indexed columns queries filter on."""

    __tablename__ = "xapi_statements"
    __table_args__ = (
        sa.Index("ix_xapi_statements_stored_pk", "stored", "pk"),
        sa.Index("ix_xapi_statements_verb_stored", "verb_pk", "stored", "pk"),
        sa.Index("ix_xapi_statements_registration_stored", "registration", "stored", "pk"),
        sa.Index("ix_xapi_statements_actor_stored", "actor_pk", "stored", "pk"),
        sa.Index("ix_xapi_statements_authority_stored", "authority_pk", "stored", "pk"),
        # Statements that target another one (not voiding): the filters' StatementRef rule walks these.
        sa.Index("ix_xapi_statements_refs_stored", "stored", "pk",
                 postgresql_where=sa.text("target_id IS NOT NULL AND voids_id IS NULL"),
                 sqlite_where=sa.text("target_id IS NOT NULL AND voids_id IS NULL")),
    )

    #: Surrogate key: the tie-breaker of the paging order ``(stored, pk)`` and the link tables' key.
    pk: Mapped[int] = mapped_column(BigKey, primary_key=True, autoincrement=True)
    #: The statement id.
    id: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True)
    #: SHA-256 of the statement as sent (without the properties the LRS sets): same id, same hash.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    #: When the LRS stored it (millisecond precision, as in ``full["stored"]``).
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The statement's timestamp, in UTC.
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The actor (``None`` for an anonymous group).
    actor_pk: Mapped[int | None] = mapped_column(sa.ForeignKey("xapi_agents.pk"))
    #: The verb.
    verb_pk: Mapped[int] = mapped_column(sa.ForeignKey("xapi_verbs.pk"))
    #: ``Activity``, ``Agent``, ``Group``, ``StatementRef`` or ``SubStatement``.
    object_type: Mapped[str] = mapped_column(sa.String(20))
    #: The object's id: activity IRI, statement id of a StatementRef, IFI of an agent.
    object_id: Mapped[str | None] = mapped_column(sa.Text())
    #: ``context.registration``.
    registration: Mapped[uuid.UUID | None] = mapped_column(GUID())
    #: The authority (an agent row), for ``statements/read/mine``.
    authority_pk: Mapped[int | None] = mapped_column(sa.ForeignKey("xapi_agents.pk"))
    #: For an object that is a StatementRef, the id of the statement it targets.
    target_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    #: For a voiding statement, the id of the statement it voids.
    voids_id: Mapped[uuid.UUID | None] = mapped_column(GUID(), index=True)
    #: Voided by a later voiding statement: left out of queries, still readable by ``voidedStatementId``.
    voided: Mapped[bool] = mapped_column(default=False)
    #: xAPI version of the statement (``version`` property as stored).
    version: Mapped[str] = mapped_column(sa.String(10))
    #: The statement exactly as stored (what ``format=exact`` returns). Plain ``json`` on PostgreSQL,
    #: not ``jsonb``: it keeps numbers exactly as sent (jsonb would turn 7.041415092507686e+16 into
    #: an integer that no longer equals the float) and is cheaper to write.
    full: Mapped[dict] = mapped_column(sa.JSON())


class StatementAgent(db.Model):
    """An agent or group a statement names (actor, object, members, context, authority...)."""

    __tablename__ = "xapi_statement_agents"
    __table_args__ = (sa.Index("ix_xapi_statement_agents_agent_stored", "agent_pk", "stored", "statement_pk",
                               "direct"),)

    #: The statement.
    statement_pk: Mapped[int] = mapped_column(BigKey, sa.ForeignKey("xapi_statements.pk", ondelete="CASCADE"),
                                              primary_key=True)
    #: The agent.
    agent_pk: Mapped[int] = mapped_column(sa.ForeignKey("xapi_agents.pk"), primary_key=True)
    #: True for the actor or object (and their group members); false for related agents only.
    direct: Mapped[bool] = mapped_column()
    #: Copy of the statement's ``stored``, so the filter is one index range.
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class StatementActivity(db.Model):
    """An activity a statement names (object, context activities, sub-statement)."""

    __tablename__ = "xapi_statement_activities"
    __table_args__ = (sa.Index("ix_xapi_statement_activities_activity_stored", "activity_pk", "stored",
                               "statement_pk", "direct"),)

    #: The statement.
    statement_pk: Mapped[int] = mapped_column(BigKey, sa.ForeignKey("xapi_statements.pk", ondelete="CASCADE"),
                                              primary_key=True)
    #: The activity.
    activity_pk: Mapped[int] = mapped_column(sa.ForeignKey("xapi_activities.pk"), primary_key=True)
    #: True when the activity is the statement's object; false for context / sub-statement ones.
    direct: Mapped[bool] = mapped_column()
    #: Copy of the statement's ``stored``.
    stored: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Attachment(db.Model):
    """An attachment's content, stored once per SHA-2."""

    __tablename__ = "xapi_attachments"

    #: SHA-2 (hex, as in the statement's ``attachments[].sha2``).
    sha2: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    #: MIME type of the part as received.
    content_type: Mapped[str] = mapped_column(sa.String(255))
    #: Length in bytes.
    length: Mapped[int] = mapped_column(sa.BigInteger())
    #: The bytes.
    content: Mapped[bytes] = mapped_column(sa.LargeBinary())
    #: First stored.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Document(db.Model):
    """A state, activity profile or agent profile document."""

    __tablename__ = "xapi_documents"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('state', 'activity_profile', 'agent_profile')", name="kind"),
        sa.Index("ix_xapi_documents_scope", "kind", "activity_pk", "agent_pk", "updated_at"),
    )

    #: Primary key.
    pk: Mapped[int] = mapped_column(primary_key=True)
    #: ``state``, ``activity_profile`` or ``agent_profile``.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: SHA-1 of kind, activity, agent, registration and document id: the document's unique key.
    key_hash: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: The activity (state, activity profile).
    activity_pk: Mapped[int | None] = mapped_column(sa.ForeignKey("xapi_activities.pk"))
    #: The agent (state, agent profile).
    agent_pk: Mapped[int | None] = mapped_column(sa.ForeignKey("xapi_agents.pk"))
    #: The registration (state only, optional).
    registration: Mapped[uuid.UUID | None] = mapped_column(GUID())
    #: ``stateId`` or ``profileId``.
    document_id: Mapped[str] = mapped_column(sa.Text())
    #: MIME type given when stored.
    content_type: Mapped[str] = mapped_column(sa.String(255))
    #: The document's bytes.
    content: Mapped[bytes] = mapped_column(sa.LargeBinary())
    #: SHA-1 (hex) of the content; sent quoted as the ETag.
    etag: Mapped[str] = mapped_column(sa.String(40))
    #: Last change.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Client(db.Model):
    """Credentials of an LRS client: a key and a secret for HTTP Basic, with scopes.

    The secret is a random token shown once; only ``HMAC-SHA256(salt, secret)`` is kept, checked
    with a constant-time comparison (a password KDF would cost every request tens of
    milliseconds for no gain: the secret has 256 bits of entropy).
    """

    __tablename__ = "xapi_clients"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('system', 'launch')", name="kind"),
        sa.CheckConstraint("trust_level IN ('untrusted', 'standard', 'assessment')", name="trust_level"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Display name (also the authority's name).
    name: Mapped[str] = mapped_column(sa.String(200))
    #: The HTTP Basic user name.
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Random salt (hex) keying the HMAC of the secret.
    secret_salt: Mapped[str] = mapped_column(sa.String(64))
    #: ``HMAC-SHA256(salt, secret)`` (hex).
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    #: Granted scopes (``statements/write``, ``statements/read``, ``statements/read/mine``, ``state``,
    #: ``define``, ``profile``, ``all/read``, ``all``).
    scopes: Mapped[list] = mapped_column(JSONType)
    #: The authority given to statements this client writes.
    authority: Mapped[dict] = mapped_column(JSONType)
    #: Launch credential: the learner whose actor it is limited to.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Launch credential: the registration of the launch.
    registration: Mapped[uuid.UUID | None] = mapped_column(GUID())
    #: Launch credential: the launched activity.
    activity_iri: Mapped[str | None] = mapped_column(sa.Text())
    #: Revoked clients are refused.
    active: Mapped[bool] = mapped_column(default=True)
    #: When created.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: After this the credential is refused (launch credentials).
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: The administrator who created it.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Last successful authentication (updated at most once a minute).
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Last authenticated request (updated at most every ten seconds): for launched content, the
    #: session the server observed runs from ``created_at`` to this.
    last_request_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: ``system`` (a registered external system) or ``launch`` (content launched for one learner);
    #: the values of :mod:`lms.records.provenance` ``SYSTEM`` and ``LAUNCH``.
    kind: Mapped[str] = mapped_column(sa.String(10), default="system")
    #: Registered systems: ``untrusted``, ``standard`` or ``assessment`` (``lms.records.provenance.TRUST_LEVELS``),
    #: which the trust policy reads to decide which facts its statements may produce.
    trust_level: Mapped[str] = mapped_column(sa.String(20), default="standard")
    #: Registered systems: the account ``homePage`` URLs its learners' agents use (no trailing slash).
    home_pages: Mapped[list] = mapped_column(JSONType, default=list)

    @property
    def is_launch(self) -> bool:
        return self.kind == "launch"
