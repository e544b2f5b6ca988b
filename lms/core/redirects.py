"""Following a ``next`` (or Referer) target safely: only paths on this site, never another host.

Browsers strip tabs and newlines from URLs and read ``\\`` as ``/``, so ``/<TAB>/evil.example``
and ``/\\evil.example`` lead off-site although they start with one ``/``. Every view that follows a
client-chosen target goes through :func:`safe_redirect`.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, url_for


def is_local_path(target: str | None) -> bool:
    """Whether ``target`` is a path on this site (not ``//host``, ``/\\host`` or one hidden by
    control characters or whitespace, which browsers strip or read as slashes)."""
    if not target or not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return False
    if "\\" in target or any(ord(c) < 33 or ord(c) == 127 or c.isspace() for c in target):
        return False
    if target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_target(target: str | None, fallback: str | None = None) -> str:
    """``target`` if it is a local path, else ``fallback`` (default: the home page)."""
    return target if is_local_path(target) else (fallback or url_for("main.home"))


def safe_redirect(target: str | None, fallback: str | None = None):
    """A redirect to ``target`` if it is a local path, else to ``fallback`` (default: home)."""
    return redirect(safe_target(target, fallback))
