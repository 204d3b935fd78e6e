"""Excel files (导入 / 导出 / 模板) with openpyxl.

Workbooks are untrusted input: the upload is size-capped, its zip directory's own size is checked
before the directory is read, its sheet is streamed row by row (services.platform.xlsx_stream, safe XML
parsing) with the work metered as it is done — inflated bytes, rows, cells, shared strings, the
XML's shape — against :class:`~services.platform.xlsx_stream.Limits` (a zip bomb is refused, whatever its
directory declares), and a formula is never evaluated — a cell holding one is reported as an
error. Templates and exports are written with openpyxl (write-only for exports); on export every
text cell that starts with = + - @ is escaped so that Excel shows it as text.
"""
from __future__ import annotations

import gc
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import UnitOfWork, utcnow
from engine.errors import InvalidData
from engine.runtime import WorkflowEngine
from engine.values import DATE_RANGE_MESSAGE, control_character_message, date_in_range, forbidden_character
from services.platform.spreadsheets import write_rows
from services.platform.xlsx_stream import (
    LimitExceeded,
    Limits,
    Meter,
    WorkbookError,
    iter_rows,
    open_package,
    upload_header,
)
from services.special_work import declarations
from services.special_work.catalogue import list_work_types
from services.special_work.models import WorkType

MAX_UPLOAD_BYTES = 40 * 1024 * 1024
MAX_ROWS = 200_000  # the template's rows (its dropdowns reach this far); Limits.rows caps the import
MAX_LISTED_PROBLEMS = 1000
EXAMPLE_MARK = "（示例）"
EXAMPLE_ID_NUMBER = "110101197503010016"  # a well-formed number (its check digit is right), male like 张三
SHEET = "申报人员"
# (key, header, required)
COLUMNS = [("id_number", "公民身份号码", True), ("name", "姓名", True), ("gender", "性别", True),
           ("birth_date", "出生日期", True), ("work_type", "特殊工种", True), ("start_date", "开始日期", True),
           ("end_date", "结束日期", True)]
LABELS = {key: label for key, label, _ in COLUMNS}
FIELD_COLUMNS = {"work_type_code": "work_type", "start_date": "start_date", "end_date": "end_date"}
GENDER_VALUES = {"男": "male", "女": "female"}
BAD_WORKBOOK = "文件不是有效的 Excel 工作簿（.xlsx），请使用下载的模板填写后上传"




def export_batch_persons(session: Session, batch_id: int) -> bytes:
    """导出: every person of a batch with histories, 校验 findings, status and conclusion."""
    names = {w.code: w.name for w in session.scalars(select(WorkType))}
    checks = declarations.batch_checks(session, batch_id)

    def rows():
        query = (select(declarations.DeclaredPerson).where(declarations.DeclaredPerson.batch_id == batch_id)
                 .order_by(declarations.DeclaredPerson.id).execution_options(yield_per=1000))
        for person in session.scalars(query):
            histories = "；".join(f"{h['work_type_code']} {names.get(h['work_type_code'], '')} "
                                 f"{h['start_date']}～{h['end_date']}" for h in person.work_histories)
            yield (person.id, person.id_number, person.name, declarations.GENDERS.get(person.gender, person.gender),
                   person.birth_date, histories,
                   "；".join(c.message for c in checks.get(person.id, [])) or "通过",
                   declarations.PERSON_STATUS_LABELS.get(person.status, person.status), person.conclusion or "")

    return write_rows("申报人员", ["人员编号", "公民身份号码", "姓名", "性别", "出生日期", "特殊工种从业经历",
                               "校验结果", "审核状态", "审核结论"], rows())


# ---------------------------------------------------------------------- template
def declaration_template(session: Session, industry: str) -> bytes:
    """模板: header (required columns marked * and red), dropdowns for gender and for the industry's
    work types (kept on a hidden sheet), an example row the import skips."""
    work_types = list_work_types(session, industry=industry)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append([f"{label}*" if required else label for _, label, required in COLUMNS])
    for index, (_, _label, required) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = PatternFill("solid", fgColor="FDE9D9")
        sheet.column_dimensions[get_column_letter(index)].width = 22
    example_type = f"{work_types[0].code} {work_types[0].name}" if work_types else ""
    sheet.append([EXAMPLE_ID_NUMBER, f"{EXAMPLE_MARK}张三", "男", "1975-03-01", example_type,
                  "1995-07-01", "2010-06-30"])
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    lists = workbook.create_sheet("工种名录")
    for work_type in work_types:
        lists.append([f"{work_type.code} {work_type.name}"])
    lists.sheet_state = "hidden"
    gender = DataValidation(type="list", formula1='"男,女"', allow_blank=False,
                            error="请选择 男 或 女", errorTitle="性别", showErrorMessage=True)
    gender.add(f"C2:C{MAX_ROWS}")
    sheet.add_data_validation(gender)
    if work_types:
        types = DataValidation(type="list", formula1=f"'工种名录'!$A$1:$A${len(work_types)}", allow_blank=False,
                               error="请从名录中选择特殊工种", errorTitle="特殊工种", showErrorMessage=True)
        types.add(f"E2:E{MAX_ROWS}")
        sheet.add_data_validation(types)
    notes = workbook.create_sheet("填写说明")
    for line in ("标 * 的列为必填项；同一人员有多段从业经历时，每段经历填写一行，公民身份号码相同。",
                 "公民身份号码请以文本格式填写 18 位；日期格式为 YYYY-MM-DD。",
                 f"第 2 行为示例（姓名以“{EXAMPLE_MARK}”开头），导入时自动跳过，可删除。",
                 "不要在单元格中使用公式。"):
        notes.append([line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------- import
@dataclass
class RowProblem:
    row: int
    column: str
    message: str


@dataclass
class ParsedPerson:
    person: declarations.PersonInput
    rows: list[int]  # the sheet row of each work history, in order


@dataclass
class UploadResult:
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    row_count: int = 0
    valid_persons: int = 0
    invalid_persons: int = 0
    persons: list[declarations.PersonInput] = field(default_factory=list)
    batch: declarations.DeclarationBatch | None = None

    @property
    def listed_problems(self) -> list[RowProblem]:
        return self.problems[:MAX_LISTED_PROBLEMS]


def _refuse(message: str) -> InvalidData:
    return InvalidData(message, fields={"file": [message]})


def _open_archive(content: bytes) -> zipfile.ZipFile:
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidData("文件超过 %(mb)s MB 上限" % dict(mb=MAX_UPLOAD_BYTES // 1024 // 1024),
                          fields={"file": ["文件太大"]})
    try:
        return open_package(content)
    except LimitExceeded as exceeded:
        raise _refuse(exceeded.message) from None
    except WorkbookError:
        raise _refuse(BAD_WORKBOOK) from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 100_000:
        return from_excel(value).date()  # a date cell: Excel stores the serial day number
    text = _text(value).replace("/", "-").replace(".", "-")
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _parse_row(values: tuple, row: int, work_type_codes: set[str],
               problems: list[RowProblem]) -> dict[str, Any] | None:
    """One sheet row → its typed values, or None after adding its problems (column by column)."""
    found: list[RowProblem] = []
    present: dict[str, tuple[Any, str]] = {}  # key → (raw value, stripped text)
    for (key, label, required), value in zip(COLUMNS, values + (None,) * (len(COLUMNS) - len(values)),
                                             strict=False):
        if isinstance(value, str) and value.startswith("="):
            found.append(RowProblem(row, label, "单元格中不允许使用公式，请直接填写数值"))
        elif key == "id_number" and isinstance(value, int | float):
            found.append(RowProblem(row, label, "公民身份号码请以文本格式填写（数字格式会丢失末位）"))
        elif text := _text(value):
            if position := forbidden_character(text):
                found.append(RowProblem(row, label, control_character_message(position)))
            present[key] = (value, text)
        elif required:
            found.append(RowProblem(row, label, f"{label}不能为空"))
    result: dict[str, Any] = {"name": present.get("name", (None, ""))[1]}
    if "id_number" in present:  # its check digit is among the person's rules (person_problems)
        result["id_number"] = present["id_number"][1].upper()
    if len(result["name"]) > 50:
        found.append(RowProblem(row, LABELS["name"], "姓名不能超过 50 个字"))
    if "gender" in present:
        result["gender"] = GENDER_VALUES.get(present["gender"][1])
        if result["gender"] is None:
            found.append(RowProblem(row, LABELS["gender"], "性别应为 男 或 女"))
    for key in ("birth_date", "start_date", "end_date"):
        if key in present:
            result[key] = _date(present[key][0])
            if result[key] is None:
                found.append(RowProblem(row, LABELS[key], f"{LABELS[key]}格式不正确，应为 YYYY-MM-DD"))
            elif not date_in_range(result[key]):
                found.append(RowProblem(row, LABELS[key], f"{LABELS[key]}：{DATE_RANGE_MESSAGE}"))
    if "work_type" in present:
        result["work_type_code"] = code = present["work_type"][1].split(" ")[0].upper()
        if code not in work_type_codes:
            found.append(RowProblem(row, LABELS["work_type"], f"特殊工种 {code} 不在本单位所属行业的名录中"))
    problems += found
    return None if found else result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Reading 100,000 rows allocates millions of small containers that all stay alive until the
    batch is stored; the cyclic garbage collector would scan them over and over (a third of the
    time). Nothing here builds reference cycles, so it is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_workbook(content: bytes, limits: Limits | None = None) -> int:
    """The quick checks an upload gets before its import is queued (size, zip directory, header:
    ``xlsx_stream.upload_header``), so that a malformed file is refused at once. Returns the data rows
    the sheet declares: the import job's progress total."""
    archive = _open_archive(content)
    try:
        header, total = upload_header(archive, SHEET, len(COLUMNS), limits or Limits())
    except LimitExceeded as exceeded:
        raise _refuse(exceeded.message) from None
    except WorkbookError:
        raise _refuse(BAD_WORKBOOK) from None
    finally:
        archive.close()
    _check_header(header)
    return total


def _check_header(header: tuple | None) -> None:
    expected = [label for _, label, _ in COLUMNS]
    if header is None or [_text(h).rstrip("*") for h in header[:len(COLUMNS)]] != expected:
        raise InvalidData("表头与模板不一致，请使用下载的模板", fields={"file": ["表头应为：" + "、".join(expected)]})


def parse_declaration(content: bytes, work_types: dict[str, declarations.CatalogueEntry],
                      industry: str, on_rows: Callable[[int], None] | None = None,
                      limits: Limits | None = None) -> UploadResult:
    """Check every row and every assembled person; return the persons and the problems found.
    ``on_rows(rows read)`` is called after every row, every block of XML inflated and every person
    checked — often, so it must be cheap (an import job's heartbeat: progress, cancel, time limit);
    it may raise to stop the import. A workbook above ``limits`` is refused with InvalidData naming
    the cap."""
    with _collector_paused():
        return _check_upload(content, work_types, industry, on_rows or _ignore, limits or Limits())


def _ignore(_done: int) -> None:
    return None


def _check_upload(content: bytes, work_types: dict[str, declarations.CatalogueEntry], industry: str,
                  on_rows: Callable[[int], None], limits: Limits) -> UploadResult:
    result = UploadResult()
    parsed, bad_numbers = _read_persons(content, work_types, industry, result, on_rows, limits)
    today = utcnow().date()
    for item in parsed.values():
        on_rows(result.row_count)
        person = item.person
        for key, message in declarations.person_problems(person, work_types, industry, today):
            row, column = _locate(key, item)
            result.problems.append(RowProblem(row, column, message))
            bad_numbers.add(person.id_number)
    result.problems.sort(key=lambda p: p.row)
    result.problem_count = len(result.problems)
    result.valid_persons = sum(1 for number in parsed if number not in bad_numbers)
    result.invalid_persons = len(bad_numbers)
    result.persons = [item.person for number, item in parsed.items() if number not in bad_numbers]
    return result


def _read_persons(content: bytes, work_types: dict[str, declarations.CatalogueEntry], industry: str,
                  result: UploadResult, on_rows: Callable[[int], None], limits: Limits,
                  ) -> tuple[dict[str, ParsedPerson], set[str]]:
    archive = _open_archive(content)
    rows = iter_rows(archive, SHEET, Meter(limits, lambda: on_rows(result.row_count)), len(COLUMNS))
    codes = {c for c, w in work_types.items() if w.active and w.industry == industry}
    parsed: dict[str, ParsedPerson] = {}
    bad_numbers: set[str] = set()
    try:
        _check_header(next(rows, (0, None))[1])
        for row_number, values in rows:
            on_rows(result.row_count)
            if values is None or all(_text(v) == "" for v in values):
                continue
            if _text(values[1] if len(values) > 1 else "").startswith(EXAMPLE_MARK):
                continue
            result.row_count += 1
            row = _parse_row(values, row_number, codes, result.problems)
            if row is None:
                number = _text(values[0]).upper() if values else ""
                if number:
                    bad_numbers.add(number)
                continue
            _add_row(parsed, row, row_number, result.problems, bad_numbers)
    except LimitExceeded as exceeded:
        raise _refuse(exceeded.message) from None
    except WorkbookError:
        raise _refuse(BAD_WORKBOOK) from None
    finally:
        rows.close()
        archive.close()
    return parsed, bad_numbers


def _add_row(parsed: dict[str, ParsedPerson], row: dict[str, Any], row_number: int, problems: list[RowProblem],
             bad_numbers: set[str]) -> None:
    history = {"work_type_code": row["work_type_code"], "start_date": row["start_date"],
               "end_date": row["end_date"]}
    item = parsed.get(row["id_number"])
    if item is None:
        parsed[row["id_number"]] = ParsedPerson(declarations.PersonInput(
            row["id_number"], row["name"], row["gender"], row["birth_date"], [history]), [row_number])
        return
    person = item.person
    for key in ("name", "gender", "birth_date"):
        if getattr(person, key) != row[key]:
            problems.append(RowProblem(row_number, LABELS[key], f"与第 {item.rows[0]} 行同一人员的{LABELS[key]}不一致"))
            bad_numbers.add(row["id_number"])
    person.work_histories.append(history)
    item.rows.append(row_number)


def _locate(key: str, item: ParsedPerson) -> tuple[int, str]:
    """'work_histories[2].end_date' → (row of the 2nd history, 结束日期); 'gender' → (first row, 性别)."""
    if key.startswith("work_histories["):
        index = int(key[len("work_histories["):key.index("]")])
        attribute = key.partition(".")[2]
        return item.rows[index - 1], LABELS[FIELD_COLUMNS.get(attribute, "work_type")]
    return item.rows[0], LABELS.get(key, LABELS["work_type"])


def import_declaration(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, enterprise_code: str, kind: str,
                       content: bytes, import_valid_rows: bool = False, limits: Limits | None = None) -> UploadResult:
    """批量导入: a file with any error imports nothing, unless ``import_valid_rows`` asks to submit the
    persons whose rows are all correct. Returns the problems and, when imported, the new batch."""
    session = uow.session
    if kind not in declarations.KINDS:
        raise InvalidData("申报类型应为 first 或 annual", fields={"kind": ["申报类型应为 first 或 annual"]})
    enterprise = declarations.check_may_declare(session, actor, enterprise_code)
    result = parse_declaration(content, declarations.catalogue_view(session), enterprise.industry, limits=limits)
    if result.row_count == 0:
        raise InvalidData("文件中没有人员数据", fields={"file": ["文件中没有人员数据"]})
    if (result.problems and not import_valid_rows) or not result.persons:
        return result
    result.batch = declarations.submit_declaration(uow, engine, actor, enterprise.code, kind, result.persons)
    return result
