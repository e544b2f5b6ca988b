"""Uploads: checked by type and content, stored under LMS_UPLOAD_DIR, served with access checks."""
from __future__ import annotations

import io
import os

import sqlalchemy as sa

from courses.models import CourseFile, Lesson
from lms.core.db import db
from tests.courses.authoring_support import full_course, post_form, school_with_teacher

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test document\n"


def _upload(client, course_id, name, data, category):
    return post_form(client, f"/courses/manage/{course_id}/files",
                     {"category": category, "file": (io.BytesIO(data), name)},
                     content_type="multipart/form-data")


def test_image_upload_is_stored_and_served_to_those_who_may_see_the_course(app, client, auth, create_user,
                                                                             create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    auth.login(teacher)
    resp = _upload(client, course.id, "diagram.png", PNG, "image")
    assert resp.status_code == 302
    row = db.session.scalars(sa.select(CourseFile)).one()
    assert row.storage_key.startswith(f"courses/{course.uuid}/") and row.content_type == "image/png"
    assert os.path.isfile(os.path.join(app.config["LMS_UPLOAD_DIR"], row.storage_key))
    url = f"/courses/{course.id}/files/{row.storage_key}"
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data == PNG
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    # a learner cannot fetch files of a draft course; an anonymous visitor neither
    learner = create_user("learner", school)
    auth.logout()
    assert client.get(url).status_code == 404
    auth.login(learner)
    assert client.get(url).status_code == 404


def test_dangerous_or_mismatched_files_are_refused(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    auth.login(teacher)
    for name, data, category in [("x.svg", b"<svg onload=alert(1)>", "image"),
                                 ("x.html", b"<script>alert(1)</script>", "document"),
                                 ("fake.png", b"<html>not a png</html>", "image"),
                                 ("fake.pdf", b"MZ\x90\x00", "document"),
                                 ("empty.png", b"", "image")]:
        resp = _upload(client, course.id, name, data, category)
        assert resp.status_code == 400, name
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseFile)) == 0


def test_document_lesson_with_uploaded_file(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    module = course.live_modules[0]
    auth.login(teacher)
    resp = post_form(client, f"/courses/manage/modules/{module.id}/lessons/new?kind=document",
                     {"title_zh": "安全手册", "required": "y", "body_format": "markdown",
                      "document_upload": (io.BytesIO(PDF), "手册.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    lesson = db.session.scalars(sa.select(Lesson).filter_by(kind="document")).one()
    assert lesson.document_file.endswith(".pdf")
    resp = client.get(f"/courses/{course.id}/files/{lesson.document_file}")
    assert resp.status_code == 200 and resp.data == PDF
    assert "attachment" in resp.headers["Content-Disposition"]


def test_a_file_key_of_another_course_cannot_be_attached(app, create_user, create_org):
    import pytest

    from courses import uploads
    from courses.operations import authoring as ops
    from courses.operations.errors import CourseError

    school, teacher = school_with_teacher(create_user, create_org)
    one = full_course(teacher, school, code="A-1", publish=False)
    two = full_course(teacher, school, code="A-2", publish=False)
    row = uploads.store_bytes(one, "a.pdf", PDF, "document", by=teacher)
    db.session.commit()
    with pytest.raises(CourseError):
        ops.add_lesson(teacher, two.live_modules[0], "document", title_zh="偷来的", document_file=row.storage_key)
    db.session.rollback()


def test_visitors_get_images_of_published_courses_but_not_materials(app, client, create_user, create_org):
    from courses import uploads
    from courses.operations import authoring as ops

    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    image = uploads.store_bytes(course, "cover.png", PNG, "image", by=teacher)
    doc = uploads.store_bytes(course, "manual.pdf", PDF, "document", by=teacher)
    db.session.expire(course, ["files"])
    ops.set_cover_image(teacher, course, image.storage_key)
    ops.publish(teacher, course)
    db.session.commit()
    assert client.get(f"/courses/{course.id}/files/{image.storage_key}").status_code == 200
    assert client.get(f"/courses/{course.id}/files/{doc.storage_key}").status_code == 404
    assert client.get(f"/courses/{course.id}/files/courses/{course.uuid}/../../etc/passwd").status_code == 404
    html = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert image.storage_key in html
