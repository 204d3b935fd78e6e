"""Early retirement registration (特殊工种提前退休信息登记, seed 000, 5.3) and its spot check (5.4).

The local office registers a person of the register; ``early_retirement.check`` adds up the
person's valid work history per nature of work and compares it, and the age at retirement, with
the nature's rule in ``work_nature`` (data, not code). A failing check, or an approver's doubt,
flags the registration as suspicious (疑点数据) and not approved.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.operators import OperatorContext, OperatorError, OperatorRegistry
from engine.runtime import WorkflowEngine
from services.special_work import spot_checks
from services.special_work.catalogue import natures
from services.special_work.models import EarlyRetirement, Person, WorkHistory, WorkType
from services.special_work.register import get_person

PROCESS_KEY = "early_retirement_registration"
STATUS_LABELS = {"checking": "核验中", "pending_approval": "待审批", "approved": "登记通过",
                 "not_approved": "登记不通过", "terminated": "已终止"}
OPEN_STATUSES = ("checking", "pending_approval")
DAYS_PER_YEAR = 365.25


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def accumulated_years(session: Session, person_id: int, until: date) -> dict[str, float]:
    """Years of valid special-work history per nature of work, counted up to ``until``."""
    totals: dict[str, float] = {}
    rows = session.execute(select(WorkType.nature, WorkHistory.start_date, WorkHistory.end_date)
                           .join(WorkType, WorkType.code == WorkHistory.work_type_code)
                           .where(WorkHistory.person_id == person_id, WorkHistory.valid.is_(True)))
    for nature, start, end in rows:
        end = min(end, until)
        if end >= start:
            totals[nature] = totals.get(nature, 0.0) + ((end - start).days + 1) / DAYS_PER_YEAR
    return {k: round(v, 2) for k, v in totals.items()}


def evaluate(session: Session, person: Person, nature: str, retirement_date: date) -> dict[str, Any]:
    """The early-retirement conditions of ``nature`` for ``person`` retiring on ``retirement_date``."""
    rule = natures(session).get(nature)
    if rule is None:
        raise InvalidData("特殊工种性质 %(code)s 不存在" % dict(code=nature), fields={"nature": ["请选择特殊工种性质"]})
    years = accumulated_years(session, person.id, retirement_date)
    have = years.get(nature, 0.0)
    age = age_on(person.birth_date, retirement_date)
    min_age = rule.min_age_male if person.gender == "male" else rule.min_age_female
    messages = []
    if have < rule.required_years:
        messages.append(f"从事“{rule.name}”工作累计 {have:g} 年，不足 {rule.required_years} 年")
    if age < min_age:
        messages.append(f"退休时年龄 {age} 周岁，未达到 {min_age} 周岁")
    return {"passed": not messages, "accumulated_years": have, "required_years": rule.required_years,
            "age": age, "min_age": min_age, "messages": messages, "by_nature": years}


def registrations_of(session: Session, person_id: int) -> list[EarlyRetirement]:
    return list(session.scalars(select(EarlyRetirement).where(EarlyRetirement.person_id == person_id)
                                .order_by(EarlyRetirement.id)))


def register(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, id_number: str, nature: str,
             retirement_date: date, note: str = "") -> EarlyRetirement:
    """提前退休登记: record the registration and start its check and approval."""
    session = uow.session
    person = get_person(session, actor, id_number)
    if not actor.holds("clerk", person.region_code):
        raise Forbidden("只有属地经办人员可以办理提前退休登记")
    if nature not in natures(session):
        raise InvalidData("请选择特殊工种性质", fields={"nature": ["请选择特殊工种性质"]})
    for earlier in registrations_of(session, person.id):
        if earlier.status in OPEN_STATUSES:
            raise Conflict("该人员有尚未办结的提前退休登记")
        if earlier.status == "approved":
            raise Conflict("该人员已于 %(day)s 办理提前退休登记并通过"
                           % dict(day=earlier.registered_at.strftime("%Y-%m-%d")))
    registration = EarlyRetirement(person_id=person.id, id_number=person.id_number, name=person.name,
                                   region_code=person.region_code, nature=nature, retirement_date=retirement_date,
                                   note=(note or "").strip()[:500], registered_by=actor.username)
    session.add(registration)
    session.flush()
    instance = engine.start(uow, PROCESS_KEY, business_key=_business_key(registration.id),
                            region_code=person.region_code,
                            data={"registration_id": registration.id, "id_number": person.id_number},
                            actor=actor, submitter=person.name,
                            search_text=f"{_business_key(registration.id)} {person.id_number} {person.name}")
    registration.instance_id = instance.id
    return registration


def get_registration(session: Session, registration_id: int) -> EarlyRetirement:
    registration = session.get(EarlyRetirement, registration_id)
    if registration is None:
        raise NotFound("提前退休登记不存在")
    return registration


def get_visible_registration(session: Session, actor: Actor, registration_id: int) -> EarlyRetirement:
    registration = session.get(EarlyRetirement, registration_id)
    if registration is None or actor.party or not any(actor.holds(role, registration.region_code)
                                                      for role in actor.roles):
        raise NotFound("提前退休登记不存在或不在您的管辖范围内")
    return registration


def run_check(session: Session, registration_id: int) -> dict[str, Any]:
    registration = get_registration(session, registration_id)
    person = session.get(Person, registration.person_id)
    if person is None:
        raise NotFound("库中没有此人员")
    result = evaluate(session, person, registration.nature, registration.retirement_date)
    registration.age = result["age"]
    registration.accumulated_years = result["accumulated_years"]
    registration.check_passed = result["passed"]
    registration.check_messages = result["messages"]
    registration.status = "pending_approval" if result["passed"] else "not_approved"
    registration.suspicious = not result["passed"]
    return {k: v for k, v in result.items() if k != "by_nature"}


def decide(session: Session, registration_id: int, decision: str, conclusion: str | None, actor: str) -> dict:
    """登记通过, or not approved (a failed check, or the approver's doubt): then also 疑点数据."""
    registration = get_registration(session, registration_id)
    approved = decision == "approve" and registration.check_passed
    registration.status = "approved" if approved else "not_approved"
    registration.suspicious = not approved
    registration.conclusion = (conclusion or "").strip() or None
    registration.decided_by = actor
    return {"status": registration.status}


def spot_check(session: Session, actor: Actor, registration_id: int, result: str, note: str = "") -> EarlyRetirement:
    """5.4 提前退休审批抽查: pass or fail; a failure lists the registration among suspicious data."""
    registration = get_visible_registration(session, actor, registration_id)  # out of scope: as if absent
    spot_checks.require_provincial_checker(actor, registration.region_code)  # then the permission
    if registration.status != "approved":  # and only then the state
        raise Conflict("只能抽查已登记通过的提前退休人员")
    spot_checks.record_registration_check(session, actor, registration, result, note)
    registration.spot_check_result = result
    if result == "fail":
        registration.suspicious = True
    return registration


def register_operators(registry: OperatorRegistry) -> None:
    @registry.register("early_retirement.check",
                       example={"passed": True, "age": 55, "accumulated_years": 10.0, "messages": []})
    def check_operator(ctx: OperatorContext, registration_id: int) -> dict[str, Any]:
        return run_check(ctx.session, _registration_of_case(ctx, registration_id))

    @registry.register("early_retirement.decide", example={"status": "approved"})
    def decide_operator(ctx: OperatorContext, registration_id: int, decision: str,
                        conclusion: str | None) -> dict[str, str]:
        return decide(ctx.session, _registration_of_case(ctx, registration_id), decision, conclusion, ctx.actor)


def _business_key(registration_id: int) -> str:
    return f"TX{registration_id:08d}"


def _registration_of_case(ctx: OperatorContext, registration_id: Any) -> int:
    """The registration a service task names, refused unless it is the case's own: recognised by its
    case (``instance_id``), or by its business key only while ``register`` starts that case in the
    same transaction (the generic start lets its caller choose any business key)."""
    registration = get_registration(ctx.session, int(registration_id))
    if registration.instance_id is None and _business_key(registration.id) == ctx.business_key:
        registration.instance_id = ctx.instance_id
    if registration.instance_id != ctx.instance_id:
        raise OperatorError("办件 %(case)s 不能处理提前退休登记 %(registration)s（不是本办件的登记）"
                            % dict(case=ctx.business_key, registration=registration.id))
    return registration.id


def terminate_registration(session: Session, instance_id: int, reason: str) -> None:
    """终止 of a registration case: the registration ends with the reason unless it was decided."""
    registration = session.scalar(select(EarlyRetirement).where(EarlyRetirement.instance_id == instance_id))
    if registration is not None and registration.status in OPEN_STATUSES:
        registration.status = "terminated"
        registration.conclusion = (reason or "办件已终止")[:500]
