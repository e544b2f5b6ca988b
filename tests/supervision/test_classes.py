"""Classes opened on approval: roster frozen as the denominator, scoping, malformed input, parallel requests."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from tests.supervision.conftest import listed_entry, login, open_class


def test_opening_freezes_the_roster_as_denominator_and_later_additions_do_not_count(world, trainees):
    from lms.core.db import db
    from supervision.models import ClassIndicator
    from supervision.operations import classes

    people = trainees(4)
    cls = open_class(world, people[:3], approve=False)
    assert cls.status == "applied" and cls.enrolled_at_opening == 0
    classes.decide_class(world.officer, cls.id, approve=True)
    db.session.commit()
    assert cls.status == "open" and cls.enrolled_at_opening == 3
    assert all(t.in_denominator for t in cls.trainees)
    classes.add_trainee_after_opening(world.admin, cls.id, people[3].login)
    db.session.commit()
    db.session.refresh(cls)
    assert cls.enrolled_at_opening == 3
    assert db.session.get(ClassIndicator, cls.id).enrolled == 3
    late = [t for t in cls.trainees if t.user_id == people[3].id][0]
    assert late.added_after_opening and not late.in_denominator


def test_roster_errors_name_their_lines(world, trainees, create_user):
    from supervision.operations import SupervisionError, classes

    ok = trainees(1)[0]
    no_id = create_user("learner", world.school)
    key = listed_entry(world)
    with pytest.raises(SupervisionError) as err:
        classes.apply_class(world.admin, world.school.id, entry_key=key, name="A", start_date=dt.date.today(),
                            end_date=dt.date.today(), roster=f"{ok.login}\nnobody@example.com\n\n{no_id.login}\n{ok.login}",
                            teaching_plan="p", teachers="t", schedule="s", assessment_plan="a")
    text = str(err.value.message)
    assert "2" in text and "4" in text and "5" in text and err.value.field == "roster"


def test_returning_needs_a_reason_and_frees_the_name(world, trainees):
    from lms.core.db import db
    from supervision.operations import SupervisionError, classes

    people = trainees(2)
    cls = open_class(world, people, name="退回班", approve=False)
    with pytest.raises(SupervisionError):
        classes.decide_class(world.officer, cls.id, approve=False)
    classes.decide_class(world.officer, cls.id, approve=False, reason="教学计划不完整")
    db.session.commit()
    assert cls.status == "returned" and cls.decision_reason == "教学计划不完整"
    again = open_class(world, people, name="退回班", entry_key=cls.entry_key, approve=False)
    assert again.status == "applied"
    with pytest.raises(SupervisionError) as err:
        classes.decide_class(world.officer, cls.id, approve=True)
    assert err.value.status == 409


def test_institutions_see_only_their_own_classes_and_supervisors_all(app, world, trainees):
    cls = open_class(world, trainees(2))
    other, token = login(app, world.other_admin)
    assert other.get(f"/supervision/classes/{cls.id}").status_code == 404
    assert "电工" not in other.get("/supervision/classes").get_data(as_text=True)
    resp = other.post(f"/supervision/classes/{cls.id}/claim", data={"csrf_token": token()})
    assert resp.status_code == 404
    sup, _t = login(app, world.supervisor)
    page = sup.get(f"/supervision/classes/{cls.id}")
    assert page.status_code == 200 and cls.name in page.get_data(as_text=True)
    learner, _t = login(app, trainees(1)[0])
    assert learner.get("/supervision/").status_code == 403
    assert app.test_client().get("/supervision/").status_code == 302


def test_a_supervisor_cannot_open_a_class(app, world, trainees):
    cls = open_class(world, trainees(2), approve=False)
    client, token = login(app, world.supervisor)
    client.post(f"/supervision/classes/{cls.id}/decide", data={"csrf_token": token(), "decision": "approve"})
    from lms.core.db import db

    db.session.refresh(cls)
    assert cls.status == "applied"


def test_class_page_shows_no_full_id_numbers(app, world, trainees):
    people = trainees(2)
    cls = open_class(world, people)
    client, _t = login(app, world.admin)
    html = client.get(f"/supervision/classes/{cls.id}").get_data(as_text=True)
    assert people[0].id_card_number not in html and people[0].id_card_number[-4:] in html


@pytest.mark.parametrize("data", [
    {"name": "", "start_date": "2026-01-01", "end_date": "2026-01-02"},
    {"name": "x", "start_date": "not a date", "end_date": "2026-01-02"},
    {"name": "x", "start_date": "2026-02-01", "end_date": "2026-01-02"},
    {"name": "x" * 300, "start_date": "2026-01-01", "end_date": "2026-01-02"},
])
def test_malformed_class_applications_are_refused(app, world, trainees, data):
    from lms.core.db import db
    from supervision.models import TrainingClass

    key = listed_entry(world)
    people = trainees(1)
    client, token = login(app, world.admin)
    form = {"csrf_token": token("/supervision/classes"), "organisation_id": world.school.id, "entry_key": key,
            "teaching_plan": "p", "teachers": "t", "schedule": "s", "assessment_plan": "a",
            "roster": people[0].login, **data}
    resp = client.post("/supervision/classes", data=form)
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingClass)) == 0


def _parallel(app, user, url, data, n=20):
    from lms.testing import AuthActions, csrf_token_from

    clients = []
    for _ in range(n):
        c = app.test_client()
        AuthActions(c).login(user)
        token = csrf_token_from(c.get("/supervision/").get_data(as_text=True))
        clients.append((c, token))
    statuses = []
    barrier = threading.Barrier(n)

    def go(c, token):
        barrier.wait()
        statuses.append(c.post(url, data={**data, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=go, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return statuses


def test_twenty_parallel_identical_approvals_open_the_class_once(app, world, trainees):
    from lms.core.db import db
    from supervision.models import AuditEntry

    cls = open_class(world, trainees(3), approve=False)
    statuses = _parallel(app, world.officer, f"/supervision/classes/{cls.id}/decide", {"decision": "approve"})
    assert len(statuses) == 20 and all(s < 500 for s in statuses)
    db.session.rollback()
    db.session.refresh(cls)
    assert cls.status == "open" and cls.enrolled_at_opening == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "class.approved")) == 1


def test_twenty_parallel_identical_class_applications_make_one_class(app, world, trainees):
    from lms.core.db import db
    from supervision.models import TrainingClass

    key = listed_entry(world)
    people = trainees(2)
    data = {"organisation_id": world.school.id, "entry_key": key, "name": "并发班", "start_date": "2026-03-01",
            "end_date": "2026-03-31", "teaching_plan": "p", "teachers": "t", "schedule": "s", "assessment_plan": "a",
            "roster": "\n".join(p.login for p in people)}
    statuses = _parallel(app, world.admin, "/supervision/classes", data)
    assert all(s < 500 for s in statuses)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingClass)) == 1
