"""Shared steps of the background-work tests."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.db import utcnow
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TaskStatus, Timer
from services.bootstrap import Runtime
from tests.conftest import actor


def deploy(runtime: Runtime, xml: bytes, name: str) -> None:
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, [(xml, f"{name}.bpmn")], "test")
        uow.commit()


def start(runtime: Runtime, process_key: str, data: dict[str, Any] | None = None) -> int:
    with runtime.unit_of_work() as uow:
        instance = runtime.engine.start(uow, process_key, business_key=f"{process_key}-1", region_code="110101",
                                        data=data or {}, actor=actor("reviewer"))
        uow.commit()
        return instance.id


def soon(seconds: float = 1.0) -> tuple[str, datetime]:
    """An ISO instant ``seconds`` from now (for timer expressions) and the same as naive UTC."""
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.isoformat(), at.replace(tzinfo=None)


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
               seen: Callable[[], Any] | None = None) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds, saying
    what ``seen`` returns then (the state the condition looked at)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s" + (f"; seen: {seen()!r}" if seen else ""))
        time.sleep(interval)


def sleep_past(moment: datetime) -> None:
    wait_until(lambda: utcnow() > moment, timeout=10, interval=0.05)


def open_tasks(runtime: Runtime, instance_id: int) -> list[str]:
    with runtime.unit_of_work() as uow:
        return sorted(uow.session.scalars(select(HumanTask.name).where(
            HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.OPEN)))


def timers(runtime: Runtime, instance_id: int) -> list[Timer]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.id)))


def events(runtime: Runtime, instance_id: int, kind: str) -> list[HistoryEvent]:
    with runtime.unit_of_work() as uow:
        return list(uow.session.scalars(select(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.kind == kind)))


def instance_status(runtime: Runtime, instance_id: int) -> str:
    with runtime.unit_of_work() as uow:
        return uow.session.get(ProcessInstance, instance_id).status


class RecordingGateway:
    """An SMS gateway that keeps what it was asked to send (BANJIAN_SMS_GATEWAY=module:factory)."""

    sent: list[tuple[str, str]] = []

    def send(self, mobile: str, text: str) -> None:
        self.sent.append((mobile, text))
