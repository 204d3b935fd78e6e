"""Parsed specs, built once per deployed version and cached in memory by definition id
(a definition's XML and pinned dependencies never change, so the cache never goes stale). The cache
keeps the MAX_SPECS most recently used versions: a designer who deploys a thousand versions of a
2 MB file and starts a case of each must not fill the server's memory with their parsed specs."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from sqlalchemy.orm import Session

from engine import case_clock, case_summary
from engine.definitions import (
    build_parser,
    build_spec,
    definition_closure,
    parse_due_rule,
    process_properties,
    safe_xml,
    step_properties,
)
from engine.errors import Conflict, NotFound
from engine.expressions import ScriptRejected
from engine.forms import FormDefinition, parse_form
from engine.models import ProcessDefinition

# Instances one multi-instance activity may create: its loopCardinality or input collection is case
# data or designer code, and SpiffWorkflow creates a parallel activity's instances all at once.
MAX_INSTANCES = 200
MAX_SPECS = 256  # parsed deployed versions kept in memory


@dataclass(frozen=True)
class DeployedProcess:
    """What the runtime needs of one deployed version, besides its row: the parsed spec and the
    facts a start checks (so that starting an instance never reads the definition row again)."""

    name: str
    startable_by: tuple[str, ...]
    spec: Any
    subprocess_specs: dict[str, Any]
    start_form: str | None = None  # formKey of its (none) start event: what the generic start accepts
    forms: dict[str, FormDefinition] = field(default_factory=dict)  # by key, of it and what it calls
    summary: case_summary.CaseSummary = field(default_factory=case_summary.CaseSummary)  # caseTitle …
    business_key_pattern: str | None = None  # businessKeyPattern: the numbers of cases started from 发起办件
    status_steps: dict[str, str] = field(default_factory=dict)  # "<process>/<element>" → caseStatus code
    clock: case_clock.ClockRules = field(default_factory=case_clock.ClockRules)  # statutoryLimit …
    properties: dict[str, str] = field(default_factory=dict)  # the process element's extension properties


class SpecCache:
    def __init__(self) -> None:
        self._specs: OrderedDict[int, DeployedProcess] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, definition_id: int) -> DeployedProcess:
        cached = self._specs.get(definition_id)
        if cached is not None:
            with suppress(KeyError):  # evicted meanwhile by another thread: still a valid spec
                self._specs.move_to_end(definition_id)  # one C call: atomic under the GIL
            return cached
        with self._lock:
            cached = self._specs.get(definition_id)
            if cached is None:
                definition = session.get(ProcessDefinition, definition_id)
                if definition is None:
                    raise NotFound("流程定义不存在")
                spec, subprocess_specs = _parse(session, definition)
                for process_spec in (spec, *subprocess_specs.values()):
                    _bound_instances(process_spec)
                forms: dict[str, FormDefinition] = {}
                for version in definition_closure(session, definition):
                    for key, document in (version.forms or {}).items():
                        forms.setdefault(key, parse_form(key, document))
                start_form = _start_form(subprocess_specs.get(definition.key, spec))  # a collaboration's lead
                properties = process_properties(definition.xml, definition.filename, definition.key)
                cached = DeployedProcess(definition.name, tuple(definition.startable_by or ()), spec,
                                         subprocess_specs, start_form, forms,
                                         _summary(properties, forms.get(start_form or "")),
                                         properties.get("businessKeyPattern") or None,
                                         _closure_steps(session, definition, "caseStatus"),
                                         _clock(definition.key, properties,
                                                _closure_steps(session, definition, "clock")), properties)
                self._specs[definition_id] = cached
                while len(self._specs) > MAX_SPECS:
                    self._specs.popitem(last=False)
        return cached


def _parse(session: Session, definition: ProcessDefinition) -> tuple[Any, dict[str, Any]]:
    """The spec of a deployed version and of what it calls. A version that no longer parses (deployed
    before a check that now refuses it) is refused in words, as a Conflict, by every action on it."""
    try:
        parser = build_parser([(d.xml.encode("utf-8"), d.filename) for d in definition_closure(session, definition)])
        return build_spec(parser, safe_xml(definition.xml.encode("utf-8"), definition.filename), definition.key)
    except NotFound:
        raise
    except Exception as error:  # noqa: BLE001 - ValidationException, or the plain exceptions SpiffWorkflow raises
        raise Conflict("流程 %(process)s 第 %(version)s 版无法加载：%(problem)s。请修正流程定义后部署新版本"
                       % dict(process=definition.key, version=definition.version,
                              problem=str(error).splitlines()[0] if str(error) else type(error).__name__)) from None


def _closure_steps(session: Session, definition: ProcessDefinition, name: str) -> dict[str, str]:
    """``"<process>/<element>"`` → value of the step property ``name`` in the definition and what it calls."""
    return {key: value for version in definition_closure(session, definition)
            for key, value in step_properties(version.xml, version.filename, name).items()}


def _clock(key: str, properties: dict[str, str], clock_steps: dict[str, str]) -> case_clock.ClockRules:
    def limit(name: str) -> int | None:
        return parse_due_rule(properties[name])[0] if properties.get(name) else None

    declared = properties.get("statutoryLimit") or properties.get("promisedLimit")
    unit = parse_due_rule(declared)[1] if declared else "working_days"
    starts_at = properties.get("clockStartsAt") or None
    return case_clock.ClockRules(limit("statutoryLimit"), limit("promisedLimit"),
                                 f"{key}/{starts_at}" if starts_at else None,
                                 frozenset(step for step, value in clock_steps.items() if value == "pause"),
                                 "days" if unit == "days" else "working_days")


def _summary(properties: dict[str, str], start_form: FormDefinition | None) -> case_summary.CaseSummary:
    labels = {f.key: str(f.component.get("label") or f.key) for f in start_form.fields} if start_form else {}
    return case_summary.parse(properties.get("caseTitle"), properties.get("summaryFields"), labels)


def _start_form(spec: Any) -> str | None:
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ == "StartEvent" \
                and type(getattr(task_spec, "event_definition", None)).__name__ == "NoneEventDefinition":
            return (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get("formKey") or None
    return None


def _bound_instances(process_spec: Any) -> None:
    """Make every multi-instance activity of ``process_spec`` refuse its instance beyond MAX_INSTANCES
    (the failure becomes the case's incident) instead of creating a million tasks in one request."""
    for task_spec in process_spec.task_specs.values():
        if isinstance(task_spec, MultiInstanceTask):
            task_spec.create_child = _limited(task_spec.create_child, task_spec.bpmn_name or task_spec.bpmn_id)


def _limited(create_child: Callable[..., Any], name: str) -> Callable[..., Any]:
    def create_within_limit(my_task: Any, *args: Any, **kwargs: Any) -> Any:
        if len(my_task.children) >= MAX_INSTANCES:
            raise ScriptRejected(f"多实例活动 {name} 的实例数超过 {MAX_INSTANCES} 个，已停止")
        return create_child(my_task, *args, **kwargs)

    return create_within_limit
