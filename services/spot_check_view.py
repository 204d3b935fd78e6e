"""What the 抽查 screen shows for one person: the register's work-history entries (each with its
latest spot check) and the person's early-retirement registrations (seed 000, 4.5 and 5.4)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from services import early_retirement, register, spot_checks
from services.catalogue import WorkType
from services.early_retirement import EarlyRetirement
from services.register import Person, WorkHistory
from services.spot_checks import SpotCheck


@dataclass
class PersonSpotCheckView:
    person: Person
    histories: list[WorkHistory]
    registrations: list[EarlyRetirement]
    work_type_names: dict[str, str]
    last_checks: dict[tuple[str, int], SpotCheck]  # (kind, target id) → the latest check


def person_for_spot_check(session: Session, actor: Actor, id_number: str) -> PersonSpotCheckView:
    """A person of the checker's province with everything that may be spot-checked."""
    spot_checks.require_any_provincial_checker(actor)
    person = register.get_person(session, actor, id_number)
    spot_checks.require_provincial_checker(actor, person.region_code)
    histories = register.histories_of(session, person.id)
    names = dict(session.execute(select(WorkType.code, WorkType.name)
                                 .where(WorkType.code.in_({h.work_type_code for h in histories}))).tuples())
    checks = session.scalars(select(SpotCheck).where(SpotCheck.person_id == person.id).order_by(SpotCheck.id))
    return PersonSpotCheckView(person, histories, early_retirement.registrations_of(session, person.id), names,
                               {(c.kind, c.target_id): c for c in checks})
