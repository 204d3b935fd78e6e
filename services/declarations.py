"""Special-work-type declarations (特殊工种申报): batches of persons with work histories.

An enterprise submits a batch → ``declaration.validate`` (校验) stores its findings per person →
reviewers decide in the BPMN flow → ``declaration.register`` writes the approved persons and
work histories into the register at the end of 复核.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from engine.actors import Actor
from engine.db import Base, UnitOfWork, utcnow
from engine.errors import Forbidden, NotFound
from engine.operators import OperatorContext, OperatorRegistry
from engine.runtime import WorkflowEngine
from services.catalogue import WorkType
from services.enterprises import get_enterprise
from services.id_number import birth_date_of, gender_of, id_number_problem
from services.register import Person, WorkHistory

KINDS = {"first": "首次申报", "annual": "年度申报"}
PROCESS_BY_KIND = {"first": "first_declaration_review", "annual": "annual_declaration_review"}
STATUS_LABELS = {
    "submitted": "已申报", "reviewing": "待审核", "rechecking": "待复核", "approved": "复核通过",
    "rejected": "审核不通过", "returned": "复核退回",
}
CHUNK = 500


class DeclarationBatch(Base):
    __tablename__ = "declaration_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    enterprise_code: Mapped[str] = mapped_column(ForeignKey("enterprise.code"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    instance_id: Mapped[int | None] = mapped_column(Integer, default=None)
    person_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)

    persons: Mapped[list[DeclaredPerson]] = relationship(back_populates="batch", order_by="DeclaredPerson.id")


class DeclaredPerson(Base):
    __tablename__ = "declared_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("declaration_batch.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    work_histories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    batch: Mapped[DeclarationBatch] = relationship(back_populates="persons")


class DeclarationCheck(Base):
    """One finding of 校验 for one declared person."""

    __tablename__ = "declaration_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("declaration_batch.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("declared_person.id"), index=True)
    field: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(String(300))


@dataclass
class PersonInput:
    id_number: str
    name: str
    gender: str
    birth_date: date | None
    work_histories: list[dict[str, Any]]  # work_type_code, start_date, end_date (dates)


def _next_batch_no(session: Session, kind: str, region_code: str) -> str:
    today = utcnow().strftime("%Y%m%d")
    prefix = f"{'SC' if kind == 'first' else 'ND'}{region_code}{today}"
    count = session.scalar(select(func.count()).where(DeclarationBatch.batch_no.like(f"{prefix}%")))
    return f"{prefix}{count + 1:04d}"


def submit_declaration(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, enterprise_code: str,
                       kind: str, persons: list[PersonInput]) -> DeclarationBatch:
    """申报: store the batch and start its review process. Business-rule failures do not refuse
    the submission: 校验 records them for the reviewer."""
    session = uow.session
    enterprise = get_enterprise(session, enterprise_code)
    if actor.party != enterprise.code and not actor.holds("enterprise", enterprise.region_code) \
            and not actor.holds("reviewer", enterprise.region_code):
        raise Forbidden("您无权为该单位申报")
    if actor.party and actor.party != enterprise.code:
        raise Forbidden("单位用户只能为本单位申报")
    batch = DeclarationBatch(batch_no=_next_batch_no(session, kind, enterprise.region_code), kind=kind,
                             enterprise_code=enterprise.code, region_code=enterprise.region_code,
                             submitted_by=actor.username, person_count=len(persons))
    session.add(batch)
    session.flush()
    session.add_all(DeclaredPerson(
        batch_id=batch.id, id_number=p.id_number.strip().upper(), name=p.name.strip(), gender=p.gender,
        birth_date=p.birth_date,
        work_histories=[{"work_type_code": h["work_type_code"], "start_date": h["start_date"].isoformat(),
                         "end_date": h["end_date"].isoformat()} for h in p.work_histories],
    ) for p in persons)
    session.flush()
    instance = engine.start(
        uow, PROCESS_BY_KIND[kind], business_key=batch.batch_no, region_code=enterprise.region_code,
        data={"batch_id": batch.id, "batch_no": batch.batch_no, "kind": kind, "enterprise_code": enterprise.code},
        actor=actor, submitter=enterprise.name, search_text=enterprise.code, check_starter=False)
    batch.instance_id = instance.id
    return batch


def get_batch(session: Session, batch_id: int) -> DeclarationBatch:
    batch = session.get(DeclarationBatch, batch_id)
    if batch is None:
        raise NotFound("申报批次不存在")
    return batch


def batch_checks(session: Session, batch_id: int) -> dict[int, list[DeclarationCheck]]:
    result: dict[int, list[DeclarationCheck]] = {}
    for check in session.scalars(select(DeclarationCheck).where(DeclarationCheck.batch_id == batch_id)
                                 .order_by(DeclarationCheck.id)):
        result.setdefault(check.person_id, []).append(check)
    return result


# ---------------------------------------------------------------------- 校验
def _person_problems(person: DeclaredPerson, work_types: dict[str, WorkType], industry: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not person.name:
        problems.append(("name", "姓名不能为空"))
    id_problem = id_number_problem(person.id_number)
    if id_problem:
        problems.append(("id_number", id_problem))
    else:
        if person.birth_date and birth_date_of(person.id_number) != person.birth_date:
            problems.append(("birth_date", "出生日期与公民身份号码不一致"))
        if person.gender and gender_of(person.id_number) != person.gender:
            problems.append(("gender", "性别与公民身份号码不一致"))
    if not person.work_histories:
        problems.append(("work_histories", "至少需要一段从业经历"))
    periods = []
    for index, history in enumerate(person.work_histories, start=1):
        start, end = date.fromisoformat(history["start_date"]), date.fromisoformat(history["end_date"])
        work_type = work_types.get(history["work_type_code"])
        if work_type is None or not work_type.active:
            code = history["work_type_code"]
            problems.append((f"work_histories[{index}]", f"第 {index} 段经历的工种 {code} 不在特殊工种名录中"))
        elif work_type.industry != industry:
            problems.append((f"work_histories[{index}]", f"第 {index} 段经历的工种不属于本单位所属行业（{industry}）"))
        if end < start:
            problems.append((f"work_histories[{index}]", f"第 {index} 段经历的结束日期早于开始日期"))
        if person.birth_date and start < date(person.birth_date.year + 16, person.birth_date.month, 1):
            problems.append((f"work_histories[{index}]", f"第 {index} 段经历开始时未满 16 周岁"))
        if end > utcnow().date():
            problems.append((f"work_histories[{index}]", f"第 {index} 段经历的结束日期晚于今天"))
        periods.append((start, end, index))
    periods.sort()
    for (_s1, e1, i1), (s2, _e2, i2) in zip(periods, periods[1:], strict=False):
        if s2 <= e1:
            problems.append((f"work_histories[{i2}]", f"第 {i1} 段与第 {i2} 段经历时间重叠"))
    return problems


def validate_batch(session: Session, batch_id: int) -> dict[str, int]:
    """Run every 校验 rule on a batch, replacing earlier findings. Reads the register only for the
    batch's own persons, chunk by chunk, never the whole register."""
    batch = get_batch(session, batch_id)
    industry = get_enterprise(session, batch.enterprise_code).industry
    work_types = {w.code: w for w in session.scalars(select(WorkType))}
    session.execute(delete(DeclarationCheck).where(DeclarationCheck.batch_id == batch_id))
    persons = list(session.scalars(select(DeclaredPerson).where(DeclaredPerson.batch_id == batch_id)
                                   .order_by(DeclaredPerson.id)))
    seen: dict[str, int] = {}
    findings: list[dict[str, Any]] = []
    for start in range(0, len(persons), CHUNK):
        chunk = persons[start:start + CHUNK]
        numbers = [p.id_number for p in chunk]
        registered = _registered_periods(session, numbers)
        in_other_batches = set(session.scalars(
            select(DeclaredPerson.id_number).join(DeclarationBatch)
            .where(DeclaredPerson.id_number.in_(numbers), DeclarationBatch.id != batch_id,
                   DeclarationBatch.status.in_(("submitted", "reviewing", "rechecking", "returned")))))
        for person in chunk:
            problems = _person_problems(person, work_types, industry)
            if person.id_number in seen:
                problems.append(("id_number", "同一人员在本批次中重复申报"))
            seen.setdefault(person.id_number, person.id)
            if person.id_number in in_other_batches:
                problems.append(("id_number", "该人员已在其他未办结的申报批次中"))
            for history in person.work_histories:
                start_d, end_d = date.fromisoformat(history["start_date"]), date.fromisoformat(history["end_date"])
                for reg_start, reg_end in registered.get(person.id_number, []):
                    if start_d <= reg_end and reg_start <= end_d:
                        problems.append(("work_histories",
                                         f"经历 {start_d}～{end_d} 与库中已有经历 {reg_start}～{reg_end} 重叠"))
            findings += [{"batch_id": batch_id, "person_id": person.id, "field": f, "message": m} for f, m in problems]
    if findings:
        session.execute(DeclarationCheck.__table__.insert(), findings)
    error_persons = len({f["person_id"] for f in findings})
    batch.error_count = error_persons
    batch.status = "reviewing"
    return {"error_count": error_persons, "finding_count": len(findings), "person_count": len(persons)}


def _registered_periods(session: Session, numbers: list[str]) -> dict[str, list[tuple[date, date]]]:
    rows = session.execute(
        select(Person.id_number, WorkHistory.start_date, WorkHistory.end_date)
        .join(WorkHistory, WorkHistory.person_id == Person.id).where(Person.id_number.in_(numbers)))
    result: dict[str, list[tuple[date, date]]] = {}
    for number, start, end in rows:
        result.setdefault(number, []).append((start, end))
    return result


def register_batch(session: Session, batch_id: int) -> dict[str, int]:
    """复核通过: write the batch's persons and work histories into the register."""
    batch = get_batch(session, batch_id)
    persons = [p for p in batch.persons if p.status != "rejected"]
    added = 0
    for start in range(0, len(persons), CHUNK):
        chunk = persons[start:start + CHUNK]
        existing = {p.id_number: p for p in session.scalars(
            select(Person).where(Person.id_number.in_([c.id_number for c in chunk])))}
        for declared in chunk:
            person = existing.get(declared.id_number)
            if person is None:
                person = Person(id_number=declared.id_number, name=declared.name, gender=declared.gender,
                                birth_date=declared.birth_date or birth_date_of(declared.id_number),
                                region_code=batch.region_code)
                session.add(person)
                session.flush()
                existing[declared.id_number] = person
            already = {(row[0], row[1]) for row in session.execute(
                select(WorkHistory.start_date, WorkHistory.work_type_code).where(WorkHistory.person_id == person.id))}
            for history in declared.work_histories:
                start_d = date.fromisoformat(history["start_date"])
                if (start_d, history["work_type_code"]) in already:
                    continue  # idempotent when a failed registration is retried
                session.add(WorkHistory(person_id=person.id, enterprise_code=batch.enterprise_code,
                                        work_type_code=history["work_type_code"], start_date=start_d,
                                        end_date=date.fromisoformat(history["end_date"]), batch_no=batch.batch_no))
                added += 1
            declared.status = "approved"
    batch.status = "approved"
    return {"registered_persons": len(persons), "work_histories": added}


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("declaration.validate")
    def validate_operator(ctx: OperatorContext, batch_id: int) -> dict[str, int]:
        return validate_batch(ctx.session, int(batch_id))

    @registry.register("declaration.mark")
    def mark_operator(ctx: OperatorContext, batch_id: int, status: str) -> dict[str, str]:
        if status not in STATUS_LABELS:
            raise ValueError(f"未知的申报状态 {status}")
        batch = get_batch(ctx.session, int(batch_id))
        batch.status = status
        if status == "rejected":
            for person in batch.persons:
                person.status = "rejected"
        return {"status": status}

    @registry.register("declaration.register")
    def register_operator(ctx: OperatorContext, batch_id: int) -> dict[str, int]:
        return register_batch(ctx.session, int(batch_id))


def get_visible_batch(session: Session, engine: WorkflowEngine, actor: Actor, batch_id: int) -> DeclarationBatch:
    """A batch the actor may see: its enterprise's users, or staff of its region (via its case)."""
    batch = session.get(DeclarationBatch, batch_id)
    if batch is None or batch.instance_id is None:
        raise NotFound("申报批次不存在")
    if actor.party == batch.enterprise_code:
        return batch
    engine.get_instance(session, batch.instance_id, actor)  # raises NotFound when out of scope
    return batch
