"""The statement recorder: how the platform's own code records xAPI statements.

Plugins call :func:`record` (or :func:`record_many`) inside the transaction of the change that
caused the statement. The statement is validated with the 1.0.3 rules and stored with
``db.session`` (flush only); the caller commits. After that commit the signal
:data:`lms.core.extension_points.statement_stored` is sent; if the caller rolls back, the
statement is gone and nothing is sent.
"""
from __future__ import annotations

from flask import current_app


__all__ = ["actor_for", "user_for_actor", "platform_authority", "record", "record_many", "recorded_by_platform"]


def _home_page() -> str:
    return current_app.config["LMS_PUBLIC_URL"].rstrip("/")


def actor_for(user) -> dict:
    """The xAPI agent of a platform user: an account on the platform's public URL, by uuid."""
    return {"objectType": "Agent", "name": user.display_name,
            "account": {"homePage": _home_page(), "name": str(user.uuid)}}


def user_for_actor(actor: dict):
    """The platform user an agent stands for, or ``None`` (see :mod:`lms.records.identity`)."""
    from lms.records.identity import user_for_actor as resolve

    return resolve(actor)


def platform_authority() -> dict:
    """The authority of statements the platform records itself."""
    return {"objectType": "Agent", "name": "LMS", "account": {"homePage": _home_page(), "name": "lms"}}


def _as_dict(statement) -> dict:
    if isinstance(statement, dict):
        return statement
    to_json = getattr(statement, "to_json", None)
    if to_json is None:
        raise TypeError("record() takes a tincan.Statement or a dict")
    import json

    data = json.loads(to_json("1.0.3"))
    # tincan writes its own library version ("1.0.3") into every statement; the LRS sets it.
    data.pop("version", None)
    return data


def record(statement, *, authority: dict | None = None) -> str:
    """Validate and store one statement in the current transaction; return its id.

    ``statement`` is a ``tincan.Statement`` or a dict in the 1.0.3 shape. Fills ``id`` and
    ``timestamp`` when missing. Raises :class:`lms.xapi.errors.XAPIValidationError` (with
    ``.message`` and ``.path``) when it breaks a rule of the specification.
    """
    return record_many([statement], authority=authority)[0]


def record_many(statements, *, authority: dict | None = None) -> list[str]:
    """Validate and store several statements in the current transaction (all or none)."""
    from lms.xapi.storage import store_statements

    items = [_as_dict(s) for s in statements]
    if not items:
        return []
    ours = platform_authority()
    from lms.records.provenance import PLATFORM_SOURCE

    result = store_statements(items, version="1.0.3", authority=authority or ours, may_define=True,
                              source=PLATFORM_SOURCE)
    if authority is None or authority == ours:
        from flask import g

        g.setdefault(_PLATFORM_IDS, set()).update(result.new_ids)
    return result.ids


_PLATFORM_IDS = "xapi_recorded_by_platform"


def recorded_by_platform() -> set[str]:
    """Ids of the statements recorded in this app context (request, task) with the platform's own
    authority. ``statement_stored`` receivers that only care about statements from elsewhere can
    leave these out without loading them."""
    from flask import g

    return g.get(_PLATFORM_IDS) or set()
