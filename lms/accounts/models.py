"""Account tables of the core: users, API tokens, login failures."""
from __future__ import annotations

import hashlib
import uuid

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts import idcard
from lms.core.db import GUID, UTCDateTime, db, utcnow


#: Values of :attr:`User.id_card_status`.
ID_CARD_STATUSES = ("unverified", "verified", "rejected")


class User(UserMixin, db.Model):
    """A person with a login: learner, teacher, mentor, administrator or supervisor."""

    __tablename__ = "users"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable public identifier, used as the xAPI account name of this user.
    uuid: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True, default=uuid.uuid4)
    #: Login email (lower-case); either this or ``mobile`` is set.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: Login mobile number (11 digits, mainland China); either this or ``email`` is set.
    mobile: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    #: Argon2id hash of the password.
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: Real name (实名), as on the ID card; used on certificates and reports.
    real_name: Mapped[str] = mapped_column(sa.String(100), default="")
    #: Optional 18-character resident ID card number; see :mod:`lms.accounts.idcard`.
    id_card_number: Mapped[str | None] = mapped_column(sa.String(18))
    #: Real-name check of the ID card number: ``unverified``, ``verified`` or ``rejected``
    #: (see :data:`ID_CARD_STATUSES`); back to ``unverified`` whenever the number changes.
    id_card_status: Mapped[str] = mapped_column(sa.String(12), default="unverified", server_default="unverified")
    #: The administrator who last marked ``id_card_status``.
    id_card_checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When ``id_card_status`` was last marked.
    id_card_checked_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: When the owner proved they receive mail at ``email`` (signed link); None: not proven.
    #: Stored evidence for the address becomes the account's only once this is set.
    email_verified_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: When the owner proved they receive SMS at ``mobile`` (code); None: not proven.
    mobile_verified_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Version of the user agreement and privacy notice last accepted (``LMS_POLICY_VERSION``).
    consent_version: Mapped[str | None] = mapped_column(sa.String(20))
    #: When that version was accepted.
    consent_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Preferred interface language (``zh_CN`` or ``en``); empty means the browser's choice.
    locale: Mapped[str] = mapped_column(sa.String(10), default="")
    #: System administrator: every permission in every organisation.
    is_system_admin: Mapped[bool] = mapped_column(default=False)
    #: Deactivated accounts cannot log in; their records are kept.
    is_active_account: Mapped[bool] = mapped_column(default=True)
    #: When the account was created.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: Last successful login.
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Bumped on password change; part of the session identity, so old sessions end.
    session_version: Mapped[int] = mapped_column(default=1)

    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan",
                               lazy="selectin")
    id_card_checked_by = relationship("User", remote_side=[id], foreign_keys=[id_card_checked_by_id])

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:  # Flask-Login: the session id changes when the password changes
        return f"{self.id}:{self.session_version}"

    @property
    def login(self) -> str:
        return self.email or self.mobile or ""

    @property
    def display_name(self) -> str:
        return self.real_name or self.login

    @property
    def id_card_masked(self) -> str:
        return idcard.mask(self.id_card_number)

    @property
    def email_verified(self) -> bool:
        return bool(self.email and self.email_verified_at)

    @property
    def mobile_verified(self) -> bool:
        return bool(self.mobile and self.mobile_verified_at)

    def roles(self, organisation_id: int | None = None) -> set[str]:
        """Roles held, in one organisation or in any."""
        return {m.role for m in self.memberships
                if organisation_id is None or m.organisation_id == organisation_id}

    def organisation_ids(self, *roles: str) -> set[int]:
        """Organisations where the user holds any of ``roles`` (any role when none given)."""
        return {m.organisation_id for m in self.memberships if not roles or m.role in roles}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login}>"


class ApiToken(db.Model):
    """A personal API token (bearer) for ``/api/v1/``. Only a hash is stored."""

    __tablename__ = "api_tokens"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Owner; the token acts with the owner's permissions.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: A name the owner chose ("mobile app", "HR sync").
    name: Mapped[str] = mapped_column(sa.String(100))
    #: SHA-256 of the token (tokens are random, so a fast hash is safe and constant time to look up).
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: First characters of the token, shown so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    #: When created.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: Last request made with it.
    last_used_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Optional expiry.
    expires_at: Mapped[object | None] = mapped_column(UTCDateTime())
    #: Set when revoked; a revoked token never works again.
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime())

    user = relationship(User)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class LoginFailure(db.Model):
    """Failed login attempts per key (an account login or a client address), for throttling."""

    __tablename__ = "login_failures"

    #: ``acct:<login>`` or ``addr:<ip>``.
    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    #: Failures since ``first_at``.
    count: Mapped[int] = mapped_column(default=0)
    #: Start of the current counting window.
    first_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: While in the future, logins for this key are refused.
    locked_until: Mapped[object | None] = mapped_column(UTCDateTime())


class SmsCode(db.Model):
    """A one-time code sent by SMS, to verify a mobile number or to reset a password.

    Only a keyed hash of the code is stored; a code dies when used, after its expiry or after
    too many wrong tries.
    """

    __tablename__ = "sms_codes"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the code is for: ``verify`` (prove the mobile number) or ``reset`` (password reset).
    purpose: Mapped[str] = mapped_column(sa.String(10))
    #: The number the code was sent to (11 digits).
    mobile: Mapped[str] = mapped_column(sa.String(20), index=True)
    #: The account the code is for; None when a reset was asked for a number without account.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: HMAC-SHA256 (keyed with the secret key) of purpose, number and code.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    #: When sent.
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    #: After this the code is refused.
    expires_at: Mapped[object] = mapped_column(UTCDateTime())
    #: Tries so far (right or wrong); at the limit the code is refused.
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the code was used; a used code never works again.
    used_at: Mapped[object | None] = mapped_column(UTCDateTime())
