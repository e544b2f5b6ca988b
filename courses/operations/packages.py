"""Course packages: a course exported as a zip of ``course.json`` plus its files, and imported
elsewhere (so institutions can share courses).

The package holds the course's *content* only: no learners, no ids of this database, no status.
Modules, lessons and questions keep their ``uuid``, so their xAPI activity ids (and the
competency rules that match them) are the same wherever the course is imported. An import is
validated completely before anything is written; it creates a *draft* course (HTML is rendered
and sanitised again from the source, files are checked again).
"""
from __future__ import annotations

import io
import json
import re
import uuid
import zipfile

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses import uploads
from courses.models import BODY_FORMATS, LESSON_KINDS, QUESTION_KINDS, Course, Lesson, Module, Question
from courses.operations import authoring
from courses.operations.errors import CourseError
from lms.core.db import db

FORMAT = "vocational-lms-course"
FORMAT_VERSION = 1
#: Largest package accepted, compressed and uncompressed.
MAX_PACKAGE_BYTES = 600 * 2**20
MAX_UNCOMPRESSED_BYTES = 1024 * 2**20
MAX_ENTRIES = 2000
_KEY_RE = re.compile(r"^courses/[0-9a-f-]{36}/[0-9a-f]{8,64}\.[a-z0-9]{1,5}$")


#: Stands for the course's file URL prefix (``/courses/<id>/files/``) in packaged text, because
#: the course id differs on the platform that imports it.
FILES_PLACEHOLDER = "@course-files/"
#: Text fields whose file links are made portable.
_TEXT_FIELDS = ("body_source", "description_zh_source", "description_en_source")


def _files_prefix(course: Course) -> str:
    return f"/courses/{course.id}/files/"


def _portable(course: Course, text: str) -> str:
    return (text or "").replace(_files_prefix(course), FILES_PLACEHOLDER)


def _local(course: Course, text: str) -> str:
    return (text or "").replace(FILES_PLACEHOLDER, _files_prefix(course))


def _lesson_dict(lesson: Lesson) -> dict:
    data = {"uuid": str(lesson.uuid), "kind": lesson.kind}
    for key in authoring.LESSON_FIELDS:
        data[key] = getattr(lesson, key)
    data["body_source"] = _portable(lesson.course, lesson.body_source)
    if lesson.kind == "quiz":
        data["questions"] = [{
            "uuid": str(q.uuid), "kind": q.kind, "prompt": q.prompt, "prompt_en": q.prompt_en,
            "choices": q.choices, "correct": q.correct, "case_sensitive": q.case_sensitive, "points": q.points,
            "explanation": q.explanation,
        } for q in lesson.live_questions]
    return data


def course_document(course: Course) -> dict:
    """The JSON document of a package (without the files' bytes)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "course": {
            "uuid": str(course.uuid), "code": course.code, "title_zh": course.title_zh, "title_en": course.title_en,
            "description_format": course.description_format,
            "description_zh_source": _portable(course, course.description_zh_source),
            "description_en_source": _portable(course, course.description_en_source),
            "occupation_code": course.occupation_code, "levels": course.levels, "study_hours": course.study_hours,
            "subsidised": course.subsidised, "subsidy_catalogue_number": course.subsidy_catalogue_number,
            "self_enrolment": course.self_enrolment, "cover_image": course.cover_image,
        },
        "modules": [{
            "uuid": str(m.uuid), "title_zh": m.title_zh, "title_en": m.title_en,
            "lessons": [_lesson_dict(lesson) for lesson in m.live_lessons],
        } for m in course.live_modules],
        "files": [{
            "storage_key": f.storage_key, "original_name": f.original_name, "category": f.category,
            "path": "files/" + f.storage_key.rsplit("/", 1)[-1],
        } for f in sorted(course.files, key=lambda f: f.storage_key)],
    }


def export_course(course: Course) -> bytes:
    """The package of ``course`` as zip bytes."""
    doc = course_document(course)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("course.json", json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
        for f in doc["files"]:
            try:
                data = uploads.read_bytes(f["storage_key"])
            except FileNotFoundError:
                raise CourseError(_l("The file %(name)s is missing from storage.", name=f["original_name"]),
                                  status=409, code="file_missing") from None
            zf.writestr(f["path"], data)
    return buf.getvalue()


# --- import ----------------------------------------------------------------------------------


def _bad(message, **kw):
    return CourseError(_l("Invalid course package: %(problem)s", problem=str(message) % kw if kw else message),
                       "package", code="invalid_package")


def _expect(obj, key, kinds, where):
    if not isinstance(obj, dict) or key not in obj or not isinstance(obj[key], kinds):
        raise _bad("%(where)s.%(key)s is missing or has the wrong type", where=where, key=key)
    return obj[key]


def _uuid(value, where) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _bad("%(where)s has an invalid uuid", where=where) from None


def read_package(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """Open and structurally validate a package; returns the document and the files by path."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise _bad("the package is too large")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _bad("not a zip file") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
            raise _bad("the package is too large")
        names = {i.filename for i in infos}
        if "course.json" not in names:
            raise _bad("course.json is missing")
        try:
            doc = json.loads(zf.read("course.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _bad("course.json is not valid JSON") from None
        files = {}
        for f in doc.get("files", []) if isinstance(doc, dict) else []:
            path = f.get("path") if isinstance(f, dict) else None
            if not isinstance(path, str) or path not in names or not path.startswith("files/") or ".." in path:
                raise _bad("a file listed in course.json is missing from the package")
            files[path] = zf.read(path)
    _validate(doc)
    return doc, files


def _validate(doc: dict) -> None:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad("not a course package of this platform")
    if doc.get("format_version") != FORMAT_VERSION:
        raise _bad("unsupported format version %(v)s", v=doc.get("format_version"))
    course = _expect(doc, "course", dict, "package")
    _uuid(course.get("uuid"), "course")
    for key in ("code", "title_zh"):
        _expect(course, key, str, "course")
    if course.get("description_format", "markdown") not in BODY_FORMATS:
        raise _bad("course.description_format is unknown")
    uuids = set()
    files = _expect(doc, "files", list, "package")
    keys = set()
    for f in files:
        key = _expect(f, "storage_key", str, "files[]")
        if not _KEY_RE.match(key) or not key.startswith(f"courses/{course['uuid']}/"):
            raise _bad("file key %(key)s is not allowed", key=key)
        if _expect(f, "category", str, "files[]") not in uploads.EXTENSIONS:
            raise _bad("file %(key)s has an unknown category", key=key)
        _expect(f, "original_name", str, "files[]")
        keys.add(key)
    if course.get("cover_image") and course["cover_image"] not in keys:
        raise _bad("the cover image is not in the package")
    for m in _expect(doc, "modules", list, "package"):
        uuids.add(_uuid(m.get("uuid") if isinstance(m, dict) else None, "a module"))
        _expect(m, "title_zh", str, "module")
        for lesson in _expect(m, "lessons", list, "module"):
            uuids.add(_uuid(lesson.get("uuid") if isinstance(lesson, dict) else None, "a lesson"))
            if lesson.get("kind") not in LESSON_KINDS:
                raise _bad("a lesson has an unknown kind")
            for key in ("video_file", "document_file"):
                if lesson.get(key) and lesson[key] not in keys:
                    raise _bad("a lesson's file is not in the package")
            for q in lesson.get("questions", []) if lesson["kind"] == "quiz" else []:
                uuids.add(_uuid(q.get("uuid") if isinstance(q, dict) else None, "a question"))
                if q.get("kind") not in QUESTION_KINDS:
                    raise _bad("a question has an unknown kind")
                for key in ("choices", "correct"):
                    _expect(q, key, list, "question")
                if not all(isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("text"), str)
                           for c in q["choices"]):
                    raise _bad("a question has malformed choices")
                _expect(q, "prompt", str, "question")


def _uuid_taken(model, value: uuid.UUID) -> bool:
    return db.session.scalar(sa.select(model.id).where(model.uuid == value)) is not None


def import_course(user, data: bytes, *, organisation_id: int | None = None, code: str | None = None) -> Course:
    """Create a draft course from package bytes. Raises :class:`CourseError`; writes nothing then.

    ``code`` overrides the package's course code (when that code is taken here).
    """
    doc, blobs = read_package(data)
    c = doc["course"]
    course_uuid = uuid.UUID(c["uuid"])
    if _uuid_taken(Course, course_uuid):
        raise CourseError(_l("This course (same uuid) already exists on this platform."), "package", status=409,
                          code="conflict")
    for m in doc["modules"]:
        if _uuid_taken(Module, uuid.UUID(m["uuid"])):
            raise CourseError(_l("A module of this package already exists on this platform."), "package",
                              status=409, code="conflict")
        for lesson in m["lessons"]:
            if _uuid_taken(Lesson, uuid.UUID(lesson["uuid"])):
                raise CourseError(_l("A lesson of this package already exists on this platform."), "package",
                                  status=409, code="conflict")
    fields = {k: c.get(k) for k in ("title_zh", "title_en", "description_format", "description_zh_source",
                                     "description_en_source", "occupation_code", "levels", "study_hours",
                                     "subsidised", "subsidy_catalogue_number", "self_enrolment") if k in c}
    course = authoring.create_course(user, organisation_id=organisation_id, code=code or c["code"], **fields)
    course.uuid = course_uuid
    db.session.flush()
    if FILES_PLACEHOLDER in course.description_zh_source + course.description_en_source:
        authoring.update_course(user, course, description_zh_source=_local(course, course.description_zh_source),
                                description_en_source=_local(course, course.description_en_source))
    for f in doc["files"]:
        uploads.store_bytes(course, f["original_name"], blobs[f["path"]], f["category"], by=user,
                            storage_key=f["storage_key"])
    db.session.expire(course, ["files"])
    if c.get("cover_image"):
        authoring.set_cover_image(user, course, c["cover_image"])
    for m in doc["modules"]:
        module = authoring.add_module(user, course, m["title_zh"], m.get("title_en", ""))
        module.uuid = uuid.UUID(m["uuid"])
        for ld in m["lessons"]:
            lesson_fields = {k: ld[k] for k in authoring.LESSON_FIELDS if k in ld}
            if isinstance(lesson_fields.get("body_source"), str):
                lesson_fields["body_source"] = _local(course, lesson_fields["body_source"])
            lesson = authoring.add_lesson(user, module, ld["kind"], **lesson_fields)
            lesson.uuid = uuid.UUID(ld["uuid"])
            for qd in ld.get("questions", []) if ld["kind"] == "quiz" else []:
                question = Question(lesson=lesson, position=authoring._next_position(lesson.questions),
                                    uuid=_question_uuid(qd))
                values = authoring._question_values(qd["kind"], **_question_form_fields(qd))
                for key, value in values.items():
                    setattr(question, key, value)
                # keep the package's choice ids (stable ids are part of the responses' meaning)
                question.choices, question.correct = qd["choices"], qd["correct"]
                problems = authoring.question_problems(question)
                if problems:
                    raise _bad("; ".join(problems))
                db.session.add(question)
    db.session.flush()
    return course


def _question_uuid(qd) -> uuid.UUID:
    value = uuid.UUID(qd["uuid"])
    if _uuid_taken(Question, value):
        raise CourseError(_l("A question of this package already exists on this platform."), "package", status=409,
                          code="conflict")
    return value


def _question_form_fields(qd: dict) -> dict:
    """The package's question as the fields the authoring rules validate."""
    correct = set(qd["correct"])
    fields = {"prompt": qd["prompt"], "prompt_en": qd.get("prompt_en", ""), "points": qd.get("points", 1),
              "explanation": qd.get("explanation", ""), "case_sensitive": qd.get("case_sensitive", False)}
    if qd["kind"] in ("single", "multiple"):
        fields["choices_text"] = "\n".join(("* " if ch["id"] in correct else "") + ch["text"] for ch in qd["choices"])
    elif qd["kind"] == "truefalse":
        fields["truefalse_answer"] = (qd["correct"] or [None])[0]
    else:
        fields["accepted_answers"] = "\n".join(str(a) for a in qd["correct"])
    return fields
