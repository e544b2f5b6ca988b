"""Identity links: how foreign learner keys (Moodle, Open edX, cmi5 content elsewhere) reach users.

Three ways, all ending in :func:`lms.records.identity.link` (one rule for conflicts, one log):

* :func:`import_links` -- a CSV of ``homePage,account name,login`` from an administrator; every
  line is checked first and nothing is linked when any line is wrong (:class:`LinkImportError`
  lists them by line number);
* :func:`issue_code` / :func:`redeem_code` -- a one-time code an administrator issues for a key
  and the learner enters on their account page (stored hashed, expires, used once, attempts
  limited per user);
* :func:`unmatched_learners` / :func:`link_key` -- actors with facts but no user, linked by an
  administrator from the unmatched-learners page.

Operations take the acting user and only flush; the view, task or CLI command commits.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.core.db import contains_text, db, utcnow
from lms.records.identity import (IdentityError, _home, describe_key, key_hash, learner_key, link, new_link_code,
                                  users_for_keys)

__all__ = ["LinkImportError", "CsvLineError", "ImportResult", "import_links", "may_link_user", "issue_code",
           "redeem_code", "normalise_code", "unmatched_learners", "key_for_hash", "statement_count", "link_key",
           "recent_links", "key_kind", "MAX_CSV_BYTES", "MAX_CSV_LINES"]

#: Largest CSV accepted (bytes) and most lines (the header included).
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_LINES = 20_000
#: Longest cell accepted (characters): homePage URLs and account names are short.
MAX_CELL = 500
#: Roles that may import links for the members of their own organisations.
ORG_LINK_ROLES = ("enterprise_admin", "institution_admin")
#: Days a link code stays valid.
CODE_DAYS = 7
#: Cells that a spreadsheet would run as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER = ("homepage", "account name", "login")


class LinkImportError(ValueError):
    """A CSV that cannot be imported; ``errors`` lists :class:`CsvLineError` (line 0: the file)."""

    def __init__(self, errors):
        self.errors = list(errors)
        self.message = _l("The file was not imported: %(n)d errors. Nothing was linked.", n=len(self.errors))
        super().__init__(str(self.message))


@dataclasses.dataclass(frozen=True)
class CsvLineError:
    """One error of a CSV import: the line number (1 = header; 0 = the whole file) and why."""

    line: int
    message: object


@dataclasses.dataclass
class ImportResult:
    """What an import did: keys newly linked, lines already linked that way, users concerned."""

    linked: int
    unchanged: int
    users: int


# --- Who may link whom -----------------------------------------------------------------------


def may_import(user) -> bool:
    """System administrators, and enterprise / institution administrators (for their members)."""
    from lms.core.permissions import can

    return bool(getattr(user, "is_authenticated", False)) and can(user, "records.import_links")


def may_link_user(admin, user) -> bool:
    """Whether ``admin`` may link identities to ``user``: system administrators anyone, enterprise
    and institution administrators the members of the organisations they administer."""
    if admin is None or not getattr(admin, "is_authenticated", True):
        return False
    if admin.is_system_admin:
        return True
    orgs = admin.organisation_ids(*ORG_LINK_ROLES)
    return bool(orgs and user.organisation_ids() & orgs)


# --- CSV import ------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 text (with or without BOM) or :class:`LinkImportError` naming the first bad line."""
    if len(data) > MAX_CSV_BYTES:
        raise LinkImportError([CsvLineError(0, _l("The file is larger than %(mb)d MB.", mb=MAX_CSV_BYTES // 2**20))])
    if not data.strip():
        raise LinkImportError([CsvLineError(0, _l("The file is empty."))])
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise LinkImportError([CsvLineError(line, _l("The file contains binary data; upload a CSV text file."))])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LinkImportError([CsvLineError(line, _l(
            "The file is not UTF-8 text; save it as \"CSV UTF-8\" and upload it again."))]) from None


def _rows(text: str):
    """``(line number, cells)`` of each non-empty record; :class:`LinkImportError` for a broken file."""
    lines = text.splitlines()
    if len(lines) > MAX_CSV_LINES:
        raise LinkImportError([CsvLineError(0, _l("The file has more than %(n)d lines; split it.", n=MAX_CSV_LINES))])
    for number, raw in enumerate(lines, start=1):
        if len(raw) > 3 * MAX_CELL + 10:
            yield number, None
            continue
        if not raw.strip():
            continue
        try:
            cells = next(csv.reader([raw], strict=True))
        except csv.Error:
            yield number, None
            continue
        yield number, [c.strip() for c in cells]


def _check_home_page(value: str):
    if not value:
        return _l("The homePage is empty.")
    if value.startswith(_FORMULA_START):
        return _l("The homePage starts with a formula character (= + - @).")
    if _CONTROL.search(value) or " " in value:
        return _l("The homePage contains spaces or control characters.")
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return _l("The homePage is not a web address (http:// or https://).")
    return None


def _check_name(value: str):
    if not value:
        return _l("The account name is empty.")
    if value.startswith(_FORMULA_START):
        return _l("The account name starts with a formula character (= + - @).")
    if _CONTROL.search(value):
        return _l("The account name contains control characters.")
    return None


def _users_by_login(logins) -> dict[str, object]:
    """``{login as written: User}`` for the logins that name a user (batched queries)."""
    from lms.accounts.models import User
    from lms.accounts.operations import AccountError, normalise_login

    emails: dict[str, list[str]] = {}
    mobiles: dict[str, list[str]] = {}
    for login in logins:
        try:
            email, mobile = normalise_login(login)
        except AccountError:
            continue
        (emails.setdefault(email, []) if email else mobiles.setdefault(mobile, [])).append(login)
    out: dict[str, object] = {}
    for column, wanted in ((User.email, emails), (User.mobile, mobiles)):
        values = list(wanted)
        for i in range(0, len(values), 500):
            for user in db.session.scalars(sa.select(User).where(column.in_(values[i:i + 500]))):
                for written in wanted[getattr(user, column.key)]:
                    out[written] = user
    return out


def plan_import(data: bytes, by, *, system: bool = False) -> list[tuple[int, str, object]]:
    """Check every line of a CSV; ``[(line, learner key, user), ...]`` to link, or
    :class:`LinkImportError` with every error found. Changes nothing. ``by`` must be allowed to
    link each user (:func:`may_link_user`) unless ``system`` (the command line)."""
    text = _decode(data)
    errors: list[CsvLineError] = []
    rows = list(_rows(text))
    if not rows:
        raise LinkImportError([CsvLineError(0, _l("The file is empty."))])
    first_line, header = rows[0]
    if header is None or tuple(h.lower() for h in header) != _HEADER:
        errors.append(CsvLineError(first_line, _l("The first line must be the header: homePage,account name,login")))
    else:
        rows = rows[1:]
    parsed: list[tuple[int, str, str]] = []
    for number, cells in rows:
        if cells is None:
            errors.append(CsvLineError(number, _l("The line is not valid CSV or is too long.")))
            continue
        if len(cells) != 3:
            errors.append(CsvLineError(number, _l("Expected 3 columns (homePage, account name, login), found %(n)d.",
                                                  n=len(cells))))
            continue
        home, name, login = cells
        if any(len(c) > MAX_CELL for c in cells):
            errors.append(CsvLineError(number, _l("A cell is longer than %(n)d characters.", n=MAX_CELL)))
            continue
        problem = _check_home_page(home) or _check_name(name)
        if not login:
            problem = problem or _l("The login is empty.")
        if problem:
            errors.append(CsvLineError(number, problem))
            continue
        parsed.append((number, learner_key({"account": {"homePage": home, "name": name}}), login))
    users = _users_by_login({login for _n, _k, login in parsed})
    owners = users_for_keys([k for _n, k, _l2 in parsed])
    platform_prefix = f"account:{_home()}|"
    first_target: dict[str, tuple[int, int]] = {}
    plan: list[tuple[int, str, object]] = []
    for number, key, login in parsed:
        user = users.get(login)
        if user is None:
            errors.append(CsvLineError(number, _l("No user has the login %(login)s.", login=login[:60])))
            continue
        if not system and not may_link_user(by, user):
            errors.append(CsvLineError(number, _l("The user %(login)s is not a member of your organisation.",
                                                  login=login[:60])))
            continue
        if key.startswith(platform_prefix):
            errors.append(CsvLineError(number, _l("This is an account of this platform, not a foreign one.")))
            continue
        owner = owners.get(key)
        if owner is not None and owner != user.id:
            errors.append(CsvLineError(number, _l("This account is already linked to another user.")))
            continue
        seen = first_target.get(key)
        if seen is not None:
            if seen[1] != user.id:
                errors.append(CsvLineError(number, _l("Line %(first)d links the same account to another user.",
                                                      first=seen[0])))
            continue
        first_target[key] = (number, user.id)
        plan.append((number, key, user))
    if errors:
        raise LinkImportError(errors)
    return plan


def import_links(data: bytes, by, *, system: bool = False) -> ImportResult:
    """Import a CSV of identity links (all or nothing; flush only). Raises :class:`LinkImportError`."""
    plan = plan_import(data, by, system=system)
    if not plan:
        raise LinkImportError([CsvLineError(0, _l("The file has no lines to import."))])
    by_user: dict[int, tuple[object, list[tuple[int, str]]]] = {}
    for number, key, user in plan:
        by_user.setdefault(user.id, (user, []))[1].append((number, key))
    linked = 0
    for user, items in by_user.values():
        try:
            linked += len(link(user, [k for _n, k in items], source="admin_csv", by=by))
        except IdentityError as exc:  # linked elsewhere meanwhile: the caller rolls back everything
            raise LinkImportError([CsvLineError(items[0][0], exc.message)]) from None
    return ImportResult(linked=linked, unchanged=len(plan) - linked, users=len(by_user))


# --- One-time codes --------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """What the learner typed, as issued: upper case, without spaces and dashes."""
    return re.sub(r"[\s\-]", "", str(code or "")).upper()[:64]


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()


def format_code(code: str) -> str:
    """``ABCDEFGHJKLM`` -> ``ABCD-EFGH-JKLM`` (easier to read out and type)."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _check_linkable(key: str) -> None:
    if key.startswith(f"account:{_home()}|"):
        raise IdentityError(_l("This is an account of this platform, not a foreign one."))
    if users_for_keys([key]):
        raise IdentityError(_l("This identity is already linked to an account."))


def issue_code(key: str, *, by) -> tuple[object, str]:
    """A one-time code that links ``key`` to whoever enters it; ``(row, code)``, the code shown
    once (only its hash is stored). Flush only."""
    from lms.records.models import IdentityLinkCode

    _check_linkable(key)
    code = new_link_code()
    now = utcnow()
    row = IdentityLinkCode(code_hash=_code_hash(code), learner_key=key, created_by_id=getattr(by, "id", None),
                           created_at=now, expires_at=now + dt.timedelta(days=CODE_DAYS))
    db.session.add(row)
    db.session.flush()
    return row, format_code(code)


def _attempt_key(user) -> str:
    return f"linkcode:{user.id}"


def code_attempts_locked(user) -> bool:
    """Whether ``user`` made too many wrong code attempts lately."""
    from lms.accounts.models import LoginFailure

    row = db.session.get(LoginFailure, _attempt_key(user))
    return bool(row and row.locked_until and row.locked_until > utcnow())


def _record_failed_attempt(user) -> None:
    """Count a refused code (atomically: parallel requests each count)."""
    from lms.accounts.operations import count_attempt

    cfg = current_app.config
    count_attempt(_attempt_key(user), int(cfg["LMS_LINK_CODE_MAX_FAILURES"]),
                  dt.timedelta(seconds=int(cfg["LMS_LINK_CODE_LOCKOUT_SECONDS"])))


def redeem_code(user, code: str) -> list[str]:
    """Link the key of a one-time code to ``user`` (flush only); returns the keys linked.

    A wrong, expired or used code raises :class:`IdentityError` and counts towards the user's
    attempt limit (the caller commits even then: ``submit(..., commit_on_error=True)``; nothing
    else has changed).
    """
    from lms.records.models import IdentityLinkCode

    if code_attempts_locked(user):
        raise IdentityError(_l("Too many wrong codes. Please wait 15 minutes and try again."), "code")
    now = utcnow()
    digest = _code_hash(code)
    try:
        with db.session.begin_nested():  # a refused link leaves the code unused
            # One atomic UPDATE claims the code: of parallel requests exactly one finds it unused.
            claimed = db.session.execute(
                sa.update(IdentityLinkCode)
                .where(IdentityLinkCode.code_hash == digest, IdentityLinkCode.used_at.is_(None),
                       IdentityLinkCode.expires_at > now)
                .values(used_at=now, used_by_id=user.id).returning(IdentityLinkCode.learner_key)).first()
            if claimed is None:
                raise _CodeRefused
            return link(user, [claimed[0]], source="learner_code", by=user)
    except _CodeRefused:
        _record_failed_attempt(user)
        raise IdentityError(_l("This code is wrong, expired or already used."), "code") from None
    except IdentityError:
        raise IdentityError(_l("This identity is already linked to another account; ask an administrator."),
                            "code") from None


class _CodeRefused(Exception):
    pass


# --- Unmatched learners ----------------------------------------------------------------------


@dataclasses.dataclass
class UnmatchedLearner:
    """A learner key with facts but no user."""

    key_hash: str
    learner_key: str
    statements: int
    last_activity: dt.datetime
    sources: list[str]


def _unmatched_filter(stmt, search: str | None):
    from lms.records.models import LearnerIdentity, StatementFact

    prefix = f"account:{_home()}|"
    stmt = stmt.where(StatementFact.learner_hash.is_not(None),
                      sa.func.substr(StatementFact.learner_key, 1, len(prefix)) != prefix,
                      ~sa.exists().where(LearnerIdentity.key_hash == StatementFact.learner_hash))
    if search:
        stmt = stmt.where(contains_text(search, StatementFact.learner_key, StatementFact.source_label))
    return stmt


def unmatched_learners(*, search: str | None = None, limit: int = 50, offset: int = 0) -> list[UnmatchedLearner]:
    """Learner keys that have facts but stand for no user (neither the platform's own accounts nor
    linked identities), the most recently active first."""
    from lms.records.models import StatementFact

    last = sa.func.max(StatementFact.occurred_at)
    stmt = _unmatched_filter(
        sa.select(StatementFact.learner_hash, sa.func.min(StatementFact.learner_key), sa.func.count(), last), search)
    rows = db.session.execute(stmt.group_by(StatementFact.learner_hash)
                              .order_by(last.desc(), StatementFact.learner_hash).limit(limit).offset(offset)).all()
    out = [UnmatchedLearner(h, k, n, t, []) for h, k, n, t in rows]
    if out:
        labels: dict[str, set[str]] = {}
        for digest, label, policy in db.session.execute(
                sa.select(StatementFact.learner_hash, StatementFact.source_label, StatementFact.source_policy)
                .where(StatementFact.learner_hash.in_([u.key_hash for u in out])).distinct()):
            labels.setdefault(digest, set()).add(label or source_policy_label(policy))
        for u in out:
            u.sources = sorted(str(x) for x in labels.get(u.key_hash, ()))
    return out


def key_for_hash(digest: str) -> str | None:
    """The learner key of facts with this hash (``None`` when there are none)."""
    from lms.records.models import StatementFact

    if not re.fullmatch(r"[0-9a-f]{40}", digest or ""):
        return None
    return db.session.scalar(sa.select(StatementFact.learner_key).where(StatementFact.learner_hash == digest).limit(1))


def statement_count(key: str) -> int:
    """Statements stored for a learner key (the evidence a link moves)."""
    from lms.records.models import StatementFact

    return db.session.scalar(sa.select(sa.func.count()).select_from(StatementFact)
                             .where(StatementFact.learner_hash == key_hash(key))) or 0


def link_key(key: str, user, *, by) -> list[str]:
    """An administrator links one key to ``user`` (flush only); :class:`IdentityError` on conflict."""
    if not may_link_user(by, user):
        raise IdentityError(_l("You may not link identities to this user."), "login")
    _check_linkable(key)
    return link(user, [key], source="admin", by=by)


def recent_links(limit: int = 20):
    """The latest entries of the link log, newest first: ``(log row, user, actor)``."""
    from lms.accounts.models import User
    from lms.records.models import IdentityLinkLog

    target = sa.orm.aliased(User)
    actor = sa.orm.aliased(User)
    return db.session.execute(
        sa.select(IdentityLinkLog, target, actor)
        .outerjoin(target, target.id == IdentityLinkLog.user_id).outerjoin(actor, actor.id == IdentityLinkLog.actor_id)
        .order_by(IdentityLinkLog.created_at.desc(), IdentityLinkLog.id.desc()).limit(limit)).all()


# --- Labels ----------------------------------------------------------------------------------

SOURCE_LABELS = {
    "platform": _l("This platform"),
    "launch": _l("Content launched by the platform"),
    "system:assessment": _l("External system (assessment trusted)"),
    "system:standard": _l("External system (standard)"),
    "system:untrusted": _l("External system (untrusted)"),
    "device": _l("Learner's own device or app"),
}

FACT_LABELS = {
    "study_time": _l("Study time"),
    "completion": _l("Completions and passes"),
    "exam_result": _l("Exam results"),
}

LINK_SOURCE_LABELS = {
    "verified_email": _l("Verified e-mail address"),
    "verified_mobile": _l("Verified mobile number"),
    "admin_csv": _l("Administrator (CSV import)"),
    "learner_code": _l("Link code"),
    "admin": _l("Administrator"),
}


def source_policy_label(policy: str):
    return SOURCE_LABELS.get(policy, policy)


def key_kind(key: str):
    """What kind of identity a key is, in words."""
    kind = key.partition(":")[0]
    return {"mbox": _l("E-mail address"), "sha1": _l("E-mail address (hashed)"), "openid": _l("OpenID"),
            "account": _l("Account on another system")}.get(kind, kind)


def key_text(key: str) -> str:
    """The key in human terms (:func:`describe_key`; hashed e-mails shortened)."""
    text = describe_key(key)
    if key.startswith("sha1:"):
        return text[:8] + "…"
    return text
