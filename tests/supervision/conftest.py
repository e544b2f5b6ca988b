"""Fixtures of the supervision tests: an authority with an officer and a read-only supervisor,
two institutions with administrators, a course of the first listed as subsidised training."""
from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

_seq = itertools.count(1)


def id_number(n: int | None = None, birth: str = "19900101") -> str:
    """A valid resident ID number (GB 11643 check character)."""
    from lms.accounts.idcard import check_character

    n = next(_seq) if n is None else n
    first17 = f"110105{birth}{n % 1000:03d}"
    return first17 + check_character(first17)


class World:
    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.fixture
def world(app, create_user, create_org):
    from courses.operations import authoring
    from lms.core.db import db
    from supervision.models import AuthorityOfficer
    from supervision.operations import catalogue

    authority = create_org("省人社厅", "authority")
    officer = create_user("supervisor", authority, real_name="吴处长")
    db.session.add(AuthorityOfficer(user_id=officer.id, organisation_id=authority.id))
    supervisor = create_user("supervisor", authority, real_name="周科长")
    school = create_org("江南技师学院", "institution", region="江苏省")
    other_school = create_org("江北培训学校", "institution", region="安徽省")
    admin = create_user("institution_admin", school, real_name="刘校长")
    other_admin = create_user("institution_admin", other_school, real_name="钱校长")
    teacher = create_user("teacher", school, real_name="王老师")
    course = authoring.create_course(teacher, organisation_id=school.id, code="ELEC-S1", title_zh="电工上岗培训",
                                     occupation_code="6-31-01-03", study_hours=10)
    module = authoring.add_module(teacher, course, "第一章", "Chapter 1")
    lesson = authoring.add_lesson(teacher, module, "text", title_zh="安全用电", body_format="markdown",
                                  body_source="安全第一")
    authoring.publish(teacher, course)
    db.session.commit()
    start = dt.date.today().replace(month=1, day=1) - dt.timedelta(days=365)
    for org in (school, other_school):
        catalogue.new_version(officer, "institution", f"INST-{org.id}", reason_code="new", effective_from=start,
                              title=org.name, organisation_id=org.id, data={"occupations": ["6-31-01-03"],
                                                                            "capacity": 100})
    db.session.commit()
    return World(authority=authority, officer=officer, supervisor=supervisor, school=school,
                 other_school=other_school, admin=admin, other_admin=other_admin, teacher=teacher, course=course,
                 lesson=lesson)


@pytest.fixture
def trainees(create_user, world):
    """``trainees(n, org=school)`` -> n learners with valid ID numbers."""

    def factory(n: int, org=None):
        return [create_user("learner", org or world.school, id_card_number=id_number(), real_name=f"学员{i}")
                for i in range(n)]

    return factory


def listed_entry(world, *, standard="1000", hours=10, org=None):
    """Apply for and approve the world's course as subsidised training; returns the entry key."""
    from lms.core.db import db
    from supervision.operations import catalogue

    org = org or world.school
    admin = world.admin if org is world.school else world.other_admin
    app_row = catalogue.apply_course(admin, org.id, course_ref=str(world.course.uuid), occupation_code="6-31-01-03",
                                     level=1, total_hours=hours, standard_amount=standard, online_share=1) \
        if org is world.school else None
    if app_row is None:  # the other school has no course: list an entry for it directly
        key = f"SUB-T-{uuid.uuid4().hex[:6]}"
        catalogue.new_version(world.officer, "training", key, reason_code="new",
                              effective_from=dt.date.today() - dt.timedelta(days=400), title="电工培训",
                              occupation_code="6-31-01-03", level=1, organisation_id=org.id, total_hours=hours,
                              standard_amount=standard, online_share=1.0)
        db.session.commit()
        return key
    db.session.commit()
    decided = catalogue.decide_application(world.officer, app_row.id, approve=True)
    db.session.commit()
    return decided.entry_key


def open_class(world, users, *, entry_key=None, org=None, name=None, start=None, end=None, approve=True):
    """Apply for a class with ``users`` on the roster and (by default) open it."""
    from lms.core.db import db
    from supervision.operations import classes

    org = org or world.school
    admin = world.admin if org is world.school else world.other_admin
    entry_key = entry_key or listed_entry(world, org=org)
    start = start or dt.date.today() - dt.timedelta(days=30)
    end = end or dt.date.today() - dt.timedelta(days=1)
    cls = classes.apply_class(admin, org.id, entry_key=entry_key, name=name or f"电工{next(_seq)}班",
                              start_date=start, end_date=end, roster="\n".join(u.login for u in users),
                              teaching_plan="理论 4 学时，实操 6 学时", teachers="王老师（高级技师）",
                              schedule="周一至周五 9:00-12:00，实训楼 201", assessment_plan="理论 + 实操考核")
    db.session.commit()
    if approve:
        classes.decide_class(world.officer, cls.id, approve=True)
        db.session.commit()
    return cls


def study(user, *, at: dt.datetime, seconds: float, registration=None, source=None, verb="progressed"):
    """Store one statement with a duration for ``user`` (as the platform, or ``source``)."""
    from lms.core.db import db
    from lms.records.provenance import PLATFORM_SOURCE
    from lms.xapi.recorder import actor_for, platform_authority
    from lms.xapi.storage import store_statements

    statement = {
        "id": str(uuid.uuid4()), "actor": actor_for(user),
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {"id": f"http://127.0.0.1:5000/activities/test/{registration or 'x'}", "objectType": "Activity"},
        "result": {"duration": f"PT{int(seconds)}S"},
        "context": {"registration": str(registration or uuid.uuid4())},
        "timestamp": at.astimezone(dt.timezone.utc).isoformat(),
    }
    store_statements([statement], version="1.0.3", authority=platform_authority(), may_define=True,
                     source=source or PLATFORM_SOURCE)
    db.session.commit()


def login(app, user):
    """A test client logged in as ``user``, and a function giving a CSRF token."""
    from lms.testing import AuthActions, csrf_token_from

    client = app.test_client()
    AuthActions(client).login(user)

    def token(path="/supervision/"):
        return csrf_token_from(client.get(path).get_data(as_text=True))

    return client, token
