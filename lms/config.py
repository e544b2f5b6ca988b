"""Configuration: safe defaults for the embedded runtime, overridden by ``instance/config.py``
and then by environment variables, then by the ``config_override`` given to ``create_app``.

Every setting a deployment may change is listed in :data:`DEFAULTS` with a comment; the README
documents the same list.
"""
from __future__ import annotations

import json
import os

#: The secret key used when none is configured. A production start refuses it.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"

DEFAULTS: dict[str, object] = {
    #: ``development`` (default) or ``production``; production refuses unsafe settings.
    "LMS_ENV": "development",
    #: SQLAlchemy URL; default is an SQLite file under ``instance/``.
    "LMS_DATABASE_URL": None,
    #: Flask secret key (sessions, CSRF, signed tokens).
    "LMS_SECRET_KEY": DEV_SECRET_KEY,
    #: Celery broker URL; empty means tasks run eagerly in-process.
    "CELERY_BROKER_URL": "",
    #: Celery result backend; defaults to the broker when one is set.
    "CELERY_RESULT_BACKEND": "",
    #: Comma-separated plugin names to load; ``None`` (unset) loads every installed plugin.
    "LMS_PLUGINS": None,
    #: Base IRI of the platform's own xAPI vocabulary and activity ids.
    "LMS_BASE_IRI": "http://127.0.0.1:5000/",
    #: Public base URL of the site (links in mail, LRS endpoint in launch URLs).
    "LMS_PUBLIC_URL": "http://127.0.0.1:5000",
    #: Languages offered, the first is the default.
    "LMS_LANGUAGES": "zh_CN,en",
    #: Mail: ``console`` prints to the log; ``smtp`` sends through MAIL_SERVER.
    "MAIL_BACKEND": "console",
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_DEFAULT_SENDER": "noreply@lms.local",
    #: Failed logins per account (or per client address) before a lockout.
    "LMS_LOGIN_MAX_FAILURES": 5,
    #: Lockout window in seconds.
    "LMS_LOGIN_LOCKOUT_SECONDS": 900,
    #: Lifetime of a password-reset link in seconds.
    "LMS_PASSWORD_RESET_MAX_AGE": 3600,
    #: Log format: ``json`` (structured) or ``text``.
    "LMS_LOG_FORMAT": "json",
    "LMS_LOG_LEVEL": "INFO",
    #: Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust
    #: (0: none). Behind nginx set 1, so login throttling sees the client's address.
    "LMS_TRUSTED_PROXIES": 0,
    #: Password-reset emails per client address per hour.
    "LMS_RESET_MAX_PER_HOUR": 5,
    #: Lifetime of an e-mail verification link in seconds (3 days).
    "LMS_EMAIL_VERIFY_MAX_AGE": 3 * 24 * 3600,
    #: Verification e-mails one account may ask for per hour.
    "LMS_VERIFY_MAIL_MAX_PER_HOUR": 5,
    #: SMS: ``console`` logs that a code was sent (development; the code itself only at DEBUG);
    #: ``aliyun`` sends through Alibaba Cloud SMS (SendSms) with the settings below.
    "LMS_SMS_BACKEND": "console",
    #: Alibaba Cloud AccessKey pair (a RAM user allowed only ``dysms:SendSms``).
    "LMS_SMS_ACCESS_KEY_ID": "",
    "LMS_SMS_ACCESS_KEY_SECRET": "",
    #: Approved SMS signature name (短信签名) and template code (模板, with a ``${code}`` variable).
    "LMS_SMS_SIGN_NAME": "",
    "LMS_SMS_TEMPLATE_CODE": "",
    #: SendSms endpoint.
    "LMS_SMS_ENDPOINT": "https://dysmsapi.aliyuncs.com/",
    #: Lifetime of an SMS code in seconds.
    "LMS_SMS_CODE_MAX_AGE": 600,
    #: Tries allowed per SMS code before it is locked.
    "LMS_SMS_CODE_MAX_ATTEMPTS": 5,
    #: SMS codes sent per mobile number per hour.
    "LMS_SMS_MAX_PER_NUMBER_PER_HOUR": 5,
    #: SMS codes requested per client address per hour.
    "LMS_SMS_MAX_PER_ADDRESS_PER_HOUR": 20,
    #: Version of the user agreement and privacy notice; changing it asks every user to accept again.
    "LMS_POLICY_VERSION": "2026-12",
    #: Maximum request size in bytes (uploads, xAPI attachments).
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    #: Where uploaded files are stored; default ``instance/uploads``.
    "LMS_UPLOAD_DIR": None,
    #: Retention rule ``subsidy_evidence``: years that evidence of subsidised training (enrolments
    #: in subsidised courses, apprenticeship records) is kept after it ends, even on erasure.
    "LMS_RETENTION_SUBSIDY_YEARS": 5,
}

_BOOL_TRUE = {"1", "true", "yes", "on"}


def _coerce(default: object, raw: str) -> object:
    """Convert an environment string to the type of the default value."""
    if isinstance(default, bool):
        return raw.strip().lower() in _BOOL_TRUE
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, (list, dict)):
        return json.loads(raw)
    return raw


def load_config(app, config_override: dict | None = None) -> None:
    """Fill ``app.config`` from defaults, ``instance/config.py``, the environment and overrides."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.from_pyfile("config.py", silent=True)
    for key in list(app.config.keys()) + [k for k in os.environ if k.startswith(("LMS_", "CELERY_", "MAIL_"))]:
        if key in os.environ:
            app.config[key] = _coerce(app.config.get(key), os.environ[key])
    if config_override:
        app.config.update(config_override)
    _derive(app)


def _derive(app) -> None:
    """Turn the public settings into the names Flask and its extensions read."""
    cfg = app.config
    os.makedirs(app.instance_path, exist_ok=True)
    if not cfg.get("LMS_DATABASE_URL"):
        cfg["LMS_DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "lms.sqlite3")
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["LMS_DATABASE_URL"])
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    # Database errors are logged; their bound values (ID card numbers, names) must not be.
    cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("hide_parameters", True)
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})
    else:
        cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    cfg["SECRET_KEY"] = cfg["LMS_SECRET_KEY"]
    if not cfg.get("LMS_UPLOAD_DIR"):
        cfg["LMS_UPLOAD_DIR"] = os.path.join(app.instance_path, "uploads")
    languages = cfg["LMS_LANGUAGES"]
    if isinstance(languages, str):
        languages = [lang.strip() for lang in languages.split(",") if lang.strip()]
    cfg["LMS_LANGUAGES"] = languages
    cfg["BABEL_DEFAULT_LOCALE"] = languages[0]
    cfg["BABEL_DEFAULT_TIMEZONE"] = cfg.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    plugins = cfg["LMS_PLUGINS"]
    if isinstance(plugins, str):
        plugins = [p.strip() for p in plugins.split(",") if p.strip()]
    cfg["LMS_PLUGINS"] = plugins
    production = cfg["LMS_ENV"] == "production"
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_SECURE"] = production  # HTTPS only in production
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SECURE"] = production
    cfg["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    cfg.setdefault("WTF_CSRF_TIME_LIMIT", None)
    broker = cfg.get("CELERY_BROKER_URL") or ""
    cfg["CELERY"] = {
        "broker_url": broker or "memory://",
        "result_backend": cfg.get("CELERY_RESULT_BACKEND") or (broker if broker else None),
        "task_always_eager": not broker,
        "task_eager_propagates": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "timezone": "Asia/Shanghai",
        **(cfg.get("CELERY_EXTRA") or {}),
    }


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class UnsafeConfiguration(RuntimeError):
    """Raised when a production start finds a setting that must not be used in production."""


def check_production(app) -> None:
    """Refuse to start in production with the development secret key, SQLite, or the console
    mail or SMS backends (which would log messages and codes instead of delivering them)."""
    cfg = app.config
    if cfg["LMS_ENV"] != "production":
        return
    problems = []
    if cfg["SECRET_KEY"] in (DEV_SECRET_KEY, "", None) or len(str(cfg["SECRET_KEY"])) < 32:
        problems.append("LMS_SECRET_KEY is the development key or shorter than 32 characters; "
                        "set a long random value, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append("LMS_DATABASE_URL points at SQLite; production needs PostgreSQL "
                        "(postgresql://user:password@host/dbname)")
    if cfg["MAIL_BACKEND"] != "smtp":
        problems.append("MAIL_BACKEND is not `smtp`; production must deliver mail "
                        "(set MAIL_BACKEND=smtp and MAIL_SERVER)")
    if cfg["LMS_SMS_BACKEND"] != "aliyun":
        problems.append("LMS_SMS_BACKEND is not `aliyun`; production must deliver SMS codes "
                        "(set LMS_SMS_BACKEND=aliyun and the LMS_SMS_* settings)")
    else:
        missing = [k for k in ("LMS_SMS_ACCESS_KEY_ID", "LMS_SMS_ACCESS_KEY_SECRET", "LMS_SMS_SIGN_NAME",
                               "LMS_SMS_TEMPLATE_CODE") if not cfg.get(k)]
        if missing:
            problems.append("the aliyun SMS backend needs " + ", ".join(missing))
    if problems:
        raise UnsafeConfiguration("Refusing to start with LMS_ENV=production:\n  - " + "\n  - ".join(problems))
