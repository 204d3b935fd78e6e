"""Helpers shared by the special-work-type review tests (services, processes, API)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.db import utcnow
from engine.models import HumanTask, ProcessInstance, TaskStatus
from services.platform import my_cases
from services.platform.demo_data import demo_id_number
from services.special_work import declarations, register
from tests.conftest import actor, person


def submit(runtime, persons, kind="first", who="enterprise"):
    with runtime.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, runtime.engine, actor(who), "110101000001", kind,
                                                [declarations.PersonInput(**p) for p in persons])
        uow.commit()
        return batch.id, batch.instance_id


def open_task(runtime, instance_id) -> HumanTask | None:
    with runtime.unit_of_work() as uow:
        return uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == TaskStatus.OPEN)).first()


CERTIFICATE_REQUEST = {"name": "王井下", "id_number": "110101196805019011", "purpose": "办理提前退休",
                       "note": "本人申请"}


def request_certificate(runtime) -> ProcessInstance:
    """A work-history certificate request, started by ``enterprise`` from 发起办件 (waiting for 受理)."""
    with runtime.unit_of_work() as uow:
        instance = my_cases.start_case(uow, runtime.engine, actor("enterprise"), "110101", "work_history_certificate",
                                       CERTIFICATE_REQUEST, utcnow())
        uow.commit()
        return instance


def complete(runtime, instance_id, who, data):
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.complete_task(uow, open_task(runtime, instance_id).id, actor(who), data)
        uow.commit()
        return instance.status


def person_ids(runtime, batch_id) -> list[int]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(declarations.DeclaredPerson.id).where(
            declarations.DeclaredPerson.batch_id == batch_id).order_by(declarations.DeclaredPerson.id)))


def statuses(runtime, batch_id) -> tuple[str, list[str]]:
    with runtime.unit_of_work() as uow:
        batch = declarations.get_batch(uow.session, batch_id)
        return batch.status, [p.status for p in batch.persons]


def in_register(runtime, serial, birth=date(1975, 3, 1), histories=None, region="110101", gender="male",
                who="clerk"):
    """Put a person straight into the register (5.2, by the clerk); returns the ID number."""
    number = demo_id_number(region, birth, serial * 2 + (1 if gender == "male" else 0))
    histories = histories or [("110101000001", "MT001", date(1995, 7, 1), date(2010, 6, 30))]
    with runtime.unit_of_work() as uow:
        register.add_unfiled_person(uow.session, actor(who), number,
                                    register.PersonDetails(f"库内{serial}", gender, region),
                                    [register.HistoryInput(*h) for h in histories])
        uow.commit()
    return number


__all__ = ["actor", "complete", "in_register", "open_task", "person", "person_ids", "statuses", "submit"]
