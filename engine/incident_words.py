"""Incidents in words: what a failure inside an engine action tells the people who repair the case.

Whatever fails while the engine runs a case's steps — designer code (a condition, a script, a DMN rule,
a timer expression), SpiffWorkflow itself (a gateway with no way out, a data input that is missing) or a
service operator — becomes an incident, never an escaped exception. Its message says which step failed
(by its BPMN name), what went wrong in plain Chinese, and what to do; SpiffWorkflow's or Python's own
text is kept only as the *detail* (the history's ``error`` event and the log), since it names Python
types and BPMN ids a supervisor cannot act on.

How a failure maps to words (the first that applies):

=================================================  =============================================
what failed                                          message
=================================================  =============================================
``WorkflowException`` "No conditions satisfied"      网关“金额判断”没有满足条件的出口：条件 amount >
(exclusive or inclusive gateway)                     1000、amount > 5000 均不成立
``WorkflowDataException`` (a data input/output,      环节“打印票据”缺少输入数据 票据号 / 没有给出输出
a data object, a multi-instance collection)          数据 …
a script task's script (``engine.sandbox``)          脚本任务“计算”出错（第 1 行）：名称 foo 未定义
a pre- or post-script of another step                环节“审核”的脚本出错：…
a timer whose time is no ISO 8601 value              定时器“等待公示期满”的时间 五天 无效 …
an expression (condition, DMN rule, loop,            环节“按级别”的表达式 level == "high" 无法计算：
correlation, payload …) that cannot be evaluated     名称 level 未定义
an operator of a service task                        服务任务“校验”执行失败：对方系统不可用
a limit (steps of one action, instances, time)       环节“…”被停止：一次办理中自动执行的流程步骤超过 …
anything else                                        环节“…”出错：数据类型不符 …
=================================================  =============================================

The step is found on the exception (``WorkflowTaskException.task``), else in the traceback (the deepest
SpiffWorkflow frame working on a task: a timer's ``has_fired``, a message's correlation), else among the
workflow's tasks in state ERROR. Its BPMN id is what the diagram marks.

The messages are literal patterns, each formatted with ``"…%(step)s…" % dict(step=…)`` inside a call of
:func:`in_words`, whose first argument the catalogue extracts (web/pages/catalogue.py) as a msgid:
web.pages.i18n.translated_message matches a stored message against the catalogue's patterns to show it
in English, and translates the values it carries that are catalogue words themselves (the problem words
below, the names of shipped steps).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.errors import EngineError
from engine.expressions import ScriptRejected
from engine.timers import timer_definition

MAX_DETAIL = 2000
# how engine.sandbox reports what a script raised: "NameError（第 1 行）: name 'foo' is not defined"
_SANDBOX_ERROR = re.compile(r"^([A-Za-z_]\w*)(?:（第 (\d+) 行）)?: (.*)$", re.S)
_EVALUATING = re.compile(r"Error evaluating expression '(.*?)'(?:\.|$)", re.S)
_NAME_ERROR = re.compile(r"name '(.+?)' is not defined")
_TIMER_MODULE = "event_definitions/timer.py"
_CJK = re.compile(r"[\u3400-\u9fff]")


def in_words(message: str) -> str:
    """Mark a message formatted from a catalogue pattern (see the module docstring)."""
    return message


@dataclass(frozen=True)
class Described:
    """An incident as the engine records it."""

    task: Any  # the failing task (None when no step could be told)
    step: str  # its BPMN id ("" when no step could be told)
    label: str  # its BPMN name (its id when it has none)
    message: str  # in words (zh-CN)
    detail: str  # SpiffWorkflow's / Python's own text


def describe(error: BaseException, workflow: Any = None) -> Described:
    """The incident of ``error``, raised while ``workflow`` ran (see the module docstring)."""
    task = failing_task(error, workflow)
    spec = task.task_spec if task is not None else _spec_of(error)
    step = str(getattr(spec, "bpmn_id", None) or getattr(spec, "name", "") or "") if spec is not None else ""
    label = _label(spec) or step
    message = _message(error, spec, label) if step else in_words(
        "办件在自动执行的环节中出错：%(problem)s。请排除原因后在办件页重试；如是流程定义的问题，请修正后部署新版本。"
        % dict(problem=problem(error)))
    return Described(task, step, label, message, detail(error))


def problem(error: BaseException) -> str:
    """What went wrong, in words (for an incident, or for a refusal of a repair that ran designer code):
    the text of the innermost cause written in words (an operator's, a limit's), else its kind in words."""
    rejected = _first(error, ScriptRejected)
    if rejected is not None:
        found = _SANDBOX_ERROR.match(str(rejected))
        if found and _CJK.search(found.group(3)):  # the sandbox's own words ("脚本只能 import …，不能 import os")
            return found.group(3).strip().rstrip("。")
        return _python_problem(found.group(1), found.group(3)) if found else str(rejected).rstrip("。")
    spoken = [cause for cause in _chain(error) if not isinstance(cause, WorkflowException) and _CJK.search(str(cause))]
    if spoken:  # its own sentence, within the incident's
        return (spoken[-1].message if isinstance(spoken[-1], EngineError) else str(spoken[-1])).rstrip("。")
    cause = _root(error)
    if isinstance(cause, WorkflowException):  # SpiffWorkflow's own refusal of the model
        return in_words("流程引擎无法执行这一部分（流程定义可能不完整，或用到了不支持的写法）")
    return _python_problem(type(cause).__name__, str(cause))


def detail(error: BaseException) -> str:
    """SpiffWorkflow's and Python's own text of ``error`` and of its innermost cause."""
    parts = [f"{type(error).__name__}: {error}"]
    cause = _root(error)
    if cause is not error:
        parts.append(f"{type(cause).__name__}: {cause}")
    return " ← ".join(parts)[:MAX_DETAIL]


def failing_task(error: BaseException, workflow: Any = None) -> Any:
    """The task that failed: named by the exception, found in its traceback, or in state ERROR."""
    for cause in _chain(error):
        task = getattr(cause, "task", None)
        if isinstance(task, Task):
            return task
    found = None
    for cause in _chain(error):
        trace = cause.__traceback__
        while trace is not None:  # the deepest frame working on a task (SpiffWorkflow calls it my_task)
            local = trace.tb_frame.f_locals
            for name in ("task", "my_task"):
                if isinstance(local.get(name), Task):
                    found = local[name]
            trace = trace.tb_next
        if found is not None:
            return found
    if workflow is not None:
        failed = workflow.get_tasks(state=TaskState.ERROR)
        if failed:
            return failed[0]
    return None


def _message(error: BaseException, spec: Any, step: str) -> str:
    cause = _root(error)
    data_error = _first(error, WorkflowDataException)
    rejected = _first(error, ScriptRejected)
    script = _SANDBOX_ERROR.match(str(rejected)) if rejected is not None else None
    expression = _expression(error)
    what = problem(error)
    if hasattr(spec, "cond_task_specs") and _first(error, WorkflowException,
                                                   lambda e: "No conditions satisfied" in str(e)) is not None:
        conditions = [str(condition.args[0]) for condition, _name in spec.cond_task_specs if condition is not None]
        return in_words("网关“%(step)s”没有满足条件的出口：条件 %(conditions)s 均不成立。"
                        "请修正流程定义（例如为网关设置默认出口）后部署新版本；本办件可在办件页修改业务数据后重试。"
                        % dict(step=step, conditions="、".join(conditions) or "（无）"))
    if data_error is not None:
        data = data_error.data_input or data_error.data_output
        name = str(getattr(data, "bpmn_name", None) or getattr(data, "bpmn_id", None) or "")
        if data_error.data_output is not None:
            return in_words("环节“%(step)s”没有给出输出数据 %(name)s。请确认该环节会产生它，修正流程定义后部署新版本；"
                            "本办件可在办件页修改业务数据后重试。" % dict(step=step, name=name))
        return in_words("环节“%(step)s”缺少输入数据 %(name)s：前面的环节没有给出它。请修正流程定义后部署新版本；"
                        "本办件可在办件页修改业务数据后重试。" % dict(step=step, name=name))
    if script is not None and not isinstance(spec, ScriptTask):  # a pre- or post-script
        return in_words("环节“%(step)s”的脚本出错：%(problem)s。"
                        "请修正脚本后部署新版本；本办件可在办件页修改业务数据后重试。"
                        % dict(step=step, problem=what))
    if script is not None and script.group(2):
        return in_words("脚本任务“%(step)s”出错（第 %(line)s 行）：%(problem)s。请修正脚本后部署新版本；"
                        "本办件可在办件页修改业务数据后重试。"
                        % dict(step=step, line=script.group(2), problem=what))
    if script is not None:
        return in_words("脚本任务“%(step)s”出错：%(problem)s。"
                        "请修正脚本后部署新版本；本办件可在办件页修改业务数据后重试。"
                        % dict(step=step, problem=what))
    if timer_definition(getattr(spec, "event_definition", None)) is not None and expression is None \
            and _raised_in(cause, _TIMER_MODULE):
        return in_words("定时器“%(step)s”的时间 %(value)s 无效：应为 ISO 8601 的时长、日期或周期"
                        "（如 PT5M、P2D、R3/PT1H、2030-12-01T09:00:00+08:00）。"
                        "请修正流程定义后部署新版本；本办件可在办件页修改业务数据后重试。"
                        % dict(step=step, value=_timer_value(cause)))
    if isinstance(spec, ServiceTask) and rejected is None:
        return in_words("服务任务“%(step)s”执行失败：%(problem)s。请排除原因（如等待对方系统恢复）后在办件页重试；"
                        "如是流程定义的问题，请修正后部署新版本。" % dict(step=step, problem=what))
    if expression is not None:
        return in_words("环节“%(step)s”的表达式 %(expression)s 无法计算：%(problem)s。"
                        "请修正流程定义后部署新版本；本办件可在办件页修改业务数据后重试。"
                        % dict(step=step, expression=expression, problem=what))
    if rejected is not None:
        return in_words("环节“%(step)s”被停止：%(problem)s。"
                        "请检查流程定义是否有循环或过多的规则，修正后部署新版本；本办件可在办件页重试或终止。"
                        % dict(step=step, problem=what))
    return in_words("环节“%(step)s”出错：%(problem)s。"
                    "请排除原因后在办件页重试；如是流程定义的问题，请修正后部署新版本。"
                    % dict(step=step, problem=what))


def _python_problem(kind: str, text: str) -> str:
    """A Python exception (its class name and text) in words; its own text stays in the detail."""
    if kind == "NameError":
        name = _NAME_ERROR.search(text)
        return in_words("名称 %(name)s 未定义" % dict(name=name.group(1) if name else text))
    if kind == "KeyError":
        return in_words("数据中没有 %(key)s 这一项" % dict(key=text))
    words = {"ZeroDivisionError": in_words("除数为零"), "TypeError": in_words("数据类型不符"),
             "IndexError": in_words("列表下标越界"), "ValueError": in_words("数据的值不合法"),
             "AttributeError": in_words("数据没有所需的属性"), "RecursionError": in_words("递归过深")}
    return words.get(kind) or in_words("执行出错（%(kind)s）" % dict(kind=kind))


def _expression(error: BaseException) -> str | None:
    """The designer's expression SpiffWorkflow says it was evaluating, if any."""
    for cause in _chain(error):
        texts = [str(cause), *(str(note) for note in getattr(cause, "notes", []))]
        for text in texts:
            found = _EVALUATING.search(text)
            if found:
                return found.group(1)
    return None


def _timer_value(error: BaseException) -> str:
    """The time a timer evaluated to, read from the frame of SpiffWorkflow's parser that refused it."""
    value: Any = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename.replace("\\", "/").endswith(_TIMER_MODULE):
            local = trace.tb_frame.f_locals
            value = local.get("expression", local.get("event_value", value))
        trace = trace.tb_next
    return repr(value) if not isinstance(value, str) else value


def _raised_in(error: BaseException, module: str) -> bool:
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename.replace("\\", "/").endswith(module):
            return True
        trace = trace.tb_next
    return False


def _label(spec: Any) -> str:
    """A step's BPMN name; a multi-instance activity's is on the spec of its instances."""
    inner = getattr(spec, "task_spec", None)
    if not getattr(spec, "bpmn_name", None) and isinstance(inner, str):
        spec = spec._wf_spec.task_specs.get(inner, spec)
    return str(getattr(spec, "bpmn_name", None) or "")


def _spec_of(error: BaseException) -> Any:
    return next((cause.task_spec for cause in _chain(error)
                 if isinstance(cause, WorkflowException) and cause.task_spec is not None), None)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what caused it, outermost first (each once)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        inner = getattr(cause, "error", None) or getattr(cause, "exception", None)
        cause = inner if isinstance(inner, BaseException) else (cause.__cause__ or cause.__context__)


def _first(error: BaseException, kind: type, test: Any = None) -> Any:
    return next((cause for cause in _chain(error) if isinstance(cause, kind) and (test is None or test(cause))), None)


def _root(error: BaseException) -> BaseException:
    *_, last = _chain(error)
    return last
