"""Every route needs a login (or LRS credentials) unless it is on a short, explained public list."""
from __future__ import annotations

import pytest

from tests.security.helpers import PUBLIC, XAPI_PREFIX, anonymous_csrf, methods, sample_url


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def test_public_list_is_small_and_every_entry_exists(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert len(PUBLIC) <= 40  # a short list: every entry says why it is public
    missing = [e for e in PUBLIC if e not in endpoints and not e.startswith("competency.")]
    assert not missing, f"public routes that no longer exist: {missing}"


def test_every_non_public_route_refuses_anonymous_visitors(app, client):
    token = anonymous_csrf(client)
    problems = []
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in PUBLIC:
            continue
        url = sample_url(rule)
        for method in methods(rule):
            kwargs = {}
            if method in ("POST", "PUT", "PATCH", "DELETE") and not url.startswith(XAPI_PREFIX):
                kwargs["data"] = {"csrf_token": token}
                kwargs["headers"] = {"X-CSRFToken": token}
            if url.startswith(XAPI_PREFIX):
                kwargs["headers"] = {"X-Experience-API-Version": "1.0.3"}
            resp = client.open(url, method=method, **kwargs)
            checked += 1
            status = resp.status_code
            if url.startswith(XAPI_PREFIX):
                ok = status in (401, 405) or (rule.endpoint.startswith("xapi.about") and status == 200)
            elif url.startswith("/api/"):
                ok = status == 401
            else:
                ok = status == 401 or (status == 302 and "/login" in resp.headers.get("Location", ""))
            if not ok:
                problems.append(f"{method} {url} ({rule.endpoint}) -> {status}")
    assert checked > 100
    assert not problems, "anonymous access allowed:\n" + "\n".join(problems)


def test_public_routes_do_not_show_drafts_or_materials_to_visitors(app, client, create_user, create_org):
    from courses.models import CourseFile
    from courses.operations import authoring
    from lms.core.db import db

    school = create_org("学院", "institution")
    teacher = create_user("teacher", school)
    draft = authoring.create_course(teacher, organisation_id=school.id, code="SEC-1", title_zh="草稿课程")
    db.session.add(CourseFile(course_id=draft.id, storage_key=f"courses/{draft.uuid}/a.pdf", original_name="a.pdf",
                              content_type="application/pdf", size=1, category="document"))
    db.session.commit()
    assert client.get(f"/courses/{draft.id}").status_code == 404
    assert client.get(f"/courses/{draft.id}/files/courses/{draft.uuid}/a.pdf").status_code == 404
    assert "草稿课程" not in client.get("/courses/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "/\\/evil.example", "\\\\evil.example",
                                    "/\t/evil.example", "https://evil.example/", "/%5Cevil.example"])
def test_no_open_redirect_after_login_or_language_switch(app, client, create_user, target):
    from urllib.parse import urlsplit

    user = create_user()
    token = anonymous_csrf(client)
    resp = client.post("/lang/en", data={"csrf_token": token, "next": target})
    assert resp.status_code == 302
    loc = resp.headers["Location"]
    assert not urlsplit(loc.replace("\\", "/").replace("\t", "")).netloc, loc
    resp = client.post("/login", query_string={"next": target},
                       data={"csrf_token": token, "login": user.login, "password": "Passw0rd!"})
    assert resp.status_code == 302
    loc = resp.headers["Location"]
    assert not urlsplit(loc.replace("\\", "/").replace("\t", "")).netloc, loc
