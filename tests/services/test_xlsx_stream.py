"""The streaming sheet reader on workbooks as Excel writes them (shared strings, rich text, a
namespace prefix, sparse cells) and on hostile ones: every cap on its work stops it with a message
naming the cap, whatever the zip directory declares."""
from __future__ import annotations

import io
import zipfile

import pytest

from services.platform.xlsx_stream import Formula, LimitExceeded, Limits, Meter, WorkbookError, iter_rows

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK = f"""<?xml version="1.0"?><workbook {NS} xmlns:r="{RELS_NS}"><sheets>
<sheet name="填写说明" sheetId="1" r:id="rId1"/><sheet name="申报人员" sheetId="2" r:id="rId2"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="worksheet" Target="/xl/worksheets/sheet2.xml"/></Relationships>"""
SHARED = f"""<?xml version="1.0"?><sst {NS}><si><t>110101197503010014</t></si>
<si><r><t>张</t></r><r><rPr/><t>三</t></r></si></sst>"""


def xlsx(sheet2: str | bytes, sheet1: str = f'<worksheet {NS}><sheetData/></worksheet>', shared: str | bytes = SHARED,
         workbook: str = WORKBOOK) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/sharedStrings.xml", shared)
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


def sheet_of(*rows: str) -> str:
    return f"<worksheet {NS}><sheetData>{''.join(rows)}</sheetData></worksheet>"


def read(archive: zipfile.ZipFile, **limits) -> list:
    return list(iter_rows(archive, "申报人员", Meter(Limits(**limits))))


CELL = '<c t="inlineStr"><is><t>x</t></is></c>'


FOUR = f"<sst {NS}>" + "".join(f"<si><t>第{n}个</t></si>" for n in range(4)) + "</sst>"


@pytest.mark.parametrize(("cap", "sheet", "message"), [
    ("rows", sheet_of(*[f"<row>{CELL}</row>"] * 5), "工作簿超过 {} 行，请拆分后分批上传"),
    ("cells", sheet_of(f"<row>{CELL * 11}</row>"), "工作簿单元格超过 {} 个，请拆分后分批上传"),
    ("elements", sheet_of(f"<row>{CELL * 30}</row>"), "工作簿 XML 元素超过 {} 个，请拆分后分批上传"),
    ("shared_strings", sheet_of('<row><c t="s"><v>3</v></c></row>'), "工作簿共享字符串超过 {} 个，请拆分后分批上传"),
    ("shared_chars", sheet_of('<row><c t="s"><v>3</v></c></row>'), "工作簿共享字符串总长超过 {} 字，请拆分后分批上传"),
])
def test_each_cap_is_exact_and_its_message_names_it(cap, sheet, message):
    meter = Meter(Limits())
    list(iter_rows(xlsx(sheet, shared=FOUR), "申报人员", meter))
    used = getattr(meter, cap)
    assert read(xlsx(sheet, shared=FOUR), **{cap: used})  # exactly at the cap: read whole
    with pytest.raises(LimitExceeded) as stopped:
        read(xlsx(sheet, shared=FOUR), **{cap: used - 1})
    assert stopped.value.message == message.format(used - 1)


def test_inflated_bytes_are_counted_over_every_part_read():
    sheet = sheet_of(*[f"<row>{CELL * 10}</row>"] * 3000)  # 1.2 MB
    with pytest.raises(LimitExceeded) as stopped:
        read(xlsx(sheet), inflated_mb=1)
    assert stopped.value.message == "工作簿解压后超过 1 MB，请拆分后分批上传"
    assert read(xlsx(sheet), inflated_mb=2)


HUGE = 300 * 1024  # above the 256 KB a single tag or run of text may take
RICH = "<r><t>字字字字字字字字字字</t></r>" * 3300  # 33,000 characters in small runs


@pytest.mark.parametrize(("sheet", "shared", "workbook", "what"), [
    (sheet_of("<row>" + "<x>" * 100 + "</x>" * 100 + "</row>"), SHARED, WORKBOOK, "元素嵌套超过 64 层"),
    (sheet_of(f'<row r="1" spans="{"1" * HUGE}"/>'), SHARED, WORKBOOK, "单个标记或文字超过 256 KB"),
    (sheet_of(CELL.replace("x", "x" * HUGE)), SHARED, WORKBOOK, "单个标记或文字超过 256 KB"),
    (sheet_of("<row>" + CELL.replace("<t>x</t>", RICH) + "</row>"), SHARED, WORKBOOK, "单元格文字超过 32767 字"),
    (sheet_of('<row><c t="s"><v>0</v></c></row>'), f"<sst {NS}><si>{RICH}</si></sst>", WORKBOOK,
     "单元格文字超过 32767 字"),
    (sheet_of(), SHARED, WORKBOOK.replace("<sheets>", "<definedNames>" + "<definedName/>" * 100_000
                                            + "</definedNames><sheets>"), "部件超过 1024 KB"),
])
def test_pathological_xml_is_refused(sheet, shared, workbook, what):
    with pytest.raises(LimitExceeded) as stopped:
        read(xlsx(sheet, shared=shared, workbook=workbook))
    assert stopped.value.message == f"工作簿结构异常（{what}），请使用下载的模板重新填写"


def test_a_zip_bomb_of_a_few_hundred_kb_is_stopped_by_what_it_inflates_to():
    bomb = xlsx(sheet_of(*[f"<row>{CELL}</row>"] * 500_000))  # 18 MB of rows, 2.5 times the cap
    assert sum(info.compress_size for info in bomb.infolist()) < 500 * 1024
    meter = Meter(Limits())
    with pytest.raises(LimitExceeded, match="工作簿超过 20 万 行"):
        list(iter_rows(bomb, "申报人员", meter))
    assert meter.inflated < 10 * 1024 * 1024  # stopped at the cap, not at the end


def test_shared_strings_are_read_only_as_far_as_the_sheet_refers_to_them():
    shared = f"<sst {NS}><si><t>表头</t></si>" + "<si><t>后面的</t></si>" * 200_000 + "</sst>"
    meter = Meter(Limits())
    rows = iter_rows(xlsx(sheet_of('<row r="1"><c t="s"><v>0</v></c></row>'), shared=shared), "申报人员", meter)
    assert next(rows) == (1, ("表头",))
    rows.close()
    assert meter.shared_strings < 20_000  # the first blocks of the table, not its 200,001 strings


def test_phonetic_runs_are_not_part_of_a_shared_string_and_far_columns_are_counted_not_kept():
    shared = f"<sst {NS}><si><t>张三</t><rPh sb=\"0\" eb=\"2\"><t>ちょうさん</t></rPh></si></sst>"
    meter = Meter(Limits())
    rows = list(iter_rows(xlsx(sheet_of('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="XFD1"><v>1</v></c></row>'),
                               shared=shared), "申报人员", meter, columns=7))
    assert rows == [(1, ("张三",))] and meter.cells == 2
    with pytest.raises(WorkbookError):
        read(xlsx(sheet_of('<row><c r="XFE1"><v>1</v></c></row>')))
