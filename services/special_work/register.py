"""The register (人员及从业经历库): persons and their approved special-work-type histories.

Histories arrive from declarations at the end of 复核, or directly from the local office
(seed 000, 5.1 特殊工种人员信息管理 and 5.2 未备案人员信息新增), audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import utcnow
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.regions import REGION_CODE
from services.platform import audit
from services.platform.id_number import birth_date_of, gender_of, id_number_problem
from services.special_work.models import Enterprise, Person, WorkHistory, WorkType

MAINTAINERS = ("clerk",)


@dataclass
class HistoryInput:
    enterprise_code: str
    work_type_code: str
    start_date: date
    end_date: date


@dataclass
class PersonDetails:
    name: str
    gender: str
    region_code: str


def may_maintain(actor: Actor) -> bool:
    """Holds a maintaining role somewhere (the 人员信息管理 screen); every change checks the region."""
    return any(role in MAINTAINERS for role, _ in actor.grants)


def require_any_maintainer(actor: Actor) -> None:
    if not may_maintain(actor):
        raise Forbidden("只有属地经办人员可以维护特殊工种人员信息")


def _require_maintainer(actor: Actor, region_code: str) -> None:
    if not any(actor.holds(role, region_code) for role in MAINTAINERS):
        raise Forbidden("只有属地经办人员可以维护特殊工种人员信息")


def normalise(id_number: str) -> str:
    return (id_number or "").strip().upper()


def find_person(session: Session, id_number: str) -> Person | None:
    return session.scalars(select(Person).where(Person.id_number == normalise(id_number))).first()


def get_person(session: Session, actor: Actor, id_number: str) -> Person:
    """A person of the actor's region (属地) or below; for an applicant (an enterprise's user), only a
    person who worked at the applicant's own enterprise — everyone else looks as if absent."""
    person = find_person(session, id_number)
    if person is None or not any(actor.holds(role, person.region_code) for role in actor.roles):
        raise NotFound("库中没有此人员，或不在您的管辖范围内")
    if actor.party is not None and session.scalar(select(WorkHistory.id).where(
            WorkHistory.person_id == person.id, WorkHistory.enterprise_code == actor.party).limit(1)) is None:
        raise NotFound("库中没有此人员，或不在您的管辖范围内")
    return person


def histories_of(session: Session, person_id: int) -> list[WorkHistory]:
    return list(session.scalars(select(WorkHistory).where(WorkHistory.person_id == person_id)
                                .order_by(WorkHistory.start_date)))


def _history_problems(session: Session, histories: list[HistoryInput],
                      existing: list[WorkHistory]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not histories:
        problems["work_histories"] = ["请至少新增一条特殊工种从业经历"]
    periods = [(h.start_date, h.end_date, f"库中已有经历 {h.start_date}～{h.end_date}") for h in existing]
    today = utcnow().date()
    for index, history in enumerate(histories, start=1):
        key = f"work_histories[{index}]"
        found = []
        enterprise = session.get(Enterprise, history.enterprise_code)
        work_type = session.get(WorkType, history.work_type_code)
        if enterprise is None:
            found.append(f"单位 {history.enterprise_code} 不存在")
        if work_type is None or not work_type.active:
            found.append(f"工种 {history.work_type_code} 不在特殊工种名录中")
        elif enterprise is not None and work_type.industry != enterprise.industry:
            found.append(f"工种不属于该单位所属行业（{enterprise.industry}）")
        if history.end_date < history.start_date:
            found.append("结束日期早于开始日期")
        if history.end_date > today:
            found.append("结束日期晚于今天")
        for start, end, label in periods:
            if history.start_date <= end and start <= history.end_date:
                found.append(f"与{label}时间重叠")
        periods.append((history.start_date, history.end_date, f"第 {index} 条新增经历"))
        if found:
            problems[key] = found
    return problems


def _add_histories(session: Session, person: Person, histories: list[HistoryInput]) -> list[WorkHistory]:
    rows = [WorkHistory(person_id=person.id, enterprise_code=h.enterprise_code, work_type_code=h.work_type_code,
                        start_date=h.start_date, end_date=h.end_date, batch_no="") for h in histories]
    session.add_all(rows)
    session.flush()
    return rows


def _new_person(session: Session, actor: Actor, id_number: str, details: PersonDetails,
                histories: list[HistoryInput]) -> Person:
    problems: dict[str, list[str]] = {}
    id_problem = id_number_problem(id_number)
    if id_problem:
        problems["id_number"] = [id_problem]
    if not details.name.strip():
        problems["name"] = ["请填写姓名"]
    if details.gender not in ("male", "female"):
        problems["gender"] = ["请选择性别"]
    elif not id_problem and gender_of(id_number) != details.gender:
        problems["gender"] = ["性别与公民身份号码不一致"]
    if not REGION_CODE.match(details.region_code or ""):
        problems["region_code"] = ["区划代码应为 6 位数字"]
    problems.update(_history_problems(session, histories, []))
    if problems:
        raise InvalidData("人员信息填写有误", fields=problems)
    _require_maintainer(actor, details.region_code)
    person = Person(id_number=id_number, name=details.name.strip(), gender=details.gender,
                    birth_date=birth_date_of(id_number), region_code=details.region_code)
    session.add(person)
    session.flush()
    return person


def add_unfiled_person(session: Session, actor: Actor, id_number: str, details: PersonDetails,
                       histories: list[HistoryInput]) -> Person:
    """5.2 未备案人员信息新增: a person not yet in the register, with their histories. A person who
    already exists is not handled here (5.1 adds histories to them)."""
    id_number = normalise(id_number)
    if find_person(session, id_number) is not None:
        raise Conflict("系统中已存在此人员，请在“特殊工种人员信息管理”中新增其从业经历")
    person = _new_person(session, actor, id_number, details, histories)
    rows = _add_histories(session, person, histories)
    audit.record(session, actor, "register.add_unfiled_person", "person", id_number, person.region_code,
                 work_histories=[_describe(r) for r in rows])
    return person


def save_person_histories(session: Session, actor: Actor, id_number: str, histories: list[HistoryInput],
                          details: PersonDetails | None = None) -> Person:
    """5.1 特殊工种人员信息管理: add histories to a person in the register, or — when the system has
    no such person — create them with ``details``."""
    id_number = normalise(id_number)
    person = find_person(session, id_number)
    if person is None:
        if details is None:
            raise InvalidData("系统中没有此人，请填写人员信息", fields={"name": ["请填写人员信息"]})
        person = _new_person(session, actor, id_number, details, histories)
        action = "register.add_person"
    else:
        _require_maintainer(actor, person.region_code)
        problems = _history_problems(session, histories, histories_of(session, person.id))
        if problems:
            raise InvalidData("从业经历填写有误", fields=problems)
        action = "register.add_work_histories"
    rows = _add_histories(session, person, histories)
    audit.record(session, actor, action, "person", id_number, person.region_code,
                 work_histories=[_describe(r) for r in rows])
    return person


def _describe(row: WorkHistory) -> dict[str, str]:
    return {"id": str(row.id), "enterprise_code": row.enterprise_code, "work_type_code": row.work_type_code,
            "start_date": row.start_date.isoformat(), "end_date": row.end_date.isoformat()}
