"""The streaming sheet reader on workbooks as Excel writes them (shared strings, rich text, a
namespace prefix, sparse cells) and on hostile ones."""
from __future__ import annotations

import io
import zipfile

import pytest

from services.xlsx_stream import Formula, WorkbookError, iter_rows

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK = f"""<?xml version="1.0"?><workbook {NS} xmlns:r="{RELS_NS}"><sheets>
<sheet name="填写说明" sheetId="1" r:id="rId1"/><sheet name="申报人员" sheetId="2" r:id="rId2"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="worksheet" Target="/xl/worksheets/sheet2.xml"/></Relationships>"""
SHARED = f"""<?xml version="1.0"?><sst {NS}><si><t>110101197503010014</t></si>
<si><r><t>张</t></r><r><rPr/><t>三</t></r></si></sst>"""


def xlsx(sheet2: str, sheet1: str = f'<worksheet {NS}><sheetData/></worksheet>') -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/sharedStrings.xml", SHARED)
        archive.writestr("xl/worksheets/sheet1.xml", sheet1)
        archive.writestr("xl/worksheets/sheet2.xml", sheet2)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_excel_style_sheet_with_shared_strings_and_gaps():
    sheet = f"""<worksheet {NS}><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c><c r="D1"><v>34881</v></c></row>
<row r="4"><c r="A4" t="b"><v>1</v></c><c r="B4"><v>2.5</v></c><c r="E4"><f>TODAY()</f><v>46000</v></c></row>
</sheetData></worksheet>"""
    rows = list(iter_rows(xlsx(sheet), "申报人员"))
    assert rows == [(1, ("110101197503010014", None, "张三", 34881)), (4, (True, 2.5, None, None, "=TODAY()"))]
    assert isinstance(rows[1][1][4], Formula)  # reported, never its cached value


def test_prefixed_namespace_and_fallback_to_the_first_sheet():
    sheet = ('<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
             '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>甲</x:t></x:is></x:c></x:row>'
             '</x:sheetData></x:worksheet>')
    assert list(iter_rows(xlsx(sheet, sheet1=sheet), "没有这个表")) == [(1, ("甲",))]


def test_doctype_and_entities_are_refused():
    bomb = ('<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row>'
            '</sheetData></worksheet>')
    with pytest.raises(WorkbookError):
        list(iter_rows(xlsx(bomb), "申报人员"))


def test_broken_xml_and_missing_parts_are_workbook_errors():
    with pytest.raises(WorkbookError):
        list(iter_rows(xlsx(f"<worksheet {NS}><sheetData><row>"), "申报人员"))
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(WorkbookError):
        list(iter_rows(zipfile.ZipFile(empty), "申报人员"))
