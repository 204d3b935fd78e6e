"""The task actions in a real browser, on a certificate request: the clerk adds a reviewer before themselves
(加签), the reviewer approves, the clerk copies the case to a colleague of another region (抄送) and sends it
back to the applicant for missing material (补正), the colleague reads it in 待阅, the applicant resubmits,
the approver sends it back to 受理 (退回), and after a second 受理 it is approved."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.db import utcnow
from engine.models import HumanTask, ProcessInstance, TaskStatus
from services.platform import my_cases
from tests.conftest import actor

REQUEST = {"name": "王加签", "id_number": "110101196805019011", "purpose": "办理提前退休"}


def open_task_id(rt, instance_id: int, step: str, assignee: str | None = None) -> str:
    with rt.unit_of_work() as uow:
        query = select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.name == step,
                                           HumanTask.status == TaskStatus.OPEN)
        if assignee:
            query = query.where(HumanTask.assignee == assignee)
        return uow.session.scalars(query).one()


def decide(page, decision: str = "approve") -> None:
    page.check(f"section.task-form input[name=decision][value={decision}]")
    page.click("section.task-form form >> button:has-text('提交')")


def test_add_signer_copy_correct_return_and_approve(live, open_page, output_dir):
    _base, rt = live
    with rt.unit_of_work() as uow:
        instance = my_cases.start_case(uow, rt.engine, actor("enterprise"), "110101", "work_history_certificate",
                                       REQUEST, utcnow())
        uow.commit()
    accept = open_task_id(rt, instance.id, "accept")

    clerk = open_page("clerk")
    clerk.goto(f"/tasks/{accept}")
    clerk.click("summary:has-text('加签')")
    clerk.fill("#signers-users", "reviewer")
    clerk.select_option("#signers-mode", "before")
    clerk.click("form[action$='/add-signers'] >> button:has-text('加签')")
    assert clerk.locator(".signers li", has_text="reviewer").is_visible()
    clerk.screenshot(path=str(output_dir / "task_actions_signer_added.png"), full_page=True)

    reviewer = open_page("reviewer")
    reviewer.goto(f"/tasks/{open_task_id(rt, instance.id, 'accept', 'reviewer')}")
    assert "受理（前加签）" in reviewer.locator("h1").inner_text()
    decide(reviewer)
    reviewer.wait_for_url(re.compile(r"/inbox"))

    clerk.goto(f"/tasks/{accept}")
    clerk.click("summary:has-text('抄送')")
    clerk.fill("#cc-to", "tj_reviewer")
    clerk.fill("#cc-note", "请阅知")
    clerk.click("form[action$='/cc'] >> button:has-text('抄送')")
    assert clerk.locator(".flash, .alert", has_text="已抄送给 tj_reviewer").first.is_visible()
    clerk.check("section.task-form input[name=decision][value=correct]")
    clerk.fill("textarea[name=correction_items]", "原单位出具的工作证明")
    clerk.click("section.task-form form >> button:has-text('提交')")
    clerk.wait_for_url(re.compile(r"/inbox"))

    reader = open_page("tj_reviewer")
    reader.click("nav >> text=待阅")
    assert reader.locator("table.grid tbody tr", has_text=instance.business_key).is_visible()
    reader.click("table.grid tbody tr >> button:has-text('查看')")
    assert reader.locator(".alert", has_text="您只能查看").is_visible()
    reader.screenshot(path=str(output_dir / "task_actions_copy_read.png"), full_page=True)

    applicant = open_page("enterprise")
    applicant.goto(f"/my/cases/{instance.id}")
    applicant.click("a:has-text('去办理')")
    applicant.check("input[name=materials_supplied]")
    applicant.fill("textarea[name=correction_note]", "已补交工作证明")
    applicant.click("section.task-form form >> button:has-text('提交')")

    clerk.goto(f"/tasks/{open_task_id(rt, instance.id, 'accept')}")
    decide(clerk)
    approver = open_page("approver")
    approver.goto(f"/tasks/{open_task_id(rt, instance.id, 'issue')}")
    approver.click("summary:has-text('退回')")
    approver.select_option("#return-target", "accept")
    approver.fill("#return-reason", "工作证明未盖章")
    approver.screenshot(path=str(output_dir / "task_actions_return.png"), full_page=True)
    approver.click("form[action$='/return'] >> button:has-text('退回')")
    approver.wait_for_url(re.compile(r"/inbox"))

    clerk.goto(f"/tasks/{open_task_id(rt, instance.id, 'accept')}")
    decide(clerk)
    approver.goto(f"/tasks/{open_task_id(rt, instance.id, 'issue')}")
    decide(approver)
    approver.wait_for_url(re.compile(r"/inbox"))
    with rt.unit_of_work() as uow:
        done = uow.session.get(ProcessInstance, instance.id)
        assert (done.status, done.case_status) == ("completed", "closed_approved")
    applicant.goto(f"/my/cases/{instance.id}")
    assert applicant.locator("text=审批出具：退回").is_visible()
    applicant.screenshot(path=str(output_dir / "task_actions_applicant_view.png"), full_page=True)
