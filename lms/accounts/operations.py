"""Account operations. They take the acting user explicitly, only flush, and never commit."""
from __future__ import annotations
from lms.core.exceptions import DomainError

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import unicodedata

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lms.accounts import idcard
from lms.accounts.models import ID_CARD_STATUSES, ApiToken, LoginFailure, SmsCode, User
from lms.accounts.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from lms.core.db import db, utcnow
from lms.core.events import send_after_commit
from lms.core.extension_points import account_verified, user_registered

log = logging.getLogger("lms.accounts")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


class AccountError(DomainError, ValueError):
    """A rule of the accounts domain was broken; ``field`` names the form field at fault."""

    def __init__(self, message, field: str | None = None, *, status: int | None = None, code: str | None = None):
        super().__init__(message, field, status=status, code=code)


class AccountPermissionError(AccountError):
    """The acting user may not do this (views answer 403)."""

    status = 403
    code = "forbidden"


def normalise_login(login: str) -> tuple[str | None, str | None]:
    """Split a login into (email, mobile); raises AccountError when it is neither.

    Full-width characters (``ｄ``, ``１３８``) are read as their ASCII forms (NFKC), so every
    spelling of one login is the same login, for finding the account and for its lockout.
    """
    login = unicodedata.normalize("NFKC", login or "").strip()
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
                  is_system_admin: bool = False, locale: str = "", consent_version: str | None = None) -> User:
    """Create an account with an email or mobile login.

    The login is not verified: the account claims no stored evidence until its owner proves the
    address (:func:`verify_email`, :func:`verify_mobile`). ``consent_version`` records that the
    person accepted that version of the user agreement and privacy notice.
    """
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
                is_system_admin=is_system_admin, locale=locale,
                consent_version=consent_version, consent_at=utcnow() if consent_version else None)
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
    if (id_card_number or None) != user.id_card_number:
        # A new number has not been checked by anyone.
        user.id_card_status, user.id_card_checked_by_id, user.id_card_checked_at = "unverified", None, None
    user.id_card_number = id_card_number or None
    user.locale = locale or ""
    db.session.flush()


# --- consent ---------------------------------------------------------------------------------

def current_policy_version() -> str:
    return str(current_app.config["LMS_POLICY_VERSION"])


def needs_consent(user: User) -> bool:
    """Whether ``user`` has not accepted the current user agreement and privacy notice."""
    return user.consent_version != current_policy_version()


def record_consent(user: User) -> None:
    """``user`` accepts the current version of the user agreement and privacy notice."""
    user.consent_version = current_policy_version()
    user.consent_at = utcnow()
    db.session.flush()


# --- real-name status ------------------------------------------------------------------------

def may_check_id_card(actor, user: User) -> bool:
    """System administrators, and institution administrators of an organisation ``user`` belongs
    to, may mark the real-name status; nobody marks their own."""
    if not getattr(actor, "is_authenticated", False) or actor.id == user.id:
        return False
    return actor.is_system_admin or bool(actor.organisation_ids("institution_admin") & user.organisation_ids())


def set_id_card_status(actor: User, user: User, status: str) -> None:
    """Mark the real-name check of ``user``'s ID card number."""
    if not may_check_id_card(actor, user):
        raise AccountPermissionError(_l("You may not check this person's real name."))
    if status not in ID_CARD_STATUSES:
        raise AccountError(_l("Unknown status."), "status")
    if status != "unverified" and not user.id_card_number:
        raise AccountError(_l("This person has not entered an ID card number."), "status")
    user.id_card_status = status
    user.id_card_checked_by_id = actor.id
    user.id_card_checked_at = utcnow()
    db.session.flush()
    log.info("id card status marked", extra={"event": "id_card_status", "user_id": user.id,
                                             "actor_id": actor.id, "status": status})


# --- login throttling ------------------------------------------------------------------------

def _throttle_keys(login: str, remote_addr: str | None) -> list[str]:
    """The lockout counters a login attempt counts against: the account, by its normalised login
    (so ``+86 138-0013-8000`` and ``13800138000`` share one), and the client address."""
    try:
        email, mobile = normalise_login(login)
        account = email or mobile
    except AccountError:
        account = unicodedata.normalize("NFKC", login or "").strip().lower()
    keys = ["acct:" + account[:250]]
    if remote_addr:
        keys.append("addr:" + remote_addr)
    return keys


def is_locked(login: str, remote_addr: str | None) -> bool:
    now = utcnow()
    rows = db.session.scalars(sa.select(LoginFailure).where(
        LoginFailure.key.in_(_throttle_keys(login, remote_addr)))).all()
    return any(r.locked_until and r.locked_until > now for r in rows)


def count_attempt(key: str, limit: int, window: dt.timedelta) -> int:
    """Add one to the counter ``key`` atomically (parallel requests each count; no duplicate-key
    error) and lock it for ``window`` once it reaches ``limit``; returns the new count."""
    now = utcnow()
    table = LoginFailure.__table__
    db.session.execute(sa.update(table).where(table.c.key == key, table.c.first_at < now - window)
                       .values(count=0, first_at=now, locked_until=None))
    bumped = db.session.execute(sa.update(table).where(table.c.key == key).values(count=table.c.count + 1))
    if not bumped.rowcount:
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(table).values(key=key, count=1, first_at=now))
        except sa.exc.IntegrityError:
            db.session.execute(sa.update(table).where(table.c.key == key).values(count=table.c.count + 1))
    db.session.execute(sa.update(table).where(table.c.key == key, table.c.count >= limit)
                       .values(locked_until=now + window))
    return int(db.session.scalar(sa.select(table.c.count).where(table.c.key == key)) or 0)


def _reserve_attempts(login: str, remote_addr: str | None) -> bool:
    """Count this attempt before the password is checked, so that parallel guesses cannot all pass
    the lockout check first: False when any counter is over its limit (the attempt is refused)."""
    cfg = current_app.config
    window = dt.timedelta(seconds=cfg["LMS_LOGIN_LOCKOUT_SECONDS"])
    allowed = True
    for key in _throttle_keys(login, remote_addr):
        limit = cfg["LMS_LOGIN_MAX_FAILURES"] * (4 if key.startswith("addr:") else 1)
        if count_attempt(key, limit, window) > limit:
            allowed = False
    return allowed


def authenticate(login: str, password: str, remote_addr: str | None = None) -> User:
    """Check a login and password; raises AccountError. Failures count towards a lockout."""
    if is_locked(login, remote_addr) or not _reserve_attempts(login, remote_addr):
        raise AccountError(_l("Too many failed attempts. Please wait 15 minutes or reset your password."))
    user = find_user(login)
    if user is None:
        verify_password(DUMMY_HASH, password or "")
        raise AccountError(_l("Wrong login or password."))
    if not verify_password(user.password_hash, password or ""):
        raise AccountError(_l("Wrong login or password."))
    if not user.is_active:
        raise AccountError(_l("This account has been deactivated."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    keys = _throttle_keys(login, remote_addr)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key == keys[0]))
    if len(keys) > 1:  # a successful login does not count against its address
        table = LoginFailure.__table__
        db.session.execute(sa.update(table).where(table.c.key == keys[1], table.c.count > 0)
                           .values(count=table.c.count - 1))
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """End every session and remembered login of ``user`` (logout, password change): the session
    id embeds ``session_version`` (:meth:`User.get_id`), so old cookies no longer load the user."""
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()


def change_password(user: User, old_password: str | None, new_password: str) -> None:
    """Change the password (``old_password`` None when coming from a reset link)."""
    if old_password is not None and not verify_password(user.password_hash, old_password):
        raise AccountError(_l("The current password is wrong."), "old_password")
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version += 1  # log out other sessions
    db.session.flush()


def _count_hourly(key: str, limit: int) -> bool:
    """Count one event for ``key`` in its hourly window (atomically); False once ``limit`` is used up."""
    return count_attempt(key, limit + 1, dt.timedelta(hours=1)) <= limit


def allow_reset_mail(remote_addr: str | None) -> bool:
    """Count a password-reset request from ``remote_addr``; False once the hourly limit is used up."""
    return _count_hourly("reset:" + (remote_addr or "unknown"), current_app.config["LMS_RESET_MAX_PER_HOUR"])


# --- password reset tokens -------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user: User) -> str:
    """A keyed digest of the password hash: it changes with the password (so a reset token dies
    then), and reveals nothing of the hash to whoever reads the token."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, b"reset\x1f" + user.password_hash.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"u": user.id, "h": _password_fingerprint(user)})


def user_from_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["LMS_PASSWORD_RESET_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or not hmac.compare_digest(_password_fingerprint(user), str(data.get("h") or "")):
        return None
    return user


# --- e-mail verification ----------------------------------------------------------------------

def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-verification")


def make_email_token(user: User) -> str:
    """A signed link token for ``user``'s current address: a changed address kills it."""
    return _email_serializer().dumps({"u": user.id, "e": user.email})


def user_from_email_token(token: str) -> User | None:
    """The user a valid, unexpired token was made for, while their address is still the same."""
    try:
        data = _email_serializer().loads(token, max_age=current_app.config["LMS_EMAIL_VERIFY_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.email or user.email != data.get("e"):
        return None
    return user


def allow_verification_mail(user: User) -> bool:
    """Count one verification mail for ``user``; False once the hourly limit is used up."""
    return _count_hourly(f"verify-mail:{user.id}", current_app.config["LMS_VERIFY_MAIL_MAX_PER_HOUR"])


def verify_email(actor: User, token: str) -> bool:
    """``actor`` proves they receive mail at their address; True when this verified it (False when
    it already was). The token must be ``actor``'s own: a link mailed to someone else's inbox for
    an account they do not hold verifies nothing."""
    user = user_from_email_token(token)
    if user is None:
        raise AccountError(_l("This verification link is invalid or has expired."))
    if user.id != actor.id:
        raise AccountPermissionError(_l("This verification link belongs to another account."))
    return _mark_verified(user, "email", user.email)


def _mark_verified(user: User, channel: str, address: str) -> bool:
    """Set the verification time once (a conditional UPDATE: parallel requests verify once) and
    announce it after commit."""
    column = User.email_verified_at if channel == "email" else User.mobile_verified_at
    address_column = User.email if channel == "email" else User.mobile
    result = db.session.execute(sa.update(User).where(User.id == user.id, address_column == address,
                                                      column.is_(None)).values({column: utcnow()}))
    if result.rowcount != 1:
        db.session.refresh(user)
        return False
    db.session.flush()
    db.session.refresh(user)
    send_after_commit(account_verified, user, channel=channel, address=address)
    log.info("account verified", extra={"event": "account_verified", "user_id": user.id, "channel": channel})
    return True


# --- SMS codes -------------------------------------------------------------------------------

SMS_PURPOSES = ("verify", "reset")


def _code_hash(purpose: str, mobile: str, code: str) -> str:
    # Keyed: six digits are too few to keep secret behind a plain hash.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sms-code:{purpose}:{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def normalise_mobile(mobile: str) -> str:
    """An 11-digit mainland number, or AccountError."""
    email, number = normalise_login(mobile)
    if email or not number:
        raise AccountError(_l("Enter an 11-digit mobile number."), "mobile")
    return number


def issue_sms_code(purpose: str, mobile: str, user: User | None, remote_addr: str | None) -> str:
    """A new code for ``mobile`` (returned, to be sent after commit). Counts towards the hourly
    limits per number and per client address, whether or not ``user`` exists."""
    cfg = current_app.config
    if purpose not in SMS_PURPOSES:
        raise ValueError(purpose)
    by_number = _count_hourly(f"sms-num:{mobile}", cfg["LMS_SMS_MAX_PER_NUMBER_PER_HOUR"])
    by_addr = _count_hourly(f"sms-addr:{remote_addr or 'unknown'}", cfg["LMS_SMS_MAX_PER_ADDRESS_PER_HOUR"])
    if not (by_number and by_addr):
        raise AccountError(_l("Too many codes were requested. Please wait an hour and try again."))
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    db.session.add(SmsCode(purpose=purpose, mobile=mobile, user_id=user.id if user else None,
                           code_hash=_code_hash(purpose, mobile, code), created_at=now,
                           expires_at=now + dt.timedelta(seconds=cfg["LMS_SMS_CODE_MAX_AGE"]), attempts=0))
    db.session.flush()
    return code


def _use_sms_code(purpose: str, mobile: str, code: str) -> SmsCode:
    """Check ``code`` against the newest code sent to ``mobile`` for ``purpose`` and use it up.

    Every try counts (an atomic increment, so parallel guesses cannot pass the limit); the caller
    commits on error too, so wrong tries stay counted.
    """
    wrong = AccountError(_l("The code is wrong or has expired."), "code")
    row = db.session.scalars(sa.select(SmsCode).where(SmsCode.purpose == purpose, SmsCode.mobile == mobile)
                             .order_by(SmsCode.id.desc()).limit(1)).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise wrong
    counted = db.session.execute(sa.update(SmsCode).where(
        SmsCode.id == row.id, SmsCode.attempts < current_app.config["LMS_SMS_CODE_MAX_ATTEMPTS"],
        SmsCode.used_at.is_(None)).values(attempts=SmsCode.attempts + 1)).rowcount
    if counted != 1:
        raise AccountError(_l("Too many wrong codes. Please ask for a new code."), "code")
    if not hmac.compare_digest(row.code_hash, _code_hash(purpose, mobile, (code or "").strip())):
        raise wrong
    used = db.session.execute(sa.update(SmsCode).where(SmsCode.id == row.id, SmsCode.used_at.is_(None))
                              .values(used_at=utcnow())).rowcount
    if used != 1:
        raise wrong
    db.session.flush()
    return row


def request_mobile_verification(user: User, remote_addr: str | None) -> str:
    """A code to prove ``user``'s mobile number (returned, to be sent after commit)."""
    if not user.mobile:
        raise AccountError(_l("This account has no mobile number."))
    if user.mobile_verified_at is not None:
        raise AccountError(_l("Your mobile number is already verified."))
    return issue_sms_code("verify", user.mobile, user, remote_addr)


def verify_mobile(user: User, code: str) -> bool:
    """``user`` proves they receive SMS at their number; True when this verified it."""
    if not user.mobile:
        raise AccountError(_l("This account has no mobile number."))
    row = _use_sms_code("verify", user.mobile, code)
    if row.user_id != user.id:
        raise AccountError(_l("The code is wrong or has expired."), "code")
    return _mark_verified(user, "mobile", user.mobile)


def request_sms_reset(mobile: str, remote_addr: str | None) -> tuple[str, str] | None:
    """Ask for a password-reset code; returns ``(mobile, code)`` to send after commit, or None
    when no account has this number. The limits count either way, so the answer is the same."""
    mobile = normalise_mobile(mobile)
    user = db.session.scalars(sa.select(User).where(User.mobile == mobile)).first()
    if user is not None and not user.is_active:
        user = None
    code = issue_sms_code("reset", mobile, user, remote_addr)
    return (mobile, code) if user is not None else None


def reset_password_by_sms(mobile: str, code: str, new_password: str) -> User:
    """Set a new password with a reset code. The code also proves the number."""
    mobile = normalise_mobile(mobile)
    check_password_strength(new_password)  # before the code is used up
    row = _use_sms_code("reset", mobile, code)
    user = db.session.get(User, row.user_id) if row.user_id else None
    if user is None or user.mobile != mobile or not user.is_active:
        raise AccountError(_l("The code is wrong or has expired."), "code")
    change_password(user, None, new_password)
    _mark_verified(user, "mobile", mobile)
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
