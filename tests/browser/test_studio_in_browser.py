"""流程设计工作台 in a real browser: a designer builds a new two-step process with its form entirely in the
browser — a new draft, a form made in the form editor, two user tasks appended from the context pad, the
second dragged into the 审批人员 lane, an end event — sees the validator's problem marked on the step that
has no form yet, fixes it, deploys, and the process runs: 受理人员 starts it and does the first step with
the form the designer made, 审批人员 does the second, and the case ends. Then a second version and the
visual diff between the two. Screenshots under tests/output/ (studio_*.png)."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import InstanceStatus, ProcessDefinition, ProcessInstance
from services.bootstrap import ROOT
from services.platform.audit import AuditEntry

KEY = "leave_request"
FORM = "leave_form"


def selected(page) -> str:
    return page.get_attribute(".djs-element.selected", "data-element-id")


def panel_input(page, label: str):
    return page.locator(".studio-panel .field", has=page.locator(f"label:text-is('{label}')")).locator("input")


def choose_form(page, form_key: str) -> None:
    page.locator(".studio-panel .field", has_text="formKey").locator("select").select_option(form_key)


def append_user_task(page, name: str) -> str:
    """From the selected element: the context pad's 'append task', then the wrench: a user task, named."""
    page.click(".djs-context-pad [data-action='append.append-task']")
    page.click(".djs-context-pad [data-action='replace']")
    page.click(".djs-popup [data-id='replace-with-user-task']")
    task = selected(page)
    panel_input(page, "名称").fill(name)
    panel_input(page, "名称").press("Tab")
    return task


def drag_down(page, element_id: str, pixels: int) -> None:
    box = page.locator(f".djs-element[data-element-id='{element_id}'] .djs-hit").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + pixels, steps=10)
    page.mouse.up()


def click_empty_canvas(page) -> None:
    canvas = page.locator("#studio-canvas").bounding_box()
    page.mouse.click(canvas["x"] + 400, canvas["y"] + canvas["height"] - 15)


def status(page, kind: str) -> str:
    page.wait_for_selector(f".studio-status.{kind}")
    return page.inner_text(".studio-status")


def test_a_designer_builds_deploys_and_runs_a_two_step_process(live, open_page, output_dir):
    _base, rt = live
    designer = open_page("designer")
    designer.goto("/designer")
    designer.get_by_role("link", name="流程设计工作台").click()
    designer.fill("#key", KEY)
    designer.fill("#name", "请假申请")
    designer.get_by_role("button", name="新建草稿").click()
    designer.wait_for_selector(f".djs-element[data-element-id='{KEY}_start']")
    assert "已保存（第 1 版）" in status(designer, "ok")

    # the form, in the form editor: one text area, labelled and keyed
    designer.get_by_role("tab", name=re.compile("表单")).click()
    designer.fill("#new-form-key", FORM)
    designer.get_by_role("button", name="新建表单").click()
    designer.drag_and_drop(".fjs-palette-field[data-field-type='textarea']", ".fjs-drop-container-vertical")
    designer.get_by_text("General", exact=True).click()
    designer.fill("#bio-properties-panel-label", "请假事由")
    designer.fill("#bio-properties-panel-key", "reason")
    designer.keyboard.press("Tab")
    designer.screenshot(path=str(output_dir / "studio_form.png"))

    # the process: 发起 → 部门审核 (受理人员) → 领导审批 (审批人员) → end
    designer.get_by_role("tab", name="流程图").click()
    designer.click(f".djs-element[data-element-id='{KEY}_start']")
    first = append_user_task(designer, "部门审核")
    choose_form(designer, FORM)
    second = append_user_task(designer, "领导审批")
    drag_down(designer, second, 180)  # from the 受理人员 lane into the 审批人员 lane below
    designer.click(".djs-context-pad [data-action='append.end-event']")
    designer.keyboard.press("Escape")
    click_empty_canvas(designer)  # nothing selected: the panel edits the process
    designer.locator(".studio-panel fieldset.checks input[value='acceptor']").check()

    # the validator finds the step without a form and marks it on the diagram: live, while unsaved …
    designer.wait_for_selector(f".djs-element.has-problem[data-element-id='{second}']")
    assert "有未保存的修改" in designer.inner_text(".studio-status")
    # … and on 校验, which saves first
    designer.get_by_role("button", name="校验").click()
    assert "校验发现 1 个问题" in status(designer, "error")
    assert designer.locator(f".djs-element.has-problem[data-element-id='{second}']").count() == 1
    assert "formKey" in designer.inner_text(".studio-problems")
    designer.screenshot(path=str(output_dir / "studio_problem.png"))
    designer.locator(".studio-problems li.clickable").first.click()
    assert selected(designer) == second
    choose_form(designer, FORM)
    designer.get_by_role("button", name="校验").click()
    assert "校验通过" in status(designer, "ok")
    assert designer.locator(".djs-element.has-problem").count() == 0

    designer.get_by_role("button", name="部署").click()
    designer.wait_for_selector(".studio-status a")
    assert f"已部署 {KEY} 第 1 版" in designer.inner_text(".studio-status")
    designer.screenshot(path=str(output_dir / "studio_deployed.png"))
    with rt.unit_of_work() as uow:
        definition = uow.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == KEY))
        assert definition is not None and definition.startable_by == ["acceptor"]
        assert '"reason"' in definition.forms[FORM]  # the form travels with the version, not through forms/
        actions = uow.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "design_draft"))
        assert {"studio.create", "studio.save", "studio.deploy"} <= set(actions)

    # the process runs: 受理人员 starts it and does 部门审核 with the designer's form; 审批人员 does 领导审批
    acceptor = open_page("acceptor")
    acceptor.goto(f"/start/{KEY}")
    acceptor.get_by_role("button", name="提交", exact=True).click()
    assert acceptor.locator(".alert-success", has_text="已发起办件").is_visible()
    with rt.unit_of_work() as uow:
        instance = uow.session.scalar(select(ProcessInstance).where(ProcessInstance.definition_id == definition.id))
        business_key = instance.business_key
    for user, step in ((acceptor, "部门审核"), (open_page("approver"), "领导审批")):
        user.goto("/inbox")
        user.locator("table.tasks tbody tr", has_text=business_key).get_by_role("link", name=business_key).click()
        user.wait_for_url(re.compile(r"/tasks/"))
        assert step in user.locator("h1").inner_text()
        user.get_by_label(re.compile("^请假事由")).fill(f"{step}：同意")
        user.locator("section.task-form form").get_by_role("button", name="提交", exact=True).click()
        user.wait_for_selector(".alert-success")
    with rt.unit_of_work() as uow:
        instance = uow.session.get(ProcessInstance, instance.id)
        assert instance.status == InstanceStatus.COMPLETED

    # version 2 renames a step; 版本比较 marks it changed on both diagrams
    designer.click(f".djs-element[data-element-id='{first}']")
    panel_input(designer, "名称").fill("科室审核")
    panel_input(designer, "名称").press("Tab")
    designer.get_by_role("button", name="部署").click()
    designer.wait_for_selector(".studio-status a")
    assert f"已部署 {KEY} 第 2 版" in designer.inner_text(".studio-status")
    designer.locator(".studio-status a").first.click()
    designer.get_by_role("link", name="与 v1 比较").click()
    designer.wait_for_selector(f".djs-element.diff-changed[data-element-id='{first}']")
    assert designer.locator(".diff-table tbody tr", has_text=first).count() == 1
    designer.screenshot(path=str(output_dir / "studio_diff.png"), full_page=True)


def test_a_camunda_model_opens_in_the_studio_and_its_missing_form_arrives_as_a_skeleton(live, open_page,
                                                                                      output_dir):
    """A file saved by Camunda Modeler (candidate groups, JUEL conditions, a form that does not exist here):
    opened in the studio, saved, its form shows up in the form editor as a skeleton, and it deploys."""
    _base, rt = live
    designer = open_page("designer")
    designer.goto("/designer/studio")
    designer.fill("#key", "camunda_import")
    designer.fill("#name", "导入的模型")
    designer.get_by_role("button", name="新建草稿").click()
    designer.wait_for_selector(".djs-element[data-element-id='camunda_import_start']")
    designer.set_input_files("#studio-open", str(ROOT / "tests" / "fixtures" / "dialects" /
                                                 "camunda_generated_form.bpmn"))
    designer.wait_for_selector(".djs-element[data-element-id='Task_assess']")
    designer.get_by_role("button", name="保存").click()
    assert "已保存（第 2 版）" in status(designer, "ok")
    designer.get_by_role("tab", name=re.compile("表单")).click()
    designer.get_by_role("button", name="dl_generated_form_Task_assess").click()
    designer.wait_for_selector(".fjs-editor-container .fjs-form-field")
    assert "评分" in designer.inner_text(".fjs-editor-container")  # the Camunda form field, as a number field
    designer.screenshot(path=str(output_dir / "studio_camunda_form.png"))
    designer.get_by_role("tab", name="流程图").click()
    designer.get_by_role("button", name="校验").click()
    assert "校验通过" in status(designer, "ok")
    designer.get_by_role("button", name="部署").click()
    designer.wait_for_selector(".studio-status a")
    with rt.unit_of_work() as uow:
        definition = uow.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "dl_generated_form"))
        assert "dl_generated_form_Task_assess" in definition.forms
        assert "camunda:" not in definition.xml  # stored in Banjian's dialect
