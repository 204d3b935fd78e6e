"""Reminders before the due date, escalation (督办) when overdue, and the notification channels."""
from __future__ import annotations

import email
import socket
import threading
from datetime import datetime
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from engine.models import HumanTask
from services.bootstrap import Settings, bootstrap
from services.platform import background as steps
from services.platform import notifications
from services.platform.notifications import Notification
from tests.workers import bpmn
from tests.workers.helpers import RecordingGateway, deploy, start

DUE = datetime(2025, 2, 5, 23, 59, 59)  # the first working day after the 2025 Spring Festival
BEFORE_HOLIDAY = datetime(2025, 1, 24, 9, 0)  # 5 working days ahead (26, 27 Jan, 5 Feb…): not yet
LAST_HOLIDAY = datetime(2025, 2, 4, 9, 0)  # due within 2 working days
OVERDUE = datetime(2025, 2, 6, 9, 0)


def open_task_due(rt, due: datetime, assignee: str | None = None) -> str:
    deploy(rt, bpmn.single_task("remind_me"), "remind_me")
    instance_id = start(rt, "remind_me")
    with rt.unit_of_work() as uow:
        task_id = uow.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)).one()
        uow.session.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=due, assignee=assignee))
        uow.commit()
    return task_id


def inbox(rt) -> list[tuple[str, str]]:
    with rt.unit_of_work() as uow:
        return [(n.recipient, n.kind) for n in uow.session.scalars(select(Notification).order_by(Notification.id))]


def recipients(rt, kind: str) -> list[str]:
    """Who got a notification of ``kind`` (repeats kept: each may appear only once)."""
    return sorted(recipient for recipient, k in inbox(rt) if k == kind)


def outsiders(names: list[str]) -> set[str]:
    """Fixture users among ``names`` who must not be told: other regions, other roles."""
    return set(names) & {"tj_reviewer", "county_reviewer", "rechecker", "enterprise", "designer", "admin"}


def test_group_is_reminded_before_the_due_date_and_supervisor_notified_when_overdue(runtime):
    task_id = open_task_due(runtime, DUE)

    assert steps.send_reminders(runtime, BEFORE_HOLIDAY) == (0, 0, 0, 0)
    assert inbox(runtime) == []

    assert steps.send_reminders(runtime, LAST_HOLIDAY) == (1, 0, 0, 0)
    group = recipients(runtime, "reminder_due_soon")
    assert "reviewer" in group  # the reviewers of 110000 cover the case's county 110101
    assert len(set(group)) == len(group) and not outsiders(group) and "supervisor" not in group
    assert steps.send_reminders(runtime, LAST_HOLIDAY) == (0, 0, 0, 0)  # never the same reminder twice
    assert recipients(runtime, "reminder_due_soon") == group

    assert steps.send_reminders(runtime, OVERDUE) == (0, 1, 0, 0)
    assert recipients(runtime, "reminder_overdue") == group  # the group again
    supervisors = recipients(runtime, "escalation_overdue")
    assert "supervisor" in supervisors and not outsiders(supervisors) and "reviewer" not in supervisors
    assert steps.send_reminders(runtime, OVERDUE) == (0, 0, 0, 0)
    assert len(inbox(runtime)) == 2 * len(group) + len(supervisors)
    with runtime.unit_of_work() as uow:
        escalation = uow.session.scalars(select(Notification).where(Notification.recipient == "supervisor")).one()
    assert escalation.subject.startswith("【督办】初审超期未办")
    assert "remind_me-1" in escalation.subject and "2025-02-05" in escalation.body
    assert escalation.task_id == task_id


def test_a_claimed_task_reminds_only_its_assignee(runtime):
    open_task_due(runtime, DUE, assignee="colleague_in_charge")
    steps.send_reminders(runtime, LAST_HOLIDAY)
    assert inbox(runtime) == [("colleague_in_charge", "reminder_due_soon")]
    steps.send_reminders(runtime, OVERDUE)
    overdue = recipients(runtime, "reminder_overdue")
    assert "colleague_in_charge" in overdue and "reviewer" in overdue  # the assignee and the whole group


def test_concurrent_scanners_send_each_reminder_once(runtime):
    for _ in range(3):
        open_task_due(runtime, DUE)
    barrier = threading.Barrier(3)

    def scanner() -> None:
        barrier.wait()
        steps.send_reminders(runtime, OVERDUE)

    threads = [threading.Thread(target=scanner) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    group, supervisors = recipients(runtime, "reminder_overdue"), recipients(runtime, "escalation_overdue")
    assert group.count("reviewer") == 3 and supervisors.count("supervisor") == 3  # three tasks, once each
    assert len(inbox(runtime)) == 3 * len(set(group)) + 3 * len(set(supervisors))


# ---------------------------------------------------------------------- channels
class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def mailbox():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def test_reminders_are_mailed_and_texted_after_the_commit_and_only_once(runtime, mailbox):
    box, port = mailbox
    rt = bootstrap(Settings(database_url=runtime.settings.database_url, smtp_host="127.0.0.1", smtp_port=port,
                            sms_gateway="tests.workers.helpers:RecordingGateway"))
    try:
        RecordingGateway.sent.clear()
        open_task_due(rt, DUE)
        with rt.unit_of_work() as uow:
            notifications.set_contact(uow.session, "reviewer", email="reviewer@example.gov.cn",
                                      mobile="13800000000", sms_enabled=True)
            notifications.set_contact(uow.session, "supervisor", email="supervisor@example.gov.cn")
            uow.commit()

        steps.send_reminders(rt, OVERDUE)
        assert box.messages == []  # nothing is sent inside the scan's transaction
        assert rt.jobs.run_pending() == 1
        assert sorted(m.rcpt_tos[0] for m in box.messages) == ["reviewer@example.gov.cn", "supervisor@example.gov.cn"]
        mail = email.message_from_bytes(
            next(m for m in box.messages if m.rcpt_tos == ["supervisor@example.gov.cn"]).content, policy=default)
        assert mail["Subject"].startswith("【督办】初审超期未办")
        assert "2025-02-05" in mail.get_content()
        assert [mobile for mobile, _ in RecordingGateway.sent] == ["13800000000"]
        assert "超期" in RecordingGateway.sent[0][1]

        with rt.unit_of_work() as uow:  # delivering the same notifications again sends nothing new
            ids = list(uow.session.scalars(select(Notification.id)))
            rt.jobs.submit(uow.session, uow.after_commit, notifications.DELIVER, {"ids": ids}, created_by="system")
            uow.commit()
        assert rt.jobs.run_pending() == 1
        assert len(box.messages) == 2 and len(RecordingGateway.sent) == 1
    finally:
        rt.db.dispose()


# ---------------------------------------------------------------------- the notification centre API
def test_notification_centre_counts_lists_and_marks_read(runtime, client, login):
    open_task_due(runtime, DUE)
    steps.send_reminders(runtime, LAST_HOLIDAY)
    steps.send_reminders(runtime, OVERDUE)

    assert client.get("/api/notifications/unread-count", headers=login("reviewer")).json == {"unread": 2}
    listed = client.get("/api/notifications", headers=login("reviewer")).json
    assert listed["total"] == 2
    assert [n["kind"] for n in listed["items"]] == ["reminder_overdue", "reminder_due_soon"]  # newest first
    first = listed["items"][0]["id"]

    assert client.post(f"/api/notifications/{first}/read", headers=login("supervisor")).status_code == 404
    response = client.post(f"/api/notifications/{first}/read", headers=login("reviewer"))
    assert response.status_code == 200 and response.json["read_at"] is not None
    assert client.get("/api/notifications/unread-count", headers=login("reviewer")).json == {"unread": 1}
    unread = client.get("/api/notifications?unread=1", headers=login("reviewer")).json
    assert [n["kind"] for n in unread["items"]] == ["reminder_due_soon"]

    assert client.post("/api/notifications/read-all", headers=login("reviewer")).json == {"unread": 0}
    assert client.get("/api/notifications/unread-count", headers=login("reviewer")).json == {"unread": 0}
    assert client.get("/api/notifications/unread-count", headers=login("supervisor")).json == {"unread": 1}
