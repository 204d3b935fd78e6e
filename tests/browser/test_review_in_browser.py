"""A reviewer's day in a real browser: sign in, inbox, a form error corrected, a recheck that sends
the case back, a foreign region that sees nothing, a batch approval, the case diagram."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import HumanTask, TaskStatus
from services.special_work import declarations
from tests.conftest import actor, person


def submit(rt, serials: list[int]) -> tuple[str, int]:
    with rt.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, rt.engine, actor("enterprise"), "110101000001", "first",
                                                [declarations.PersonInput(**person(n)) for n in serials])
        uow.commit()
        return batch.batch_no, batch.instance_id


def open_task(rt, instance_id: int) -> HumanTask:
    with rt.unit_of_work() as uow:
        return uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.status == TaskStatus.OPEN)).one()


def test_reviewer_approves_after_correcting_a_form_error_then_rechecker_sends_it_back(
        live, open_page, output_dir):
    base, rt = live
    batch_no, instance_id = submit(rt, [11, 12])
    page = open_page("reviewer")
    assert page.locator("h1").inner_text() == "首页"
    page.click("nav >> text=待办")
    row = page.locator("table.tasks tr", has_text=batch_no)
    assert row.count() == 1
    page.screenshot(path=str(output_dir / "inbox.png"), full_page=True)

    row.locator("a", has_text=batch_no).click()
    page.wait_for_url(re.compile(r"/tasks/"))
    page.fill("textarea[name=conclusion]", "材料齐全")
    page.click("button:has-text('提交')")  # no decision chosen: the server answers with a field error
    assert page.locator(".field-error", has_text="请填写“初审结论”").is_visible()
    assert page.input_value("textarea[name=conclusion]") == "材料齐全"  # kept after the error
    page.check("input[name=decision][value=approve]")
    page.screenshot(path=str(output_dir / "task.png"), full_page=True)
    page.click("button:has-text('提交')")
    page.wait_for_url(f"{base}/inbox")
    assert page.locator(".alert-success", has_text=batch_no).is_visible()
    assert page.locator("table.tasks tr", has_text=batch_no).count() == 0

    rechecker = open_page("rechecker")
    rechecker.goto("/inbox")
    rechecker.locator("table.tasks a", has_text=batch_no).click()
    rechecker.check("input[name=decision][value=reject]")
    rechecker.fill("textarea[name=conclusion]", "工作经历证明不足")
    rechecker.click("button:has-text('提交')")
    rechecker.wait_for_url(f"{base}/inbox")
    assert open_task(rt, instance_id).name == "review"  # back to 初审

    page.goto("/inbox")
    page.locator("table.tasks a", has_text=batch_no).click()
    assert page.get_by_role("table", name="办理历史").filter(has_text="工作经历证明不足").is_visible()


def test_a_user_of_another_region_cannot_see_the_case(live, open_page):
    _base, rt = live
    batch_no, instance_id = submit(rt, [21])
    task = open_task(rt, instance_id)
    page = open_page("tj_reviewer")
    page.goto("/inbox")
    assert batch_no not in page.content()
    response = page.goto(f"/tasks/{task.id}")
    assert response.status == 404
    assert batch_no not in page.content()
    response = page.goto(f"/cases/{instance_id}")
    assert response.status == 404
    assert "不在您的管辖范围内" in page.content() and batch_no not in page.content()


def test_batch_approval_of_three_tasks(live, open_page):
    base, rt = live
    cases = [submit(rt, [n]) for n in (31, 32, 33)]
    page = open_page("reviewer")
    page.goto("/inbox?per_page=100")
    for batch_no, _instance_id in cases:
        page.locator("table.tasks tr", has_text=batch_no).locator("input[name=task_ids]").check()
    page.click("button:has-text('批量通过')")
    page.wait_for_url(f"{base}/inbox/batch")
    assert page.locator(".alert", has_text="成功 3 件，失败 0 件").is_visible()
    assert [open_task(rt, instance_id).name for _no, instance_id in cases] == ["recheck"] * 3


def test_case_page_draws_the_diagram_with_the_current_step(live, open_page, output_dir):
    _base, rt = live
    _batch_no, instance_id = submit(rt, [41])
    page = open_page("reviewer")
    page.goto(f"/cases/{instance_id}")
    page.wait_for_selector("figure.diagram[data-rendered=true]")
    assert page.locator(".djs-element.current").count() >= 1  # 初审 (and its call activity) highlighted
    assert page.locator(".djs-element.done").count() >= 1  # 校验 is done
    page.screenshot(path=str(output_dir / "case.png"), full_page=True)


def test_the_inbox_is_usable_with_the_keyboard(live, open_page):
    _base, rt = live
    batch_no, _instance_id = submit(rt, [51])
    page = open_page("reviewer")
    page.goto("/inbox")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus("#q")
    page.keyboard.type(batch_no)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=" + batch_no))
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() == 1
    rows.locator("a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/tasks/"))
