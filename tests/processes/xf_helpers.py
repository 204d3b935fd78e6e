"""Helpers shared by the petition tests: the demo province's organisations and posts (made afresh for
each test: the case tables are emptied after each), its people, and short ways to drive an item."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.models import HumanTask, ProcessInstance, TaskStatus
from services.petitions import intake
from services.petitions.demo import make_province
from services.petitions.models import Petition
from services.platform import organisations
from services.platform.identity import User, actor_for
from tests.conftest import PASSWORD


@dataclass
class Province:
    runtime: Any
    orgs: dict[str, organisations.Organisation]

    def actor(self, username: str) -> Actor:
        with self.runtime.unit_of_work(read_only=True) as uow:
            user = uow.session.scalar(select(User).where(User.username == username))
            assert user is not None
            return actor_for(user)

    def visit(self, visitors: int = 1, interviewer: str = "jn_interviewer") -> tuple[Petition, list[str]]:
        with self.runtime.unit_of_work() as uow:
            petition, warnings = intake.register_visit(uow, self.runtime.engine, self.actor("jn_registrar"),
                                                       self.orgs["jn-xfj"].id, {
                "name": "钱七", "address": "历下区泉城路 9 号", "visitors": visitors, "title": "集体反映拆迁补偿",
                "place_region": "370102", "place_address": "泉城路 9 号", "content": "补偿标准不一",
                "companions": "孙八 370102198001010011", "interviewer_username": interviewer}, {})
            uow.commit()
            return petition, warnings

    def complaint(self, who: str = "petitioner", title: str = "拖欠工资三个月", bureau: str = "jn-xfj",
                  place: str = "370102", **extra: Any) -> Petition:
        with self.runtime.unit_of_work() as uow:
            petition = intake.submit_complaint(uow, self.runtime.engine, self.actor(who), {
                "title": title, "place_region": place, "place_address": "历下区解放路 88 号",
                "content": "单位拖欠工资三个月，请求处理。", "organisation": str(self.orgs[bureau].id), **extra}, {})
            uow.commit()
            return petition

    def task(self, number: str, step: str) -> HumanTask:
        with self.runtime.unit_of_work(read_only=True) as uow:
            row = uow.session.scalar(select(HumanTask).where(HumanTask.business_key == number,
                                                             HumanTask.name == step,
                                                             HumanTask.status == TaskStatus.OPEN))
            assert row is not None, f"no open {step} for {number}"
            uow.session.expunge(row)
            return row

    def do(self, number: str, step: str, who: str, data: dict[str, Any]) -> ProcessInstance:
        row = self.task(number, step)
        with self.runtime.unit_of_work() as uow:
            instance = self.runtime.engine.complete_task(uow, row.id, self.actor(who), data)
            uow.commit()
            return instance

    def register(self, number: str, who: str = "jn_registrar", purpose: str = "demand", **extra: Any) -> None:
        data = {"purpose": purpose, "category": "labour", "law_related": False, "anonymous": False,
                "in_scope": purpose == "demand", **extra}
        self.do(number, "register", who, data)

    def petition(self, number: str) -> Petition:
        with self.runtime.unit_of_work(read_only=True) as uow:
            petition = uow.session.scalar(select(Petition).where(Petition.number == number))
            assert petition is not None
            uow.session.expunge(petition)
            return petition

    def cases(self, number: str) -> list[ProcessInstance]:
        with self.runtime.unit_of_work(read_only=True) as uow:
            rows = list(uow.session.scalars(select(ProcessInstance).where(ProcessInstance.business_key == number)
                                            .order_by(ProcessInstance.id)))
            for row in rows:
                uow.session.expunge(row)
            return rows


@pytest.fixture
def province(runtime) -> Province:
    """The demo province's organisations with their people's posts, and its two portal petitioners
    (``petitioner`` 张三 and ``petitioner_li`` 李四)."""
    with runtime.unit_of_work() as uow:
        made = make_province(uow.session, PASSWORD, enforce_policy=True)
        uow.commit()
        for organisation in made.values():
            uow.session.expunge(organisation)
    return Province(runtime, made)
