"""Run Digital Bazaar's VC verifier (Node) on credentials: shares no code with the platform's signer.

The verifier's packages are pinned by ``tests/verifier/package-lock.json`` and installed with
``npm ci`` into a cache folder keyed by that lock file (``LMS_TEST_VERIFIER_CACHE``, default
``~/.cache/lms-test-verifier``). Without node or npm the tests skip (fail under LMS_TEST_STRICT=1).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess

from lms.testing import need

HERE = os.path.join(os.path.dirname(__file__), "verifier")
FILES = ("package.json", "package-lock.json", "verify.mjs")


def verifier_dir() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    need(bool(node and npm), "node and npm are needed for the independent credential verifier")
    digest = hashlib.sha256(b"".join(open(os.path.join(HERE, f), "rb").read() for f in FILES)).hexdigest()[:16]
    root = os.environ.get("LMS_TEST_VERIFIER_CACHE") or os.path.expanduser("~/.cache/lms-test-verifier")
    target = os.path.join(root, digest)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(target, "node_modules", ".installed")):
            os.makedirs(target, exist_ok=True)
            for name in FILES:
                shutil.copy(os.path.join(HERE, name), target)
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                                  capture_output=True, text=True, timeout=600)
            need(done.returncode == 0, f"npm ci of the verifier failed: {done.stderr[-500:]}")
            open(os.path.join(target, "node_modules", ".installed"), "w").close()
    return target


def verify(credentials: list[dict], documents: dict[str, dict]) -> list[dict]:
    """Verify each credential; ``documents`` are what the loader may serve besides the contexts
    (the issuer's controller and key documents, status list credentials)."""
    from lms.records.credentials import CONTEXTS_DIR, LOCAL_CONTEXTS

    folder = verifier_dir()
    contexts = {url: os.path.join(CONTEXTS_DIR, name) for url, name in LOCAL_CONTEXTS.items()
                if os.path.exists(os.path.join(CONTEXTS_DIR, name))}
    payload = json.dumps({"contexts": contexts, "documents": documents, "credentials": credentials})
    done = subprocess.run(["node", os.path.join(folder, "verify.mjs")], input=payload, capture_output=True,
                          text=True, timeout=120, cwd=folder)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def published_documents(client, urls) -> dict[str, dict]:
    """Fetch what a verifier would dereference, from the app itself (by path)."""
    from flask import current_app

    base = current_app.config["LMS_PUBLIC_URL"].rstrip("/")
    out = {}
    for url in urls:
        assert url.startswith(base), url
        resp = client.get(url[len(base):].split("#")[0])
        assert resp.status_code == 200, (url, resp.status_code)
        out[url.split("#")[0]] = resp.get_json()
    return out
