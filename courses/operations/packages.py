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
import zlib

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses import uploads
from courses.models import BODY_FORMATS, LESSON_KINDS, QUESTION_KINDS, Course, Lesson, Module, Question
from courses.operations import authoring
from courses.operations.errors import CourseError
from lms.core import jsonbody
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


#: Largest ``course.json`` read from a package.
MAX_DOCUMENT_BYTES = 20 * 2**20
#: Names a package member may have: ``course.json`` and the files under ``files/`` (anything else,
#: ``../`` and absolute paths included, is refused rather than skipped).
_MEMBER_RE = re.compile(r"^(course\.json|files/|files/[0-9a-f]{8,64}\.[a-z0-9]{1,5})$")

_NUMBER = (int, float)
_OPTIONAL_STR = (str, type(None))
#: The JSON type of every field the importer reads (``None`` allowed where the field is optional).
_COURSE_TYPES = {"uuid": str, "code": str, "title_zh": str, "title_en": _OPTIONAL_STR,
                 "description_format": _OPTIONAL_STR, "description_zh_source": _OPTIONAL_STR,
                 "description_en_source": _OPTIONAL_STR, "occupation_code": _OPTIONAL_STR,
                 "levels": (list, type(None)), "study_hours": _NUMBER + (type(None),),
                 "subsidised": (bool, type(None)), "subsidy_catalogue_number": _OPTIONAL_STR,
                 "self_enrolment": (bool, type(None)), "cover_image": _OPTIONAL_STR}
_MODULE_TYPES = {"uuid": str, "title_zh": str, "title_en": _OPTIONAL_STR, "lessons": list}
_LESSON_TYPES = {"uuid": str, "kind": str, "title_zh": str, "title_en": _OPTIONAL_STR,
                 "required": (bool, type(None)), "body_format": _OPTIONAL_STR, "body_source": _OPTIONAL_STR,
                 "video_url": _OPTIONAL_STR, "video_file": _OPTIONAL_STR, "duration_seconds": _NUMBER + (type(None),),
                 "document_file": _OPTIONAL_STR, "launch_url": _OPTIONAL_STR, "pass_mark": _NUMBER + (type(None),),
                 "max_attempts": _NUMBER + (type(None),), "time_limit_seconds": _NUMBER + (type(None),),
                 "shuffle": (bool, type(None)), "task_max_score": _NUMBER + (type(None),),
                 "questions": (list, type(None))}
_QUESTION_TYPES = {"uuid": str, "kind": str, "prompt": str, "prompt_en": _OPTIONAL_STR, "choices": list,
                   "correct": list, "case_sensitive": (bool, type(None)), "points": _NUMBER + (type(None),),
                   "explanation": _OPTIONAL_STR}
_FILE_TYPES = {"storage_key": str, "original_name": str, "category": str, "path": str}
_REQUIRED = {"uuid", "code", "title_zh", "kind", "prompt", "choices", "correct", "lessons", "storage_key",
             "original_name", "category", "path"}


class _Problems(list):
    """The problems found in a package, reported together."""

    def typed(self, obj, types: dict, where: str) -> bool:
        """Check ``obj`` is an object whose fields have ``types``; False (and noted) when not."""
        if not isinstance(obj, dict):
            self.append(f"{where} is not an object")
            return False
        ok = True
        for key, kinds in types.items():
            if key not in obj:
                if key in _REQUIRED:
                    self.append(f"{where}.{key} is missing")
                    ok = False
            elif not isinstance(obj[key], kinds) or (isinstance(obj[key], bool) and bool not in
                                                     (kinds if isinstance(kinds, tuple) else (kinds,))):
                self.append(f"{where}.{key} has the wrong type")
                ok = False
        return ok

    def uuid(self, value, where: str, seen: set) -> None:
        try:
            u = uuid.UUID(value)
        except (TypeError, ValueError, AttributeError):
            self.append(f"{where} has an invalid uuid")
            return
        if u in seen:
            self.append(f"{where} repeats a uuid")
        seen.add(u)

    def raise_if_any(self) -> None:
        if self:
            shown = list(dict.fromkeys(self))
            more = f" (and {len(shown) - 20} more)" if len(shown) > 20 else ""
            raise _bad("; ".join(shown[:20]) + more)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, never more than ``limit`` (a zip bomb's declared size can lie), with its
    CRC checked; corrupt data is a refused package."""
    if info.file_size > limit:
        raise _bad("%(name)s is too large", name=info.filename)
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError):
        raise _bad("%(name)s is damaged (bad checksum or compressed data)", name=info.filename) from None
    if len(data) > limit:
        raise _bad("%(name)s is too large", name=info.filename)
    return data


def read_package(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """Open and validate a package completely; returns the document and the files by path.
    Raises :class:`CourseError` listing the problems found; nothing is written either way."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise _bad("the package is too large")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise _bad("not a zip file") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
            raise _bad("the package is too large")
        problems = _Problems()
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if not _MEMBER_RE.match(info.filename):
                problems.append(f"the file name {info.filename[:200]!r} is not allowed")
            elif info.filename in by_name:
                problems.append(f"{info.filename} appears twice")
            by_name[info.filename] = info
        problems.raise_if_any()
        if "course.json" not in by_name:
            raise _bad("course.json is missing")
        try:
            doc = jsonbody.loads(_read_member(zf, by_name["course.json"], MAX_DOCUMENT_BYTES))
        except jsonbody.JSONBodyError:
            raise _bad("course.json is not valid JSON") from None
        _validate(doc)
        files = {}
        largest = max(uploads.MAX_BYTES.values())
        for f in doc["files"]:
            path = f["path"]
            if path not in by_name or not path.startswith("files/") or path == "files/":
                problems.append(f"{path[:200]} is listed in course.json but missing from the package")
                continue
            files[path] = _read_member(zf, by_name[path], uploads.MAX_BYTES.get(f["category"], largest))
            try:
                uploads.check_file(f["original_name"] or f["storage_key"], files[path], f["category"])
                if uploads._extension(f["original_name"]) != uploads._extension(f["storage_key"]):
                    uploads.check_file(f["storage_key"], files[path], f["category"])
            except CourseError as exc:
                problems.append(f"{f['original_name'][:100]}: {exc.message}")
        listed = {"course.json", "files/"} | {f["path"] for f in doc["files"]}
        problems.extend(f"{name} is not listed in course.json" for name in sorted(set(by_name) - listed))
        problems.raise_if_any()
    return doc, files


def _validate(doc) -> None:
    """Every problem of the document, listed in one :class:`CourseError`; the authoring rules of
    lessons and questions are applied here too, so the import itself cannot fail half-way."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad("not a course package of this platform")
    if doc.get("format_version") != FORMAT_VERSION:
        raise _bad("unsupported format version %(v)s", v=str(doc.get("format_version"))[:20])
    problems = _Problems()
    seen: set = set()
    course = doc.get("course")
    if not problems.typed(course, _COURSE_TYPES, "course") and not isinstance(course, dict):
        problems.raise_if_any()
    problems.uuid(course.get("uuid"), "course", seen)
    if (course.get("description_format") or "markdown") not in BODY_FORMATS:
        problems.append("course.description_format is unknown")
    levels = course.get("levels") if isinstance(course.get("levels"), list) else []
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        problems.append("course.levels must be whole numbers")
    files = doc.get("files")
    keys: dict[str, str] = {}
    if not isinstance(files, list):
        problems.append("package.files is missing or has the wrong type")
        files = []
    for i, f in enumerate(files):
        if not problems.typed(f, _FILE_TYPES, f"files[{i}]"):
            continue
        key = f["storage_key"]
        if not _KEY_RE.match(key) or not key.startswith(f"courses/{course.get('uuid')}/"):
            problems.append(f"file key {key[:200]} is not allowed")
        if f["category"] not in uploads.EXTENSIONS:
            problems.append(f"file {key[:200]} has an unknown category")
        if f["path"] != "files/" + key.rsplit("/", 1)[-1]:
            problems.append(f"file {key[:200]} has a path that does not match its key")
        if key in keys:
            problems.append(f"file {key[:200]} is listed twice")
        keys[key] = f["category"]
    if isinstance(course.get("cover_image"), str) and course["cover_image"] and keys.get(course["cover_image"]) != "image":
        problems.append("the cover image is not in the package")
    modules = doc.get("modules")
    if not isinstance(modules, list):
        problems.append("package.modules is missing or has the wrong type")
        modules = []
    for mi, m in enumerate(modules):
        if not problems.typed(m, _MODULE_TYPES, f"modules[{mi}]"):
            continue
        problems.uuid(m["uuid"], f"modules[{mi}]", seen)
        for li, lesson in enumerate(m["lessons"]):
            where = f"modules[{mi}].lessons[{li}]"
            if not problems.typed(lesson, _LESSON_TYPES, where):
                continue
            problems.uuid(lesson["uuid"], where, seen)
            if lesson["kind"] not in LESSON_KINDS:
                problems.append(f"{where} has an unknown kind")
                continue
            for key, category in (("video_file", "video"), ("document_file", "document")):
                if lesson.get(key) and keys.get(lesson[key]) != category:
                    problems.append(f"{where}.{key} is not in the package")
            try:
                authoring._clean_lesson_fields({k: lesson[k] for k in authoring.LESSON_FIELDS if k in lesson},
                                               lesson["kind"])
            except CourseError as exc:
                problems.append(f"{where}: {exc.message}")
            for qi, q in enumerate((lesson.get("questions") or []) if lesson["kind"] == "quiz" else []):
                _validate_question(problems, q, f"{where}.questions[{qi}]", seen)
    problems.raise_if_any()


def _validate_question(problems: _Problems, q, where: str, seen: set) -> None:
    if not problems.typed(q, _QUESTION_TYPES, where):
        return
    problems.uuid(q["uuid"], where, seen)
    if q["kind"] not in QUESTION_KINDS:
        problems.append(f"{where} has an unknown kind")
        return
    if not all(isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("text"), str)
               for c in q["choices"]):
        problems.append(f"{where} has malformed choices")
        return
    if not all(isinstance(c, str) for c in q["correct"]):
        problems.append(f"{where}.correct must list strings")
        return
    try:
        values = authoring._question_values(q["kind"], **_question_form_fields(q))
    except CourseError as exc:
        problems.append(f"{where}: {exc.message}")
        return
    question = Question(**{k: v for k, v in values.items() if k not in ("choices", "correct")})
    question.choices, question.correct = q["choices"], q["correct"]
    for problem in authoring.question_problems(question):
        problems.append(f"{where}: {problem}")


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
            for qd in lesson.get("questions") or [] if lesson["kind"] == "quiz" else []:
                _question_uuid(qd)
    written: list[str] = []
    try:
        return _create(user, doc, blobs, organisation_id, code, written)
    except BaseException:
        # Validation ran before anything was written; should a rule still refuse (or the database
        # fail) half-way, the files already stored go too (the caller rolls the rows back).
        for key in written:
            uploads.remove_stored(key)
        raise


def _create(user, doc: dict, blobs: dict, organisation_id, code, written: list[str]) -> Course:
    c = doc["course"]
    course_uuid = uuid.UUID(c["uuid"])
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
        written.append(f["storage_key"])
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
