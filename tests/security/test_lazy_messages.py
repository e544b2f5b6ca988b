"""Translated messages formatted with user text are escaped wherever they are shown as HTML.

Flask-Babel's lazy strings declare themselves HTML (``__html__``): without the core's fix, a
flash or form error ``lazy_gettext("... %(name)s", name=<user text>)`` rendered the user's markup.
"""
from __future__ import annotations

from flask import render_template_string
from flask.json.tag import TaggedJSONSerializer
from flask_babel import lazy_gettext as _l

from lms.core.db import db

EVIL = "<img src=x onerror=alert(1)>"


def test_a_lazy_message_with_user_text_is_escaped_in_templates(app):
    with app.test_request_context():
        html = render_template_string("{{ m }}", m=_l("%(name)s is already enrolled in this course.", name=EVIL))
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert str(_l("%(name)s is already enrolled in this course.", name=EVIL)).startswith(EVIL)  # plain text unchanged


def test_a_flashed_lazy_message_stays_escaped_through_the_session(app):
    s = TaggedJSONSerializer()
    loaded = s.loads(s.dumps({"_flashes": [("danger", _l("%(name)s is already enrolled in this course.",
                                                          name=EVIL))]}))
    with app.test_request_context():
        html = render_template_string("{{ m }}", m=loaded["_flashes"][0][1])
    assert EVIL not in html and "&lt;img" in html


def test_a_lesson_named_with_markup_is_escaped_in_the_publish_refusal(client, auth, create_user, create_org):
    from courses.operations import authoring
    from lms.testing import csrf_token_from

    school = create_org("学院", "institution")
    teacher = create_user("teacher", school)
    course = authoring.create_course(teacher, organisation_id=school.id, code="XSS-1", title_zh="课程")
    module = authoring.add_module(teacher, course, "模块", "")
    authoring.add_lesson(teacher, module, "text", title_zh=EVIL)
    db.session.commit()
    auth.login(teacher)
    page = client.get(f"/courses/manage/{course.id}")
    token = csrf_token_from(page.get_data(as_text=True))
    resp = client.post(f"/courses/manage/{course.id}/publish", data={"csrf_token": token}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
