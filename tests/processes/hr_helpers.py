"""Helpers shared by the human-resources market tests (services, processes, pages)."""
from __future__ import annotations

from sqlalchemy import select

from engine.db import utcnow
from engine.models import HumanTask, ProcessInstance, TaskStatus
from services.hr_market import organisations
from services.hr_market.demo import FILING_MATERIALS, MATERIALS
from tests.conftest import USERS, actor

PDF = b"%PDF-1.4\n% material\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
APPLICATION = {"licence_items": ["recommend_workers", "job_fairs"], "premises": "东城区示范路 1 号",
               "staff_count": 5, "contact_phone": "010-65000001"}


FILING = {"filing_items": ["supply_demand_info", "training"], "business_started_on": "2026-11-20",
          "contact_phone": "010-65000001"}


def all_materials(content: bytes = PDF, keys: tuple[str, ...] = MATERIALS) -> dict[str, list[tuple[str, bytes]]]:
    return {key: [(f"{key}.pdf", content)] for key in keys}


def register_organisation(runtime, account: str = "hr_org", name: str = "北京东城人才服务有限公司") -> int:
    """The organisation the test account ``account`` is bound to, added to the register by admin."""
    _roles, region, code = USERS[account]
    with runtime.unit_of_work() as uow:
        organisation = organisations.create(uow.session, actor("admin"), organisations.OrganisationInput(
            credit_code=code, name=name, kind="enterprise", legal_representative="张法人",
            address="北京市东城区示范路 1 号", region_code=region, contact_person="李联系", contact_phone="010-1"))
        uow.commit()
        return organisation.id


def apply(runtime, account: str = "hr_org", data: dict | None = None, uploads: dict | None = None,
          process: str = "hr_licence") -> ProcessInstance:
    """An application (a licence, or with ``process="hr_filing"`` a filing) started from 发起办件 by
    ``account``, with every material."""
    from services.platform import my_cases

    _roles, region, _code = USERS[account]
    filing = process == "hr_filing"
    with runtime.unit_of_work() as uow:
        instance = my_cases.start_case(uow, runtime.engine, actor(account), region, process,
                                       dict(data or (FILING if filing else APPLICATION)), utcnow(),
                                       all_materials(keys=FILING_MATERIALS if filing else MATERIALS)
                                       if uploads is None else uploads)
        uow.commit()
        return instance


def open_task(runtime, instance_id: int) -> HumanTask:
    with runtime.unit_of_work() as uow:
        [task] = uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.status == TaskStatus.OPEN)).all()
        uow.session.expunge(task)
        return task


def act(runtime, instance_id: int, who: str, data: dict, uploads: dict | None = None) -> None:
    from services.platform import attachments

    task = open_task(runtime, instance_id)
    with runtime.unit_of_work() as uow:
        attachments.complete(uow, runtime.engine, actor(who), task.id, dict(data), uploads or {})
        uow.commit()
