"""Engine robustness against models written by others (issue 18, part 3): every .bpmn under tests/fixtures/
— the dialect corpus (Camunda 7, Flowable, Activiti) and tests/fixtures/robustness/ (collaborations,
gateways without a matching condition, failing scripts, DMN tables without a matching rule, bad timers,
boundary errors, event-based, parallel and inclusive gateways, multi-instance, data objects, call
activities, signals, names longer than the columns, models that are refused) — is deployed, or refused
with its problems in words; a deployed one is started and driven (every open step completed by a holder
of its role with empty, then minimal data; due timers fired; a failed case retried once; what is left
terminated by a supervisor). Nothing may escape an engine action but ``engine.errors``; every failure is
an incident whose message names the step by its BPMN name, says what went wrong in words and what to do,
carries no traceback, and is formatted from a pattern the catalogue extracts (so that English pages can
show it)."""
from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from lxml import etree
from sqlalchemy import select

from engine import dialects
from engine.actors import Actor
from engine.definitions import DefinitionInvalid, latest_definition
from engine.errors import EngineError, InvalidData
from engine.forms import FormDefinition
from engine.models import HistoryEvent, HumanTask, Incident, ProcessDefinition, ProcessInstance, TaskStatus, Timer

FIXTURES = Path(__file__).parent.parent / "fixtures"
MODELS = sorted(FIXTURES.rglob("*.bpmn"))
ROOT = FIXTURES.parent.parent
REGION = "110000"
STARTER = Actor("corpus_starter", frozenset({("reviewer", REGION)}))
SUPERVISOR = Actor("corpus_supervisor", frozenset({("supervisor", REGION)}))
MAX_ACTIONS = 30
TRACEBACK = re.compile(r"Traceback|File \"|Error:|Exception|\bline \d")
# how each robustness model's case ends, by process key: its status and what its incident says
EXPECTED: dict[str, tuple[str, str | None]] = {
    "rb_collab_applicant": ("completed", None),
    "rb_black_box": ("completed", None),
    "rb_gateway_no_match": ("error", "网关“金额判断”没有满足条件的出口：条件 amount > 1000、amount > 5000 均不成立。"
                                     "请修正流程定义"),
    "rb_script_error": ("error", "脚本任务“计算”出错（第 1 行）：名称 foo 未定义。请修正脚本后部署新版本"),
    "rb_dmn_no_match": ("error", '环节“按级别”的表达式 level == "high" 无法计算：名称 level 未定义。'),
    "rb_timer_bad_duration": ("error", "定时器“等待公示期满”的时间 五天 无效：应为 ISO 8601 的时长、日期或周期"),
    "rb_boundary_error": ("completed", None),
    "rb_event_gateway": ("completed", None),
    "rb_parallel_join": ("completed", None),
    "rb_inclusive": ("error", "网关“是否需要复议”没有满足条件的出口：条件 amount > 100000 均不成立。"),
    "rb_multi_instance": ("error", "环节“按名单通知”缺少输入数据 recipients：前面的环节没有给出它。"),
    "rb_data_objects": ("error", "环节“开具票据”没有给出输出数据 票据号。"),
    "rb_call_parent": ("error", "脚本任务“计算资格分”出错（第 1 行）：名称 undefined_bonus 未定义。"),
    "rb_call_child": ("error", "脚本任务“计算资格分”出错（第 1 行）：名称 undefined_bonus 未定义。"),
    "rb_conditional": ("completed", None),
    "rb_signal": ("completed", None),
    "rb_long_names": ("completed", None),  # names longer than the columns that show them: cut, not refused
}
REFUSED = {
    "robustness/non_executable_pools.bpmn": "文件中没有可执行的流程",
    "robustness/reserved_ids.bpmn": "元素 id Start 是 SpiffWorkflow 内部保留的名称",
    "robustness/condition_unknown_variable.bpmn": "读取的变量 amout 没有任何表单字段、环节结果或脚本给出",
    "robustness/collaboration_message_starts_only.bpmn": "协作中的可执行参与者都以消息开始事件开始",
}


@dataclass
class Run:
    """What driving one case did."""

    status: str = ""
    steps: list[str] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


def model_id(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


@pytest.fixture
def corpus(runtime, tmp_path) -> Iterator[Path]:
    """A copy of the fixtures (the dialect import writes form skeletons next to a model), with the
    dialect corpus's mapping file and operator."""
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    if "test.dialect_record" not in runtime.engine.operators:
        runtime.engine.operators.register("test.dialect_record", lambda context: {"recorded": True})
    validator = runtime.deployer.validator
    before = validator.dialect_mapping
    validator.dialect_mapping = tmp_path / "fixtures" / "dialects" / dialects.MAPPING_FILE
    yield tmp_path / "fixtures"
    validator.dialect_mapping = before



def files_of(model: Path) -> list[tuple[bytes, str]]:
    """The model and the decision table beside it of the same name."""
    found = [model] + ([model.with_suffix(".dmn")] if model.with_suffix(".dmn").exists() else [])
    return [(path.read_bytes(), str(path)) for path in found]


def minimal_answer(form: FormDefinition | None) -> dict[str, Any]:
    """The least a person can submit: each required field filled (an approval where there is a choice)."""
    answer: dict[str, Any] = {}
    for form_field in form.fields if form else []:
        if not (form_field.required or form_field.key == "decision"):
            continue
        values = [value for value, _label in form_field.options]
        answer[form_field.key] = ("approve" if "approve" in values else values[0]) if values else \
            1 if form_field.type == "number" else "2026-01-05" if form_field.type == "datetime" else \
            True if form_field.type == "checkbox" else "已办理"
    return answer


def engine_call(action, *args, **kwargs) -> Any:
    """An engine action: what it answers, or the engine error it refuses with — anything else escapes and
    fails the test."""
    try:
        return action(*args, **kwargs)
    except EngineError as refused:
        assert refused.message and not TRACEBACK.search(refused.message), refused.message
        return refused


def drive(runtime, later, key: str, n: int) -> Run:
    """Start a case of ``key`` and drive it until nothing is left to do (see the module docstring)."""
    run = Run()
    with runtime.unit_of_work() as uow:
        case = engine_call(runtime.engine.start, uow, key, business_key=f"RB-{key}-{n}", region_code=REGION,
                           data={}, actor=STARTER)
        if isinstance(case, EngineError):
            run.status = f"refused: {case.message}"
            return run
        uow.commit()
    retried = False
    for _ in range(MAX_ACTIONS):
        with runtime.unit_of_work() as uow:
            status = uow.session.get(ProcessInstance, case.id).status
            rows = list(uow.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                                    HumanTask.status == TaskStatus.OPEN)
                                            .order_by(HumanTask.created_at, HumanTask.id)))
            timers = list(uow.session.scalars(select(Timer).where(Timer.instance_id == case.id,
                                                                  Timer.fired.is_(False)).order_by(Timer.due_at)))
            form = runtime.engine.task_form(uow.session, rows[0]) if rows else None
        if status == "error" and not retried:  # a retry of a failure whose cause is still there fails again, in words
            retried = True
            with runtime.unit_of_work() as uow:
                if not isinstance(engine_call(runtime.engine.retry, uow, case.id, SUPERVISOR), EngineError):
                    uow.commit()
            continue
        if status not in ("running", "waiting"):
            break
        if rows:
            row = rows[0]
            person = Actor(row.assignee or f"holder_{row.lane}", frozenset({(row.lane, REGION)}))
            for answer in ({}, minimal_answer(form)):
                with runtime.unit_of_work() as uow:
                    done = engine_call(runtime.engine.complete_task, uow, row.id, person, answer)
                    if not isinstance(done, EngineError):
                        uow.commit()
                        run.steps.append(row.name)
                if not isinstance(done, InvalidData):
                    break
            if isinstance(done, EngineError):
                break
        elif timers:
            later(timers[0].due_at - datetime.utcnow() + timedelta(minutes=1))
            with runtime.unit_of_work() as uow:
                if engine_call(runtime.engine.fire_timer, uow, timers[0].id) is True:
                    uow.commit()
                    run.steps.append(timers[0].name)
        else:
            break
    with runtime.unit_of_work() as uow:
        run.status = uow.session.get(ProcessInstance, case.id).status
        if run.status not in ("completed", "terminated"):  # a supervisor may end whatever is left
            ended = engine_call(runtime.engine.terminate, uow, case.id, SUPERVISOR, "测试结束")
            assert not isinstance(ended, EngineError), ended
            uow.commit()
    with runtime.unit_of_work() as uow:
        run.incidents = list(uow.session.scalars(select(Incident).where(Incident.instance_id == case.id)
                                                 .order_by(Incident.id)))
        errors = list(uow.session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == case.id,
                                                                     HistoryEvent.kind == "error")))
        uow.session.expunge_all()
    assert len(errors) == len(run.incidents)
    assert all(event.details.get("detail") for event in errors)  # SpiffWorkflow's own text, kept as the detail
    return run


def names_in(files: list[tuple[bytes, str]]) -> dict[str, str]:
    """BPMN id → name (or id) of every element of the files; a multi-instance activity's is its own."""
    found = {}
    for raw, _name in files:
        for element in etree.fromstring(raw).iter():
            if isinstance(element.tag, str) and element.get("id"):
                found[element.get("id")] = element.get("name") or element.get("id")
    return found


def incident_patterns() -> list[re.Pattern[str]]:
    """The incident messages' patterns as the catalogue extracts them (web/pages/catalogue.py) and as
    web.pages.i18n matches a stored message against them."""
    from web.pages.catalogue import ERRORS
    from web.pages.i18n import PLACEHOLDER

    found = extract_from_dir(ROOT / "engine", [("incident_words.py", "python")], keywords=ERRORS)
    msgids = [message for _file, _line, message, _comments, _context in found]
    patterns = []
    for msgid in msgids:
        parts = PLACEHOLDER.split(msgid)
        patterns.append(re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                                           for i, part in enumerate(parts)), re.S))
    return patterns


@pytest.mark.parametrize("model", MODELS, ids=model_id)
def test_each_model_deploys_or_is_refused_in_words_and_runs_without_escaping(runtime, corpus, later, model):
    files = files_of(corpus / model.relative_to(FIXTURES))
    try:
        with runtime.unit_of_work() as uow:
            results = runtime.deployer.deploy(uow.session, files, "designer")
            uow.commit()
    except DefinitionInvalid as invalid:
        assert invalid.problems
        for problem in invalid.problems:
            assert problem.message and not TRACEBACK.search(problem.message), problem
        if model_id(model) in REFUSED:
            assert any(REFUSED[model_id(model)] in problem.message for problem in invalid.problems), invalid.problems
        return
    assert model_id(model) not in REFUSED
    names = names_in(files)
    patterns = incident_patterns()
    with runtime.unit_of_work() as uow:
        keys = [r.key for r in results
                if not uow.session.get(ProcessDefinition, r.definition_id).filename.endswith(".dmn")]
    for n, key in enumerate(keys):
        run = drive(runtime, later, key, n)
        for incident in run.incidents:
            assert not TRACEBACK.search(incident.message), incident.message
            assert incident.task_name and f"“{names[incident.task_name]}”" in incident.message, incident.message
            assert "请" in incident.message  # what to do
            assert any(pattern.fullmatch(incident.message) for pattern in patterns), incident.message
        if key in EXPECTED:
            status, words = EXPECTED[key]
            assert run.status == status, (key, run)
            assert words is None or any(words in incident.message for incident in run.incidents), (key, run)


def test_a_collaboration_runs_its_participants_in_one_case_and_their_messages_flow(runtime, corpus):
    """Two executable pools: the applicant's process starts the case and sends 申请材料, which starts the
    office's process (its message start event); the office's end event sends 受理回执 back, which the
    applicant's process waits for. One definition, keyed by the lead participant, is deployed."""
    with runtime.unit_of_work() as uow:
        model = corpus / "robustness" / "collaboration_message_exchange.bpmn"
        results = runtime.deployer.deploy(uow.session, files_of(model), "designer")
        uow.commit()
    assert [r.key for r in results] == ["rb_collab_applicant"]
    with runtime.unit_of_work() as uow:
        case = runtime.engine.start(uow, "rb_collab_applicant", business_key="RB-COLLAB", region_code=REGION,
                                    data={"applicant": "甲单位"}, actor=STARTER)
        uow.commit()
    steps = []
    for role in ("clerk", "acceptor"):
        with runtime.unit_of_work() as uow:
            [row] = runtime.engine.open_tasks(uow.session, case.id)
            assert row.lane == role
            data = {"decision": "approve"} if row.form_key else {}
            runtime.engine.complete_task(uow, row.id, Actor(f"rb_{role}", frozenset({(role, REGION)})), data)
            uow.commit()
            steps.append(row.label)
    with runtime.unit_of_work() as uow:
        done = uow.session.get(ProcessInstance, case.id)
        assert (done.status, steps) == ("completed", ["填写申请", "受理审查"])
        assert runtime.engine.instance_data(uow.session, done)["applicant"] == "甲单位"


def test_a_repaired_case_goes_on_after_its_data_is_corrected_and_it_is_retried(runtime, corpus):
    """What the gateway's incident says to do: correct the data on the case page, then retry."""
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files_of(corpus / "robustness/gateway_no_match.bpmn"), "designer")
        case = runtime.engine.start(uow, "rb_gateway_no_match", business_key="RB-REPAIR", region_code=REGION,
                                    data={}, actor=STARTER)
        uow.commit()
    assert case.status == "error"
    with runtime.unit_of_work() as uow:
        runtime.engine.edit_data(uow, case.id, SUPERVISOR, {"amount": 2000}, "金额登记有误")
        assert runtime.engine.retry(uow, case.id, SUPERVISOR).status == "waiting"
        uow.commit()
        assert [t.label for t in runtime.engine.open_tasks(uow.session, case.id)] == ["大额审批"]


def test_the_deployed_version_that_no_longer_starts_is_refused_in_words(runtime):
    """A version deployed before the check of reserved ids (an element called ``Start``): its start is
    refused with a Conflict, and no case row is left behind. (A deployed version is never deleted: the
    row stays, as it would.)"""
    raw = (FIXTURES / "robustness/reserved_ids.bpmn").read_text(encoding="utf-8")
    with runtime.unit_of_work() as uow:
        if latest_definition(uow.session, "rb_reserved_ids") is None:
            uow.session.add(ProcessDefinition(key="rb_reserved_ids", name="保留 id", version=1, content_hash="x" * 64,
                                              filename="reserved_ids.bpmn", xml=raw, dependencies={},
                                              startable_by=[], forms={}))
        uow.commit()
    with runtime.unit_of_work() as uow:
        refused = engine_call(runtime.engine.start, uow, "rb_reserved_ids", business_key="RB-OLD", region_code=REGION,
                              data={}, actor=STARTER)
        uow.commit()
        assert isinstance(refused, EngineError) and "无法启动" in refused.message
        assert uow.session.scalar(select(ProcessInstance).where(ProcessInstance.business_key == "RB-OLD")) is None


def test_a_decision_table_that_fails_in_the_callers_data_is_refused_in_words(runtime, corpus):
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files_of(corpus / "robustness/dmn_no_match.bpmn"), "designer")
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert runtime.engine.decide(uow.session, "rb_level", {"amount": 5}) == {}  # no rule matches: nothing
        refused = engine_call(runtime.engine.decide, uow.session, "rb_level", {})
    assert isinstance(refused, EngineError)
    assert refused.message.startswith("决策表 rb_level 无法计算：名称 amount 未定义")


def test_a_timer_whose_time_failed_waits_once_the_data_is_corrected_and_it_is_retried(runtime, corpus):
    """The timer failed while it was being armed (it never waited): a retry arms it again, with the
    corrected data, instead of leaving the case with nothing to do."""
    with runtime.unit_of_work() as uow:
        runtime.deployer.deploy(uow.session, files_of(corpus / "robustness/timer_bad_duration.bpmn"), "designer")
        case = runtime.engine.start(uow, "rb_timer_bad_duration", business_key="RB-TIMER", region_code=REGION,
                                    data={}, actor=STARTER)
        uow.commit()
        [row] = runtime.engine.open_tasks(uow.session, case.id)
    with runtime.unit_of_work() as uow:
        assert runtime.engine.complete_task(uow, row.id, Actor("rb_clerk", frozenset({("clerk", REGION)})),
                                            {}).status == "error"
        uow.commit()
    with runtime.unit_of_work() as uow:
        assert runtime.engine.retry(uow, case.id, SUPERVISOR).status == "error"  # still 五天: fails again, in words
        uow.commit()
    with runtime.unit_of_work() as uow:
        runtime.engine.edit_data(uow, case.id, SUPERVISOR, {"period": "P5D"}, "期限应为五天")
        assert runtime.engine.retry(uow, case.id, SUPERVISOR).status == "waiting"
        uow.commit()
        [timer] = uow.session.scalars(select(Timer).where(Timer.instance_id == case.id))
        assert timedelta(days=4) < timer.due_at - timer.created_at <= timedelta(days=5, minutes=1)
        messages = [i.message for i in uow.session.scalars(select(Incident).where(Incident.instance_id == case.id))]
    assert len(messages) == 2 and all(m.startswith("定时器“等待公示期满”的时间 五天 无效") for m in messages)
