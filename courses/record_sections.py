"""The courses' section of a worker's record (the core's "record sections" registry): every
enrolment with its hours online (the core's study-time rule), result, dates and institution."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.core.db import db
from lms.core.extension_points import RecordEntry, RecordSection

STATUS_LABELS = {"active": _l("In progress"), "completed": _l("Completed"), "withdrawn": _l("Withdrawn")}


def record_section(user, viewer, filters):
    """``RecordSection`` of ``user``'s courses, or None when there are none in ``filters``."""
    from courses.models import Course, Enrolment
    from lms.records import study_time

    rows = db.session.execute(sa.select(Enrolment, Course).join(Course, Course.id == Enrolment.course_id)
                              .where(Enrolment.user_id == user.id)
                              .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())).all()
    entries = []
    for enrolment, course in rows:
        day = (enrolment.completed_at or enrolment.enrolled_at).date()
        if not filters.keeps(day, course.occupation_code or ""):
            continue
        hours = study_time.hours(user, registration=enrolment.registration)
        details = [(_("Hours online"), f"{hours}"),
                   (_("Result"), f"{STATUS_LABELS.get(enrolment.status, enrolment.status)}"
                                 f" · {round((enrolment.progress or 0) * 100)}%"),
                   (_("Enrolled on"), enrolment.enrolled_at.date().isoformat())]
        if enrolment.completed_at:
            details.append((_("Completed"), enrolment.completed_at.date().isoformat()))
        if course.organisation is not None:
            details.append((_("Institution"), course.organisation.name))
        if course.subsidised:
            details.append((_("Subsidised course"), course.subsidy_catalogue_number or _("yes")))
        iri = course.activity_iri
        entries.append(RecordEntry(
            key=iri, kind="course", title=course.title_zh, day=day, details=tuple(details),
            source="platform", verification="recorded" if enrolment.status == "completed" else "reported",
            occupation_code=course.occupation_code or "",
            achievement={"id": iri, "type": ["Achievement"], "achievementType": "Course", "name": course.title_zh,
                         "description": course.title_en or course.title_zh, "humanCode": course.code,
                         "criteria": {"narrative": "Course completed on the platform"},
                         **({"creditsAvailable": float(course.study_hours)} if course.study_hours else {})},
            result={"status": enrolment.status, "hours": float(hours),
                    "start": enrolment.enrolled_at.date().isoformat(),
                    "end": enrolment.completed_at.date().isoformat() if enrolment.completed_at else None}))
    if not entries:
        return None
    return RecordSection(key="courses", title=_("Courses"), entries=tuple(entries), order=10)
