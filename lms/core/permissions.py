"""The one permission layer: named permissions granted to roles, and per-model query scopes.

*Permissions* answer "may this user do X (in organisation O)?". The core and plugins declare
them with :func:`declare` (from ``init_app``); views and API endpoints check them with
:func:`require` or :func:`can`. A system administrator holds every permission; a supervisor's
permissions are the read-only ones granted to the ``supervisor`` role.

*Scopes* answer "which rows of model M may this user see?". A package registers one function per
model with :func:`scope`; every list or lookup goes through :func:`visible` or
:func:`get_visible_or_404`, so no view filters rows ad hoc.
"""
from __future__ import annotations

import functools
from typing import Callable

import sqlalchemy as sa
from flask import abort, current_app, g, request
from flask_login import current_user

from lms.core.extension_points import registries

_scopes: dict[type, Callable] = {}


def declare(app, name: str, roles, description="") -> None:
    """Declare permission ``name`` granted to ``roles`` (system admins always hold it)."""
    reg = registries(app)
    if name in reg.permissions:
        old_desc, old_roles = reg.permissions[name]
        reg.permissions[name] = (old_desc or description, old_roles | frozenset(roles))
    else:
        reg.permissions[name] = (description, frozenset(roles))


def acting_user():
    """The user of this request: the API token's owner or the logged-in user (or anonymous)."""
    return getattr(g, "api_user", None) or current_user


def can(user, permission: str, organisation_id: int | None = None) -> bool:
    """Whether ``user`` holds ``permission`` (in ``organisation_id`` when given, else in any)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_system_admin:
        return True
    try:
        _desc, roles = registries().permissions[permission]
    except KeyError:
        raise KeyError(f"undeclared permission {permission!r}") from None
    return bool(user.roles(organisation_id) & roles)


def require(permission: str | None = None):
    """View decorator: 401 when not logged in, 403 without ``permission``.

    With ``permission=None`` only a login is required.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = acting_user()
            if not user.is_authenticated:
                if request.blueprint and request.blueprint.endswith("api") or request.path.startswith("/api/"):
                    abort(401)
                return current_app.login_manager.unauthorized()
            if permission is not None and not can(user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def require_admin(view):
    """View decorator for system-administrator pages."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = acting_user()
        if not user.is_authenticated:
            if request.path.startswith("/api/"):
                abort(401)
            return current_app.login_manager.unauthorized()
        if not user.is_system_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def scope(model: type):
    """Register ``fn(user, stmt) -> stmt`` as the visibility filter for ``model``."""

    def decorator(fn):
        _scopes[model] = fn
        return fn

    return decorator


def visible(user, model: type, stmt=None):
    """A ``select`` of the rows of ``model`` that ``user`` may see."""
    if stmt is None:
        stmt = sa.select(model)
    if user is not None and getattr(user, "is_authenticated", False) and user.is_system_admin:
        return stmt
    try:
        fn = _scopes[model]
    except KeyError:
        raise KeyError(f"no visibility scope registered for {model.__name__}") from None
    if user is None or not getattr(user, "is_authenticated", False):
        return stmt.where(sa.false())
    return fn(user, stmt)


def get_visible_or_404(user, model: type, ident):
    """The row of ``model`` with primary key ``ident`` if ``user`` may see it, else 404."""
    from lms.core.db import db

    pk = sa.inspect(model).primary_key[0]
    row = db.session.scalars(visible(user, model, sa.select(model).where(pk == ident))).first()
    if row is None:
        abort(404)
    return row


def is_supervisor(user) -> bool:
    """Supervisors (人社监管) read everything and change nothing."""
    return getattr(user, "is_authenticated", False) and "supervisor" in user.roles()
