"""Account operations. They take the acting user explicitly, only flush, and never commit."""
from __future__ import annotations

import datetime as dt
import logging
import re
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lms.accounts import idcard
from lms.accounts.models import ApiToken, LoginFailure, User
from lms.accounts.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from lms.core.db import db, utcnow
from lms.core.extension_points import user_registered

log = logging.getLogger("lms.accounts")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


class AccountError(ValueError):
    """A rule of the accounts domain was broken; ``field`` names the form field at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def normalise_login(login: str) -> tuple[str | None, str | None]:
    """Split a login into (email, mobile); raises AccountError when it is neither."""
    login = (login or "").strip()
    if "@" in login:
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(login, check_deliverability=False).normalized.lower(), None
        except EmailNotValidError:
            raise AccountError(_l("Enter a valid email address or an 11-digit mobile number."), "login") from None
    mobile = re.sub(r"[\s-]", "", login)
    if mobile.startswith("+86"):
        mobile = mobile[3:]
    if MOBILE_RE.match(mobile):
        return None, mobile
    raise AccountError(_l("Enter a valid email address or an 11-digit mobile number."), "login")


def find_user(login: str) -> User | None:
    try:
        email, mobile = normalise_login(login)
    except AccountError:
        return None
    col, value = (User.email, email) if email else (User.mobile, mobile)
    return db.session.scalars(sa.select(User).where(col == value)).first()


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_LENGTH:
        raise AccountError(_l("The password must have at least %(n)d characters.", n=MIN_LENGTH), "password")
    if password.isdigit() or password.isalpha():
        raise AccountError(_l("The password must mix letters with digits or symbols."), "password")


def register_user(login: str, password: str, real_name: str = "", *, id_card_number: str | None = None,
                  is_system_admin: bool = False, locale: str = "") -> User:
    """Create an account with an email or mobile login."""
    email, mobile = normalise_login(login)
    if find_user(login) is not None:
        raise AccountError(_l("An account with this login already exists."), "login")
    check_password_strength(password)
    if id_card_number:
        id_card_number = idcard.normalise(id_card_number)
        if not idcard.is_valid(id_card_number):
            raise AccountError(_l("This is not a valid ID card number."), "id_card_number")
    user = User(email=email, mobile=mobile, password_hash=hash_password(password),
                real_name=(real_name or "").strip(), id_card_number=id_card_number or None,
                is_system_admin=is_system_admin, locale=locale)
    db.session.add(user)
    db.session.flush()
    user_registered.send(user)
    log.info("account registered", extra={"event": "user_registered", "user_id": user.id})
    return user


def update_profile(user: User, *, real_name: str, id_card_number: str | None, locale: str = "") -> None:
    if id_card_number:
        id_card_number = idcard.normalise(id_card_number)
        if not idcard.is_valid(id_card_number):
            raise AccountError(_l("This is not a valid ID card number."), "id_card_number")
    user.real_name = (real_name or "").strip()
    user.id_card_number = id_card_number or None
    user.locale = locale or ""
    db.session.flush()


# --- login throttling ------------------------------------------------------------------------

def _throttle_keys(login: str, remote_addr: str | None) -> list[str]:
    keys = ["acct:" + (login or "").strip().lower()[:250]]
    if remote_addr:
        keys.append("addr:" + remote_addr)
    return keys


def is_locked(login: str, remote_addr: str | None) -> bool:
    now = utcnow()
    rows = db.session.scalars(sa.select(LoginFailure).where(
        LoginFailure.key.in_(_throttle_keys(login, remote_addr)))).all()
    return any(r.locked_until and r.locked_until > now for r in rows)


def _record_failure(login: str, remote_addr: str | None) -> None:
    cfg = current_app.config
    now = utcnow()
    window = dt.timedelta(seconds=cfg["LMS_LOGIN_LOCKOUT_SECONDS"])
    for key in _throttle_keys(login, remote_addr):
        limit = cfg["LMS_LOGIN_MAX_FAILURES"] * (4 if key.startswith("addr:") else 1)
        row = db.session.get(LoginFailure, key)
        if row is None:
            row = LoginFailure(key=key, count=0, first_at=now)
            db.session.add(row)
        if now - row.first_at > window:
            row.count, row.first_at, row.locked_until = 0, now, None
        row.count += 1
        if row.count >= limit:
            row.locked_until = now + window
    db.session.flush()


def authenticate(login: str, password: str, remote_addr: str | None = None) -> User:
    """Check a login and password; raises AccountError. Failures count towards a lockout."""
    if is_locked(login, remote_addr):
        raise AccountError(_l("Too many failed attempts. Please wait 15 minutes or reset your password."))
    user = find_user(login)
    if user is None:
        verify_password(DUMMY_HASH, password or "")
        _record_failure(login, remote_addr)
        raise AccountError(_l("Wrong login or password."))
    if not verify_password(user.password_hash, password or ""):
        _record_failure(login, remote_addr)
        raise AccountError(_l("Wrong login or password."))
    if not user.is_active:
        raise AccountError(_l("This account has been deactivated."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == _throttle_keys(login, None)[0]))
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def change_password(user: User, old_password: str | None, new_password: str) -> None:
    """Change the password (``old_password`` None when coming from a reset link)."""
    if old_password is not None and not verify_password(user.password_hash, old_password):
        raise AccountError(_l("The current password is wrong."), "old_password")
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version += 1  # log out other sessions
    db.session.flush()


def allow_reset_mail(remote_addr: str | None) -> bool:
    """Count a password-reset request from ``remote_addr``; False once the hourly limit is used up."""
    now = utcnow()
    key = "reset:" + (remote_addr or "unknown")
    row = db.session.get(LoginFailure, key)
    if row is None:
        row = LoginFailure(key=key, count=0, first_at=now)
        db.session.add(row)
    if now - row.first_at > dt.timedelta(hours=1):
        row.count, row.first_at = 0, now
    row.count += 1
    db.session.flush()
    return row.count <= current_app.config["LMS_RESET_MAX_PER_HOUR"]


# --- password reset tokens -------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # The password hash's tail is part of the token, so a token dies once the password changes.
    return _reset_serializer().dumps({"u": user.id, "h": user.password_hash[-16:]})


def user_from_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["LMS_PASSWORD_RESET_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or user.password_hash[-16:] != data.get("h"):
        return None
    return user


# --- API tokens --------------------------------------------------------------------------------

def create_api_token(user: User, name: str, expires_days: int | None = None) -> tuple[ApiToken, str]:
    """A new personal API token; returns the row and the token text (shown once)."""
    if not (name or "").strip():
        raise AccountError(_l("Give the token a name."), "name")
    token = "lms_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip()[:100], token_hash=ApiToken.hash(token), prefix=token[:10],
                   expires_at=utcnow() + dt.timedelta(days=expires_days) if expires_days else None)
    db.session.add(row)
    db.session.flush()
    return row, token


def revoke_api_token(user: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise AccountError(_l("No such token."))
    row.revoked_at = utcnow()
    db.session.flush()
