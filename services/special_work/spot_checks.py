"""Spot checks (抽查): the province samples approved records after the fact (seed 000, 4.5 企业申报
省级抽查, 5.4 提前退休审批抽查). A failed check marks the record as suspicious (疑点数据); a failed
work-history entry is also invalid and no longer counts towards early retirement."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Forbidden, InvalidData, NotFound
from engine.regions import covers
from services.platform import audit
from services.special_work.models import Person, SpotCheck, WorkHistory

RESULTS = {"pass": "抽查通过", "fail": "抽查不通过"}
KINDS = {"work_history": "企业申报省级抽查", "early_retirement": "提前退休审批抽查"}


def require_provincial_checker(actor: Actor, region_code: str) -> None:
    """抽查 is a provincial (or ministry) duty: the spot_checker role held at province level or above."""
    if not any(role == "spot_checker" and grant.endswith("0000") and covers(grant, region_code)
               for role, grant in actor.grants):
        raise Forbidden("只有省级抽查人员可以抽查本省的数据")


def is_provincial_checker(actor: Actor) -> bool:
    """Holds spot_checker at province level or above somewhere (the 抽查 screen)."""
    return any(role == "spot_checker" and grant.endswith("0000") for role, grant in actor.grants)


def require_any_provincial_checker(actor: Actor) -> None:
    if not is_provincial_checker(actor):
        raise Forbidden("只有省级抽查人员可以使用抽查功能")


def _check_input(result: str, note: str) -> str:
    if result not in RESULTS:
        raise InvalidData("抽查结果应为通过或不通过", fields={"result": ["请选择抽查通过或抽查不通过"]})
    note = (note or "").strip()
    if result == "fail" and not note:
        raise InvalidData("抽查不通过时请填写原因", fields={"note": ["抽查不通过时请填写原因"]})
    return note


def spot_check_work_histories(session: Session, actor: Actor, history_ids: list[int], result: str,
                              note: str = "") -> list[SpotCheck]:
    """Mark one or several entries of approved work history valid (pass) or invalid (fail)."""
    note = _check_input(result, note)
    if not history_ids:
        raise InvalidData("请选择要抽查的从业经历", fields={"history_ids": ["请选择要抽查的从业经历"]})
    checks = []
    for history_id in dict.fromkeys(history_ids):
        row = session.execute(select(WorkHistory, Person).join(Person, Person.id == WorkHistory.person_id)
                              .where(WorkHistory.id == history_id)).first()
        if row is None or not any(actor.holds(role, row[1].region_code) for role in actor.roles):
            # out of the actor's regions: as if absent
            raise NotFound("从业经历 %(history)s 不存在" % dict(history=history_id))
        history, person = row
        require_provincial_checker(actor, person.region_code)
        history.valid = result == "pass"
        history.suspicious = result == "fail"
        check = SpotCheck(kind="work_history", target_id=history.id, person_id=person.id,
                          id_number=person.id_number, region_code=person.region_code, result=result, note=note,
                          checked_by=actor.username)
        session.add(check)
        audit.record(session, actor, f"spot_check.work_history.{result}", "work_history", history.id,
                     person.region_code, note=note)
        checks.append(check)
    session.flush()
    return checks


def record_registration_check(session: Session, actor: Actor, registration, result: str, note: str) -> SpotCheck:
    """Store a spot check of an early-retirement registration (5.4); the caller updates the registration."""
    note = _check_input(result, note)
    require_provincial_checker(actor, registration.region_code)
    check = SpotCheck(kind="early_retirement", target_id=registration.id, person_id=registration.person_id,
                      id_number=registration.id_number, region_code=registration.region_code, result=result,
                      note=note, checked_by=actor.username)
    session.add(check)
    audit.record(session, actor, f"spot_check.early_retirement.{result}", "early_retirement", registration.id,
                 registration.region_code, note=note)
    session.flush()
    return check
