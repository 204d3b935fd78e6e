"""The case repair pages: 版本迁移 on the cockpit (试运行, then the job with its progress bar), and the
case page's 调整环节 and 修改业务数据 — a supervisor can; a reviewer gets 403 and nothing changes."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import HistoryEvent, ProcessInstance
from services.platform.jobs import Job
from tests.engine.repair_bpmn import V1, V2_RENAMED
from tests.engine.test_case_repair import deploy, open_rows, reload, start


def test_a_supervisor_dry_runs_then_migrates_a_version_a_reviewer_may_not(runtime, browser):
    source = deploy(runtime, V1)
    cases = [start(runtime) for _ in range(2)]
    target = deploy(runtime, V2_RENAMED)
    form = {"from_definition_id": source, "to_definition_id": target, "mapping": "review=first_review"}
    supervisor = browser("supervisor")
    assert "版本迁移" in supervisor.get("/cockpit/migration").get_data(as_text=True)
    page = supervisor.post("/cockpit/migration", {**form, "action": "dry_run"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "初审 → 初审 (v" in text and "可迁移 2 件" in text
    assert {reload(runtime, c.id).definition_id for c in cases} == {source}  # a dry run changes nothing
    reviewer = browser("reviewer")
    assert reviewer.get("/cockpit/migration").status_code == 403
    assert reviewer.post("/cockpit/migration", {**form, "action": "migrate"}).status_code == 403
    with runtime.unit_of_work() as uow:
        assert uow.session.scalar(select(Job).where(Job.kind == "case.migrate")) is None
    refused = supervisor.post("/cockpit/migration", {**form, "mapping": "review first_review", "action": "migrate"})
    assert refused.status_code == 400 and "原环节ID=新环节ID" in refused.get_data(as_text=True)
    started = supervisor.post("/cockpit/migration", {**form, "action": "migrate"})
    assert started.status_code == 302
    job_id = int(started.headers["Location"].rsplit("job=", 1)[1])
    runtime.jobs.execute(job_id)
    done = supervisor.get(f"/cockpit/migration?job={job_id}").get_data(as_text=True)
    assert "job-progress" in done and "已迁移 2 件" in done
    assert {reload(runtime, c.id).definition_id for c in cases} == {target}
    assert [r.name for c in cases for r in open_rows(runtime, c.id)] == ["first_review", "first_review"]


def test_moving_a_case_and_editing_its_data_on_the_case_page(runtime, browser):
    deploy(runtime, V1)
    case = start(runtime)
    supervisor = browser("supervisor")
    page = supervisor.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/move" in page and f"/cases/{case.id}/data" in page
    assert f"/cases/{case.id}/move" not in browser("reviewer").get(f"/cases/{case.id}").get_data(as_text=True)
    state = reload(runtime, case.id).state
    reviewer = browser("reviewer")
    assert reviewer.post(f"/cases/{case.id}/move", {"target": "approve", "reason": "跳过"}).status_code == 403
    assert reviewer.post(f"/cases/{case.id}/data", {"key": "amount", "value": "9", "reason": "改"}).status_code == 403
    assert reload(runtime, case.id).state == state
    missing = supervisor.post(f"/cases/{case.id}/data", {"key": "amount", "value": "9", "reason": ""})
    assert missing.status_code == 400 and "请填写修改原因" in missing.get_data(as_text=True)
    wrong = supervisor.post(f"/cases/{case.id}/data", {"key": "amount", "value": "九", "reason": "录错"})
    assert wrong.status_code == 400
    assert reload(runtime, case.id).state == state
    assert supervisor.post(f"/cases/{case.id}/data", {"key": "amount", "value": "9", "reason": "录错"}).status_code \
        == 302
    assert supervisor.post(f"/cases/{case.id}/move", {"target": "approve", "reason": "跳过"}).status_code == 302
    assert [r.name for r in open_rows(runtime, case.id)] == ["approve"]
    with runtime.unit_of_work() as uow:
        kinds = list(uow.session.scalars(select(HistoryEvent.kind).where(HistoryEvent.instance_id == case.id)))
        data = runtime.engine.instance_data(uow.session, uow.session.get(ProcessInstance, case.id))
    assert "data_edited" in kinds and "moved_to_step" in kinds and data["amount"] == 9
    history = supervisor.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "修改业务数据" in history and "调整环节" in history


def test_a_case_in_error_is_migrated_from_its_page_to_the_version_that_fixes_it(runtime, browser):
    steps = [("accept", "受理"), ("fee", "计算费用"), ("approve", "审批")]
    deploy(runtime, steps, scripts={"fee": "fee = amount / 0"})
    case = start(runtime)
    assert reload(runtime, case.id).status == "error"
    fixed = deploy(runtime, steps, scripts={"fee": "fee = amount * 2"})
    supervisor = browser("supervisor")
    page = supervisor.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/migrate" in page and f'<option value="{fixed}">' in page
    assert browser("reviewer").post(f"/cases/{case.id}/migrate", {"to_definition_id": fixed,
                                                                   "action": "migrate"}).status_code == 403
    dry = supervisor.post(f"/cases/{case.id}/migrate", {"to_definition_id": fixed, "action": "dry_run"},
                          follow_redirects=True).get_data(as_text=True)
    assert "试运行：计算费用 → 计算费用" in dry and reload(runtime, case.id).status == "error"
    done = supervisor.post(f"/cases/{case.id}/migrate", {"to_definition_id": fixed, "action": "migrate"},
                           follow_redirects=True).get_data(as_text=True)
    assert "已迁移到第" in done
    assert reload(runtime, case.id).status == "waiting"
    assert [row.name for row in open_rows(runtime, case.id)] == ["approve"]
