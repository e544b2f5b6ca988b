"""Versioned catalogues, the application path into the subsidised catalogue, public pages and exports."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.supervision.conftest import listed_entry, login


def test_every_change_is_a_new_version_with_reason_dates_and_approver(world):
    from lms.core.db import db
    from supervision.operations import catalogue

    today = dt.date.today()
    catalogue.new_version(world.officer, "occupation", "4-04-05-05", reason_code="new", title="人工智能训练师",
                          occupation_code="4-04-05-05", effective_from=today - dt.timedelta(days=10))
    catalogue.new_version(world.officer, "occupation", "4-04-05-05", reason_code="adjust", title="人工智能训练师（新）",
                          effective_from=today - dt.timedelta(days=1), reason_note="名称调整")
    future = catalogue.new_version(world.officer, "occupation", "4-04-05-05", reason_code="remove_quality",
                                   remove=True, appeal_note="15 日内可申诉", effective_from=today + dt.timedelta(days=5))
    db.session.commit()
    versions = catalogue.history("occupation", "4-04-05-05")
    assert [v.version for v in versions] == [3, 2, 1]
    assert all(v.approved_by_id == world.officer.id for v in versions)
    # today the adjusted version is in effect; the removal takes effect in five days
    assert catalogue.entry("occupation", "4-04-05-05").title == "人工智能训练师（新）"
    assert catalogue.entry("occupation", "4-04-05-05", today + dt.timedelta(days=6)) is None
    assert future.appeal_note == "15 日内可申诉"


@pytest.mark.parametrize("kwargs, field", [
    ({"reason_code": "remove_quality", "remove": True}, "appeal_note"),
    ({"reason_code": "remove_fraud"}, "reason_code"),
    ({"reason_code": "nonsense"}, "reason_code"),
    ({"reason_code": "new", "effective_to": dt.date(2000, 1, 1)}, "effective_to"),
])
def test_malformed_versions_are_refused_with_the_field_named(world, kwargs, field):
    from supervision.operations import SupervisionError, catalogue

    with pytest.raises(SupervisionError) as err:
        catalogue.new_version(world.officer, "occupation", f"INST-{world.school.id}", title="x",
                              effective_from=dt.date.today(), **kwargs)
    assert err.value.field == field


def test_only_officers_change_catalogues_not_supervisors_admins_or_teachers(world):
    from supervision.operations import SupervisionError, catalogue

    for user in (world.supervisor, world.admin, world.teacher):
        with pytest.raises(SupervisionError) as err:
            catalogue.new_version(user, "occupation", "X-1", reason_code="new", title="x",
                                  effective_from=dt.date.today())
        assert err.value.status == 403


def test_a_course_enters_the_subsidised_catalogue_only_by_approval(world):
    from lms.core.db import db
    from supervision.operations import SupervisionError, catalogue

    application = catalogue.apply_course(world.admin, world.school.id, course_ref=str(world.course.uuid),
                                         occupation_code="6-31-01-03", level=1, total_hours=10,
                                         standard_amount="1200", online_share=0.5)
    db.session.commit()
    assert catalogue.current("training") == []
    with pytest.raises(SupervisionError):  # the teacher cannot apply, let alone approve
        catalogue.apply_course(world.teacher, world.school.id, course_ref=str(world.course.uuid),
                               occupation_code="6-31-01-03", level=2, total_hours=10, standard_amount="1",
                               online_share=1)
    with pytest.raises(SupervisionError) as err:
        catalogue.decide_application(world.admin, application.id, approve=True)
    assert err.value.status == 403
    with pytest.raises(SupervisionError) as err:
        catalogue.decide_application(world.officer, application.id, approve=False)
    assert err.value.field == "reason"
    catalogue.decide_application(world.officer, application.id, approve=True)
    db.session.commit()
    [entry] = catalogue.current("training")
    assert entry.title == "电工上岗培训" and float(entry.standard_amount) == 1200 and entry.online_share == 0.5
    assert entry.organisation_id == world.school.id and entry.course_ref == str(world.course.uuid)


def test_an_institution_cannot_apply_for_another_institutions_course_or_an_occupation_it_may_not_train(world):
    from supervision.operations import SupervisionError, catalogue

    with pytest.raises(SupervisionError) as err:
        catalogue.apply_course(world.other_admin, world.other_school.id, course_ref=str(world.course.uuid),
                               occupation_code="6-31-01-03", level=1, total_hours=10, standard_amount="1",
                               online_share=1)
    assert err.value.field == "course_ref"
    with pytest.raises(SupervisionError) as err:
        catalogue.apply_course(world.admin, world.school.id, course_ref=str(world.course.uuid),
                               occupation_code="4-04-05-05", level=1, total_hours=10, standard_amount="1",
                               online_share=1)
    assert err.value.field == "occupation_code"
    with pytest.raises(SupervisionError) as err:
        catalogue.apply_course(world.admin, world.other_school.id, course_ref=str(world.course.uuid),
                               occupation_code="6-31-01-03", level=1, total_hours=10, standard_amount="1",
                               online_share=1)
    assert err.value.status == 403


def test_public_catalogue_page_history_and_exports_escape_formulas(app, world):
    from lms.core.db import db
    from supervision.operations import catalogue

    key = listed_entry(world)
    catalogue.new_version(world.officer, "occupation", "=HYPERLINK(\"x\")", reason_code="new",
                          title="=1+2", effective_from=dt.date.today())
    db.session.commit()
    client = app.test_client()
    page = client.get("/public/training/?catalogue=training")
    assert page.status_code == 200 and "电工上岗培训" in page.get_data(as_text=True)
    history = client.get(f"/public/training/training/{key}")
    assert history.status_code == 200 and "吴处长" in history.get_data(as_text=True)
    assert client.get("/public/training/training/NOPE").status_code == 404
    assert client.get("/public/training/nonsense/NOPE").status_code == 404
    csv_text = client.get("/public/training/export.csv?catalogue=occupation").data.decode("utf-8-sig")
    assert "'=1+2" in csv_text and "\n=1+2" not in csv_text
    from openpyxl import load_workbook

    xlsx = client.get("/public/training/export.xlsx?catalogue=occupation")
    assert xlsx.status_code == 200
    cells = [c for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows() for c in row]
    # the core's safe cells: the text stays as typed, stored as a string cell Excel will not evaluate
    formula_like = [c for c in cells if c.value == "=1+2"]
    assert formula_like and all(c.data_type == "s" and c.quotePrefix for c in formula_like)
    assert client.get("/public/training/export.pdf").status_code == 404


def test_application_form_by_institution_and_decision_by_officer_through_pages(app, world):
    from supervision.models import CatalogueVersion, CourseApplication

    from lms.core.db import db
    import sqlalchemy as sa

    client, token = login(app, world.admin)
    form = {"csrf_token": token("/supervision/applications"), "organisation_id": world.school.id,
            "course_ref": str(world.course.uuid), "occupation_code": "6-31-01-03", "level": "1",
            "total_hours": "10", "standard_amount": "900", "online_share": "80"}
    resp = client.post("/supervision/applications", data=form)
    assert resp.status_code == 303
    application = db.session.scalars(sa.select(CourseApplication)).one()
    assert application.online_share == 0.8
    # the institution administrator cannot decide; nor can the read-only supervisor
    for user in (world.admin, world.supervisor):
        c, t = login(app, user)
        c.post(f"/supervision/applications/{application.id}/decide",
               data={"csrf_token": t("/supervision/applications"), "decision": "approve"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogueVersion)
                             .where(CatalogueVersion.catalogue == "training")) == 0
    c, t = login(app, world.officer)
    resp = c.post(f"/supervision/applications/{application.id}/decide",
                  data={"csrf_token": t("/supervision/applications"), "decision": "approve", "reason": "材料齐全"})
    assert resp.status_code == 303
    db.session.refresh(application)
    assert application.status == "approved" and application.entry_key
    # without a CSRF token nothing happens
    resp = client.post("/supervision/applications", data={**form, "csrf_token": "x", "level": "2"})
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseApplication)) == 1


def test_courses_can_read_the_listing_through_the_report_source(world):
    from lms.core.extension_points import report_source

    source = report_source("supervision.subsidy_listings")
    assert source([str(world.course.uuid)]) == {}
    key = listed_entry(world)
    listing = source([str(world.course.uuid)])[str(world.course.uuid)]
    assert listing["entry_key"] == key and listing["level"] == 1
