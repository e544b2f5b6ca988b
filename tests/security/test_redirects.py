"""A client-chosen ``next`` (or Referer) never sends the browser to another site."""
from __future__ import annotations

import pytest

from lms.core.redirects import is_local_path
from tests.competency.test_apprenticeship import world  # noqa: F401  (fixture)

OFF_SITE = ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\\evil.example", "\\\\evil.example",
            "https://evil.example/", "/ /evil.example", "/\u3000/evil.example", "javascript:alert(1)", "", None]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_are_not_local_paths(target):
    assert not is_local_path(target)


@pytest.mark.parametrize("target", ["/", "/competency/apprenticeship/", "/learn/lesson/1?x=1#a"])
def test_site_paths_are_local(target):
    assert is_local_path(target)


@pytest.mark.parametrize("target", OFF_SITE[:8])
def test_read_notification_never_redirects_off_site(world, client, auth, target):  # noqa: F811
    from competency.apprenticeship.models import ApprenticeMilestone, ApprenticeshipNotification
    from lms.core.db import db
    from tests.security.helpers import page_csrf

    milestone = db.session.query(ApprenticeMilestone).first()
    note = ApprenticeshipNotification(user_id=world["admin"].id, milestone_id=milestone.id, status="overdue")
    db.session.add(note)
    db.session.commit()
    auth.login(world["admin"])
    resp = client.post(f"/competency/apprenticeship/notifications/{note.id}/read",
                       data={"next": target, "csrf_token": page_csrf(client)})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_language_switch_never_redirects_off_site(client):
    from tests.security.helpers import anonymous_csrf

    token = anonymous_csrf(client)
    resp = client.post("/lang/en", data={"next": "/\t/evil.example", "csrf_token": token},
                       headers={"Referer": "https://evil.example/"})
    assert resp.headers["Location"] == "/"
