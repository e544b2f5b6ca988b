"""Subsidy claims: amounts by the policy, screening rules with evidence, hit states, submission, exports."""
from __future__ import annotations

import datetime as dt
import io
import uuid
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.supervision.conftest import login, open_class, study

ZONE = ZoneInfo("Asia/Shanghai")
HOUR = 3600


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def _check_all(world, people):
    from lms.core.db import db
    from supervision.operations import imports

    for person in people:
        imports.record_real_name_check(world.officer, person)
    db.session.commit()


def test_amount_is_standard_times_online_share_capped_by_policy(world, trainees):
    from lms.core.db import db
    from supervision.operations import claims, policy

    people = trainees(3)
    cls = open_class(world, people)
    day = cls.start_date + dt.timedelta(days=2)
    study(people[0], at=_local(day, 10), seconds=4 * 45 * 60)  # 4 study hours of 10
    for h in (9, 11, 13):  # 3 x 4 hours... capped per statement at 4 h: 12 real hours = 16 study hours
        study(people[1], at=_local(day, h + 3), seconds=3 * HOUR)
    study(people[2], at=_local(cls.start_date - dt.timedelta(days=5), 10), seconds=3 * HOUR)  # before the class
    claim = claims.prepare(world.admin, cls.id)
    db.session.commit()
    amounts = {line.user_id: line.amount for line in claim.lines}
    assert str(amounts[people[0].id]) == "400.00"
    assert str(amounts[people[1].id]) == "1000.00"
    assert str(amounts[people[2].id]) == "0.00"
    assert str(claim.total_amount) == "1400.00"
    policy.record(world.officer, "subsidy.max_per_person_year", 600, citation="示例通知第三条",
                  effective_from=cls.start_date)
    claims.screen(world.admin, claim.id)
    db.session.commit()
    amounts = {line.user_id: line.amount for line in claim.lines}
    assert str(amounts[people[1].id]) == "600.00"


def test_policy_rules_need_a_citation_and_apply_by_date(world):
    from lms.core.db import db
    from supervision.operations import SupervisionError, policy

    with pytest.raises(SupervisionError) as err:
        policy.record(world.officer, "screen.max_daily_hours", 6, citation=" ", effective_from=dt.date(2026, 1, 1))
    assert err.value.field == "citation"
    with pytest.raises(SupervisionError):
        policy.record(world.supervisor, "screen.max_daily_hours", 6, citation="x", effective_from=dt.date(2026, 1, 1))
    with pytest.raises(SupervisionError) as err:
        policy.record(world.officer, "screen.max_daily_hours", "lots", citation="x", effective_from=dt.date(2026, 1, 1))
    assert err.value.field == "value"
    policy.record(world.officer, "screen.max_daily_hours", 6, citation="通知", effective_from=dt.date(2030, 1, 1))
    db.session.commit()
    assert policy.value("screen.max_daily_hours", dt.date(2029, 12, 31)) == 8.0
    assert policy.value("screen.max_daily_hours", dt.date(2030, 1, 1)) == 6.0


@pytest.fixture
def screened(world, trainees):
    """A class whose trainees each break exactly one rule (and one who breaks none)."""
    from lms.core.db import db
    from lms.records.provenance import Source
    from supervision.operations import claims, imports

    people = trainees(7)
    a, b, c, d, e, f, clean = people
    cls = open_class(world, people)
    _check_all(world, [b, c, d, e, f, clean])  # a is never checked
    day = cls.start_date + dt.timedelta(days=3)
    reg = uuid.uuid4()
    for h in range(8, 18):  # b: ten consecutive hours in one registration, no overlap
        study(b, at=_local(day, h + 1), seconds=HOUR, registration=reg)
    study(c, at=_local(day, 10), seconds=HOUR, registration=uuid.uuid4())  # c: two sessions at once
    study(c, at=_local(day, 10, 30), seconds=HOUR, registration=uuid.uuid4())
    study(d, at=_local(day, 10), seconds=2 * HOUR,
          source=Source("system", client_id=None, label="某刷课平台", trust_level="untrusted"))
    imports.import_file(world.officer, "student", "students.csv", f"id_number,note\n{e.id_card_number},某大学\n".encode())
    study(clean, at=_local(day, 10), seconds=2 * HOUR)
    # f was claimed by another institution for the same occupation and level, earlier in the year
    other_end = cls.start_date - dt.timedelta(days=5)
    other = open_class(world, [f], org=world.other_school, start=other_end - dt.timedelta(days=10), end=other_end)
    claims.prepare(world.other_admin, other.id)
    db.session.commit()
    claim = claims.prepare(world.admin, cls.id)
    db.session.commit()
    claims.screen(world.admin, claim.id)
    db.session.commit()
    return claim, dict(a=a, b=b, c=c, d=d, e=e, f=f, clean=clean)


def test_screening_finds_exactly_the_planted_hits_with_evidence(screened):
    from supervision.operations.screening import evidence_text

    claim, p = screened
    found = {(h.user_id, h.rule) for h in claim.hits}
    assert found == {(p["a"].id, "unverified_real_name"), (p["b"].id, "daily_hours"),
                     (p["c"].id, "overlapping_sessions"), (p["d"].id, "untrusted_source"),
                     (p["e"].id, "exclusion_list"), (p["f"].id, "duplicate_claim")}
    by_rule = {h.rule: h for h in claim.hits}
    assert by_rule["daily_hours"].evidence["hours"] == "10.0"
    assert by_rule["overlapping_sessions"].evidence["minutes"] == 30
    assert "某刷课平台" in by_rule["untrusted_source"].evidence["sources"]
    assert by_rule["duplicate_claim"].evidence["institution"] == "江北培训学校"
    assert p["a"].id_card_number not in evidence_text("unverified_real_name", by_rule["unverified_real_name"].evidence)
    assert all(h.state == "open" for h in claim.hits)


def test_hits_block_submission_until_answered_and_reviewed(world, screened):
    from lms.core.db import db
    from supervision.operations import SupervisionError, claims

    claim, p = screened
    with pytest.raises(SupervisionError):
        claims.submit(world.admin, claim.id)
    hits = {h.rule: h for h in claim.hits}
    with pytest.raises(SupervisionError):  # the institution cannot review its own hits
        claims.review_hit(world.admin, hits["exclusion_list"].id, "dismissed", "没问题")
    with pytest.raises(SupervisionError):
        claims.answer_hit(world.other_admin, hits["exclusion_list"].id, "不是我们的")
    claims.answer_hit(world.admin, hits["unverified_real_name"].id, "已补充核验身份证原件")
    claims.review_hit(world.officer, hits["exclusion_list"].id, "confirmed", "在校全日制学生")
    claims.review_hit(world.officer, hits["daily_hours"].id, "dismissed", "线下集中实训日")
    for rule in ("overlapping_sessions", "untrusted_source", "duplicate_claim"):
        claims.review_hit(world.officer, hits[rule].id, "confirmed", "核实")
    db.session.commit()
    line_e = [line for line in claim.lines if line.user_id == p["e"].id][0]
    assert line_e.excluded and str(line_e.amount) == "0.00"
    assert claims.false_positive_counts()["daily_hours"] == {"dismissed": 1}
    claims.screen(world.admin, claim.id)  # screening again keeps the states and notes
    db.session.commit()
    assert {h.rule: h.state for h in claim.hits}["exclusion_list"] == "confirmed"
    claims.submit(world.admin, claim.id)
    db.session.commit()
    assert claim.status == "submitted"
    with pytest.raises(SupervisionError):
        claims.screen(world.admin, claim.id)


def test_twenty_parallel_submissions_submit_once(app, world, trainees):
    import threading

    from lms.core.db import db
    from lms.testing import AuthActions, csrf_token_from
    from supervision.models import AuditEntry
    from supervision.operations import claims

    people = trainees(2)
    cls = open_class(world, people)
    _check_all(world, people)
    claim = claims.prepare(world.admin, cls.id)
    claims.screen(world.admin, claim.id)
    db.session.commit()
    assert not claim.hits
    clients = []
    for _ in range(20):
        c = app.test_client()
        AuthActions(c).login(world.admin)
        clients.append((c, csrf_token_from(c.get(f"/supervision/claims/{claim.id}").get_data(as_text=True))))
    statuses, barrier = [], threading.Barrier(20)
    url = f"/supervision/claims/{claim.id}/submit"

    def go(c, token):
        barrier.wait()
        statuses.append(c.post(url, data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=go, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 20 and all(s < 500 for s in statuses)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "claim.submitted")) == 1


def test_exports_show_full_id_numbers_only_to_officers_and_are_logged(app, world, screened):
    from openpyxl import load_workbook

    from lms.core.db import db
    from supervision.models import AuditEntry

    claim, p = screened
    full = p["clean"].id_card_number

    def cells(client):
        resp = client.get(f"/supervision/claims/{claim.id}/export.xlsx")
        assert resp.status_code == 200
        book = load_workbook(io.BytesIO(resp.data))
        return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row]

    officer, _t = login(app, world.officer)
    assert full in cells(officer)
    admin, _t = login(app, world.admin)
    admin_cells = cells(admin)
    assert full not in admin_cells and any(v.endswith(full[-4:]) and "*" in v for v in admin_cells)
    supervisor, _t = login(app, world.supervisor)
    assert full not in cells(supervisor)
    other, _t = login(app, world.other_admin)
    assert other.get(f"/supervision/claims/{claim.id}/export.xlsx").status_code == 404
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.subject_kind == "claim",
                                                                    AuditEntry.action.like("export.%"))).all()
    assert sorted(actions) == ["export.masked", "export.masked", "export.personal"]


def test_claim_page_renders_hits_with_evidence_and_no_raw_json(app, world, screened):
    claim, p = screened
    client, _t = login(app, world.officer)
    html = client.get(f"/supervision/claims/{claim.id}").get_data(as_text=True)
    assert "某刷课平台" in html and "{&#34;" not in html and '{"' not in html
    assert p["clean"].id_card_number not in html


def test_a_trainee_in_two_classes_at_once_is_flagged(world, trainees):
    from lms.core.db import db
    from supervision.operations import claims

    people = trainees(2)
    _check_all(world, people)
    cls = open_class(world, people)
    open_class(world, [people[1]], org=world.other_school, start=cls.start_date + dt.timedelta(days=3),
               end=cls.end_date + dt.timedelta(days=30))
    claim = claims.prepare(world.admin, cls.id)
    claims.screen(world.admin, claim.id)
    db.session.commit()
    assert {(h.user_id, h.rule) for h in claim.hits} == {(people[1].id, "concurrent_classes")}
    assert claim.hits[0].evidence["institution"] == "江北培训学校"


def test_completions_entered_in_bulk_are_flagged_for_the_whole_class(world, trainees):
    from lms.core.db import db, utcnow
    from supervision.operations import claims

    people = trainees(10)
    _check_all(world, people)
    cls = open_class(world, people)
    now = utcnow()
    for i, t in enumerate(cls.trainees):
        t.completed_at = now + dt.timedelta(seconds=20 * i)  # ten completions in three minutes
    db.session.commit()
    claim = claims.prepare(world.admin, cls.id)
    claims.screen(world.admin, claim.id)
    db.session.commit()
    assert [(h.user_id, h.rule) for h in claim.hits] == [(None, "bulk_completion")]
    assert claim.hits[0].evidence["count"] == 10


def test_a_class_hit_is_shown_and_can_be_answered_and_reviewed_on_the_page(app, world, trainees):
    from lms.core.db import db, utcnow
    from supervision.operations import claims

    people = trainees(10)
    _check_all(world, people)
    cls = open_class(world, people)
    for t in cls.trainees:
        t.completed_at = utcnow()
    db.session.commit()
    claim = claims.prepare(world.admin, cls.id)
    claims.screen(world.admin, claim.id)
    db.session.commit()
    hit = claim.hits[0]
    admin, token = login(app, world.admin)
    html = admin.get(f"/supervision/claims/{claim.id}").get_data(as_text=True)
    assert "集中批量结业" in html and f"/supervision/hits/{hit.id}/answer" in html
    admin.post(f"/supervision/hits/{hit.id}/answer", data={"csrf_token": token(), "response": "线下统一考核后录入"})
    officer, token = login(app, world.officer)
    officer.post(f"/supervision/hits/{hit.id}/review", data={"csrf_token": token(), "state": "dismissed",
                                                             "note": "核实为统一考核"})
    db.session.refresh(hit)
    assert hit.state == "dismissed" and hit.response == "线下统一考核后录入"


@pytest.mark.parametrize("employed, expected", [
    (1, {0: "1000.00", 1: "0.00", 2: "0.00", 3: "0.00"}),        # 25 %: only the employed are paid
    (2, {0: "1100.00", 1: "1100.00", 2: "1100.00", 3: "1100.00"}),  # 50 %: a bonus of 10 %
])
def test_subsidy_in_steps_by_the_class_employment_rate(world, trainees, employed, expected):
    from lms.core.db import db
    from supervision.operations import claims, imports, policy

    people = trainees(4)
    _check_all(world, people)
    cls = open_class(world, people)
    for person in people:
        study(person, at=_local(cls.start_date + dt.timedelta(days=1), 12), seconds=4 * HOUR)
        study(person, at=_local(cls.start_date + dt.timedelta(days=2), 12), seconds=4 * HOUR)
    policy.record(world.officer, "subsidy.stepped_by_employment", "true", citation="某市就业技能培训补贴办法第八条",
                  effective_from=cls.start_date)
    jobs = "\n".join(f"{p.id_card_number},社保,{cls.end_date.isoformat()},甲" for p in people[:int(employed)])
    imports.import_file(world.officer, "employment", "jobs.csv", f"id_number,kind,start_date,employer\n{jobs}".encode())
    db.session.commit()
    claim = claims.prepare(world.admin, cls.id)
    db.session.commit()
    amounts = {line.user_id: str(line.amount) for line in claim.lines}
    assert amounts == {people[i].id: v for i, v in expected.items()}
