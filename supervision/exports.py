"""CSV and Excel files for download. Every text cell that a spreadsheet would run as a formula
is quoted (formula injection); ID numbers are masked unless the reader is entitled."""
from __future__ import annotations

import io

from lms.core.spreadsheets import csv_bytes, safe_cell, write_rows

__all__ = ["csv_bytes", "safe_cell", "xlsx_bytes"]


def xlsx_bytes(sheets: list[tuple[str, list[list]]]) -> bytes:
    """A workbook with one sheet per ``(title, rows)``; the first row of each is the header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet((title or "Sheet")[:31].translate({ord(c): "_" for c in "[]:*?/\\"}))
        write_rows(ws, ([str(v) if v is not None and not isinstance(v, (int, float)) else v for v in row]
                        for row in rows))
        for cell in ws[1] if rows else ():
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max((len(str(c.value or "")) for c in column), default=8)
            ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 50)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
