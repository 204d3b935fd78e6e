"""Delivering a message to a waiting instance (how a background job reports back to its case)."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, NotFound
from tests.workers import bpmn
from tests.workers.helpers import deploy, events, instance_status, open_tasks, start


def send(runtime, instance_id: int, name: str, payload: dict) -> None:
    with runtime.unit_of_work() as uow:
        runtime.engine.send_message(uow, instance_id, name, payload)
        uow.commit()


def test_message_resumes_the_waiting_instance_with_its_payload(runtime):
    deploy(runtime, bpmn.message_wait("await_check"), "await_check")
    instance_id = start(runtime, "await_check")
    assert instance_status(runtime, instance_id) == "waiting"
    assert open_tasks(runtime, instance_id) == []

    send(runtime, instance_id, "checked", {"rows": 100000, "errors": 3})
    assert open_tasks(runtime, instance_id) == ["after"]
    with runtime.unit_of_work() as uow:
        data = runtime.engine.instance_data(uow.session, runtime.engine.get_instance(uow.session, instance_id))
    assert data["outcome"] == {"rows": 100000, "errors": 3}
    assert [e.details["message"] for e in events(runtime, instance_id, "message_received")] == ["checked"]


def test_a_message_nobody_waits_for_is_refused_and_changes_nothing(runtime):
    deploy(runtime, bpmn.message_wait("await_once"), "await_once")
    instance_id = start(runtime, "await_once")
    with pytest.raises(Conflict):
        send(runtime, instance_id, "other_message", {})
    send(runtime, instance_id, "checked", {})
    with pytest.raises(Conflict):  # delivered twice: the second finds nothing waiting
        send(runtime, instance_id, "checked", {})
    assert open_tasks(runtime, instance_id) == ["after"]
    with pytest.raises(NotFound):
        send(runtime, 987654, "checked", {})
