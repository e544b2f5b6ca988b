import ast
import os
import pathlib
import subprocess
import sys

import pytest

from lms import create_app
from lms.config import DEV_SECRET_KEY, UnsafeConfiguration

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_production_refuses_development_secret_key(tmp_path):
    with pytest.raises(UnsafeConfiguration, match="LMS_SECRET_KEY"):
        create_app({"LMS_ENV": "production", "INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": DEV_SECRET_KEY,
                    "LMS_DATABASE_URL": "postgresql://u@127.0.0.1/x"})


def test_production_refuses_sqlite(tmp_path):
    with pytest.raises(UnsafeConfiguration, match="SQLite"):
        create_app({"LMS_ENV": "production", "INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": "x" * 48})


#: Delivery settings a production start needs besides the secret key and the database.
PRODUCTION_DELIVERY = {"MAIL_BACKEND": "smtp", "LMS_SMS_BACKEND": "aliyun", "LMS_SMS_ACCESS_KEY_ID": "id",
                       "LMS_SMS_ACCESS_KEY_SECRET": "secret", "LMS_SMS_SIGN_NAME": "培训平台",
                       "LMS_SMS_TEMPLATE_CODE": "SMS_1"}


def test_production_accepts_safe_settings_and_secures_cookies(tmp_path):
    app = create_app({"LMS_ENV": "production", "INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": "x" * 48,
                      "LMS_DATABASE_URL": "postgresql://u@127.0.0.1/x", **PRODUCTION_DELIVERY})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_defaults_are_the_embedded_runtime(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(tmp_path / "lms.sqlite3")
    assert app.config["CELERY"]["task_always_eager"] is True
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    with app.app_context():
        from lms.core.db import db
        import sqlalchemy as sa

        with db.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_environment_overrides_instance_config(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("LMS_BASE_IRI = 'http://from-file/'\nLMS_PUBLIC_URL = 'http://file'\n")
    monkeypatch.setenv("LMS_PUBLIC_URL", "http://from-env")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["LMS_BASE_IRI"] == "http://from-file/"
    assert app.config["LMS_PUBLIC_URL"] == "http://from-env"


def test_app_runs_with_no_plugins(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "LMS_PLUGINS": ""})
    assert app.extensions["lms_plugins"] == []
    assert not any(bp.startswith(("courses", "competency")) for bp in app.blueprints)
    resp = app.test_client().get("/", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 200


def test_plugins_selected_by_setting(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "LMS_PLUGINS": "courses"})
    assert [p.name for p in app.extensions["lms_plugins"]] == ["courses"]
    assert "courses" in app.blueprints and "competency" not in app.blueprints


def test_unknown_plugin_is_refused(tmp_path):
    from lms.core.plugins import PluginError

    with pytest.raises(PluginError, match="nosuch"):
        create_app({"INSTANCE_PATH": str(tmp_path), "LMS_PLUGINS": "nosuch"})


def test_plugins_command_lists_loaded(runner):
    result = runner.invoke(args=["plugins"])
    assert result.exit_code == 0
    assert "courses" in result.output and "competency" in result.output and "loaded" in result.output


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_core_imports_no_plugin():
    assert not _imports("lms") & {"courses", "competency", "supervision", "creditbank"}


def test_supervision_imports_only_the_core():
    """Supervision reaches courses and competency only through the core's report sources."""
    assert not _imports("supervision") & {"courses", "competency", "creditbank"}
    assert not (_imports("courses") | _imports("competency")) & {"supervision"}


def test_creditbank_imports_only_the_core():
    assert not _imports("creditbank") & {"courses", "competency", "supervision"}
    assert not (_imports("courses") | _imports("competency") | _imports("supervision")) & {"creditbank"}


def test_competency_never_imports_courses():
    assert "courses" not in _imports("competency")


def test_creditbank_imports_only_lms():
    assert not _imports("creditbank") & {"courses", "competency", "supervision"}
    assert not _imports("lms") & {"creditbank"}


def test_courses_never_imports_competency():
    assert "competency" not in _imports("courses")


def test_importing_lms_loads_no_plugin_module():
    code = "import sys, lms; lms.create_app({'LMS_PLUGINS': '', 'INSTANCE_PATH': sys.argv[1]}); " \
           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('courses', 'competency', 'supervision')))"
    out = subprocess.run([sys.executable, "-c", code, os.environ.get("TMPDIR", "/tmp") + "/lms-noplugins"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_tables_carry_plugin_prefix(app):
    from lms.core.db import db

    plugin_names = {p.name for p in app.extensions["lms_plugins"]}
    for mapper in db.Model.registry.mappers:
        package = mapper.class_.__module__.split(".")[0]
        if package in plugin_names:
            assert mapper.local_table.name.startswith(package + "_")


def test_healthz_reports_database_and_broker(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_healthz_fails_when_broker_unreachable(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"})
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["broker"]["ok"] is False


def test_healthz_shows_no_exception_names(tmp_path, monkeypatch):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"})

    def broken():
        raise RuntimeError("secret detail")

    app.extensions["lms"].health_checks["custom"] = broken
    resp = app.test_client().get("/healthz")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert "Error" not in text and "Exception" not in text and "secret" not in text
    assert resp.get_json()["checks"]["broker"]["detail"] == "unavailable"


def test_error_pages_in_users_language(client):
    resp = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 404
    assert "不存在" in resp.get_data(as_text=True)
    resp = client.get("/no-such-page?lang=en")
    assert "does not exist" in resp.get_data(as_text=True)


def test_migrations_match_models(app):
    """Autogenerate finds nothing to add: every model change has a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from lms.core.db import db

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [d for d in compare_metadata(ctx, db.metadata) if d[0] != "remove_table" or d[1].name != "alembic_version"]
    assert diff == []


@pytest.mark.parametrize("setting, value, message", [
    ("MAIL_BACKEND", "console", "MAIL_BACKEND"),
    ("LMS_SMS_BACKEND", "console", "LMS_SMS_BACKEND"),
    ("LMS_SMS_ACCESS_KEY_SECRET", "", "LMS_SMS_ACCESS_KEY_SECRET"),
])
def test_production_refuses_console_delivery(tmp_path, setting, value, message):
    with pytest.raises(UnsafeConfiguration, match=message):
        create_app({"LMS_ENV": "production", "INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": "x" * 48,
                    "LMS_DATABASE_URL": "postgresql://u@127.0.0.1/x", **PRODUCTION_DELIVERY, setting: value})
