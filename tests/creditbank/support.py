"""Builders for credit-bank tests."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def catalogue(admin):
    """Two credit types, a course outcome, a level outcome, an outside certificate, an academic course."""
    from creditbank.operations import catalogue as ops
    from lms.core.db import db

    theory = ops.create_credit_type(admin, "VT", "职业理论学分", "Vocational theory credit")
    academic = ops.create_credit_type(admin, "AC", "学历学分", "Academic credit")
    level = ops.create_academic_level(admin, "HV", "高职专科", 3, rank=2, name_en="Higher vocational")
    course = ops.create_outcome(admin, code="CB-ELEC-101", kind="course", title_zh="电工基础", match_key="course:ELEC-101",
                                credit_value=2, credit_type_id=theory.id)
    lvl = ops.create_outcome(admin, code="CB-LEVEL-3", kind="skill_level", title_zh="高级工", match_key="level:*:3",
                             rung=3)
    outside = ops.create_outcome(admin, code="CB-CERT-X", kind="external_certificate", title_zh="电工上岗证",
                                 issuer="应急管理局", credit_value=1, credit_type_id=theory.id)
    acad = ops.create_outcome(admin, code="CB-ACAD-EE", kind="academic_course", title_zh="电工学", credit_value=4,
                              credit_type_id=academic.id, academic_level_id=level.id)
    db.session.commit()
    return SimpleNamespace(theory=theory, academic=academic, level=level, course=course, lvl=lvl, outside=outside,
                           acad=acad)


def approved_rule(author, approver, **kw):
    from creditbank.operations.rules import approve_rule, save_rule
    from lms.core.db import db

    kw.setdefault("effective_from", dt.date(2020, 1, 1))
    kw.setdefault("operator", "and")
    rule = save_rule(author, **kw)
    approve_rule(approver, rule)
    db.session.commit()
    return rule


def completed_enrolment(user, code="ELEC-101", eid=1, score=None, progress=1.0, when=None):
    """A stand-in for the courses plugin's Enrolment, as the ``course_completed`` event carries it."""
    return SimpleNamespace(id=eid, user_id=user.id, course=SimpleNamespace(code=code, title_zh="电工基础"),
                           completed_at=when or dt.datetime.now(dt.timezone.utc), final_score=score, progress=progress)


class LiveSession:
    """A logged-in browser-less session against ``live_server`` (urllib, cookies, no redirects)."""

    def __init__(self, base_url: str):
        import http.cookiejar
        import urllib.request

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **kw):
                return None

        self.base = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect)

    def call(self, path: str, data=None, headers=None, body: bytes | None = None) -> tuple[int, str]:
        import urllib.error
        import urllib.parse
        import urllib.request

        if data is not None:
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def login(self, user, password: str):
        from lms.testing import csrf_token_from

        _status, page = self.call("/login")
        self.call("/login", {"login": user.email, "password": password, "csrf_token": csrf_token_from(page)})
        return self

    def token(self, path: str) -> str:
        from lms.testing import csrf_token_from

        return csrf_token_from(self.call(path)[1])


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: ``files`` maps a field to ``(filename, bytes)``."""
    import uuid as _uuid

    boundary = "----cb" + _uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def in_parallel(n: int, fn) -> list:
    """Run ``fn()`` in ``n`` threads released together; return their results."""
    import threading

    barrier = threading.Barrier(n)
    results = []

    def go():
        barrier.wait()
        try:
            results.append(fn())
        except Exception as exc:  # reported in the results, so a test sees it
            results.append(exc)

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
