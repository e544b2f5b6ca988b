#!/usr/bin/env bash
# Build the wheel, install it in a clean venv (no source tree on the path), migrate a fresh
# SQLite database, seed demo data and serve the home page in Chinese from the installed package.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
quiet() { grep -v "is ignored: it is neither a file nor a directory" | grep -v "BuildBackendWarning\|^ *!!\|^ *\*\*\*\|^  *$" || true; }
"$ROOT/.venv/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation -w "$WORK/dist" "$ROOT" 2>&1 | quiet
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet "$WORK"/dist/*.whl 2>&1 | quiet
cd "$WORK"
export LMS_INSTANCE_PATH="$WORK/instance"
"$WORK/venv/bin/flask" --app lms db upgrade >/dev/null 2>&1
"$WORK/venv/bin/flask" --app lms demo seed --if-empty | grep -q "learner@demo.lms"
"$WORK/venv/bin/flask" --app lms plugins
"$WORK/venv/bin/python" - <<'PY'
import lms, os
assert "site-packages" in lms.__file__, lms.__file__
app = lms.create_app()
html = app.test_client().get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
assert "终身职业技能培训" in html, "Chinese catalogue missing from the wheel"
assert app.test_client().get("/static/css/app.css").status_code == 200
print("wheel OK:", os.path.basename(os.path.dirname(lms.__file__)), "templates from", app.template_folder)
PY
