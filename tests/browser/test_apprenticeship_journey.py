"""The apprenticeship journey in headless Chromium: an enterprise administrator creates a programme
and a cohort with both mentors, statements arrive, the mentor signs off a workplace task, the
dashboard shows milestones turning done, a due date passes and the daily task marks the milestone
overdue, and the subsidy export holds the right rows. Then scoping, phone width and accessibility."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from lms.testing import browser_login

pytestmark = pytest.mark.browser

SAFETY = "http://example.com/courses/safety"


@pytest.fixture
def people(app, create_org, create_user):
    ent = create_org("华东电气有限公司", "enterprise")
    school = create_org("江南技师学院", "institution")
    return {"ent": ent, "school": school,
            "admin": create_user("enterprise_admin", ent, login="boss@example.com", real_name="陈经理"),
            "mentor": create_user("mentor", ent, login="zhang@example.com", real_name="张师傅"),
            "mentor2": create_user("mentor", ent, login="wang@example.com", real_name="王师傅"),
            "teacher": create_user("teacher", school, login="zhao@example.com", real_name="赵导师"),
            "a1": create_user("learner", ent, login="li1@example.com", real_name="李一"),
            "a2": create_user("learner", ent, login="li2@example.com", real_name="李二")}


def _logout(page):
    page.click("[data-testid=logout]")
    page.wait_for_load_state()


def _cell(page, apprentice_name, code):
    row = page.locator("[data-testid=matrix] tbody tr", has_text=apprentice_name)
    return row.locator(f"td[data-code={code}] .badge")


def _record_statement(user, verb, iri, parent=None, duration=None):
    from lms.core.db import db
    from lms.records.provenance import SYSTEM, Source
    from lms.xapi.recorder import actor_for
    from lms.xapi.storage import store_statements

    st = {"id": str(uuid.uuid4()), "actor": actor_for(user),
          "verb": {"id": verb, "display": {"en-US": "completed"}}, "object": {"objectType": "Activity", "id": iri}}
    if parent:
        st["context"] = {"contextActivities": {"parent": [{"id": parent}]}}
    if duration:
        st["result"] = {"duration": duration, "completion": True}
    # A course on another platform: a registered system reports it (the platform's own "completed"
    # statements repeat time it recorded already and count no hours).
    store_statements([st], version="1.0.3",
                     authority={"objectType": "Agent", "account": {"homePage": "https://elsewhere.example",
                                                                   "name": "lms"}},
                     source=Source(SYSTEM, label="外部学习平台"))
    db.session.commit()


def test_enterprise_runs_a_cohort_from_programme_to_subsidy_claim(app, people, live_server, browser_page,
                                                                 artifacts_dir, tmp_path):
    from openpyxl import load_workbook

    from competency.apprenticeship.evidence import months_between
    from competency.apprenticeship.tasks import due_check_task

    page, url = browser_page, live_server.url
    today = dt.date.today()
    start = today - dt.timedelta(days=10)

    # 1. The enterprise administrator creates a programme and adds two milestones to its template.
    browser_login(page, url, "boss@example.com")
    page.goto(url + "/competency/apprenticeship/")
    page.click("a[href$='/programmes/new']")
    page.fill("input[name=title]", "2026 电工新型学徒班")
    page.select_option("select[name=school_id]", label="江南技师学院")
    page.fill("input[name=occupation_code]", "6-31-01-03")
    page.fill("input[name=duration_months]", "12")
    page.fill("input[name=hours_per_year]", "600")
    page.fill("input[name=online_hours_per_year]", "150")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "2026 电工新型学徒班"
    for code, title, due, criteria in (
            ("safety_course", "安全生产课程", 20, {"type": "activity_completed", "parent": SAFETY, "min": 1}),
            ("first_task", "第一项岗位任务", 45, {"type": "signoff", "task": "wiring-1"})):
        page.click("details summary")
        page.fill("input[name=ms-code]", code)
        page.fill("input[name=ms-title]", title)
        page.fill("input[name=ms-due_offset_days]", str(due))
        page.fill("textarea[name=ms-criteria]", json.dumps(criteria))
        page.click("details form button[type=submit]")
        page.wait_for_load_state()
        assert title in page.content()

    # 2. A cohort starting ten days ago, one apprentice by form and one by CSV, each with both mentors.
    page.fill("input[name=cohort-name]", "2026 春季班")
    page.fill("input[name=cohort-start_date]", start.isoformat())
    page.click("form[aria-labelledby=new-cohort] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "2026 春季班"
    page.fill("input[name=ap-login]", "li1@example.com")
    page.fill("input[name=ap-enterprise_mentor]", "zhang@example.com")
    page.fill("input[name=ap-school_mentor]", "zhao@example.com")
    page.fill("input[name=ap-contract_start]", start.isoformat())
    page.fill("input[name=ap-contract_end]", (start + dt.timedelta(days=3 * 365)).isoformat())
    page.fill("input[name=ap-agreement_number]", "XT-2026-001")
    page.fill("input[name=ap-agreement_signed_on]", start.isoformat())
    page.click("section[aria-labelledby=add-title] button[type=submit]")
    page.wait_for_load_state()
    csv_text = ("login,enterprise_mentor,school_mentor,contract_start,contract_end,agreement_number,agreement_signed_on\n"
                f"li2@example.com,wang@example.com,zhao@example.com,{start},{start + dt.timedelta(days=400)},,\n")
    page.fill("textarea[name=imp-csv_text]", csv_text)
    page.click("section[aria-labelledby=import-title] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=matrix] tbody tr").count() == 2
    assert _cell(page, "李一", "agreement").inner_text() == "已完成"
    assert _cell(page, "李一", "safety_course").get_attribute("data-status") != "done"

    # 3. Statements arrive for apprentice 1 (a course elsewhere, two hours online).
    _record_statement(people["a1"], "http://adlnet.gov/expapi/verbs/completed", SAFETY + "/lesson-1",
                      parent=SAFETY, duration="PT2H")

    # 4. The enterprise mentor signs off the workplace task, with a comment and an attachment.
    _logout(page)
    browser_login(page, url, "zhang@example.com")
    page.goto(url + "/competency/apprenticeship/")
    page.click("[data-testid=mentees] a", )
    page.fill("input[name=so-task_code]", "wiring-1")
    page.fill("input[name=so-task_title]", "配电箱接线")
    page.fill("textarea[name=so-comment]", "接线规范，验收合格")
    page.set_input_files("input[name=so-attachment]", files=[{"name": "验收单.pdf", "mimeType": "application/pdf",
                                                              "buffer": b"%PDF-1.4 acceptance"}])
    page.click("[data-testid=signoff-form] button[type=submit]")
    page.wait_for_load_state()
    assert "岗位任务已签核" in page.content()
    assert "配电箱接线" in page.locator("[data-testid=signoffs]").inner_text()
    assert page.locator("[data-testid=timeline] li[data-code=first_task] .badge").inner_text() == "已完成"

    # 5. The dashboard shows the milestones turned done (text and colour class).
    _logout(page)
    browser_login(page, url, "boss@example.com")
    page.goto(url + "/competency/apprenticeship/")
    page.click("[data-testid=cohorts] a:text('2026 春季班')")
    for code in ("agreement", "safety_course", "first_task"):
        badge = _cell(page, "李一", code)
        assert badge.inner_text() == "已完成" and "status-done" in badge.get_attribute("class")
    assert _cell(page, "李二", "safety_course").get_attribute("data-status") in ("pending", "on_track", "at_risk")
    page.screenshot(path=f"{artifacts_dir}/apprenticeship-dashboard.png", full_page=True)

    # 6. The safety course's due date (start + 20 days) passes; the daily task marks it overdue.
    due_check_task((today + dt.timedelta(days=15)).isoformat())
    page.reload()
    badge = _cell(page, "李二", "safety_course")
    assert badge.inner_text() == "已逾期" and "status-overdue" in badge.get_attribute("class")
    assert "李二" in page.locator("[data-testid=overdue]").inner_text()
    assert _cell(page, "李一", "safety_course").inner_text() == "已完成"

    # 7. The subsidy claim export holds one row per apprentice with the right figures.
    with page.expect_download() as info:
        page.click("[data-testid=export-subsidy]")
    path = tmp_path / "subsidy.xlsx"
    info.value.save_as(path)
    ws = load_workbook(path).active
    header = [c.value for c in ws[1]]
    rows = [{h: c.value for h, c in zip(header, r)} for r in ws.iter_rows(min_row=2, values_only=False)]
    first, second, total = rows[0], rows[1], rows[2]
    assert first["学徒"] == "李一" and first["企业导师"] == "张师傅" and first["院校导师"] == "赵导师"
    assert first["在培月数"] == months_between(start, today)
    assert first["线上学时"] == 2.0 and first["线下学时"] == 0
    assert "签订培养协议" in first["已达成的里程碑"] and "安全生产课程" in first["已达成的里程碑"]
    assert first["取得证书"] == "否"
    assert first["应补贴金额（元）"] == 5000 and first["预拨金额（元）"] == 2500 and first["结业拨付金额（元）"] == 0
    assert second["学徒"] == "李二" and second["预拨金额（元）"] == 0 and second["应拨付金额（元）"] == 0
    assert total["学徒"] == "合计" and total["应拨付金额（元）"] == 2500


def _cohort_with_two_mentors(people):
    from competency.apprenticeship import operations as ops
    from lms.core.db import db

    start = dt.date.today() - dt.timedelta(days=40)
    programme, _w = ops.create_programme(people["admin"], title="数字化运维学徒班", enterprise=people["ent"],
                                         school=people["school"], hours_per_year=600, online_hours_per_year=150)
    cohort = ops.create_cohort(people["admin"], programme, name="秋季班", start_date=start)
    aps = []
    for who, mentor in (("a1", "mentor"), ("a2", "mentor2")):
        ap, _ = ops.add_apprentice(people["admin"], cohort, user=people[who], enterprise_mentor=people[mentor],
                                   school_mentor=people["teacher"], contract_start=start,
                                   contract_end=start + dt.timedelta(days=730))
        aps.append(ap)
    db.session.commit()
    return cohort, aps


def test_a_mentor_sees_only_their_apprentices_in_the_browser(app, people, live_server, browser_page):
    cohort, (ap1, ap2) = _cohort_with_two_mentors(people)
    page, url = browser_page, live_server.url
    browser_login(page, url, "wang@example.com")
    page.goto(f"{url}/competency/apprenticeship/cohorts/{cohort.id}")
    matrix = page.locator("[data-testid=matrix]").inner_text()
    assert "李二" in matrix and "李一" not in matrix
    response = page.goto(f"{url}/competency/apprenticeship/apprentices/{ap1.id}")
    assert response.status == 404
    page.goto(f"{url}/competency/apprenticeship/apprentices/{ap2.id}")
    assert page.locator("[data-testid=signoff-form]").count() == 1


def test_dashboard_and_plan_work_at_phone_width_and_pass_axe(app, people, live_server, phone_page, browser_page):
    from axe_playwright_python.sync_playwright import Axe

    cohort, (ap1, _ap2) = _cohort_with_two_mentors(people)
    browser_login(phone_page, live_server.url, "boss@example.com")
    for path in (f"/competency/apprenticeship/cohorts/{cohort.id}", f"/competency/apprenticeship/apprentices/{ap1.id}",
                 "/competency/apprenticeship/"):
        phone_page.goto(live_server.url + path)
        assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    axe = Axe()
    browser_login(browser_page, live_server.url, "zhang@example.com")
    for path in (f"/competency/apprenticeship/cohorts/{cohort.id}", f"/competency/apprenticeship/apprentices/{ap1.id}"):
        browser_page.goto(live_server.url + path)
        results = axe.run(browser_page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], (path, [(v["id"], v["help"]) for v in serious])
