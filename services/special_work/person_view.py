"""What the 抽查 and 人员信息管理 screens show for one person of the register: the work-history
entries (each with its latest spot check) and the early-retirement registrations (seed 000, 4.5,
5.1, 5.3 and 5.4)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from services.platform import audit
from services.special_work import early_retirement, register, spot_checks
from services.special_work.models import EarlyRetirement, Person, SpotCheck, WorkHistory, WorkType


@dataclass
class PersonView:
    person: Person
    histories: list[WorkHistory]
    registrations: list[EarlyRetirement]
    work_type_names: dict[str, str]
    last_checks: dict[tuple[str, int], SpotCheck]  # (kind, target id) → the latest check


def person_view(session: Session, actor: Actor, id_number: str) -> PersonView:
    """A person of the actor's regions (属地) with histories, registrations and spot checks."""
    person = register.get_person(session, actor, id_number)
    histories = register.histories_of(session, person.id)
    names = {code: name for code, name in session.execute(
        select(WorkType.code, WorkType.name).where(WorkType.code.in_({h.work_type_code for h in histories})))}
    checks = session.scalars(select(SpotCheck).where(SpotCheck.person_id == person.id).order_by(SpotCheck.id))
    return PersonView(person, histories, early_retirement.registrations_of(session, person.id), names,
                      {(c.kind, c.target_id): c for c in checks})


@dataclass
class PersonRecord:
    """One person of the register as the API answers it: for staff everything; for an applicant only
    the histories at its own enterprise, without spot-check flags, registrations or the audit trail
    (which names staff)."""

    person: Person
    work_histories: list[dict]
    early_retirements: list[EarlyRetirement]
    audit: list


def person_record(session: Session, actor: Actor, id_number: str) -> PersonRecord:
    person = register.get_person(session, actor, id_number)
    histories = register.histories_of(session, person.id)
    if actor.party is not None:
        own = [{"id": h.id, "enterprise_code": h.enterprise_code, "work_type_code": h.work_type_code,
                "start_date": h.start_date, "end_date": h.end_date, "batch_no": h.batch_no}
               for h in histories if h.enterprise_code == actor.party]
        return PersonRecord(person, own, [], [])
    rows = [{"id": h.id, "enterprise_code": h.enterprise_code, "work_type_code": h.work_type_code,
             "start_date": h.start_date, "end_date": h.end_date, "batch_no": h.batch_no, "valid": h.valid,
             "suspicious": h.suspicious} for h in histories]
    return PersonRecord(person, rows, early_retirement.registrations_of(session, person.id),
                        audit.entries_for(session, "person", person.id_number))


def person_for_spot_check(session: Session, actor: Actor, id_number: str) -> PersonView:
    """The same, for a provincial spot checker of the person's province."""
    spot_checks.require_any_provincial_checker(actor)
    view = person_view(session, actor, id_number)
    spot_checks.require_provincial_checker(actor, view.person.region_code)
    return view
