"""Course packages: export, then import on a fresh database reproduces the course; bad packages
are refused with a clear message and write nothing."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from courses import uploads
from courses.models import Course, CourseFile, Lesson
from courses.operations import authoring as ops
from courses.operations import packages
from courses.operations.errors import CourseError
from lms.core.db import db
from tests.courses.authoring_support import full_course, post_form, school_with_teacher

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
PDF = b"%PDF-1.4\n%package test\n"


def _rich_course(teacher, school):
    course = full_course(teacher, school, publish=False)
    image = uploads.store_bytes(course, "封面.png", PNG, "image", by=teacher)
    doc = uploads.store_bytes(course, "手册.pdf", PDF, "document", by=teacher)
    db.session.expire(course, ["files"])
    ops.set_cover_image(teacher, course, image.storage_key)
    ops.add_lesson(teacher, course.live_modules[0], "document", title_zh="手册", document_file=doc.storage_key)
    ops.add_lesson(teacher, course.live_modules[1], "external", title_zh="外部仿真",
                   launch_url="https://sim.example.com/au/index.html")
    ops.add_lesson(teacher, course.live_modules[0], "text", title_zh="图解",
                   body_source=f"![焊缝](/courses/{course.id}/files/{image.storage_key})")
    ops.publish(teacher, course)
    db.session.commit()
    return course


@pytest.fixture
def fresh_app(tmp_path):
    """A second app on its own, empty database (as on another platform)."""
    from lms import create_app
    from lms.core.migrations import upgrade_all

    other = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
        "LMS_DATABASE_URL": "sqlite:///" + str(tmp_path / "other.sqlite3"),
        "LMS_SECRET_KEY": "another-test-secret-key-0123456789abcdef", "LMS_LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "",
    })
    with other.app_context():
        upgrade_all()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_export_then_import_on_a_fresh_database_reproduces_the_course(app, create_user, create_org, fresh_app):
    school, teacher = school_with_teacher(create_user, create_org)
    full_course(teacher, school, code="FIRST-1", publish=False)  # so the ids differ between the databases
    course = _rich_course(teacher, school)
    original = packages.course_document(course)
    assert "@course-files/" in json.dumps(original, ensure_ascii=False)
    data = packages.export_course(course)

    with fresh_app.app_context():
        from lms.accounts.operations import register_user
        from lms.organisations.operations import add_membership, create_organisation

        org = create_organisation("另一所学院", "institution")
        importer = register_user("author@other.edu", "Passw0rd!x", "李老师")
        add_membership(importer, org, "teacher")
        db.session.commit()
        imported = packages.import_course(importer, data, organisation_id=org.id)
        db.session.commit()
        copy = db.session.get(Course, imported.id)
        assert copy.status == "draft" and copy.organisation_id == org.id
        assert packages.course_document(copy) == original
        assert copy.id != course.id
        figure = next(lesson for lesson in copy.live_lessons if lesson.title_zh == "图解")
        assert f'src="/courses/{copy.id}/files/courses/{course.uuid}/' in figure.body_html
        assert copy.activity_iri.endswith(f"/course/{course.uuid}")
        for f in copy.files:
            assert uploads.read_bytes(f.storage_key) in (PNG, PDF)
        assert ops.publish_problems(copy) == []
        # the same package cannot be imported twice (same uuids)
        with pytest.raises(CourseError) as info:
            packages.import_course(importer, data, organisation_id=org.id, code="OTHER-1")
        assert info.value.status == 409
        db.session.rollback()


def test_export_and_import_through_the_pages(app, client, auth, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = _rich_course(teacher, school)
    auth.login(teacher)
    resp = client.get(f"/courses/manage/{course.id}/export")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    doc = json.loads(zipfile.ZipFile(io.BytesIO(resp.data)).read("course.json"))
    assert doc["course"]["code"] == "WELD-101" and len(doc["files"]) == 2
    # importing into the same database is refused clearly (the course already exists here)
    resp = post_form(client, "/courses/manage/import",
                     {"package": (io.BytesIO(resp.data), "weld.zip"), "organisation_id": str(school.id)},
                     content_type="multipart/form-data")
    assert resp.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 1


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _doc_of(course) -> dict:
    return packages.course_document(course)


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d.update(format="scorm"), "not a course package"),
    (lambda d: d["course"].update(uuid="nope"), "uuid"),
    (lambda d: d["modules"][0]["lessons"][0].update(kind="hologram"), "unknown kind"),
    (lambda d: d["modules"][1]["lessons"][0]["questions"][0].update(kind="essay"), "unknown kind"),
    (lambda d: d["files"].append({"storage_key": "../../etc/passwd", "original_name": "x", "category": "image",
                                  "path": "files/x"}), ""),
    (lambda d: d["modules"][1]["lessons"][0]["questions"][0].update(correct=["no-such-choice"]), "correct"),
])
def test_invalid_packages_are_refused_and_write_nothing(app, create_user, create_org, mutate, needle):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school, publish=False)
    doc = _doc_of(course)
    db.session.delete(course)  # make room: the import would otherwise clash on uuids
    db.session.commit()
    mutate(doc)
    data = _zip({"course.json": json.dumps(doc).encode()})
    from flask_babel import force_locale

    with force_locale("en"), pytest.raises(CourseError) as info:
        packages.import_course(teacher, data, organisation_id=school.id)
    assert info.value.status in (400, 409)
    with force_locale("en"):
        assert needle in str(info.value.message)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lesson)) == 0


def test_not_a_zip_is_refused(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    from flask_babel import force_locale

    with pytest.raises(CourseError) as info:
        packages.import_course(teacher, b"PK\x03\x04 broken", organisation_id=school.id)
    with force_locale("en"):
        assert "zip" in str(info.value.message)
    with pytest.raises(CourseError):
        packages.import_course(teacher, _zip({"readme.txt": b"hi"}), organisation_id=school.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseFile)) == 0


def test_a_file_whose_content_does_not_match_is_refused(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = _rich_course(teacher, school)
    data = packages.export_course(course)
    zf = zipfile.ZipFile(io.BytesIO(data))
    files = {n: zf.read(n) for n in zf.namelist()}
    for name in files:
        if name.endswith(".png"):
            files[name] = b"<svg onload=alert(1)>"
    db.session.delete(course)
    db.session.commit()
    with pytest.raises(CourseError):
        packages.import_course(teacher, _zip(files), organisation_id=school.id)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
