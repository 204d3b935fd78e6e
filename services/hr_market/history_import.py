"""历史数据采集 (003 §2.22, requirement A12): organisations that existed before the system, with their
licences and filings, imported from the template workbook as a background job.

**All or nothing.** A file with any error imports nothing; the job's result lists every bad row
(row, column, a message "第{n}行：…"). A clean file inserts its organisations, licences and filings
with ``source = "history"`` in one transaction, audited once with the counts. There is no
"import the good rows" choice: a register half imported from one file is harder to mend than a file.

How a file travels: the upload (:func:`queue_import`) runs only the quick checks — who may import,
size, zip directory, the sheet's header — and submits a ``hr_market.history_import`` job whose
parameters carry the workbook (base64). A register of every Tianjin organisation is a few thousand
rows, well under a megabyte, so the job row holds it rather than a table of its own; the upload is
capped at :data:`MAX_UPLOAD_BYTES`, and the content is dropped from the job once it is done or
cancelled (a failed job keeps it, so that a supervisor may retry it). The job streams the sheet
(``services.platform.xlsx_stream``, under ``Settings.workbook_limits``) checking every row without the
database, then, in the final transaction that also marks the job done, compares the credit codes and
numbers with the register — there, so that nothing registered meanwhile slips through — and inserts
in bulk. A worker killed halfway has written nothing; the redelivered job starts over.

Who may import: holders of 受理 / 审批 / 管理员 (``organisations.may_manage``); each row's 所属区划 must be
one of theirs. Imported numbers are stored as they are: a number granted later skips every number
already held (``licences.grant`` and ``filings.record`` draw with a ``taken`` check), so the two never
clash and the imported ones do not advance the sequences.
"""
from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, defer

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import Forbidden, InvalidData, NotFound
from engine.values import DATE_RANGE_MESSAGE, control_character_message, date_in_range, forbidden_character, printable
from services.hr_market.labels import FILING_ITEMS, LICENCE_ITEMS, ORGANISATION_KINDS
from services.hr_market.models import ACTIVE, HrFiling, HrLicence, HrOrganisation
from services.hr_market.organisations import LIMITS, may_manage
from services.platform import audit
from services.platform.credit_code import credit_code_problem, normalised
from services.platform.identity import Region, User, actor_for, get_user
from services.platform.jobs import Job, JobContext, JobService
from services.platform.xlsx_stream import (
    Formula,
    LimitExceeded,
    Limits,
    Meter,
    WorkbookError,
    iter_rows,
    open_package,
    upload_header,
)

KIND = "hr_market.history_import"
HISTORY = "history"  # labels.SOURCES: 历史导入
SHEET = "机构信息"
TIME_LIMIT = 300.0  # 10,000 organisations take a few seconds (bench/hr_history_import.py)
MAX_RUNNING = 1  # one import at a time: two files naming the same code are then judged one after the other
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # 10,000 organisations take 0.8 MB (bench/hr_history_import.py)
MAX_LISTED_PROBLEMS = 1000
CHUNK = 2000  # rows per bulk INSERT and per IN (…) look-up
TEMPLATE_ROWS = 20_000  # how far the template's dropdown reaches
EXAMPLE_MARK = "（示例）"
BAD_WORKBOOK = "文件不是有效的 Excel 工作簿（.xlsx），请使用下载的模板填写后上传"
NUMBER_LIMIT = 40  # 许可证编号, 备案编号 (the columns' width)
GENERATED_NUMBER = re.compile(r"(\d{6})B?\d{8}")  # {region}{year}{seq:4} and {region}B{year}{seq:4}
ITEM_SEPARATORS = re.compile(r"[、,，]")
DATE_TEXT = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


class Column(NamedTuple):
    key: str
    label: str
    required: bool = False


COLUMNS = (Column("name", "机构名称", True), Column("credit_code", "统一社会信用代码", True),
           Column("kind", "机构类型", True), Column("legal_representative", "法定代表人", True),
           Column("address", "住所", True), Column("region_code", "所属区划代码", True),
           Column("contact_person", "联系人"), Column("contact_phone", "联系电话"),
           Column("licence_number", "许可证编号"), Column("issued_on", "发证日期"), Column("valid_until", "有效期至"),
           Column("licence_items", "许可事项"), Column("filing_number", "备案编号"), Column("filed_on", "备案日期"),
           Column("filing_items", "备案事项"))
LABELS = {column.key: column.label for column in COLUMNS}
TEMPLATE_COLUMNS = tuple(f"{c.label}*" if c.required else c.label for c in COLUMNS)
# A licence (or filing) is imported when any of its columns is filled; then these must all be.
LICENCE_COLUMNS = ("licence_number", "issued_on", "licence_items")
FILING_COLUMNS = ("filing_number", "filed_on", "filing_items")
KIND_CODES = {label: code for code, label in ORGANISATION_KINDS.items()}
LICENCE_CODES = {label: code for code, label in LICENCE_ITEMS.items()}
FILING_CODES = {label: code for code, label in FILING_ITEMS.items()}
EXAMPLE = (f"{EXAMPLE_MARK}天津市示例人力资源服务有限公司", "91120101MA05E8XK41", "企业", "张三",
           "天津市和平区示例路 1 号", "120101", "李四", "022-23456789", "12010120190001", "2019-06-01", "2024-05-31",
           "为用人单位推荐劳动者、组织开展招聘会", "120101B20190001", "2019-06-01", "人力资源管理咨询、人力资源培训")


# ---------------------------------------------------------------------- template
def template() -> bytes:
    """模板: the header (required columns marked * and red), an example row the import skips, a
    dropdown for 机构类型, and a sheet of instructions with the code tables."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(list(TEMPLATE_COLUMNS))
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="FDE9D9")
        sheet.column_dimensions[get_column_letter(index)].width = 30 if column.key.endswith("items") else 20
    sheet.append(list(EXAMPLE))
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
        cell.number_format = "@"  # text: codes and numbers keep their digits
    kinds = DataValidation(type="list", formula1=f'"{",".join(ORGANISATION_KINDS.values())}"', allow_blank=False,
                           error="请从下拉列表中选择机构类型", errorTitle="机构类型", showErrorMessage=True)
    letter = get_column_letter(1 + [c.key for c in COLUMNS].index("kind"))
    kinds.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
    sheet.add_data_validation(kinds)
    notes = workbook.create_sheet("填写说明")
    for line in ("标 * 的列为必填项；每个机构填写一行。",
                 "统一社会信用代码为 18 位，请以文本格式填写；所属区划代码为 6 位，须在您的管辖范围内。",
                 "日期格式为 YYYY-MM-DD。填写许可证编号时须同时填写发证日期和许可事项；"
                 "填写备案编号时须同时填写备案日期和备案事项。",
                 "许可事项、备案事项可填写多项，用“、”或“,”分隔，须与下列名称一致。",
                 f"第 2 行为示例（机构名称以“{EXAMPLE_MARK}”开头），导入时自动跳过，可删除。",
                 "不要在单元格中使用公式。文件有任何错误时不导入任何数据。",
                 "", "机构类型：" + "、".join(ORGANISATION_KINDS.values()),
                 "", "许可事项：", *LICENCE_ITEMS.values(), "", "备案事项：", *FILING_ITEMS.values()):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------- upload
def queue_import(uow: UnitOfWork, jobs: JobService, actor: Actor, filename: str, content: bytes,
                 limits: Limits | None = None) -> Job:
    """Check the upload quickly and submit its import job (handed to a worker once the caller
    commits). Raises Forbidden / InvalidData with a Chinese message, storing nothing, for a bad request."""
    if not may_manage(actor):
        raise Forbidden("您无权导入人力资源服务机构")
    if not content:
        raise InvalidData("请选择要上传的文件", fields={"file": ["请选择要上传的文件"]})
    total = check_workbook(content, limits)
    session = uow.session
    params = {"filename": (filename or "历史数据.xlsx")[-200:], "content": base64.b64encode(content).decode("ascii")}
    return jobs.submit(session, uow.after_commit, KIND, params, created_by=actor.username,
                       region_code=get_user(session, actor.username).region_code, total=total)


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


def _refuse(message: str) -> InvalidData:
    return InvalidData(message, fields={"file": [message]})


def _open_archive(content: bytes) -> zipfile.ZipFile:
    if len(content) > MAX_UPLOAD_BYTES:
        raise _refuse(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB 上限，请拆分后分批上传")
    try:
        return open_package(content)
    except LimitExceeded as exceeded:
        raise _refuse(exceeded.message) from None
    except WorkbookError:
        raise _refuse(BAD_WORKBOOK) from None


def _check_header(header: tuple | None) -> None:
    expected = [column.label for column in COLUMNS]
    if header is None or [_text(h).rstrip("*") for h in header[:len(COLUMNS)]] != expected:
        raise InvalidData("表头与模板不一致，请使用下载的模板", fields={"file": ["表头应为：" + "、".join(expected)]})


# ---------------------------------------------------------------------- checking the rows
@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str  # "第{row}行：…"


@dataclass
class HistoryRow:
    row: int
    organisation: dict[str, Any]
    licence: dict[str, Any] | None
    filing: dict[str, Any] | None


@dataclass
class Parsed:
    """What the sheet holds: its good rows, the problems found without the database, and where
    each credit code and number first appears (for the register's check)."""

    rows: list[HistoryRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    row_count: int = 0
    credit_codes: dict[str, int] = field(default_factory=dict)
    licence_numbers: dict[str, int] = field(default_factory=dict)
    filing_numbers: dict[str, int] = field(default_factory=dict)


def parse(content: bytes, actor: Actor, regions: set[str], on_rows: Callable[[int], None] | None = None,
          limits: Limits | None = None) -> Parsed:
    """Check every row of the workbook (``regions``: the region codes that exist). ``on_rows(rows
    read)`` is called after every row and every block of XML (a job's heartbeat; it may raise to
    stop). A workbook beyond ``limits`` or not a workbook is refused with InvalidData."""
    heartbeat = on_rows or (lambda _done: None)
    parsed = Parsed()
    archive = _open_archive(content)
    rows = iter_rows(archive, SHEET, Meter(limits or Limits(), lambda: heartbeat(parsed.row_count)), len(COLUMNS))
    try:
        _check_header(next(rows, (0, None))[1])
        for number, values in rows:
            heartbeat(parsed.row_count)
            if not any(_text(v) for v in values) or _text(values[0]).startswith(EXAMPLE_MARK):
                continue
            parsed.row_count += 1
            _RowCheck(number, values + (None,) * (len(COLUMNS) - len(values)), actor, regions, parsed).run()
    except LimitExceeded as exceeded:
        raise _refuse(exceeded.message) from None
    except WorkbookError:
        raise _refuse(BAD_WORKBOOK) from None
    finally:
        rows.close()
        archive.close()
    return parsed


class _RowCheck:
    """One row: its cells as text, each column's problems in the A12 wording, and — when it has
    none — the organisation, licence and filing it imports."""

    def __init__(self, number: int, values: tuple, actor: Actor, regions: set[str], parsed: Parsed):
        self.number, self.actor, self.regions, self.parsed = number, actor, regions, parsed
        self.raw = dict(zip(LABELS, values, strict=False))
        self.text = {key: _text(value) for key, value in self.raw.items()}
        self.found: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.found.append(Problem(self.number, LABELS[key], f"第{self.number}行：{message}"))

    def run(self) -> None:
        for key, value in self.raw.items():
            if isinstance(value, Formula):
                self.problem(key, f"{LABELS[key]}不能使用公式，请直接填写内容")
                self.text[key] = ""
            elif position := forbidden_character(self.text[key]):
                self.problem(key, f"{LABELS[key]}：{control_character_message(position)}")
                self.text[key] = ""
        required = {c.key for c in COLUMNS if c.required}
        if any(self.text[key] for key in (*LICENCE_COLUMNS, "valid_until")):
            required.update(LICENCE_COLUMNS)
        if any(self.text[key] for key in FILING_COLUMNS):
            required.update(FILING_COLUMNS)
        for column in COLUMNS:
            if column.key in required and not self.text[column.key] and not self._reported(column.key):
                self.problem(column.key, f"{column.label}不能为空")
        for key, limit in (*LIMITS.items(), ("licence_number", NUMBER_LIMIT), ("filing_number", NUMBER_LIMIT)):
            if len(self.text[key]) > limit:
                self.problem(key, f"{LABELS[key]}不能超过 {limit} 个字")
        for key in ("licence_number", "filing_number"):
            # a number of this system's own shape belongs to its region's sequence: one of another region
            # would squat that region's numbers (1,000 taken in a row stop its grants)
            shaped = GENERATED_NUMBER.fullmatch(self.text[key])
            if shaped and shaped.group(1) != self.text["region_code"]:
                self.problem(key, f"{LABELS[key]} {self.text[key]} 的区划代码与所属区划不符")
        organisation = self._organisation()
        licence = self._licence() if "licence_number" in required else None
        filing = self._filing() if "filing_number" in required else None
        self._note_keys()
        self.parsed.problems += self.found
        if not self.found:
            self.parsed.rows.append(HistoryRow(self.number, organisation, licence, filing))

    def _reported(self, key: str) -> bool:
        return any(p.column == LABELS[key] for p in self.found)

    def _organisation(self) -> dict[str, Any]:
        text = self.text
        code = text["credit_code"] = normalised(text["credit_code"])
        if isinstance(self.raw["credit_code"], int | float) and not isinstance(self.raw["credit_code"], bool):
            self.problem("credit_code", "统一社会信用代码请以文本格式填写（数字格式会丢失末位）")
        elif code and (problem := credit_code_problem(code)):
            self.problem("credit_code", problem)
        kind = KIND_CODES.get(text["kind"])
        if text["kind"] and kind is None:
            self._not_in_table("kind")
        region = text["region_code"]
        if region and region not in self.regions:
            self._not_in_table("region_code")
        elif region and not may_manage(self.actor, region):
            self.problem("region_code", "所属区划不在您的管辖范围内")
        return {"credit_code": code, "name": text["name"], "kind": kind, "legal_representative":
                text["legal_representative"], "address": text["address"], "region_code": region,
                "contact_person": text["contact_person"], "contact_phone": text["contact_phone"],
                "status": ACTIVE, "source": HISTORY}

    def _licence(self) -> dict[str, Any]:
        issued_on, valid_until = self._date("issued_on"), self._date("valid_until")
        if issued_on and valid_until and valid_until < issued_on:
            self.problem("valid_until", "有效期至不能早于发证日期")
        return {"licence_number": self.text["licence_number"], "items": self._items("licence_items", LICENCE_CODES),
                "issued_on": issued_on, "valid_until": valid_until, "status": ACTIVE, "source": HISTORY}

    def _filing(self) -> dict[str, Any]:
        return {"filing_number": self.text["filing_number"], "items": self._items("filing_items", FILING_CODES),
                "filed_on": self._date("filed_on"), "status": ACTIVE, "source": HISTORY}

    def _date(self, key: str) -> date | None:
        if not self.text[key]:
            return None
        day = _date(self.raw[key], self.text[key])
        if day is None:
            self.problem(key, "日期格式应为 YYYY-MM-DD")
        elif not date_in_range(day):
            self.problem(key, f"{LABELS[key]}：{DATE_RANGE_MESSAGE}")
        return day

    def _items(self, key: str, codes: dict[str, str]) -> list[str]:
        chosen = set()
        for label in filter(None, (part.strip() for part in ITEM_SEPARATORS.split(self.text[key]))):
            if label in codes:
                chosen.add(codes[label])
            else:
                self._not_in_table(key, label)
        return [code for code in codes.values() if code in chosen]  # the code table's order

    def _not_in_table(self, key: str, value: str | None = None) -> None:
        shown = printable(self.text[key] if value is None else value)[:50]
        self.problem(key, f"{LABELS[key]}的值“{shown}”不在代码表中")

    def _note_keys(self) -> None:
        """Remember where each well-formed credit code and number first appears; a second row with
        the same one is an error (the register's check compares the first)."""
        code = self.text["credit_code"]
        if code and not self._reported("credit_code"):
            self._once("credit_code", code, self.parsed.credit_codes)
        for key, seen in (("licence_number", self.parsed.licence_numbers),
                          ("filing_number", self.parsed.filing_numbers)):
            if self.text[key] and not self._reported(key):
                self._once(key, self.text[key], seen)

    def _once(self, key: str, value: str, seen: dict[str, int]) -> None:
        first = seen.setdefault(value, self.number)
        if first != self.number:
            self.problem(key, f"{LABELS[key]} {value} 与第{first}行重复")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value: Any, text: str) -> date | None:
    """A date cell (Excel's serial day number), or text as YYYY-MM-DD (also / or . between, or YYYYMMDD)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 100_000:
        return from_excel(value).date()
    found = DATE_TEXT.fullmatch(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


# ---------------------------------------------------------------------- the job
def register(jobs: JobService, limits: Limits) -> None:
    """The ``hr_market.history_import`` job kind (``services.hr_market.operators.setup``)."""

    def run(ctx: JobContext) -> dict[str, Any]:
        kept = _without_content(ctx.params)
        with jobs.reading() as read:
            job = read.session.get(Job, ctx.job_id)
            if job is None:
                raise NotFound("导入任务不存在")
            total = job.progress_total
            user = read.session.scalar(select(User).where(User.username == job.created_by, User.active))
            actor = actor_for(user) if user is not None else None
            regions = set(read.session.scalars(select(Region.code)))
        if actor is None:  # the uploader's account was closed meanwhile
            return ctx.finish(lambda uow: _refused(uow, ctx.job_id, kept, "上传用户的账号已停用"))
        try:
            parsed = parse(base64.b64decode(ctx.params["content"]), actor, regions,
                           lambda done: ctx.heartbeat(done, total), limits)
        except InvalidData as refused:
            message = refused.message
            return ctx.finish(lambda uow: _refused(uow, ctx.job_id, kept, message))
        ctx.progress(parsed.row_count, parsed.row_count)
        return ctx.finish(lambda uow: _store(uow, ctx.job_id, kept, actor, parsed))

    def on_stop(uow: UnitOfWork, job: Job) -> None:
        if job.status == "cancelled":
            job.params = _without_content(job.params)

    jobs.register(KIND, run, on_stop, time_limit=TIME_LIMIT, max_running=MAX_RUNNING)


def _store(uow: UnitOfWork, job_id: int, kept: dict[str, Any], actor: Actor, parsed: Parsed) -> dict[str, Any]:
    """The final transaction: the register's checks, then every row or none."""
    session = uow.session
    _forget_content(session, job_id, kept)
    problems = parsed.problems + _register_problems(session, parsed)
    if problems or not parsed.rows:
        return _outcome(parsed, sorted(problems, key=lambda p: p.row))
    try:
        with session.begin_nested():
            counts = _insert(session, parsed.rows)
    except IntegrityError:  # registered by someone else between the check and the insert
        return _outcome(parsed, [], "导入期间有相同的统一社会信用代码或编号被登记，未导入任何数据，请重新上传")
    job_region = session.scalar(select(Job.region_code).where(Job.id == job_id)) or ""
    audit.record(session, actor, "hr_organisation.import", "job", job_id, job_region, filename=kept.get("filename"),
                 organisations=counts[0], licences=counts[1], filings=counts[2])
    return _outcome(parsed, [], counts=counts)


def _register_problems(session: Session, parsed: Parsed) -> list[Problem]:
    found = []
    for column, seen, message in (
            (HrOrganisation.credit_code, parsed.credit_codes, "统一社会信用代码 {} 已登记"),
            (HrLicence.licence_number, parsed.licence_numbers, "许可证编号 {} 已存在"),
            (HrFiling.filing_number, parsed.filing_numbers, "备案编号 {} 已存在")):
        label = LABELS[column.key]
        for value in sorted(_existing(session, column, seen), key=seen.__getitem__):
            found.append(Problem(seen[value], label, f"第{seen[value]}行：{message.format(value)}"))
    return found


def _existing(session: Session, column: InstrumentedAttribute[str], values: Iterable[str]) -> set[str]:
    values = list(values)
    found: set[str] = set()
    for start in range(0, len(values), CHUNK):
        found.update(session.scalars(select(column).where(column.in_(values[start:start + CHUNK]))))
    return found


def _insert(session: Session, rows: list[HistoryRow]) -> tuple[int, int, int]:
    """Bulk INSERTs (executemany), chunk by chunk. The organisations' ids are read back by credit code:
    on PostgreSQL an executemany with RETURNING takes twice as long as one without and this SELECT."""
    licences = filings = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        session.execute(insert(HrOrganisation), [row.organisation for row in chunk])
        codes = [row.organisation["credit_code"] for row in chunk]
        ids = {code: organisation_id for code, organisation_id in session.execute(
            select(HrOrganisation.credit_code, HrOrganisation.id).where(HrOrganisation.credit_code.in_(codes)))}
        licence_rows = [row.licence | {"organisation_id": ids[row.organisation["credit_code"]]}
                        for row in chunk if row.licence]
        filing_rows = [row.filing | {"organisation_id": ids[row.organisation["credit_code"]]}
                       for row in chunk if row.filing]
        if licence_rows:
            session.execute(insert(HrLicence), licence_rows)
        if filing_rows:
            session.execute(insert(HrFiling), filing_rows)
        licences, filings = licences + len(licence_rows), filings + len(filing_rows)
    return len(rows), licences, filings


def _outcome(parsed: Parsed, problems: list[Problem], refusal: str | None = None,
             counts: tuple[int, int, int] | None = None) -> dict[str, Any]:
    organisations, licences, filings = counts or (0, 0, 0)
    if counts is not None:
        message = f"已导入 {organisations} 个机构、{licences} 个行政许可、{filings} 个业务备案"
    elif refusal:
        message = refusal
    elif problems:
        message = f"文件中有 {len(problems)} 处错误，未导入任何数据；请修改后重新上传"
    else:
        message = "文件中没有机构数据，未导入任何数据"
    return {"imported": counts is not None, "row_count": parsed.row_count, "organisations": organisations,
            "licences": licences, "filings": filings, "problem_count": len(problems), "message": message,
            "problems": [{"row": p.row, "column": p.column, "message": p.message}
                         for p in problems[:MAX_LISTED_PROBLEMS]]}


def _refused(uow: UnitOfWork, job_id: int, kept: dict[str, Any], message: str) -> dict[str, Any]:
    _forget_content(uow.session, job_id, kept)
    return _outcome(Parsed(), [], f"{message}，未导入任何数据")


def _forget_content(session: Session, job_id: int, kept: dict[str, Any]) -> None:
    """The workbook leaves the job with its final transaction (an UPDATE rather than through the
    ORM object, so that ``JobContext.finish`` loads the job row afresh, under lock)."""
    session.execute(update(Job).where(Job.id == job_id).values(params=kept))


def _without_content(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key != "content"}


# ---------------------------------------------------------------------- the page's lists
def get_import(session: Session, jobs: JobService, actor: Actor, job_id: int,
               applicant_roles: frozenset[str]) -> Job:
    """An import job the actor may follow (its uploader, or staff of its region)."""
    job = jobs.get_visible(session, job_id, actor, applicant_roles)
    if job.kind != KIND:
        raise NotFound("导入任务不存在")
    return job


def list_imports(session: Session, actor: Actor, limit: int = 10) -> list[Job]:
    """The actor's latest imports (without their workbooks)."""
    return list(session.scalars(select(Job).options(defer(Job.params))
                                .where(Job.kind == KIND, Job.created_by == actor.username)
                                .order_by(Job.id.desc()).limit(limit)))
