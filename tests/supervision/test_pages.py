"""Officer pages, audit-log scoping, dashboard filters and export, the CLI, the 375 px layout rules."""
from __future__ import annotations

import io

import sqlalchemy as sa

from tests.supervision.conftest import id_number, login, open_class


def test_only_officers_reach_catalogue_changes_and_imports(app, world):
    for user in (world.supervisor, world.admin):
        client, _t = login(app, user)
        assert client.get("/supervision/catalogue").status_code == 403
        assert client.get("/supervision/imports").status_code == 403
    client, token = login(app, world.officer)
    assert client.get("/supervision/catalogue").status_code == 200
    resp = client.post("/supervision/catalogue", data={
        "csrf_token": token("/supervision/catalogue"), "catalogue": "assessment_body", "entry_key": "AB-0001",
        "title": "省职业技能鉴定中心", "occupations": "6-31-01-03", "reason_code": "new",
        "effective_from": "2026-01-01", "organisation_id": "0"})
    assert resp.status_code == 303
    page = app.test_client().get("/public/training/?catalogue=assessment_body").get_data(as_text=True)
    assert "省职业技能鉴定中心" in page
    resp = client.post("/supervision/catalogue", data={
        "csrf_token": token("/supervision/catalogue"), "catalogue": "assessment_body", "entry_key": "AB-0001",
        "reason_code": "remove_fraud", "remove": "y", "effective_from": "2026-01-02", "organisation_id": "0"})
    assert resp.status_code == 400 and "申诉" in resp.get_data(as_text=True)


def test_policy_page_lists_rules_and_only_officers_record(app, world):
    from lms.core.db import db
    from supervision.models import PolicyRule

    sup, token = login(app, world.supervisor)
    assert sup.get("/supervision/policy").status_code == 200
    sup.post("/supervision/policy", data={"csrf_token": token(), "code": "screen.max_daily_hours", "value": "6",
                                          "citation": "x", "effective_from": "2026-01-01"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PolicyRule)) == 0
    officer, token = login(app, world.officer)
    resp = officer.post("/supervision/policy", data={"csrf_token": token(), "code": "screen.max_daily_hours",
                                                     "value": "6", "citation": "《示例办法》第五条",
                                                     "effective_from": "2026-01-01"})
    assert resp.status_code == 303
    assert "《示例办法》第五条" in officer.get("/supervision/policy").get_data(as_text=True)


def test_audit_log_is_scoped_to_the_institution(app, world, trainees):
    open_class(world, trainees(1), name="本校班")
    open_class(world, trainees(1, org=world.other_school), org=world.other_school, name="外校班")
    mine, _t = login(app, world.admin)
    html = mine.get("/supervision/audit").get_data(as_text=True)
    assert "本校班" in html and "外校班" not in html
    sup, _t = login(app, world.supervisor)
    html = sup.get("/supervision/audit").get_data(as_text=True)
    assert "本校班" in html and "外校班" in html
    assert sup.get("/supervision/audit?page=999999999999999999999").status_code == 200


def test_dashboard_filters_and_export(app, world, trainees):
    from openpyxl import load_workbook

    open_class(world, trainees(2), name="苏班")
    open_class(world, trainees(3, org=world.other_school), org=world.other_school, name="皖班")
    sup, _t = login(app, world.supervisor)
    html = sup.get("/supervision/?region=江苏省").get_data(as_text=True)
    assert "江南技师学院" in html and "江北培训学校" not in html.split("<tbody>")[1]
    assert "<svg" in html and 'role="img"' in html
    html = sup.get("/supervision/?level=²&since=x&until=2026-13-40").get_data(as_text=True)
    assert "江北培训学校" in html
    book = load_workbook(io.BytesIO(sup.get("/supervision/dashboard.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 3
    mine, _t = login(app, world.other_admin)
    body = mine.get("/supervision/").get_data(as_text=True).split("<tbody>")[1]
    assert "江北培训学校" in body and "江南技师学院" not in body


def test_cli_appoints_officers_imports_and_recomputes(app, world, trainees, runner, tmp_path):
    from lms.core.db import db
    from supervision.access import is_officer

    result = runner.invoke(args=["supervision", "officer", world.supervisor.login])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert is_officer(world.supervisor)
    path = tmp_path / "payroll.csv"
    path.write_text(f"id_number,note\n{id_number()},财政供养\n", encoding="utf-8")
    result = runner.invoke(args=["supervision", "import", "payroll", str(path), "--by", world.officer.login])
    assert result.exit_code == 0 and "1" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id_number,note\n123,x\n", encoding="utf-8")
    result = runner.invoke(args=["supervision", "import", "payroll", str(bad), "--by", world.officer.login])
    assert result.exit_code != 0 and "2" in result.output
    open_class(world, trainees(2))
    result = runner.invoke(args=["supervision", "recompute"])
    assert result.exit_code == 0 and "classes: 1, mismatches corrected: 0" in result.output


def test_pages_fit_a_phone(app, world, trainees):
    """No fixed widths: the chart scales (viewBox, width 100 %), tables scroll inside .table-wrap."""
    cls = open_class(world, trainees(2))
    sup, _t = login(app, world.supervisor)
    for url in ("/supervision/", f"/supervision/classes/{cls.id}", "/supervision/classes"):
        html = sup.get(url).get_data(as_text=True)
        assert 'width="' not in html.split("<svg")[1].split(">")[0] if "<svg" in html else True
        assert html.count("<table") == html.count('<div class="table-wrap" tabindex="0"><table')
