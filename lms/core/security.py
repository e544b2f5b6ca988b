"""Login sessions, CSRF, bearer API tokens and response security headers.

CSRF is checked for every unsafe request in one place, except for requests that authenticate
with credentials a browser never sends by itself: ``Authorization: Bearer`` (API tokens) and
``Authorization: Basic`` on ``/xapi/`` (LRS clients).
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import joinedload

from lms.core.db import db, utcnow

login_manager = LoginManager()
csrf = CSRFProtect()

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def csp_nonce() -> str:
    """This request's nonce for inline ``<script nonce=...>`` (the only inline scripts allowed)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy() -> str:
    """The policy of HTML pages: everything from this site; scripts only from files here or
    inline with this request's nonce (so injected markup cannot run script); media and images
    may come from any host (lesson videos and pictures are often hosted elsewhere). Inline
    styles stay allowed: templates use ``style=`` attributes, which cannot run code."""
    script = "'self'"
    if "csp_nonce" in g:
        script += f" 'nonce-{g.csp_nonce}'"
    return ("default-src 'self'; "
            f"script-src {script}; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src * data:; media-src *; frame-src 'self' https:; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'self'")


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @login_manager.user_loader
    def _load_user(ident: str):
        from lms.accounts.models import User

        try:
            user_id, version = (int(x) for x in ident.split(":"))
        except ValueError:
            return None
        # One round trip: the user with its memberships (the mapper's default is a second SELECT).
        user = db.session.get(User, user_id, options=[joinedload(User.memberships)])
        if user is None or user.session_version != version or not user.is_active:
            return None
        return user

    @app.before_request
    def _authenticate_and_protect():
        g.api_user = None
        token = _bearer_token()
        if token is not None and request.path.startswith("/api/"):
            from lms.accounts.models import ApiToken
            from lms.api import ApiError

            row = db.session.scalars(sa.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token))).first()
            now = utcnow()
            if (row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < now)
                    or not row.user.is_active):
                raise ApiError(401, "invalid_token", _l("The API token is missing, expired or revoked."))
            g.api_user = row.user
            if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
                row.last_used_at = now
                db.session.commit()
            return None
        if request.method in UNSAFE:
            if request.path.startswith("/xapi/"):
                return None  # LRS clients use HTTP Basic; the browser never sends those by itself
            csrf.protect()
        return None

    @app.context_processor
    def _csp_nonce():
        return {"csp_nonce": csp_nonce}

    @app.after_request
    def _security_headers(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/xapi/"):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if app.config["LMS_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
