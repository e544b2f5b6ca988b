"""Pull-import of a framework from another platform's CASE REST endpoints.

Only hosts the administrator lists in ``COMPETENCY_CASE_HOSTS`` (host names, or ``host:port``)
are asked, with a time limit (``COMPETENCY_CASE_TIMEOUT``, seconds) and a size limit (the file
import's); redirects are not followed, so an allowed host cannot send the request elsewhere.
"""
from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app

from competency.operations import CompetencyError

_PATH = re.compile(r"^(?P<base>.*/ims/case/v1p[01])/(?P<kind>CFPackages|CFDocuments)/(?P<id>[0-9a-fA-F-]{36})/?$")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, "redirects are not followed", headers, fp)


def package_url(url: str) -> str:
    """The ``CFPackages/{id}`` address for a package or document address on an allowed host."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CompetencyError("the address must be an http(s) URL", field="url")
    hosts = current_app.config.get("COMPETENCY_CASE_HOSTS") or ()
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    allowed = {h.strip().lower() for h in hosts if h.strip()}
    host = parts.hostname.lower()
    if host not in allowed and f"{host}:{parts.port}" not in allowed:
        raise CompetencyError(f"{host} is not among the CASE servers the administrator allows "
                              f"(COMPETENCY_CASE_HOSTS)", status=403, code="host_not_allowed", field="url")
    m = _PATH.match(parts.path)
    if m is None:
        raise CompetencyError("the address must end in /ims/case/v1p0 (or v1p1)/CFPackages/{identifier} or "
                              "CFDocuments/{identifier}", field="url")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"{m['base']}/CFPackages/{m['id']}", "", ""))


def fetch(url: str) -> str:
    """The package text at ``url`` (allowed host, time and size limits)."""
    from competency.operations.case import MAX_BYTES

    url = package_url(url)
    timeout = float(current_app.config.get("COMPETENCY_CASE_TIMEOUT", 10))
    limit = current_app.config.get("COMPETENCY_IMPORT_MAX_BYTES", MAX_BYTES)
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with opener.open(request, timeout=timeout) as res:
            body = res.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise CompetencyError(f"the CASE server answered {exc.code}", status=502, code="upstream") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CompetencyError(f"the CASE server could not be reached: {reason}", status=502, code="upstream") from None
    if len(body) > limit:
        raise CompetencyError("the package is too large", status=502, code="upstream")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CompetencyError("the CASE server's answer is not UTF-8", status=502, code="upstream") from None


def pull_framework(url: str, *, actor, owner_org_id):
    """Fetch a CASE package from an allowed server and import it (as a file import would)."""
    from competency.operations.frameworks import import_framework

    return import_framework(fetch(url), "pulled.json", actor=actor, owner_org_id=owner_org_id)
