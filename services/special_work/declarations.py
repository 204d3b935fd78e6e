"""Special-work-type declarations (特殊工种申报): batches of persons with work histories.

An enterprise submits a batch → ``declaration.validate`` (校验) stores its findings per person →
初审 decides per person (``declaration.decide``: the selected persons fail, the others go on to
复核) → 复核 decides per person again: the persons it sends back return to 初审 (seed 000, 4.2:
“对于复审不通过的数据，允许其重新进行初审操作”), the others enter the register
(``declaration.register``, ``services.special_work.batch_registration``). A person failed at 初审 is closed and
must be declared anew.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import chain, islice
from typing import Any, NamedTuple

from sqlalchemy import JSON, Table, delete, exc, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from engine import numbering
from engine.actors import Actor
from engine.db import UnitOfWork, rowcount, utcnow
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from engine.runtime import WorkflowEngine
from services.platform.id_number import birth_date_of, gender_of, id_number_problem
from services.special_work.enterprises import get_enterprise
from services.special_work.models import (
    DeclarationBatch,
    DeclarationCheck,
    DeclaredPerson,
    Enterprise,
    Person,
    WorkHistory,
    WorkType,
)

KINDS = {"first": "首次申报", "annual": "年度申报"}
PROCESS_BY_KIND = {"first": "first_declaration_review", "annual": "annual_declaration_review"}
STATUS_LABELS = {
    "submitted": "已申报", "reviewing": "待审核", "rechecking": "待复核", "registering": "复核通过，入库中",
    "approved": "复核通过", "rejected": "审核不通过", "returned": "复核退回", "terminated": "已终止",
}
PERSON_STATUS_LABELS = {
    "pending": "待审核", "reviewed": "初审通过，待复核", "approved": "复核通过，已入库",
    "rejected": "审核不通过，需重新申报", "returned": "复核不通过，待重新初审", "terminated": "办件已终止",
}
OPEN_PERSON_STATUSES = ("pending", "reviewed", "returned")
# what 校验 (and 复核退回) returns for a batch without findings; gateways and guards read these keys
VALIDATION_EXAMPLE = {"error_count": 0, "error_persons": [], "person_count": 1, "finding_count": 0}
UNDER_STEP = {"review": ("pending", "returned"), "recheck": ("reviewed",)}
GENDERS = {"male": "男", "female": "女"}
# 校验's findings, stored as text (declaration_check.message) and shown in the page's language:
# web.pages.i18n's ``message`` filter reads a stored finding back through these patterns
FINDINGS = {
    "not_in_catalogue": "第 %(n)s 段经历的工种 %(code)s 不在特殊工种名录中",
    "other_industry": "第 %(n)s 段经历的工种不属于本单位所属行业（%(industry)s）",
    "underground_female": "第 %(n)s 段经历为井下工种，女职工不得从事矿山井下作业",
    "ends_before_start": "第 %(n)s 段经历的结束日期早于开始日期",
    "ends_after_today": "第 %(n)s 段经历的结束日期晚于今天",
    "too_young": "第 %(n)s 段经历开始时未满 %(age)s 周岁",
    "past_retirement": "第 %(n)s 段经历结束时已超过法定退休年龄（%(age)s 周岁）",
    "overlap": "第 %(first)s 段与第 %(second)s 段经历时间重叠",
}
PERSON_FINDINGS = ("姓名不能为空", "性别应为男或女", "出生日期与公民身份号码不一致", "性别与公民身份号码不一致",
                   "至少需要一段从业经历")
# the latest statutory retirement ages (men 60; women 55 as cadres, 50 as workers): work past them is implausible
RETIREMENT_AGE = {"male": 60, "female": 55}
MIN_WORKING_AGE = 16
CHUNK = 1000
COPY_FROM = 100  # rows from which a bulk insert on PostgreSQL goes through COPY (see _bulk_insert)
NO_SYNC = {"synchronize_session": False}  # bulk updates of up to 100,000 persons; readers select afresh


@dataclass
class PersonInput:
    id_number: str
    name: str
    gender: str
    birth_date: date | None
    work_histories: list[dict[str, Any]]  # work_type_code, start_date, end_date (dates)


def _next_batch_no(session: Session, kind: str, region_code: str) -> str:
    """SC / ND, the region, the day and a 4-digit sequence of the day (``engine.numbering``: gap-free and
    unique under concurrent submissions; a number an earlier batch already has is skipped)."""
    pattern = f"{'SC' if kind == 'first' else 'ND'}{{region}}{{date}}{{seq:4}}"
    return numbering.draw(session, pattern, at=utcnow(), region=region_code,
                          taken=lambda number: session.scalar(select(DeclarationBatch.id).where(
                              DeclarationBatch.batch_no == number)) is not None)


def _iso(value: date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def check_may_declare(session: Session, actor: Actor, enterprise_code: str) -> Enterprise:
    enterprise = get_enterprise(session, enterprise_code)
    if actor.party != enterprise.code and not actor.holds("enterprise", enterprise.region_code) \
            and not actor.holds("reviewer", enterprise.region_code):
        raise Forbidden("您无权为该单位申报")
    if actor.party and actor.party != enterprise.code:
        raise Forbidden("单位用户只能为本单位申报")
    if actor.party and not enterprise.portal_enabled:
        raise Forbidden("本单位的网厅（报送系统）权限已关闭，请联系属地经办机构")
    return enterprise


def submit_declaration(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, enterprise_code: str,
                       kind: str, persons: list[PersonInput]) -> DeclarationBatch:
    """申报: store the batch and start its review process. Business-rule failures do not refuse
    the submission: 校验 records them for the reviewer."""
    session = uow.session
    enterprise = check_may_declare(session, actor, enterprise_code)
    if not persons:
        raise InvalidData("申报批次中至少需要一名人员")
    batch = DeclarationBatch(batch_no=_next_batch_no(session, kind, enterprise.region_code), kind=kind,
                             enterprise_code=enterprise.code, region_code=enterprise.region_code,
                             submitted_by=actor.username, person_count=len(persons))
    session.add(batch)
    session.flush()
    _insert_persons(session, batch.id, persons)
    instance = engine.start(
        uow, PROCESS_BY_KIND[kind], business_key=batch.batch_no, region_code=enterprise.region_code,
        data={"batch_id": batch.id, "batch_no": batch.batch_no, "kind": kind, "enterprise_code": enterprise.code},
        actor=actor, submitter=enterprise.name, search_text=f"{batch.batch_no} {enterprise.code} {enterprise.name}")
    batch.instance_id = instance.id
    return batch


def _insert_persons(session: Session, batch_id: int, persons: list[PersonInput]) -> None:
    _bulk_insert(session, DeclaredPerson.__table__, (
        {"batch_id": batch_id, "id_number": p.id_number.strip().upper(), "name": p.name.strip(), "gender": p.gender,
         "birth_date": p.birth_date, "status": "pending",
         "work_histories": [{"work_type_code": h["work_type_code"], "start_date": _iso(h["start_date"]),
                             "end_date": _iso(h["end_date"])} for h in p.work_histories]}
        for p in persons))


def _bulk_insert(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """INSERT ``rows`` (all with the same keys) in the session's transaction. On PostgreSQL, from
    ``COPY_FROM`` rows on, through COPY: for a 100,000-person batch about half the time of INSERT
    statements (bench/declaration_import.py), and psycopg does not parse a multi-row INSERT's text
    again for every chunk; fewer rows go as INSERT statements, which cost one round trip less."""
    rows = iter(rows)
    head = list(islice(rows, COPY_FROM))
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(head) < COPY_FROM:
        rows = chain(head, rows)
        while chunk := list(islice(rows, CHUNK)):
            session.execute(table.insert(), chunk)
        return
    columns = list(head[0])
    as_json = {name for name in columns if isinstance(table.c[name].type, JSON)}
    driver = connection.connection.driver_connection
    if driver is None:  # only a pooled connection that was closed has none
        raise exc.ResourceClosedError("the database connection is closed")
    with driver.cursor() as cursor, \
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in chain(head, rows):
            copy.write_row([json.dumps(row[name], ensure_ascii=False) if name in as_json else row[name]
                            for name in columns])


def get_batch(session: Session, batch_id: int) -> DeclarationBatch:
    batch = session.get(DeclarationBatch, batch_id)
    if batch is None:
        raise NotFound("申报批次不存在")
    return batch


def batch_of_case(ctx: OperatorContext, batch_id: Any) -> DeclarationBatch:
    """The batch a service task of a declaration case names, refused unless it is the case's own:
    case data written by a script or a form can never point a case at another enterprise's batch.
    A batch knows its case (``instance_id``); only while ``submit_declaration`` starts that case —
    in the same transaction, before the id is written back — is it recognised by its number, the
    case's business key. The number alone is not enough: the generic start lets its caller choose
    the business key of a case of any process, and a designer's process can call any operator."""
    batch = get_batch(ctx.session, int(batch_id))
    if batch.instance_id is None and batch.batch_no == ctx.business_key:
        batch.instance_id = ctx.instance_id
    if batch.instance_id != ctx.instance_id:
        raise OperatorError("办件 %(case)s 不能处理申报批次 %(batch)s（不是本办件的批次）"
                            % dict(case=ctx.business_key, batch=batch.batch_no))
    return batch


def batch_checks(session: Session, batch_id: int, person_ids: list[int] | None = None
                 ) -> dict[int, list[DeclarationCheck]]:
    """Findings per declared person of a batch (only of ``person_ids`` when given)."""
    query = select(DeclarationCheck).where(DeclarationCheck.batch_id == batch_id)
    if person_ids is not None:
        query = query.where(DeclarationCheck.person_id.in_(person_ids))
    result: dict[int, list[DeclarationCheck]] = {}
    for check in session.scalars(query.order_by(DeclarationCheck.id)):
        result.setdefault(check.person_id, []).append(check)
    return result


def persons_for_review(session: Session, batch_id: int, limit: int) -> list[DeclaredPerson]:
    """Up to ``limit`` persons of a batch for a reviewer's screen: every person with a finding first
    (those are the ones a decision must name), then the others, each group in declaration order."""
    flagged = select(DeclarationCheck.person_id).where(DeclarationCheck.batch_id == batch_id)
    in_batch = select(DeclaredPerson).where(DeclaredPerson.batch_id == batch_id).order_by(DeclaredPerson.id)
    first = list(session.scalars(in_batch.where(DeclaredPerson.id.in_(flagged)).limit(limit)))
    rest = list(session.scalars(in_batch.where(DeclaredPerson.id.not_in(flagged)).limit(limit - len(first))))
    return sorted(first + rest, key=lambda person: person.id)


@dataclass
class PersonPage:
    """One page of a batch's declared persons with their findings, for a screen that lists them."""

    persons: list[DeclaredPerson]
    checks: dict[int, list[DeclarationCheck]]
    total: int  # persons matching the filter, on every page
    page: int
    pages: int
    first_number: int  # the 序号 of the first person on the page (its position in the batch's list)


def normalise_search(search: str) -> str:
    """A person search as typed (name or ID number): trimmed, at most 50 characters."""
    return search.strip()[:50]


def person_page(session: Session, batch_id: int, *, page: int = 1, per_page: int = 100,
                only_findings: bool = False, search: str = "") -> PersonPage:
    """Persons of a batch in declaration order, ``per_page`` at a time: all of them, or only those
    with a 校验 finding, or those whose name contains ``search`` or whose ID number is ``search``.
    A page past the last shows the last page."""
    query = select(DeclaredPerson).where(DeclaredPerson.batch_id == batch_id)
    if only_findings:
        query = query.where(DeclaredPerson.id.in_(
            select(DeclarationCheck.person_id).where(DeclarationCheck.batch_id == batch_id)))
    search = normalise_search(search)
    if search:
        query = query.where((DeclaredPerson.id_number == search.upper())
                            | DeclaredPerson.name.contains(search, autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    persons = list(session.scalars(query.order_by(DeclaredPerson.id).offset((page - 1) * per_page).limit(per_page)))
    return PersonPage(persons, batch_checks(session, batch_id, [p.id for p in persons]), total, page, pages,
                      (page - 1) * per_page + 1)


# ---------------------------------------------------------------------- 校验
class CatalogueEntry(NamedTuple):
    """A plain copy of a catalogue row: 100,000 persons read it without ORM attribute overhead."""

    code: str
    industry: str
    nature: str
    active: bool


def catalogue_view(session: Session) -> dict[str, CatalogueEntry]:
    return {w.code: CatalogueEntry(w.code, w.industry, w.nature, w.active) for w in session.scalars(select(WorkType))}


def person_problems(person: Any, work_types: dict[str, CatalogueEntry], industry: str,
                    today: date | None = None) -> list[tuple[str, str]]:
    """The rules that need only the person itself and the catalogue. ``person`` has id_number, name,
    gender, birth_date and work_histories (dicts with work_type_code and ISO or date start/end)."""
    problems: list[tuple[str, str]] = []
    if not person.name:
        problems.append(("name", "姓名不能为空"))
    if person.gender not in GENDERS:
        problems.append(("gender", "性别应为男或女"))
    birth = person.birth_date
    id_problem = id_number_problem(person.id_number)
    if id_problem:
        problems.append(("id_number", id_problem))
    else:
        if birth and birth_date_of(person.id_number) != birth:
            problems.append(("birth_date", "出生日期与公民身份号码不一致"))
        if person.gender in GENDERS and gender_of(person.id_number) != person.gender:
            problems.append(("gender", "性别与公民身份号码不一致"))
        birth = birth or birth_date_of(person.id_number)
    if not person.work_histories:
        problems.append(("work_histories", "至少需要一段从业经历"))
    periods = []
    today = today or utcnow().date()
    for index, history in enumerate(person.work_histories, start=1):
        key = f"work_histories[{index}]"
        start, end = _as_date(history["start_date"]), _as_date(history["end_date"])
        work_type = work_types.get(history["work_type_code"])
        if work_type is None or not work_type.active:
            code = history["work_type_code"]
            problems.append((f"{key}.work_type_code", FINDINGS["not_in_catalogue"] % {"n": index, "code": code}))
        elif work_type.industry != industry:
            problems.append((f"{key}.work_type_code", FINDINGS["other_industry"] % {"n": index, "industry": industry}))
        elif work_type.nature == "underground" and person.gender == "female":
            problems.append((f"{key}.work_type_code", FINDINGS["underground_female"] % {"n": index}))
        if end < start:
            problems.append((f"{key}.end_date", FINDINGS["ends_before_start"] % {"n": index}))
        if end > today:
            problems.append((f"{key}.end_date", FINDINGS["ends_after_today"] % {"n": index}))
        if birth:
            if start < _birthday(birth, MIN_WORKING_AGE):
                problems.append((f"{key}.start_date", FINDINGS["too_young"] % {"n": index, "age": MIN_WORKING_AGE}))
            limit = RETIREMENT_AGE.get(person.gender)
            if limit and end >= _birthday(birth, limit):
                problems.append((f"{key}.end_date", FINDINGS["past_retirement"] % {"n": index, "age": limit}))
        periods.append((start, end, index))
    periods.sort()
    for (_s1, e1, i1), (s2, _e2, i2) in zip(periods, periods[1:], strict=False):
        if s2 <= e1:
            problems.append((f"work_histories[{i2}].start_date", FINDINGS["overlap"] % {"first": i1, "second": i2}))
    return problems


def _birthday(birth: date, years: int) -> date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February
        return date(birth.year + years, 3, 1)


def _error_summary(session: Session, batch_id: int, statuses: tuple[str, ...]) -> dict[str, Any]:
    """Error persons among those with ``statuses`` — what the 初审 guard looks at."""
    error_persons = sorted(session.scalars(
        select(DeclarationCheck.person_id).join(DeclaredPerson, DeclaredPerson.id == DeclarationCheck.person_id)
        .where(DeclarationCheck.batch_id == batch_id, DeclaredPerson.status.in_(statuses)).distinct()))
    person_count = session.scalar(select(func.count()).where(DeclaredPerson.batch_id == batch_id,
                                                             DeclaredPerson.status.in_(statuses)))
    return {"error_count": len(error_persons), "error_persons": error_persons, "person_count": person_count}


def check_batch(session: Session, batch_id: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Run every 校验 rule on a batch without writing anything. Streams the batch in chunks and reads
    the register only for each chunk's own persons, never the whole register. Yields (persons checked
    so far, the chunk's findings) after each chunk: a background job ends its read transaction there
    (one short transaction per chunk), reports progress and stops when cancelled."""
    checked = 0
    batch = get_batch(session, batch_id)
    industry = get_enterprise(session, batch.enterprise_code).industry
    work_types = catalogue_view(session)
    seen: set[str] = set()
    today = utcnow().date()
    in_other_batches = _in_other_open_batches(session, batch_id)
    first, last = session.execute(select(func.min(DeclaredPerson.id), func.max(DeclaredPerson.id))
                                  .where(DeclaredPerson.batch_id == batch_id)).one()
    columns = (DeclaredPerson.id, DeclaredPerson.id_number, DeclaredPerson.name, DeclaredPerson.gender,
               DeclaredPerson.birth_date, DeclaredPerson.work_histories)
    # chunks are id ranges (a batch is inserted in one go, so its ids are dense): no query carries a
    # list of 1,000 bound values, which PostgreSQL would have to parse and plan every time
    for low in range(first - 1, last, CHUNK) if first is not None else ():
        in_range = (DeclaredPerson.batch_id == batch_id, DeclaredPerson.id > low, DeclaredPerson.id <= low + CHUNK)
        chunk = session.execute(select(*columns).where(*in_range).order_by(DeclaredPerson.id)).all()
        registered = _registered_periods(session, in_range)
        findings: list[dict[str, Any]] = []
        for person in chunk:
            problems = person_problems(person, work_types, industry, today)
            if person.id_number in seen:
                problems.append(("id_number", "同一人员在本批次中重复申报"))
            seen.add(person.id_number)
            if person.id_number in in_other_batches:
                problems.append(("id_number", "该人员已在其他未办结的申报批次中"))
            for index, history in enumerate(person.work_histories, start=1):
                start_d, end_d = _as_date(history["start_date"]), _as_date(history["end_date"])
                for reg_start, reg_end in registered.get(person.id_number, []):
                    if start_d <= reg_end and reg_start <= end_d:
                        problems.append((f"work_histories[{index}].start_date",
                                         f"经历 {start_d}～{end_d} 与库中已有经历 {reg_start}～{reg_end} 重叠"))
            findings += [{"batch_id": batch_id, "person_id": person.id, "field": f, "message": m}
                         for f, m in problems]
        checked += len(chunk)
        yield checked, findings


def store_checks(session: Session, batch_id: int, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Replace the batch's earlier findings with ``findings`` and send the batch on to 初审."""
    batch = get_batch(session, batch_id)
    session.execute(delete(DeclarationCheck).where(DeclarationCheck.batch_id == batch_id))
    for start in range(0, len(findings), CHUNK):
        session.execute(insert(DeclarationCheck), findings[start:start + CHUNK])
    summary = _error_summary(session, batch_id, UNDER_STEP["review"])
    batch.error_count = summary["error_count"]
    batch.status = "reviewing"
    return {**summary, "finding_count": len(findings)}


def validate_batch(session: Session, batch_id: int) -> dict[str, Any]:
    """Run every 校验 rule on a batch at once, replacing earlier findings (small batches; large ones
    go through the background job of ``services.special_work.batch_validation``)."""
    findings = [finding for _checked, chunk in check_batch(session, batch_id) for finding in chunk]
    return store_checks(session, batch_id, findings)


def _in_other_open_batches(session: Session, batch_id: int) -> set[str]:
    """ID numbers of this batch still open in another batch: one join for the whole batch (the
    answer is small) instead of one lookup per chunk."""
    other = aliased(DeclaredPerson)
    return set(session.scalars(
        select(other.id_number).distinct()
        .join(DeclaredPerson, DeclaredPerson.id_number == other.id_number)
        .where(DeclaredPerson.batch_id == batch_id, other.batch_id != batch_id,
               other.status.in_(OPEN_PERSON_STATUSES))))


def _registered_periods(session: Session, declared: tuple) -> dict[str, list[tuple[date, date]]]:
    """Register periods of the declared persons matching the ``declared`` conditions."""
    rows = session.execute(
        select(DeclaredPerson.id_number, WorkHistory.start_date, WorkHistory.end_date)
        .join(Person, Person.id_number == DeclaredPerson.id_number)
        .join(WorkHistory, WorkHistory.person_id == Person.id).where(*declared))
    result: dict[str, list[tuple[date, date]]] = {}
    for number, start, end in rows:
        result.setdefault(number, []).append((start, end))
    return result


# ---------------------------------------------------------------------- 初审 / 复核, per person
def _person_ids(values: list[Any]) -> list[int]:
    try:
        return sorted({int(v) for v in values or []})
    except (TypeError, ValueError):
        raise InvalidData("所选人员编号无效", fields={"rejected_persons": ["所选人员编号无效"]}) from None


def _unknown_persons(session: Session, batch_id: int, step: str, ids: list[int]) -> list[int]:
    known: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        known |= set(session.scalars(select(DeclaredPerson.id).where(
            DeclaredPerson.batch_id == batch_id, DeclaredPerson.id.in_(part),
            DeclaredPerson.status.in_(UNDER_STEP[step]))))
    return [i for i in ids if i not in known]


def decide_persons(session: Session, batch_id: int, step: str, decision: str, rejected: list[Any],
                   conclusion: str | None, actor: str) -> dict[str, int]:
    """Apply one 初审 or 复核 decision to the persons under that step.

    ``decision == 'reject'`` fails (初审) or sends back (复核) every person under the step;
    ``'approve'`` passes everyone except the persons listed in ``rejected``.
    """
    if step not in UNDER_STEP or decision not in ("approve", "reject"):
        raise ValueError(f"未知的审核环节或结论：{step} / {decision}")
    ids = _person_ids(rejected)
    unknown = _unknown_persons(session, batch_id, step, ids)
    if unknown:
        raise InvalidData("人员 %(persons)s 不在本环节待审人员中" % dict(persons=", ".join(map(str, unknown[:10]))),
                          fields={"rejected_persons": ["所选人员不在本环节待审人员中"]})
    under = DeclaredPerson.status.in_(UNDER_STEP[step])
    in_batch = DeclaredPerson.batch_id == batch_id
    failed_status = "rejected" if step == "review" else "returned"
    note = (conclusion or "").strip() or None
    if decision == "reject":
        failed = rowcount(session.execute(update(DeclaredPerson).where(in_batch, under).values(
            status=failed_status, conclusion=note, decided_by=actor), execution_options=NO_SYNC))
    else:
        failed = 0
        for start in range(0, len(ids), CHUNK):
            failed += rowcount(session.execute(update(DeclaredPerson).where(
                in_batch, under, DeclaredPerson.id.in_(ids[start:start + CHUNK])).values(
                status=failed_status, conclusion=note, decided_by=actor), execution_options=NO_SYNC))
    passed = 0
    if step == "review":
        passed = rowcount(session.execute(update(DeclaredPerson).where(in_batch, under).values(
            status="reviewed", conclusion=None, decided_by=actor), execution_options=NO_SYNC))
        return {"forwarded": passed, "rejected": failed}
    passed = session.scalars(select(func.count()).where(in_batch, under)).one()
    return {"approved": passed, "returned": failed}


def persons_to_register(session: Session, batch_id: int) -> int:
    """How many persons of the batch 复核 has passed and the register does not hold yet."""
    return session.scalars(select(func.count()).where(DeclaredPerson.batch_id == batch_id,
                                                      DeclaredPerson.status == "reviewed")).one()


def register_batch(session: Session, batch_id: int) -> dict[str, int]:
    """复核通过: write the persons passed by 复核 and their work histories into the register.

    A small batch is registered inside the rechecker's completion, a large one by a background job
    (``services.special_work.batch_registration``); either way it must be quick: chunk by chunk (keyset on the
    person id), with Core statements and COPY — read the chunk, read which of its persons are
    registered already, copy the new ones in and read their ids, copy the work histories in, mark
    the chunk approved in one UPDATE. Loading the chunk as ORM objects and flushing each person
    took about three times as long (20,000 persons: 8.4 s → 2.5–3.1 s on PostgreSQL, 4.1 s →
    1.1–1.6 s on SQLite). A person registered before keeps their row and gains only the periods
    not registered yet."""
    batch = get_batch(session, batch_id)
    person, history, declared = Person.__table__, WorkHistory.__table__, DeclaredPerson.__table__
    reviewed = (declared.c.batch_id == batch_id, declared.c.status == "reviewed")
    registered = added = 0
    after = 0
    while chunk := session.execute(
            select(declared.c.id, declared.c.id_number, declared.c.name, declared.c.gender, declared.c.birth_date,
                   declared.c.work_histories)
            .where(*reviewed, declared.c.id > after).order_by(declared.c.id).limit(CHUNK)).all():
        numbers = {row.id_number for row in chunk}
        person_ids = dict(session.execute(
            select(person.c.id_number, person.c.id).where(person.c.id_number.in_(numbers))).all())
        already: set[tuple[int, date, str]] = set()
        if person_ids:  # periods can exist only for persons registered before this chunk
            already = set(session.execute(
                select(history.c.person_id, history.c.start_date, history.c.work_type_code)
                .where(history.c.person_id.in_(person_ids.values()))).all())
        new = {row.id_number: {"id_number": row.id_number, "name": row.name, "gender": row.gender,
                               "birth_date": row.birth_date or birth_date_of(row.id_number),
                               "region_code": batch.region_code}
               for row in chunk if row.id_number not in person_ids}
        if new:
            _bulk_insert(session, person, new.values())
            person_ids.update(session.execute(
                select(person.c.id_number, person.c.id).where(person.c.id_number.in_(list(new)))).all())
        histories = []
        for row in chunk:
            person_id = person_ids[row.id_number]
            for entry in row.work_histories:
                start_d = date.fromisoformat(entry["start_date"])
                if (person_id, start_d, entry["work_type_code"]) in already:
                    continue
                histories.append({"person_id": person_id, "enterprise_code": batch.enterprise_code,
                                  "work_type_code": entry["work_type_code"], "start_date": start_d,
                                  "end_date": date.fromisoformat(entry["end_date"]), "batch_no": batch.batch_no,
                                  "suspicious": False, "valid": True})
        _bulk_insert(session, history, histories)
        session.execute(update(declared).where(*reviewed, declared.c.id > after, declared.c.id <= chunk[-1].id)
                        .values(status="approved"))
        added += len(histories)
        registered += len(chunk)
        after = chunk[-1].id
    batch.status = "approved"
    return {"registered_persons": registered, "work_histories": added}


def return_to_review(session: Session, batch_id: int) -> dict[str, Any]:
    """复核退回: the batch waits for 初审 again with the returned persons; the result replaces the
    case's ``validation`` so that the 初审 guard looks only at persons still under review."""
    get_batch(session, batch_id).status = "returned"
    return _error_summary(session, batch_id, UNDER_STEP["review"])


def decide(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, batch_id: int, decision: str,
           rejected_persons: list[Any], conclusion: str | None):
    """One reviewer action on the batch's open 初审 or 复核 task: checks the selection against the
    persons under that step (a clear error, nothing changed), then completes the task."""
    session = uow.session
    batch = get_visible_batch(session, engine, actor, batch_id)
    task = next(iter(engine.open_tasks(session, batch.instance_id) if batch.instance_id is not None else []), None)
    if task is None or task.name not in UNDER_STEP:
        raise Conflict("该批次当前没有待审核或待复核的任务")
    ids = _person_ids(rejected_persons)
    unknown = _unknown_persons(session, batch.id, task.name, ids)
    if unknown:
        persons = ", ".join(map(str, unknown[:10]))
        raise InvalidData("人员 %(persons)s 不在本环节待审人员中" % dict(persons=persons), fields={
            "rejected_persons": ["人员 %(persons)s 不在本环节待审人员中" % dict(persons=persons)]})
    return engine.complete_task(uow, task.id, actor, {
        "decision": decision, "rejected_persons": [str(i) for i in ids], "conclusion": conclusion})


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("declaration.mark", example={"status": "reviewing"})
    def mark_operator(ctx: OperatorContext, batch_id: int, status: str) -> dict[str, str]:
        if status not in STATUS_LABELS:
            raise ValueError(f"未知的申报状态 {status}")
        batch_of_case(ctx, batch_id).status = status
        return {"status": status}

    @registry.register("declaration.decide",
                       example={"forwarded": 1, "rejected": 0, "approved": 1, "returned": 0})
    def decide_operator(ctx: OperatorContext, batch_id: int, step: str, decision: str,
                        rejected_persons: list[Any] | None, conclusion: str | None) -> dict[str, int]:
        return decide_persons(ctx.session, batch_of_case(ctx, batch_id).id, step, decision, rejected_persons or [],
                              conclusion, ctx.actor)

    @registry.register("declaration.return_to_review", example=VALIDATION_EXAMPLE)
    def return_operator(ctx: OperatorContext, batch_id: int) -> dict[str, Any]:
        return return_to_review(ctx.session, batch_of_case(ctx, batch_id).id)


def reads_staff_names(actor: Actor) -> bool:
    """Whether ``actor`` is told which member of staff decided on a person or uploaded a file: the
    office is; an applicant (an enterprise's user) is told what was decided, not by whom."""
    return actor.party is None


def get_visible_batch(session: Session, engine: WorkflowEngine, actor: Actor, batch_id: int) -> DeclarationBatch:
    """A batch the actor may see: its enterprise's users, or staff of its region (via its case)."""
    batch = session.get(DeclarationBatch, batch_id)
    if batch is None or batch.instance_id is None:
        raise NotFound("申报批次不存在")
    if actor.party == batch.enterprise_code:
        return batch
    engine.get_instance(session, batch.instance_id, actor)  # raises NotFound when out of scope
    return batch


ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


def batches_declaring(session: Session, text: str) -> list[str] | None:
    """Inbox search: a citizen ID number names the batches that declare that person (None for any
    other text, which the inbox matches as it stands)."""
    text = text.strip()
    if not ID_NUMBER.match(text):
        return None
    return list(session.scalars(select(DeclarationBatch.batch_no).join(DeclaredPerson)
                                .where(DeclaredPerson.id_number == text.upper()).distinct()))


def terminate_batch(session: Session, instance_id: int, reason: str) -> None:
    """终止 of a declaration case: its batch and every person not yet decided end with the reason
    (a person already entered into the register stays there)."""
    batch = session.scalar(select(DeclarationBatch).where(DeclarationBatch.instance_id == instance_id))
    if batch is None:
        return
    batch.status = "terminated"
    session.execute(update(DeclaredPerson).where(DeclaredPerson.batch_id == batch.id,
                                                 DeclaredPerson.status.in_(OPEN_PERSON_STATUSES))
                    .values(status="terminated", conclusion=(reason or "办件已终止")[:500])
                    .execution_options(**NO_SYNC))
