"""Learner identity: one normalised key per xAPI agent, and which platform user it stands for.

Every statement's actor is reduced to a **learner key** by :func:`learner_key` (one encoding,
used by facts, competency evidence, apprenticeship and reports alike):

=====================  ==============================================================
agent                  learner key
=====================  ==============================================================
``mbox``               ``mbox:mailto:<address in lower case>``
``mbox_sha1sum``       ``sha1:<hex in lower case>``
``openid``             ``openid:<URI>``
``account``            ``account:<homePage without trailing slash, host lower-cased>|<name>``
=====================  ==============================================================

A key stands for a user when it is the user's own platform account (``account`` on
``LMS_PUBLIC_URL`` whose name is the user's uuid) or when a :class:`LearnerIdentity` row links it:
rows are written when the user *verified* an e-mail address (its ``mbox`` and both
``mbox_sha1sum`` forms: of ``mailto:<address>`` as the specification says, and of the bare
address as Open edX's ``sha1`` mode sends it) and when an administrator or the learner linked a
foreign account (CSV import, one-time code, the unmatched-learners page). An unverified
registration therefore claims nothing.
"""
from __future__ import annotations
from lms.core.exceptions import DomainError

import hashlib
import secrets
import uuid
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app

from lms.core.db import db, utcnow

__all__ = ["learner_key", "key_hash", "platform_key", "email_keys", "users_for_keys", "user_for_actor",
           "user_id_for_key", "keys_of_user", "key_hashes_of_users", "link", "IdentityError", "actor_from_key", "describe_key"]


class IdentityError(DomainError, ValueError):
    """A link that cannot be made (the key belongs to another user, malformed input...)."""


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def normalise_home_page(home_page: str) -> str:
    """``https://Moodle.X.edu/`` -> ``https://moodle.x.edu``: scheme and host lower-cased, no
    trailing slash (systems differ in how they write the same homePage)."""
    text = str(home_page or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text.rstrip("/")
    if parts.scheme and parts.netloc:
        text = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))
    return text.rstrip("/")


def learner_key(actor) -> str | None:
    """The normalised learner key of an agent or identified group; ``None`` when it has no IFI."""
    if not isinstance(actor, dict):
        return None
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox:
        return "mbox:" + mbox.strip().lower()
    sha = actor.get("mbox_sha1sum")
    if isinstance(sha, str) and sha:
        return "sha1:" + sha.strip().lower()
    openid = actor.get("openid")
    if isinstance(openid, str) and openid:
        return "openid:" + openid.strip()
    account = actor.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str) and account.get("name") != "":
        return f"account:{normalise_home_page(account.get('homePage', ''))}|{account['name']}"
    return None


def key_hash(key: str) -> str:
    """The indexed form of a learner key (SHA-1 hex)."""
    return _sha1(key)


def actor_from_key(key: str) -> dict | None:
    """An agent object for a learner key (to read its statements back)."""
    kind, _, value = key.partition(":")
    if kind == "mbox":
        return {"mbox": value}
    if kind == "sha1":
        return {"mbox_sha1sum": value}
    if kind == "openid":
        return {"openid": value}
    if kind == "account":
        home, _, name = value.partition("|")
        return {"account": {"homePage": home, "name": name}}
    return None


def describe_key(key: str) -> str:
    """A short human description of a key (for administrators): the address, or name @ system."""
    kind, _, value = key.partition(":")
    if kind == "mbox":
        return value.removeprefix("mailto:")
    if kind == "account":
        home, _, name = value.partition("|")
        return f"{name} @ {urlsplit(home).netloc or home}"
    return value


def _home() -> str:
    return normalise_home_page(current_app.config["LMS_PUBLIC_URL"])


def platform_key(user) -> str:
    """The learner key of a user's own platform account."""
    return f"account:{_home()}|{user.uuid}"


def email_keys(email: str) -> list[str]:
    """The keys under which statements about an e-mail address arrive: the ``mbox``, the SHA-1 of
    ``mailto:<address>`` (the specification's ``mbox_sha1sum``) and the SHA-1 of the bare address
    (what Open edX sends in its ``sha1`` mode)."""
    address = (email or "").strip().lower()
    if not address:
        return []
    mbox = "mailto:" + address
    return ["mbox:" + mbox, "sha1:" + _sha1(mbox), "sha1:" + _sha1(address)]


def users_for_keys(keys) -> dict[str, int]:
    """``{learner key: user id}`` for the keys that stand for a user (two indexed queries)."""
    from lms.accounts.models import User
    from lms.records.models import LearnerIdentity

    keys = [k for k in dict.fromkeys(keys) if k]
    if not keys:
        return {}
    found: dict[str, int] = {}
    prefix = f"account:{_home()}|"
    by_uuid: dict[uuid.UUID, str] = {}
    others: dict[str, str] = {}
    for key in keys:
        if key.startswith(prefix):
            try:
                by_uuid[uuid.UUID(key[len(prefix):])] = key
            except ValueError:
                pass
        else:
            others[key_hash(key)] = key
    ids = list(by_uuid)
    for i in range(0, len(ids), 500):
        for uid, ident in db.session.execute(sa.select(User.id, User.uuid).where(User.uuid.in_(ids[i:i + 500]))):
            found[by_uuid[ident if isinstance(ident, uuid.UUID) else uuid.UUID(str(ident))]] = uid
    hashes = list(others)
    for i in range(0, len(hashes), 500):
        for uid, digest in db.session.execute(sa.select(LearnerIdentity.user_id, LearnerIdentity.key_hash)
                                              .where(LearnerIdentity.key_hash.in_(hashes[i:i + 500]))):
            found[others[digest]] = uid
    return found


def user_id_for_key(key: str | None) -> int | None:
    """The user a learner key stands for, or ``None``."""
    return users_for_keys([key]).get(key) if key else None


def user_for_actor(actor):
    """The platform user an xAPI agent stands for, or ``None``."""
    from lms.accounts.models import User

    uid = user_id_for_key(learner_key(actor))
    return db.session.get(User, uid) if uid is not None else None


def keys_of_user(user) -> list[str]:
    """Every learner key that stands for ``user``: the platform account first, then linked ones."""
    from lms.records.models import LearnerIdentity

    linked = db.session.scalars(sa.select(LearnerIdentity.learner_key).where(LearnerIdentity.user_id == user.id)
                                .order_by(LearnerIdentity.id))
    return [platform_key(user), *linked]


def key_hashes_of_users(user_ids) -> dict[str, int]:
    """``{key hash: user id}`` of every learner key of these users (platform accounts and linked
    identities), for filtering facts by indexed hash."""
    from lms.accounts.models import User
    from lms.records.models import LearnerIdentity

    ids = list(dict.fromkeys(user_ids))
    owner: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for uid, ident in db.session.execute(sa.select(User.id, User.uuid).where(User.id.in_(chunk))):
            owner[key_hash(f"account:{_home()}|{ident}")] = uid
        for uid, digest in db.session.execute(sa.select(LearnerIdentity.user_id, LearnerIdentity.key_hash)
                                              .where(LearnerIdentity.user_id.in_(chunk))):
            owner[digest] = uid
    return owner


def link(user, keys, *, source: str, by=None) -> list[str]:
    """Link learner ``keys`` to ``user``; returns the keys newly linked (flush only).

    A key already linked to ``user`` is skipped; a key linked to another user raises
    :class:`IdentityError` and nothing is linked. Platform accounts of other users cannot be
    linked. Each link is logged with the number of statements that moved, and
    ``identity_linked`` is sent after commit so plugins move what they keep per key.
    """
    from lms.core.events import send_after_commit
    from lms.core.extension_points import identity_linked
    from lms.records.models import IdentityLinkLog, LearnerIdentity, StatementFact

    keys = [k for k in dict.fromkeys(keys) if k]
    own = platform_key(user)
    prefix = f"account:{_home()}|"
    for key in keys:
        if key.startswith(prefix) and key != own:
            raise IdentityError(_msg("This is another user's platform account."))
    owners = users_for_keys(keys)
    for key in keys:
        if owners.get(key) not in (None, user.id):
            raise IdentityError(_msg("This identity is already linked to another account."))
    new = [k for k in keys if owners.get(k) is None and k != own]
    linked_by = getattr(by, "id", None)

    def row(key):
        return {"key_hash": key_hash(key), "learner_key": key, "user_id": user.id, "source": source,
                "linked_by_id": linked_by, "created_at": utcnow()}

    # All new keys in one SAVEPOINT (the usual case: thousands of CSV lines in one statement)...
    try:
        if new:
            with db.session.begin_nested():
                db.session.execute(sa.insert(LearnerIdentity), [row(k) for k in new])
    except sa.exc.IntegrityError:
        # ... and when a concurrent link of one of them won, one SAVEPOINT per key, so that the
        # conflicting key fails alone, as a clear error (or is skipped when it is this user's).
        inserted = []
        for key in new:
            try:
                with db.session.begin_nested():
                    db.session.execute(sa.insert(LearnerIdentity), [row(key)])
            except sa.exc.IntegrityError:
                if user_id_for_key(key) != user.id:
                    raise IdentityError(_msg("This identity is already linked to another account.")) from None
                continue
            inserted.append(key)
        new = inserted
    counts: dict[str, int] = {}
    hashes = [key_hash(k) for k in new]
    for i in range(0, len(hashes), 500):
        counts.update(db.session.execute(
            sa.select(StatementFact.learner_hash, sa.func.count()).where(StatementFact.learner_hash.in_(hashes[i:i + 500]))
            .group_by(StatementFact.learner_hash)).all())
    if new:
        db.session.execute(sa.insert(IdentityLinkLog), [
            {"learner_key": k, "user_id": user.id, "action": "link", "source": source,
             "statements": counts.get(key_hash(k), 0), "actor_id": linked_by, "created_at": utcnow()} for k in new])
    db.session.flush()
    if new:
        send_after_commit(identity_linked, user, keys=list(new), source=source)
    return new


def _msg(text: str):
    from flask_babel import lazy_gettext

    return lazy_gettext(text)


def new_link_code() -> str:
    """A one-time code for linking (12 characters, unambiguous alphabet)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))
