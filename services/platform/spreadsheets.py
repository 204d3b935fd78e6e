"""Writing workbooks for export: one sheet, streamed, and safe to open.

A cell whose text starts with = + - @ would be taken by Excel for a formula (CSV/formula injection:
a name typed by an applicant becomes a command on the reviewer's machine), so such text is written
with a leading apostrophe. Reading workbooks is ``services.platform.xlsx_stream``'s.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@")


def escape(value: Any) -> Any:
    """Text that Excel would take for a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_rows(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook, streamed (write-only) so that large exports stay small in memory."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([escape(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
