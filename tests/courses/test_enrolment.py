"""Enrolment by an organisation's administrator (one, or a CSV with a per-line report); classes;
enrolment scopes."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from courses.models import CourseClass, Enrolment
from courses.operations import enrolment as enrol_ops
from courses.operations.errors import CourseError
from lms.core.db import db
from lms.core.permissions import visible
from tests.courses.authoring_support import full_course, post_form, school_with_teacher


@pytest.fixture
def setting(app, create_user, create_org):
    school, teacher = school_with_teacher(create_user, create_org)
    course = full_course(teacher, school)
    firm = create_org("华东制造", "enterprise")
    admin = create_user("enterprise_admin", firm, login="hr@firm.cn")
    workers = [create_user("learner", firm, login=f"worker{i}@firm.cn") for i in range(3)]
    outsider = create_user("learner", create_org("别家公司", "enterprise"), login="other@else.cn")
    return {"school": school, "teacher": teacher, "course": course, "firm": firm, "admin": admin,
            "workers": workers, "outsider": outsider}


def _count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment))


def test_admin_enrols_one_member(setting, client, auth):
    s = setting
    auth.login(s["admin"])
    url = f"/courses/{s['course'].id}/enrolments"
    resp = post_form(client, url, {"action": "one", "one-login": "worker0@firm.cn", "one-class_id": "0"})
    assert resp.status_code == 302
    e = db.session.scalars(sa.select(Enrolment)).one()
    assert e.user_id == s["workers"][0].id and e.enrolled_by_id == s["admin"].id
    resp = post_form(client, url, {"action": "one", "one-login": "other@else.cn", "one-class_id": "0"})
    assert resp.status_code == 403 and _count() == 1


def test_bulk_csv_with_errors_enrols_nobody_and_reports_each_line(setting, client, auth):
    s = setting
    auth.login(s["admin"])
    csv_text = "login\nworker0@firm.cn\nnobody@firm.cn\nother@else.cn\nworker1@firm.cn\nworker0@firm.cn\n"
    resp = post_form(client, f"/courses/{s['course'].id}/enrolments",
                     {"action": "bulk", "bulk-csv_file": (io.BytesIO(csv_text.encode()), "list.csv")},
                     content_type="multipart/form-data")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'data-testid="bulk-report"' in html
    for line, login in [(3, "nobody@firm.cn"), (4, "other@else.cn"), (6, "worker0@firm.cn")]:
        assert f"<td>{line}</td><td>{login}</td>" in html
    assert "<td>2</td>" not in html  # the good lines are not listed as errors
    assert _count() == 0


def test_bulk_csv_enrols_everyone_and_puts_them_in_classes(setting, client, auth):
    s = setting
    enrol_ops.create_class(s["teacher"], s["course"], "焊工一班", teacher=s["teacher"])
    enrol_ops.enrol(s["workers"][2], s["course"], by=s["workers"][2])
    db.session.commit()
    auth.login(s["admin"])
    csv_text = "\ufeffworker0@firm.cn,焊工一班\r\nworker1@firm.cn\r\nworker2@firm.cn\r\n"
    resp = post_form(client, f"/courses/{s['course'].id}/enrolments",
                     {"action": "bulk", "bulk-csv_file": (io.BytesIO(csv_text.encode()), "list.csv")},
                     content_type="multipart/form-data")
    assert resp.status_code == 302
    rows = {e.user_id: e for e in db.session.scalars(sa.select(Enrolment))}
    assert set(rows) == {w.id for w in s["workers"]}
    klass = db.session.scalars(sa.select(CourseClass)).one()
    assert rows[s["workers"][0].id].class_id == klass.id and rows[s["workers"][1].id].class_id is None


def test_bulk_enrolment_on_an_unpublished_course_is_refused(setting):
    from courses.operations import authoring as ops

    s = setting
    ops.archive(s["teacher"], s["course"])
    with pytest.raises(CourseError) as info:
        enrol_ops.bulk_enrol_csv(s["admin"], s["course"], "worker0@firm.cn\n")
    assert info.value.status == 409
    db.session.rollback()
    assert _count() == 0


def test_learners_cannot_enrol_others(setting):
    s = setting
    with pytest.raises(CourseError) as info:
        enrol_ops.enrol(s["workers"][1], s["course"], by=s["workers"][0])
    assert info.value.status == 403
    with pytest.raises(CourseError):
        enrol_ops.bulk_enrol_csv(s["workers"][0], s["course"], "worker1@firm.cn\n")
    db.session.rollback()
    assert _count() == 0


def test_classes_group_enrolments_under_a_teacher(setting, client, auth):
    s = setting
    auth.login(s["teacher"])
    url = f"/courses/{s['course'].id}/classes"
    resp = post_form(client, url, {"name": "2026 春季焊工班", "teacher_login": s["teacher"].login,
                                   "organisation_id": str(s["school"].id)})
    assert resp.status_code == 302
    klass = db.session.scalars(sa.select(CourseClass)).one()
    assert klass.teacher_id == s["teacher"].id and klass.course_id == s["course"].id
    resp = post_form(client, url, {"name": "2026 春季焊工班", "organisation_id": str(s["school"].id)})
    assert resp.status_code == 409
    e = enrol_ops.enrol(s["workers"][0], s["course"], by=s["admin"])
    db.session.commit()
    resp = post_form(client, f"/courses/{s['course'].id}/enrolments", {"class_id": str(klass.id)},
                     action=f"/courses/enrolments/{e.id}/class")
    assert resp.status_code == 302
    assert db.session.get(Enrolment, e.id).class_id == klass.id


def test_enrolment_scopes(setting, create_user):
    s = setting
    for w in s["workers"][:2]:
        enrol_ops.enrol(w, s["course"], by=s["admin"])
    enrol_ops.enrol(s["outsider"], s["course"], by=s["outsider"])
    db.session.commit()

    def seen(user):
        return {e.user_id for e in db.session.scalars(visible(user, Enrolment))}

    assert seen(s["workers"][0]) == {s["workers"][0].id}
    assert seen(s["admin"]) == {s["workers"][0].id, s["workers"][1].id}
    assert seen(s["teacher"]) == {s["workers"][0].id, s["workers"][1].id, s["outsider"].id}
    other_teacher = create_user("teacher", s["school"])
    assert seen(other_teacher) == set()


def test_enrolment_records_a_registered_statement(setting):
    s = setting
    e = enrol_ops.enrol(s["workers"][0], s["course"], by=s["workers"][0])
    db.session.commit()
    try:
        from lms.xapi.store import iter_statements_for_agent
        from lms.xapi.recorder import actor_for
    except ImportError:
        pytest.skip("the LRS is not in this build")
    stored = list(iter_statements_for_agent(actor_for(s["workers"][0])))
    registered = [st for st in stored if st.verb_id.endswith("/registered")]
    assert len(registered) == 1
    assert registered[0].object_id == s["course"].activity_iri
    assert registered[0].registration == str(e.registration)


def test_course_teacher_enrols_members_of_the_course_organisation_only(setting, create_user):
    s = setting
    student = create_user("learner", s["school"], login="student@school.cn")
    e = enrol_ops.enrol(student, s["course"], by=s["teacher"])
    assert e.enrolled_by_id == s["teacher"].id
    with pytest.raises(CourseError) as info:
        enrol_ops.enrol(s["workers"][0], s["course"], by=s["teacher"])
    assert info.value.status == 403
    db.session.rollback()
