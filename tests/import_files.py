"""Declaration workbooks for the import tests (the template's sheet and header, rows as given)."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

from openpyxl import Workbook

from services.platform.demo_data import demo_id_number
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


def repacked(content: bytes, *, rows: bytes = b"", shared: bytes | None = None, extra: dict[str, bytes] | None = None,
             dimension: int | None = None) -> bytes:
    """``content`` with ``rows`` (sheet XML) appended to its sheet's data, a shared-strings part and
    other parts added — how the tests build hostile workbooks (zip bombs compress these to a few
    hundred KB). ``dimension``: the data rows the sheet then declares."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", rows + b"</sheetData>")
                if dimension is not None:
                    declared = f'<dimension ref="A1:G{dimension + 1}"/>'.encode()
                    data = re.sub(rb'<dimension ref="[^"]*"/>', declared, data)
            target.writestr(info.filename, data)
        if shared is not None:
            target.writestr("xl/sharedStrings.xml", shared)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return buffer.getvalue()


def same_numbered_rows(count: int) -> bytes:
    """``count`` good rows of distinct persons, every one numbered r="2" (row numbers are the
    writer's to choose: nothing may depend on them, neither progress nor the cancel check)."""
    rows = []
    for n in range(count):
        birth = date(1970, 1, 1) + timedelta(days=n // 400)
        values = [demo_id_number("110101", birth, (n % 400) * 2 + 1), f"人员{n}", "男", birth.isoformat(),
                  "MT001 井下采煤工", "1995-07-01", "2010-06-30"]
        rows.append('<row r="2">' + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values) + "</row>")
    return "".join(rows).encode()
