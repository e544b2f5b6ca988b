"""Authored HTML is sanitised (nh3) and every other user text is escaped, on every page showing it."""
from __future__ import annotations

from tests.courses.delivery_support import build_world
from tests.security.helpers import login_client

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a><svg onload=alert(4)>'


def _clean(html: str) -> bool:
    """No live tag or attribute of EVIL (escaped text, ``&lt;script&gt;``, is fine)."""
    lowered = html.lower()
    return not any(bad in lowered for bad in ("<script>alert", "<img src=x", 'onerror="alert', "onerror=alert",
                                              'href="javascript:', "<svg onload"))


def test_authored_and_user_text_is_sanitised_or_escaped(app, create_user, create_org):
    from courses.operations import authoring
    from lms.core.db import db

    w = build_world(create_user, create_org, kinds=("text", "quiz"), learners=1)
    authoring.update_course(w.teacher, w.course, description_format="html", description_zh_source=EVIL,
                            title_zh="课程" + EVIL)
    lesson = w.lesson("text")
    authoring.update_lesson(w.teacher, lesson, body_format="html", body_source=EVIL, title_zh="课" + EVIL)
    w.learner.real_name = "学员<script>alert(1)</script><svg onload=alert(4)>"  # at most 100 characters
    db.session.commit()
    pages = {
        w.learner: ["/courses/", f"/courses/{w.course.id}", f"/learn/course/{w.course.id}", f"/learn/lesson/{lesson.id}",
                    "/learn/", "/"],
        w.teacher: [f"/courses/manage/{w.course.id}", f"/courses/manage/{w.course.id}/preview",
                    f"/courses/manage/lessons/{lesson.id}/preview", f"/courses/{w.course.id}/enrolments",
                    f"/teach/course/{w.course.id}", "/teach/"],
    }
    for user, urls in pages.items():
        c = login_client(app, user)
        for url in urls:
            resp = c.get(url)
            assert resp.status_code == 200, url
            assert _clean(resp.get_data(as_text=True)), url
    assert _clean(app.test_client().get(f"/courses/{w.course.id}").get_data(as_text=True))
