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


# --- malformed packages: a clear, complete refusal, nothing on disk ---------------------------------


def _package_files(teacher, school):
    """The files of a rich course's package, with the course deleted to make room for its import."""
    course = _rich_course(teacher, school)
    zf = zipfile.ZipFile(io.BytesIO(packages.export_course(course)))
    files = {n: zf.read(n) for n in zf.namelist()}
    for f in course.files:
        uploads.remove_stored(f.storage_key)
    db.session.delete(course)
    db.session.commit()
    return files


def _stored_files():
    import os

    root = uploads.upload_dir()
    return sorted(os.path.join(d, n) for d, _s, names in os.walk(root) for n in names)


def _with_doc(files, mutate):
    doc = json.loads(files["course.json"])
    mutate(doc)
    return _zip({**files, "course.json": json.dumps(doc).encode()})


def _corrupt(files, name, how):
    """A zip whose member ``name`` has a bad CRC or broken deflate data."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    raw = bytearray(buf.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    if how == "crc":
        raw[info.header_offset + 14] ^= 0xFF  # local header CRC
        cd = bytes(raw).rfind(b"PK\x01\x02" + b"\x14\x00", 0)
        i = bytes(raw).find(b"PK\x01\x02")
        while i != -1:
            if bytes(raw[i + 46:i + 46 + len(name)]) == name.encode():
                raw[i + 16] ^= 0xFF  # central directory CRC
            i = bytes(raw).find(b"PK\x01\x02", i + 4)
        del cd
    else:
        for k in range(start, start + min(info.compress_size, 12)):
            raw[k] ^= 0x5A
    return bytes(raw)


def _first_png(files):
    return next(n for n in files if n.endswith(".png"))


MALFORMED = {
    "non_string_title": lambda f: _with_doc(f, lambda d: d["course"].update(title_zh=["x"])),
    "non_string_module_title": lambda f: _with_doc(f, lambda d: d["modules"][0].update(title_zh={"a": 1})),
    "non_string_lesson_title": lambda f: _with_doc(f, lambda d: d["modules"][0]["lessons"][0].update(title_en=5)),
    "list_cover_image": lambda f: _with_doc(f, lambda d: d["course"].update(cover_image=["x"])),
    "object_lessons": lambda f: _with_doc(f, lambda d: d["modules"][0].update(lessons={"a": 1})),
    "question_points_text": lambda f: _with_doc(
        f, lambda d: d["modules"][1]["lessons"][0]["questions"][0].update(points="lots")),
    "lesson_pass_mark_out_of_range": lambda f: _with_doc(
        f, lambda d: d["modules"][1]["lessons"][0].update(pass_mark=1000)),
    "bad_crc": lambda f: _corrupt(f, _first_png(f), "crc"),
    "corrupt_deflate": lambda f: _corrupt(f, _first_png(f), "deflate"),
    "corrupt_course_json": lambda f: _corrupt(f, "course.json", "deflate"),
    "path_traversal": lambda f: _zip({**f, "../../evil.txt": b"x"}),
    "absolute_path": lambda f: _zip({**f, "/etc/evil": b"x"}),
    "unlisted_member": lambda f: _zip({**f, "files/0123456789abcdef.png": b"x"}),
    "deep_json": lambda f: _zip({**f, "course.json": b"[" * 100_000}),
    "zip_bomb": lambda f: _bomb(f),
}


def _bomb(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in files.items():
            # 128 MiB of zeros compress to ~128 KiB: far beyond an image's limit once inflated
            zf.writestr(n, b"\x89PNG\r\n\x1a\n" + b"\0" * (128 * 2**20) if n == _first_png(files) else data)
    return buf.getvalue()


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_packages_are_refused_with_the_problem_and_leave_no_files(app, create_user, create_org, kind):
    from flask_babel import force_locale

    school, teacher = school_with_teacher(create_user, create_org)
    files = _package_files(teacher, school)
    before = _stored_files()
    data = MALFORMED[kind](files)
    with force_locale("en"), pytest.raises(CourseError) as info:
        packages.import_course(teacher, data, organisation_id=school.id)
    with force_locale("en"):
        assert str(info.value.message).startswith("Invalid course package: ")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
    assert _stored_files() == before


def test_every_problem_of_a_package_is_listed_together(app, create_user, create_org):
    from flask_babel import force_locale

    school, teacher = school_with_teacher(create_user, create_org)
    files = _package_files(teacher, school)

    def mutate(d):
        d["course"].update(title_en=1, cover_image=["x"])
        d["modules"][0].update(title_zh=None)

    with force_locale("en"), pytest.raises(CourseError) as info:
        packages.import_course(teacher, _with_doc(files, mutate), organisation_id=school.id)
    with force_locale("en"):
        message = str(info.value.message)
    assert "course.title_en" in message and "course.cover_image" in message and "modules[0].title_zh" in message


def test_a_package_refused_half_way_removes_the_files_it_stored(app, create_user, create_org, monkeypatch):
    school, teacher = school_with_teacher(create_user, create_org)
    files = _package_files(teacher, school)
    before = _stored_files()

    def refuse(*a, **kw):
        raise CourseError("refused late")

    monkeypatch.setattr(ops, "add_module", refuse)
    with pytest.raises(CourseError):
        packages.import_course(teacher, _zip(files), organisation_id=school.id)
    db.session.rollback()
    assert _stored_files() == before


def test_a_malformed_package_upload_page_answers_400(client, auth, app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    files = _package_files(teacher, school)
    auth.login(teacher)
    from lms.testing import csrf_token_from

    token = csrf_token_from(client.get("/courses/manage/import").get_data(as_text=True))
    resp = client.post("/courses/manage/import", data={
        "csrf_token": token, "package": (io.BytesIO(MALFORMED["list_cover_image"](files)), "x.zip"),
        "organisation_id": str(school.id)}, content_type="multipart/form-data")
    assert resp.status_code == 400
