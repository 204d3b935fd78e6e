"""Declaration workbooks for the import tests (the template's sheet and header, rows as given)."""
from __future__ import annotations

import io

from openpyxl import Workbook

from tests.conftest import person

HEADER = ["公民身份号码*", "姓名*", "性别*", "出生日期*", "特殊工种*", "开始日期*", "结束日期*"]
BAD_ID_NUMBER = "110101197503010010"  # wrong check digit


def good_row(serial: int, name: str | None = None) -> list[str]:
    p = person(serial)
    return [p["id_number"], name or f"导入{serial}", "男", "1975-03-01", "MT001 井下采煤工", "1995-07-01", "2010-06-30"]


def bad_row(name: str = "错号") -> list[str]:
    return [BAD_ID_NUMBER, name, "男", "1975-03-01", "MT001", "1995-07-01", "2010-06-30"]


def workbook(*rows: list, header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "申报人员"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
