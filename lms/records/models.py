"""Tables of the learning-record layer."""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import GUID, JSONType, UTCDateTime, db, utcnow


class LearnerIdentity(db.Model):
    """An xAPI identity (learner key) that stands for a platform user.

    Platform accounts (``account`` on the platform's home page, by uuid) need no row. Every other
    form -- an e-mail's ``mbox`` and its two ``mbox_sha1sum`` forms, a mobile's ``tel:`` mbox, an
    account on another system -- reaches a user only through a row here, written when the user
    verified the address or when the identity was linked.
    """

    __tablename__ = "records_identities"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-1 (hex) of ``learner_key``: the unique, indexed lookup key.
    key_hash: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: The normalised learner key (see :func:`lms.records.identity.learner_key`).
    learner_key: Mapped[str] = mapped_column(sa.Text())
    #: The user it stands for.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: How it was linked: ``verified_email``, ``verified_mobile``, ``admin_csv``, ``learner_code``, ``admin``.
    source: Mapped[str] = mapped_column(sa.String(20))
    #: Who linked it (administrator), if anyone.
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When linked.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatementFact(db.Model):
    """What one stored statement says about learning, written in the statement's transaction.

    The only reduction of statements to facts in the platform: study time, completions, scores and
    provenance are read from these rows by every plugin and report.
    """

    __tablename__ = "records_statement_facts"
    __table_args__ = (
        sa.Index("ix_records_facts_learner", "learner_hash", "occurred_at"),
        sa.Index("ix_records_facts_registration", "registration"),
        sa.Index("ix_records_facts_object", "object_hash", "verb"),
    )

    #: The statement id (one fact row per stored statement).
    statement_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), sa.ForeignKey("xapi_statements.id", ondelete="CASCADE"), primary_key=True)
    #: SHA-1 of the actor's learner key (``None`` for an anonymous group).
    learner_hash: Mapped[str | None] = mapped_column(sa.String(40))
    #: The actor's normalised learner key.
    learner_key: Mapped[str | None] = mapped_column(sa.Text())
    #: The verb IRI.
    verb: Mapped[str] = mapped_column(sa.Text())
    #: The object's activity IRI (``None`` for other objects).
    object_iri: Mapped[str | None] = mapped_column(sa.Text())
    #: SHA-1 of ``object_iri``.
    object_hash: Mapped[str | None] = mapped_column(sa.String(40))
    #: ``definition.type`` of the object, when the statement gave one.
    activity_type: Mapped[str | None] = mapped_column(sa.Text())
    #: ``context.registration``.
    registration: Mapped[uuid.UUID | None] = mapped_column(GUID())
    #: The study session the statement belongs to (cmi5 ``sessionid`` or the launch), if any.
    session: Mapped[str | None] = mapped_column(sa.String(100))
    #: ``result.score`` normalised to 0..1 (scaled, else from raw/min/max).
    score: Mapped[float | None] = mapped_column(sa.Float())
    #: ``result.success``.
    success: Mapped[bool | None] = mapped_column()
    #: ``result.completion`` (or implied by the verb completed / passed).
    completion: Mapped[bool | None] = mapped_column()
    #: ``result.duration`` in seconds, capped per statement by the policy and, for launched content,
    #: by the session time the server observed.
    duration: Mapped[float] = mapped_column(sa.Float(), default=0.0)
    #: How the duration counts as study time: ``increment``, ``total``, ``session`` or ``none``.
    time_class: Mapped[str] = mapped_column(sa.String(10), default="none")
    #: The statement's timestamp (UTC).
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: Provenance: ``platform``, ``launch``, ``system`` or ``device``.
    source_kind: Mapped[str] = mapped_column(sa.String(10))
    #: Provenance: the trust-policy key (``platform``, ``launch``, ``device``, ``system:<level>``).
    source_policy: Mapped[str] = mapped_column(sa.String(30))
    #: Provenance: the LRS client that stored it (launch, system, device).
    source_client_id: Mapped[int | None] = mapped_column(sa.Integer())
    #: Provenance: the source's name as shown to users.
    source_label: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Voided later: left out of every fact.
    voided: Mapped[bool] = mapped_column(default=False)


class PolicySetting(db.Model):
    """One setting of the learning-record policy (caps of study time, the trust policy), as data
    that system administrators edit. Missing rows take the defaults of :mod:`lms.records.trust`."""

    __tablename__ = "records_policy"

    #: Setting name, e.g. ``study_time.max_statement_seconds`` or ``trust.system:standard.exam_result``.
    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    #: The value as JSON text (a number or a boolean).
    value: Mapped[str] = mapped_column(sa.Text())
    #: Last changed by.
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Last changed.
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdentityLinkCode(db.Model):
    """A one-time code a learner uses to link a foreign account to their own (shown on the other
    system, or issued by the platform for a foreign account with evidence)."""

    __tablename__ = "records_link_codes"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 (hex) of the code; the code itself is shown once.
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The learner key the code links.
    learner_key: Mapped[str] = mapped_column(sa.Text())
    #: Who issued it.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When issued.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: After this it is refused.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: When used (a code links once).
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Who used it.
    used_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class IdentityLinkLog(db.Model):
    """Every link or unlink of an identity, and how much evidence moved with it (audit)."""

    __tablename__ = "records_link_log"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The learner key.
    learner_key: Mapped[str] = mapped_column(sa.Text())
    #: The user it was linked to.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: ``link`` or ``unlink``.
    action: Mapped[str] = mapped_column(sa.String(10))
    #: How (see :attr:`LearnerIdentity.source`).
    source: Mapped[str] = mapped_column(sa.String(20))
    #: Statements of that key at the time (the evidence that moved).
    statements: Mapped[int] = mapped_column(default=0)
    #: Who did it.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RecordShare(db.Model):
    """A link a worker made to share (a selection of) their record as a signed CLR 2.0 credential.

    Only the SHA-256 of the link's secret token is kept. The credential is frozen when the link is
    made, so the reader sees exactly what was shared and signed.
    """

    __tablename__ = "records_shares"
    __table_args__ = (sa.UniqueConstraint("user_id", "request_key", name="uq_records_shares_request"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public identifier (the CLR credential's id).
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: The worker whose record is shared.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 (hex) of the secret token in the link.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The form's one-time key: a form submitted twice (or twenty times at once) makes one link.
    request_key: Mapped[str] = mapped_column(sa.String(64))
    #: What the worker called it (who it is for).
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Keys of the record entries shared (empty: the whole record).
    selection: Mapped[list] = mapped_column(JSONType, default=list)
    #: The signed ClrCredential, frozen at creation.
    credential: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: When it was made.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the link stops working.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: When the worker revoked it, if they did.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RecordShareView(db.Model):
    """One opening of a shared record link (the worker sees who looked, roughly, and when)."""

    __tablename__ = "records_share_views"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The link opened.
    share_id: Mapped[int] = mapped_column(sa.ForeignKey("records_shares.id", ondelete="CASCADE"), index=True)
    #: When.
    viewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What was served: ``page``, ``credential`` (the JSON) or ``refused`` (expired or revoked).
    outcome: Mapped[str] = mapped_column(sa.String(20))
    #: The reader's browser (truncated), for the worker's information.
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
