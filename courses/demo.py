"""Demo data: a published course by teacher@demo.lms, with learner@demo.lms enrolled."""
from __future__ import annotations

from courses.operations import authoring as ops
from courses.operations import enrolment as enrol_ops

DEMO_CODE = "DEMO-SAFE-101"

TEXT = """## 为什么要安全操作

智能制造车间里，数控机床与工业机器人的**每一次**操作都关系到人身安全。

1. 开机前检查防护罩与急停按钮；
2. 穿戴好劳保用品；
3. 发现异常立即按下急停，并报告班组长。

| 检查项 | 要求 |
| --- | --- |
| 急停按钮 | 按下后设备立即停止 |
| 防护门 | 打开时设备不能启动 |
"""


def seed(app, context) -> list[str]:
    users = context["users"]
    teacher, learner = users["teacher@demo.lms"], users["learner@demo.lms"]
    school = context["organisations"]["school"]
    course = ops.create_course(
        teacher, organisation_id=school.id, code=DEMO_CODE, title_zh="智能制造设备安全操作",
        title_en="Safe Operation of Smart Manufacturing Equipment",
        description_zh_source="面向一线操作工的安全入门课程：设备检查、急停、个人防护。",
        description_en_source="A first safety course for operators: checks, emergency stop, protective equipment.",
        occupation_code="6-31-01-03", levels=[1, 2], study_hours=8, subsidised=True,
        subsidy_catalogue_number="JS-2026-0101", self_enrolment=True)
    m1 = ops.add_module(teacher, course, "安全基础", "Safety basics")
    ops.add_lesson(teacher, m1, "text", title_zh="安全操作规程", title_en="Safety rules", body_source=TEXT,
                   duration_seconds=600)
    ops.add_lesson(teacher, m1, "video", title_zh="急停操作演示", title_en="Emergency stop demonstration",
                   video_url="https://interactive-examples.mdn.mozilla.net/media/cc0-videos/flower.mp4",
                   duration_seconds=300)
    m2 = ops.add_module(teacher, course, "考核", "Assessment")
    quiz = ops.add_lesson(teacher, m2, "quiz", title_zh="安全知识测验", title_en="Safety quiz",
                          body_source="共三题，60 分及格，可作答 3 次。", pass_mark=60, max_attempts=3)
    ops.add_question(teacher, quiz, "single", prompt="设备出现异常时，首先应该怎么做？",
                     prompt_en="What do you do first when a machine misbehaves?",
                     choices_text="* 按下急停按钮 | Press the emergency stop\n继续操作 | Carry on\n"
                                  "自行拆机检查 | Open the machine yourself", points=2)
    ops.add_question(teacher, quiz, "multiple", prompt="开机前需要检查哪些项目？",
                     prompt_en="What must be checked before starting?",
                     choices_text="* 急停按钮 | Emergency stop\n* 防护门 | Guard door\n手机电量 | Phone battery",
                     points=2)
    ops.add_question(teacher, quiz, "truefalse", prompt="防护门打开时设备仍可启动。",
                     prompt_en="The machine may start with the guard door open.", truefalse_answer="false", points=1)
    ops.add_lesson(teacher, m2, "practical", title_zh="实操：开机前安全检查", title_en="Practical: pre-start check",
                   body_source="按照检查表完成一次开机前安全检查，拍照上传检查表并简述发现的问题。",
                   task_max_score=100)
    ops.publish(teacher, course)
    enrol_ops.enrol(learner, course, by=learner)
    return [f"Demo course {DEMO_CODE} published by teacher@demo.lms; learner@demo.lms enrolled."]
