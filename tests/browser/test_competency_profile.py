"""Browser: a learner's competency profile shows the level, the coverage chart and the evidence
links, on a desktop and at 375 px wide, without serious accessibility violations."""
from __future__ import annotations

import os

import pytest

from lms.core.db import db
from lms.testing import browser_login
from tests.competency.helpers import COMPLETED, PASSED, X, import_small, level, mbox, record, stmt

pytestmark = pytest.mark.browser


@pytest.fixture
def learner_with_evidence(app, create_user, create_org):
    from competency.operations.attainment import award_level, record_exam_result
    from competency.models import LevelAttainment
    import sqlalchemy as sa

    org = create_org("Browser school", "institution")
    admin = create_user("institution_admin", org, login="badmin@example.com")
    learner = create_user("learner", org, login="blearner@example.com", real_name="赵六")
    fw = import_small()
    a = mbox("blearner@example.com")
    record(stmt(a, PASSED, X + "wiring", scaled=0.9, platform="外部实训平台"), stmt(a, COMPLETED, X + "laws-a"),
           stmt(a, COMPLETED, X + "laws-b"))
    lv = level(fw, 1)
    record_exam_result(learner, lv, "theory", 82, actor=admin)
    record_exam_result(learner, lv, "practical", 77, actor=admin)
    att = db.session.scalar(sa.select(LevelAttainment).where(LevelAttainment.user_id == learner.id,
                                                             LevelAttainment.level_id == lv.id))
    award_level(att, actor=admin)
    db.session.commit()
    return learner


def _check_profile(page, base, artifacts_dir, tag):
    page.goto(base + "/competency/")
    assert page.locator("h1").first.inner_text().strip()
    held = page.locator(".level-held").inner_text()
    assert "初级工" in held
    chart = page.locator("svg.coverage-chart").first
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img" and chart.locator("title").count() == 1
    assert page.locator("table.coverage-table").first.is_visible()
    links = page.locator("a.evidence-link")
    assert links.count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=os.path.join(artifacts_dir, f"competency-profile-{tag}.png"), full_page=True)
    links.first.click()
    page.wait_for_load_state()
    assert "/competency/evidence/" in page.url
    assert X in page.content()


def test_profile_page_on_desktop_with_axe(app, live_server, browser_page, learner_with_evidence, artifacts_dir):
    from axe_playwright_python.sync_playwright import Axe

    browser_login(browser_page, live_server.url, "blearner@example.com")
    _check_profile(browser_page, live_server.url, artifacts_dir, "desktop")
    browser_page.goto(live_server.url + "/competency/")
    results = Axe().run(browser_page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious]


def test_profile_page_at_375_px(app, live_server, phone_page, learner_with_evidence, artifacts_dir):
    browser_login(phone_page, live_server.url, "blearner@example.com")
    _check_profile(phone_page, live_server.url, artifacts_dir, "phone")
