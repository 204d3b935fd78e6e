"""Workflow state (de)serialisation that leaves the spec out.

SpiffWorkflow's default serializer writes the whole parsed spec into every instance. Banjian
keeps the spec once per deployed version (see ``engine.specs``) and stores per instance only
its task tree and data; on load the cached spec objects are handed back in.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import date
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = StateOnlyWorkflowConverter
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    # SpiffWorkflow stores datetime and timedelta; a date (a form's date field, date.today() in an
    # expression or a script) is case data as well.
    serializer.registry.register(date, lambda value: {"value": value.isoformat()},
                                 lambda value: date.fromisoformat(value["value"]))
    return serializer


_SERIALIZER = _make_serializer()


def dump_state(workflow: BpmnWorkflow) -> str:
    return _SERIALIZER.serialize_json(workflow)


def load_state(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    dct = json.loads(state)
    _SERIALIZER.migrate(dct)
    workflow = _SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


class WorkflowCache:
    """Deserialized workflows of recently written instances, each with the state text it was
    dumped to, by instance id.

    A cached workflow is used only when the instance's stored state is exactly that text (one string
    comparison), so it is what deserializing the stored state would give; loading it can be skipped
    for the next action on a case this process just handled (a reviewer opening a task and then
    deciding it, a case going on after its start). A workflow is handed to one action at a time
    (:meth:`take` removes it) and comes back only after that action committed (:meth:`put`), so a
    rolled-back action never leaves a changed workflow behind.

    Bounded to ``size`` workflows and ``max_chars`` characters of state text together (the text's
    length stands for the workflow's memory, a few times as much): a case whose data holds the ids of
    100,000 persons does not stay in memory 256 times. Least recently put goes first."""

    def __init__(self, size: int = 256, max_chars: int = 32 * 1024 * 1024) -> None:
        self._size = size
        self._max_chars = max_chars
        self._chars = 0
        self._items: OrderedDict[int, tuple[str, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, state: str) -> BpmnWorkflow | None:
        with self._lock:
            cached = self._items.pop(instance_id, None)
            if cached is not None:
                self._chars -= len(cached[0])
        return cached[1] if cached is not None and cached[0] == state else None

    def put(self, instance_id: int, state: str, workflow: BpmnWorkflow) -> None:
        if len(state) > self._max_chars:
            return
        with self._lock:
            replaced = self._items.pop(instance_id, None)
            if replaced is not None:
                self._chars -= len(replaced[0])
            self._items[instance_id] = (state, workflow)
            self._chars += len(state)
            while len(self._items) > self._size or self._chars > self._max_chars:
                _, (evicted, _) = self._items.popitem(last=False)
                self._chars -= len(evicted)
