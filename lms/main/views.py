"""Home page, language switch, ``/healthz``."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, request, session
from flask_login import current_user

from lms.core.db import db
from lms.core.extension_points import registries
from lms.core.redirects import safe_redirect

log = logging.getLogger("lms.health")

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    panels = [p(current_user) for p in registries().home_panels]
    return render_template("main/home.html", panels=[p for p in panels if p])


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code):
    """Switch the interface language (a POST form, so CSRF applies)."""
    if code in current_app.config["LMS_LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
    return safe_redirect(request.form.get("next") or request.referrer, "/")


def check_database() -> tuple[bool, str]:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True, db.engine.dialect.name
    except Exception:  # noqa: BLE001 - reported, not raised
        # The detail is logged, not shown: /healthz is public, and an exception's name or text
        # tells a visitor which driver and which failure they are probing.
        log.warning("health check: the database is unavailable", exc_info=True)
        db.session.rollback()
        return False, "unavailable"


def check_broker() -> tuple[bool, str]:
    cfg = current_app.config["CELERY"]
    if cfg.get("task_always_eager"):
        return True, "eager (no broker configured)"
    try:
        conn = current_app.extensions["celery"].connection_for_write()
        conn.ensure_connection(max_retries=1, timeout=2)
        conn.release()
        return True, conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"
    except Exception:  # noqa: BLE001
        log.warning("health check: the broker is unavailable", exc_info=True)
        return False, "unavailable"


@bp.route("/healthz")
def healthz():
    checks = {"database": check_database(), "broker": check_broker()}
    for name, fn in registries().health_checks.items():
        try:
            ok, detail = fn()
        except Exception:  # noqa: BLE001 - a failing check is a failed check, not a 500
            log.warning("health check %s failed", name, exc_info=True)
            ok, detail = False, "unavailable"
        checks[name] = (bool(ok), detail if ok else "unavailable")
    ok = all(v[0] for v in checks.values())
    body = {"status": "ok" if ok else "fail", "checks": {k: {"ok": v[0], "detail": v[1]} for k, v in checks.items()}}
    return jsonify(body), (200 if ok else 503)
