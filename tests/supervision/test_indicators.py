"""Indicators: kept up to date from events and statements; equal to a direct recomputation."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.supervision.conftest import id_number, listed_entry, open_class


def test_a_course_completed_in_the_lesson_player_counts_for_the_class(world, trainees):
    from courses.delivery import operations as delivery
    from courses.operations.enrolment import enrol
    from lms.core.db import db
    from supervision.models import ClassIndicator

    people = trainees(2)
    cls = open_class(world, people, start=dt.date.today() - dt.timedelta(days=3), end=dt.date.today())
    enrol(people[0], world.course, by=people[0])
    db.session.commit()
    delivery.open_lesson(people[0], world.lesson.id)
    db.session.commit()  # the completion statement is stored; supervision hears statement_stored
    row = db.session.get(ClassIndicator, cls.id)
    db.session.refresh(row)
    assert (row.enrolled, row.completed, row.passed) == (2, 1, 0)


def test_employment_import_matches_on_id_number_and_windows(world, trainees):
    from lms.core.db import db
    from supervision.models import ClassIndicator
    from supervision.operations import imports

    people = trainees(3)
    end = dt.date.today() - dt.timedelta(days=400)
    cls = open_class(world, people, start=end - dt.timedelta(days=30), end=end)
    lines = ["id_number,kind,start_date,employer",
             f"{people[0].id_card_number},社保,{(end + dt.timedelta(days=40)).isoformat()},甲公司",
             f"{people[1].id_card_number},contract,{(end + dt.timedelta(days=150)).isoformat()},乙公司",
             f"{people[2].id_card_number},business,{(end + dt.timedelta(days=300)).isoformat()},丙商店",
             f"{id_number()},social_insurance,{end.isoformat()},不相干的人"]
    imports.import_file(world.officer, "employment", "jobs.csv", "\n".join(lines).encode())
    db.session.commit()
    row = db.session.get(ClassIndicator, cls.id)
    assert (row.employed_2m, row.employed_6m, row.employed_12m, row.entrepreneurs) == (1, 2, 2, 1)


def test_a_bad_import_line_imports_nothing_and_names_the_line(world):
    import pytest

    from supervision.models import EmploymentRecord
    from supervision.operations import SupervisionError, imports
    import sqlalchemy as sa
    from lms.core.db import db

    good = id_number()
    text = f"id_number,kind,start_date,employer\n{good},社保,2026-01-01,甲\n123,社保,2026-01-01,乙\n{good},dunno,2026-01-01,丙\n{good},社保,2026-13-01,丁\n"
    with pytest.raises(SupervisionError) as err:
        imports.import_file(world.officer, "employment", "x.csv", text.encode())
    message = str(err.value.message)
    assert "3" in message and "4" in message and "5" in message and "2:" not in message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmploymentRecord)) == 0
    with pytest.raises(SupervisionError):
        imports.import_file(world.admin, "pension", "x.csv", f"id_number,note\n{good},x\n".encode())
    with pytest.raises(SupervisionError):
        imports.import_file(world.officer, "employment", "x.xlsx", b"not a workbook")


def test_excel_import(world):
    import io

    from openpyxl import Workbook

    from lms.core.db import db
    from supervision.models import WatchlistEntry

    wb = Workbook()
    wb.active.append(["id_number", "note"])
    wb.active.append([id_number(), "市社保局养老金发放名单"])
    buf = io.BytesIO()
    wb.save(buf)
    from supervision.operations import imports

    batch = imports.import_file(world.officer, "pension", "list.xlsx", buf.getvalue())
    db.session.commit()
    assert batch.rows == 1 and db.session.query(WatchlistEntry).count() == 1


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(n=st.integers(1, 6), ops=st.lists(st.tuples(st.sampled_from(["complete", "certify", "employ", "business",
                                                                      "uncertify"]),
                                                    st.integers(0, 5), st.integers(-40, 400)), max_size=15))
def test_indicators_equal_a_direct_recomputation(world, trainees, monkeypatch, n, ops):
    """Random completions, certifications (and retractions) and imported records, each followed by
    the event that announces it: the stored indicators always equal a direct recomputation."""
    from lms.core.db import db
    from lms.core.extension_points import registries
    from supervision.models import ClassIndicator
    from supervision.operations import imports, indicators
    from supervision.tasks import on_learner_event

    done: dict[int, dt.datetime] = {}
    certified: dict[int, dt.datetime] = {}
    sources = registries().report_sources
    monkeypatch.setitem(sources, "courses.completions", lambda ref, ids: {u: done[u] for u in ids if u in done})
    monkeypatch.setitem(sources, "competency.certifications",
                        lambda ids, occ, rung: {u: certified[u] for u in ids if u in certified})
    people = trainees(n)
    end = dt.date.today() - dt.timedelta(days=60)
    if not hasattr(world, "entry_key"):
        world.entry_key = listed_entry(world)
    cls = open_class(world, people, start=end - dt.timedelta(days=20), end=end, entry_key=world.entry_key)
    now = dt.datetime.now(dt.timezone.utc)

    class Sender:
        def __init__(self, user_id):
            self.user_id = user_id

    for op, index, offset in ops:
        person = people[index % n]
        if op == "complete":
            done[person.id] = now
            on_learner_event(Sender(person.id))
        elif op == "certify":
            certified[person.id] = now
            on_learner_event(Sender(person.id))
        elif op == "uncertify":
            certified.pop(person.id, None)
            on_learner_event(Sender(person.id))
        else:
            kind = "business" if op == "business" else "social_insurance"
            day = (end + dt.timedelta(days=offset)).isoformat()
            imports.import_file(world.officer, "employment", "e.csv",
                                f"id_number,kind,start_date,employer\n{person.id_card_number},{kind},{day},x\n".encode())
            db.session.commit()
    row = db.session.get(ClassIndicator, cls.id)
    db.session.refresh(row)
    expected = indicators.direct(cls)
    assert {k: getattr(row, k) for k in expected} == expected
    assert row.enrolled == n
