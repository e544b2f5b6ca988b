"""The courses journey in headless Chromium: a teacher authors and publishes a course through the
authoring pages; a learner finds it, enrols, studies a text and a video lesson, fails the quiz,
passes it and completes the course; the LRS then holds the matching statements (read back with a
tincan RemoteLRS client). The same journey at 375 x 667, and an accessibility check."""
from __future__ import annotations

import functools
import http.server
import os
import re
import struct
import threading
import wave

import pytest

from lms.testing import browser_login, free_port

pytestmark = pytest.mark.browser

MEDIA_SECONDS = 8


@pytest.fixture
def media_server(tmp_path):
    """A plain HTTP server on 127.0.0.1 hosting a short WAV file (the "video" of the lesson)."""
    path = tmp_path / "lesson.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(struct.pack("<h", 0) * 8000 * MEDIA_SECONDS)
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/lesson.wav"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def people(app, create_user, create_org):
    school = create_org("职业技术学院", "institution")
    return {"teacher": create_user("teacher", school, real_name="王老师"),
            "learner": create_user("learner", school, real_name="李学员")}


def _submit(page, form_selector):
    page.locator(f"{form_selector} button[type=submit]").first.click()
    page.wait_for_load_state()


def author_course(page, base, teacher, media_url, code):
    browser_login(page, base, teacher.login)
    page.goto(base + "/courses/manage/new")
    page.fill("input[name=code]", code)
    page.fill("input[name=title_zh]", "安全用电基础")
    page.fill("input[name=title_en]", "Electrical safety")
    page.fill("input[name=study_hours]", "2")
    _submit(page, "main form")
    course_url = page.url.split("#")[0]
    assert re.search(r"/courses/manage/\d+$", course_url), course_url
    page.fill("form[action$='/modules'] input[name=title_zh]", "第一章")
    _submit(page, "form[action$='/modules']")
    # text lesson
    page.goto(course_url)
    page.click("[data-testid=add-text]")
    page.fill("input[name=title_zh]", "安全须知")
    page.fill("textarea[name=body_source]", "# 安全第一\n\n作业前必须**断电**。")
    _submit(page, "main form[enctype]")
    # video lesson
    page.goto(course_url)
    page.click("[data-testid=add-video]")
    page.fill("input[name=title_zh]", "接线演示")
    page.fill("input[name=video_url]", media_url)
    _submit(page, "main form[enctype]")
    # quiz with two questions
    page.goto(course_url)
    page.click("[data-testid=add-quiz]")
    page.fill("input[name=title_zh]", "单元测验")
    page.fill("input[name=pass_mark]", "100")
    _submit(page, "main form[enctype]")
    lesson_url = page.url.split("#")[0]
    page.goto(lesson_url)
    page.click("a[href*='/questions/new']")
    page.select_option("select[name=kind]", "single")
    page.fill("textarea[name=prompt]", "安全电压不超过多少伏？")
    page.fill("textarea[name=choices_text]", "*36\n220\n380")
    _submit(page, "main form")
    page.goto(lesson_url)
    page.click("a[href*='/questions/new']")
    page.select_option("select[name=kind]", "truefalse")
    page.fill("textarea[name=prompt]", "可以带电作业。")
    page.select_option("select[name=truefalse_answer]", "false")
    _submit(page, "main form")
    page.goto(course_url)
    page.locator("form[action$='/publish'] button").first.click()
    page.wait_for_load_state()
    assert "status-done" in page.locator("[data-testid=course-status]").get_attribute("class")  # published
    page.click("[data-testid=logout]") if page.locator("[data-testid=logout]").is_visible() else page.goto(base + "/")
    page.context.clear_cookies()


def _answer(page, right: bool):
    questions = page.locator("fieldset.question")
    assert questions.count() == 2
    for i in range(2):
        q = questions.nth(i)
        legend = q.locator("legend").inner_text()
        if "伏" in legend:
            q.locator("label", has_text="36" if right else "220").locator("input").check()
        else:
            q.locator("input[value=false]" if right else "input[value=true]").check()
    page.click("[data-testid=submit-attempt]")
    page.wait_for_load_state()


def study(page, base, learner, artifacts_dir, tag, axe=None):
    browser_login(page, base, learner.login)
    page.goto(base + "/courses/?q=安全用电")
    page.locator("[data-testid=course-card] a", has_text="安全用电基础").first.click()
    page.wait_for_load_state()
    if axe:
        axe("catalogue course page")
    page.locator("form[action$='/enrol'] button").click()
    page.wait_for_load_state()
    page.click("[data-testid=start-course]")
    page.wait_for_load_state()
    assert "安全第一" in page.content()
    assert "已完成" not in page.locator("[data-testid=lesson-status]").inner_text()  # opening is not reading
    if axe:
        axe("text lesson")
    page.click("[data-testid=mark-read]")
    page.wait_for_load_state()
    assert "已完成" in page.locator("[data-testid=lesson-status]").inner_text()
    page.click("[data-testid=next-lesson]")
    page.wait_for_load_state()
    page.wait_for_function("document.getElementById('lesson-video').readyState >= 1")
    page.evaluate("(() => { const v = document.getElementById('lesson-video'); v.muted = true; v.playbackRate = 2; v.play(); })()")
    page.wait_for_selector("#video-progress[data-completed=true]", timeout=30000)
    page.screenshot(path=os.path.join(artifacts_dir, f"courses-{tag}-video.png"), full_page=True)
    page.click("[data-testid=next-lesson]")
    page.wait_for_load_state()
    page.click("[data-testid=start-attempt]")
    page.wait_for_load_state()
    if axe:
        axe("quiz attempt")
    _answer(page, right=False)
    assert "未通过" in page.locator("[data-testid=attempt-result]").inner_text()
    page.click("text=返回测验")
    page.wait_for_load_state()
    page.click("[data-testid=start-attempt]")
    page.wait_for_load_state()
    _answer(page, right=True)
    assert "通过" in page.locator("[data-testid=attempt-result]").inner_text()
    assert "未通过" not in page.locator("[data-testid=attempt-result]").inner_text()
    page.goto(base + "/learn/")
    page.click("text=安全用电基础")
    page.wait_for_load_state()
    assert "课程已完成" in page.locator("[data-testid=enrolment-status]").inner_text()
    if axe:
        axe("learner course page")
    page.screenshot(path=os.path.join(artifacts_dir, f"courses-{tag}-done.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def check_lrs(live_server, learner, course_code):
    """Read the learner's statements back through /xapi/statements with a tincan RemoteLRS."""
    from tincan import Agent, AgentAccount, RemoteLRS

    from courses.models import Course, Enrolment
    from lms.core.db import db
    from lms.xapi.credentials import create_client

    _client, key, secret = create_client("journey reader", ["statements/read"])
    db.session.commit()
    course = db.session.query(Course).filter_by(code=course_code).one()
    enrolment = db.session.query(Enrolment).filter_by(course_id=course.id, user_id=learner.id).one()
    lrs = RemoteLRS(endpoint=live_server.url + "/xapi/", username=key, password=secret, version="1.0.3")
    agent = Agent(account=AgentAccount(home_page=live_server.url, name=str(learner.uuid)))
    verbs, objects, results = [], [], []
    response = lrs.query_statements({"agent": agent, "registration": str(enrolment.registration), "limit": 200})
    assert response.success, response.data
    while True:
        for st in response.content.statements:
            verbs.append(st.verb.id.rsplit("/", 1)[-1])
            objects.append(st.object.id)
            results.append(st.result)
        if not response.content.more:
            break
        response = lrs.more_statements(response.content)
        assert response.success
    assert len(verbs) >= 10
    for expected in ("registered", "launched", "experienced", "initialized", "progressed", "attempted", "answered",
                     "failed", "passed", "completed"):
        assert expected in verbs, (expected, verbs)
    assert verbs.count("answered") == 4 and verbs.count("failed") == 1 and verbs.count("passed") == 1
    course_completed = [r for v, o, r in zip(verbs, objects, results) if v == "completed" and o == course.activity_iri]
    assert len(course_completed) == 1 and course_completed[0].duration is not None
    return verbs


def test_teacher_authors_and_learner_completes_the_course(app, live_server, browser_page, people, media_server,
                                                          artifacts_dir):
    from axe_playwright_python.sync_playwright import Axe

    page = browser_page
    author_course(page, live_server.url, people["teacher"], media_server, "SAFE-101")
    axe_runner = Axe()

    def axe(label):
        results = axe_runner.run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], (label, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious])

    study(page, live_server.url, people["learner"], artifacts_dir, "desktop", axe=axe)
    page.goto(live_server.url + "/courses/")
    axe("catalogue")
    check_lrs(live_server, people["learner"], "SAFE-101")


def test_the_same_journey_on_a_phone(app, live_server, browser_page, phone_page, people, media_server, artifacts_dir):
    author_course(browser_page, live_server.url, people["teacher"], media_server, "SAFE-102")
    study(phone_page, live_server.url, people["learner"], artifacts_dir, "phone")
    check_lrs(live_server, people["learner"], "SAFE-102")
