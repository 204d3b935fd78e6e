"""Excel template, batch upload and export (seed 000, 4.1: 导出; the declaration import)."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from engine.errors import Forbidden, InvalidData
from services.platform.demo_data import demo_id_number
from services.platform.id_number import gender_of, id_number_problem
from services.platform.xlsx_stream import Limits
from services.special_work import declarations, workbooks
from tests.services.review_helpers import actor, person_ids, submit

HEADER = ["公民身份号码*", "姓名*", "性别*", "出生日期*", "特殊工种*", "开始日期*", "结束日期*"]


def number(serial, birth=date(1975, 3, 1)):
    return demo_id_number("110101", birth, serial * 2 + 1)


def row(serial, work_type="MT001 井下采煤工", start="1995-07-01", end="2010-06-30", **overrides):
    values = {"id": number(serial), "name": f"导入{serial}", "gender": "男", "birth": "1975-03-01",
              "type": work_type, "start": start, "end": end}
    values.update(overrides)
    return [values["id"], values["name"], values["gender"], values["birth"], values["type"], values["start"],
            values["end"]]


def workbook(*rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "申报人员"
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(runtime, content, import_valid_rows=False, who="enterprise", limits=None):
    with runtime.unit_of_work() as uow:
        result = workbooks.import_declaration(uow, runtime.engine, actor(who), "110101000001", "first", content,
                                              import_valid_rows, limits)
        uow.commit()
        return result


def test_template_has_marked_header_dropdowns_and_an_example(runtime):
    with runtime.unit_of_work() as uow:
        content = workbooks.declaration_template(uow.session, "煤炭")
    book = load_workbook(io.BytesIO(content))
    sheet = book["申报人员"]
    assert [c.value for c in sheet[1]] == HEADER
    assert sheet["A1"].font.color.rgb.endswith("C00000")
    assert sheet["B2"].value.startswith("（示例）")
    assert id_number_problem(sheet["A2"].value) is None  # the example a user copies is a valid number
    assert gender_of(sheet["A2"].value) == "male" and sheet["C2"].value == "男"
    formulas = sorted(v.formula1 for v in sheet.data_validations.dataValidation)
    assert formulas == ['"男,女"', "'工种名录'!$A$1:$A$3"]
    assert [r[0].value for r in book["工种名录"].iter_rows()] == ["MT001 井下采煤工", "MT002 井下掘进工",
                                                                "MT003 瓦斯检查工"]
    assert book["工种名录"].sheet_state == "hidden"


def test_filled_template_is_imported_with_several_histories_per_person(runtime):
    with runtime.unit_of_work() as uow:
        template = load_workbook(io.BytesIO(workbooks.declaration_template(uow.session, "煤炭")))
    sheet = template["申报人员"]
    sheet.append(row(1, end="2000-06-30"))
    sheet.append(row(1, work_type="MT002 井下掘进工", start="2001-01-01", end="2005-12-31"))
    sheet.append(row(2, birth=date(1975, 3, 1)))
    buffer = io.BytesIO()
    template.save(buffer)
    result = upload(runtime, buffer.getvalue())
    assert result.problems == [] and result.batch is not None
    assert (result.row_count, result.valid_persons) == (3, 2)  # the example row is skipped
    with runtime.unit_of_work() as uow:
        batch = declarations.get_batch(uow.session, result.batch.id)
        assert [len(p.work_histories) for p in batch.persons] == [2, 1]
        assert batch.persons[0].work_histories[1] == {"work_type_code": "MT002", "start_date": "2001-01-01",
                                                      "end_date": "2005-12-31"}


def test_every_bad_row_is_listed_and_nothing_is_imported(runtime):
    content = workbook(
        row(3),
        row(4, id="110101197503010010"),                         # check digit
        row(5, gender="未知", start="2001-13-01"),                # gender, date
        row(6, type="YJ001 炼钢工"),                               # other industry
        row(7, start="2005-01-01", end="2004-01-01"),            # reversed
        row(8, end="=TODAY()"),                                  # formula
    )
    result = upload(runtime, content)
    assert result.batch is None
    found = [(p.row, p.column, p.message) for p in result.problems]
    assert (3, "公民身份号码", "公民身份号码校验位错误") in found
    assert (4, "性别", "性别应为 男 或 女") in found
    assert (4, "开始日期", "开始日期格式不正确，应为 YYYY-MM-DD") in found
    assert (5, "特殊工种", "特殊工种 YJ001 不在本单位所属行业的名录中") in found
    assert (6, "结束日期", "第 1 段经历的结束日期早于开始日期") in found
    assert (7, "结束日期", "单元格中不允许使用公式，请直接填写数值") in found
    assert {p.row for p in result.problems} == {3, 4, 5, 6, 7}
    assert (result.valid_persons, result.invalid_persons) == (1, 5)
    with runtime.unit_of_work() as uow:
        assert uow.session.query(declarations.DeclarationBatch).count() == 0


def test_the_user_may_import_only_the_good_rows(runtime):
    content = workbook(row(9), row(10, id="110101197503010010"), row(11))
    result = upload(runtime, content, import_valid_rows=True)
    assert result.batch is not None and result.problem_count == 1
    assert len(person_ids(runtime, result.batch.id)) == 2


def test_inconsistent_rows_of_one_person_and_numeric_id_numbers(runtime):
    content = workbook(row(12), row(12, name="别名", start="2011-01-01", end="2012-01-01"),
                       [110101197503010010, "数字", "男", "1975-03-01", "MT001", "1995-07-01", "2000-01-01"])
    found = [(p.row, p.column, p.message) for p in upload(runtime, content).problems]
    assert found == [(3, "姓名", "与第 2 行同一人员的姓名不一致"),
                     (4, "公民身份号码", "公民身份号码请以文本格式填写（数字格式会丢失末位）")]


@pytest.mark.parametrize(("content", "message"), [
    (b"not a workbook at all", workbooks.BAD_WORKBOOK),
    (b"PK\x03\x04broken zip", workbooks.BAD_WORKBOOK),
    (workbook(row(13), header=["身份证", "名字"]), "表头与模板不一致，请使用下载的模板"),
    (workbook(), "文件中没有人员数据"),
])
def test_malformed_files_are_refused_with_a_clear_error(runtime, content, message):
    with pytest.raises(InvalidData) as refused:
        upload(runtime, content)
    assert refused.value.message == message


def test_a_zip_directory_listing_too_many_parts_is_refused_before_it_is_read(runtime):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(20_000):  # 1.1 MB of directory; zipfile would build an object per entry
            archive.writestr(f"xl/media/image{n}.png", b"")
    with pytest.raises(InvalidData, match="工作簿包含的部件过多（目录超过 1024 KB）"):
        upload(runtime, buffer.getvalue())


def test_the_upload_check_reads_no_further_than_the_header(runtime):
    content = workbook(row(16))
    assert workbooks.check_workbook(content) == 1  # the data rows its <dimension> declares
    padded = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":  # 5 MB of column definitions before the rows
                data = data.replace(b"<sheetData>", b"<cols>" + b'<col min="1" max="1" width="9"/>' * 160_000
                                    + b"</cols><sheetData>")
            target.writestr(info, data)
    with pytest.raises(InvalidData, match="工作簿前 4 MB 中没有表头"):
        workbooks.check_workbook(padded.getvalue())


def test_upload_for_another_enterprise_is_refused_before_reading(runtime):
    with pytest.raises(Forbidden):
        upload(runtime, b"whatever", who="tj_enterprise")


def test_export_escapes_formula_like_text(runtime):
    from tests.services.review_helpers import person

    batch_id, _ = submit(runtime, [person(14, name="=HYPERLINK(\"http://x\")"), person(15, name="@SUM(A1)")])
    with runtime.unit_of_work() as uow:
        content = workbooks.export_batch_persons(uow.session, batch_id)
    sheet = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[1]][:3] == ["人员编号", "公民身份号码", "姓名"]
    assert sheet["C2"].value == "'=HYPERLINK(\"http://x\")" and sheet["C2"].data_type == "s"
    assert sheet["C3"].value == "'@SUM(A1)"
    assert sheet["H2"].value == "待审核" and sheet["G2"].value == "通过"


def test_size_and_row_caps(runtime, monkeypatch):
    content = workbook(row(16), row(17), row(18))
    with pytest.raises(InvalidData, match="工作簿超过 3 行，请拆分后分批上传"):
        upload(runtime, content, limits=Limits(rows=3))
    assert upload(runtime, content, limits=Limits(rows=4)).batch is not None
    monkeypatch.setattr(workbooks, "MAX_UPLOAD_BYTES", len(content) - 1)
    with pytest.raises(InvalidData, match="MB 上限"):
        upload(runtime, content)
