"""The LRS admin pages in headless Chromium: accessible (axe) and usable at 375 px wide."""
from __future__ import annotations

import json

import pytest

from lms.core.db import db
from lms.testing import browser_login
from lms.xapi import forwarding, recorder

pytestmark = pytest.mark.browser

PAGES = ("/admin/xapi/statements", "/admin/xapi/clients", "/admin/xapi/forwarding",
         "/admin/xapi/forwarding/province")


@pytest.fixture
def setup_data(app, create_user, create_org):
    saved = app.config.get("LMS_XAPI_FORWARD")
    app.config["LMS_XAPI_FORWARD"] = json.dumps([{"name": "province", "endpoint": "http://127.0.0.1:9/xapi/"}])
    admin = create_user(admin=True, real_name="管理员")
    learner = create_user("learner", create_org("学校", "institution"), real_name="李学员")
    sid = recorder.record({"actor": recorder.actor_for(learner),
                           "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"zh-CN": "完成"}},
                           "object": {"id": "http://lms.test/courses/1", "definition": {"name": {"zh-CN": "焊接"}}}})
    db.session.commit()
    yield admin, sid
    app.config["LMS_XAPI_FORWARD"] = saved if saved is not None else forwarding.SETTINGS["LMS_XAPI_FORWARD"]


@pytest.mark.parametrize("page_fixture", ["browser_page", "phone_page"])
def test_lrs_admin_pages_are_accessible_and_fit_a_phone(request, app, live_server, setup_data, page_fixture):
    from axe_playwright_python.sync_playwright import Axe

    page = request.getfixturevalue(page_fixture)
    admin, sid = setup_data
    browser_login(page, live_server.url, admin.login)
    axe = Axe()
    for path in (*PAGES, f"/admin/xapi/statements/{sid}"):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], (path, [(v["id"], v["help"]) for v in serious])
        if page_fixture == "phone_page":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 376, (path, width)
    # The statement browser lists the statement and opens its JSON.
    page.goto(live_server.url + "/admin/xapi/statements")
    page.click(f"a[href='/admin/xapi/statements/{sid}']")
    assert sid in page.locator("[data-testid=statement-json]").inner_text()
