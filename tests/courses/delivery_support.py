"""Builders for delivery tests: a published course with one lesson of each kind, enrolled learners."""
from __future__ import annotations

import pytest

QUIZ_QUESTIONS = (
    ("single", {"prompt": "安全电压不超过多少伏？", "prompt_en": "Max safe voltage?", "choices_text": "*36 | 36 V\n220 | 220 V\n380"}),
    ("multiple", {"prompt": "哪些是绝缘材料？", "choices_text": "*橡胶 | rubber\n铜 | copper\n*陶瓷 | ceramic"}),
    ("truefalse", {"prompt": "可以带电作业。", "truefalse_answer": "false"}),
    ("fillin", {"prompt": "电流的单位是？", "accepted_answers": "安培\nA"}),
)


def _document_file(course) -> str:
    import os

    from flask import current_app

    from courses.models import CourseFile
    from lms.core.db import db

    key = f"courses/{course.uuid}/manual.pdf"
    path = os.path.join(current_app.config["LMS_UPLOAD_DIR"], key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"%PDF-1.4 test")
    db.session.add(CourseFile(course_id=course.id, storage_key=key, original_name="安全手册.pdf",
                              content_type="application/pdf", size=13, category="document"))
    db.session.flush()
    db.session.refresh(course)
    return key


class World:
    """Handles on what :func:`build_world` made."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def lesson(self, kind):
        return self.lessons[kind]


def build_world(create_user, create_org, *, kinds=("text", "video", "quiz"), max_attempts=0, time_limit=0,
                shuffle=False, pass_mark=60, publish=True, learners=1):
    from courses.models import CourseClass
    from courses.operations import authoring
    from courses.operations.enrolment import enrol
    from lms.core.db import db

    school = create_org("职业技术学院", "institution")
    teacher = create_user("teacher", school, real_name="王老师")
    course = authoring.create_course(teacher, organisation_id=school.id, code="ELEC-101", title_zh="电工基础",
                                     title_en="Electrical basics", study_hours=4,
                                     description_format="markdown", description_zh_source="电工入门")
    module = authoring.add_module(teacher, course, "第一章 安全用电", "Safety")
    lessons = {}
    for kind in kinds:
        fields = {"title_zh": f"{kind}课", "title_en": f"{kind} lesson", "body_format": "markdown"}
        if kind == "text":
            fields["body_source"] = "# 安全第一\n\n**不要**带电作业。"
        elif kind == "video":
            fields.update(video_url="https://media.example.com/safety.mp4", duration_seconds=100)
        elif kind == "quiz":
            fields.update(pass_mark=pass_mark, max_attempts=max_attempts, time_limit_seconds=time_limit,
                          shuffle=shuffle)
        elif kind == "practical":
            fields.update(body_source="接一个开关电路并拍照。", task_max_score=100)
        elif kind == "document":
            fields["document_file"] = _document_file(course)
        elif kind == "external":
            fields.update(launch_url="https://content.example.com/au/index.html?lang=zh")
        lessons[kind] = authoring.add_lesson(teacher, module, kind, **fields)
    questions = []
    if "quiz" in lessons:
        for qkind, qfields in QUIZ_QUESTIONS:
            questions.append(authoring.add_question(teacher, lessons["quiz"], qkind, points=(2 if qkind == "multiple" else 1),
                                                    **qfields))
    if publish:
        authoring.publish(teacher, course)
    cls = CourseClass(course=course, name="2026 春季电工一班", teacher_id=teacher.id, organisation_id=school.id)
    db.session.add(cls)
    db.session.commit()
    people = []
    enrolments = []
    for i in range(learners):
        learner = create_user("learner", school, real_name=f"学员{i + 1}")
        people.append(learner)
        if publish:
            enrolments.append(enrol(learner, course, by=learner, course_class=cls))
    db.session.commit()
    return World(school=school, teacher=teacher, course=course, module=module, lessons=lessons, questions=questions,
                 learners=people, learner=people[0] if people else None, enrolments=enrolments,
                 enrolment=enrolments[0] if enrolments else None, cls=cls)


def correct_form(questions, attempt=None) -> dict:
    """Form data answering every question correctly."""
    data = {}
    for q in questions:
        if q.kind == "fillin":
            data[f"q{q.id}"] = [q.correct[0]]
        else:
            data[f"q{q.id}"] = list(q.correct)
    return data


def wrong_form(questions) -> dict:
    data = {}
    for q in questions:
        if q.kind == "fillin":
            data[f"q{q.id}"] = ["不知道"]
        elif q.kind == "truefalse":
            data[f"q{q.id}"] = ["true" if q.correct == ["false"] else "false"]
        else:
            data[f"q{q.id}"] = [next(c["id"] for c in q.choices if c["id"] not in q.correct)]
    return data


def statements_for(user, verb_suffix=None, object_id=None):
    """Stored statements of ``user`` (oldest first), optionally filtered."""
    from lms.xapi.recorder import actor_for
    from lms.xapi.store import iter_statements_for_agent

    out = []
    for st in iter_statements_for_agent(actor_for(user)):
        if verb_suffix and not st.verb_id.endswith("/" + verb_suffix):
            continue
        if object_id and st.object_id != object_id:
            continue
        out.append(st)
    return out


@pytest.fixture
def world(app, create_user, create_org):
    return build_world(create_user, create_org)
