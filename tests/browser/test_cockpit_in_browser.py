"""A supervisor in a real browser: the incident in the cockpit, the case page, 重试 — the case runs again."""
from __future__ import annotations

import re

from engine.actors import Actor
from engine.models import InstanceStatus, ProcessInstance
from tests.bpmn_factory import linear_process, service_task

SWITCH = {"broken": True}


def flaky_operator(_ctx, **_params):
    if SWITCH["broken"]:
        raise RuntimeError("对方系统不可用")
    return {"ok": True}


def test_supervisor_retries_a_failed_case(live, open_page, output_dir):
    base, rt = live
    if "test.browser_flaky" not in rt.engine.operators:
        rt.engine.operators.register("test.browser_flaky", flaky_operator)
    with rt.unit_of_work() as uow:
        rt.deployer.deploy(uow.session, [(linear_process("browser_flaky", service_task("test.browser_flaky")),
                                          "browser_flaky.bpmn")], "test")
        instance = rt.engine.start(uow, "browser_flaky", business_key="BROWSER-RETRY-1", region_code="110101",
                                   data={}, actor=Actor("reviewer", frozenset({("reviewer", "110000")})))
        uow.commit()
        instance_id = instance.id
    assert instance.status == InstanceStatus.ERROR

    page = open_page("supervisor")
    page.click("nav >> text=监控台")
    page.click(".tabs >> text=异常办件")
    row = page.locator("table.incidents tr", has_text="BROWSER-RETRY-1")
    assert row.count() == 1 and "对方系统不可用" in row.inner_text()
    page.screenshot(path=str(output_dir / "cockpit-incidents.png"), full_page=True)

    row.locator("a", has_text="BROWSER-RETRY-1").click()
    page.wait_for_url(re.compile(rf"/cases/{instance_id}$"))
    SWITCH["broken"] = False  # the other system is back
    page.click("button:has-text('重试')")
    page.wait_for_url(f"{base}/cases/{instance_id}")
    assert page.locator(".alert-success", has_text="已重试").is_visible()
    assert page.locator("h1 .status").inner_text() == "办理中"
    assert page.locator("button:has-text('重试')").count() == 0
    page.screenshot(path=str(output_dir / "case-retried.png"), full_page=True)
    with rt.unit_of_work() as uow:
        assert uow.session.get(ProcessInstance, instance_id).status == InstanceStatus.WAITING
