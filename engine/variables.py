"""Which variables a process's gateway conditions read and which its steps produce: a condition naming
a variable that nothing gives is refused at deploy (issue 18).

A condition reads a variable when its expression names it (``amount > 1000`` reads ``amount``; the
expression language's functions, the deployment's helpers it calls and the names a comprehension binds
are not variables). A variable is produced by: a field of a form that the process's start event or one
of its steps names; an assignment in a script, pre- or post-script; a service task's ``resultVariable``;
an output of the DMN decision a business rule task calls; a message's, signal's, error's or escalation's
variable; a multi-instance activity's input and output items; a data object; whatever a process it
calls produces (the called process's data comes back to it); the ``initiator`` process property (the
starter's username); and what the engine itself writes (``decision``, ``conclusion``, ``sign_result``,
``sign_votes``).

**Decision: a refusal, for the processes users start from the generic start.** Such a process (it lists
``startableBy``) starts with exactly its start form's fields (``WorkflowEngine.start_by_form``; a
module's start check adds only the applicant's registered particulars), so a variable that none of the
above produces can never be set when the condition runs: it is a typo or a forgotten step, which would
otherwise become an incident of every case. A process without ``startableBy`` is started by a module's
use case or through the API with variables of the starter's own — models from Camunda or Flowable read
the ``amount`` their starter passes, a petition's handling reads how the petition came in — so nothing
can be concluded, and it is accepted; so is a process whose producers cannot all be read (a decision
table or a called process that is neither among the deployed files nor deployed: reported as missing
elsewhere).
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from lxml import etree

from engine.expressions import SAFE_FUNCTIONS

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
ENGINE_VARIABLES = frozenset({"decision", "conclusion", "sign_result", "sign_votes"})
# where a process's steps name the variables they produce, besides forms, scripts, decisions and calls
_PRODUCERS = (
    ".//spiffworkflow:serviceTaskOperator/@resultVariable",
    ".//spiffworkflow:messageVariable/text()",
    ".//spiffworkflow:variableName/text()",
    ".//bpmn:inputDataItem/@name | .//bpmn:outputDataItem/@name",
    ".//bpmn:dataObject/@id",
    "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='initiator']/@value",
)
_SCRIPTS = ".//bpmn:script/text() | .//spiffworkflow:preScript/text() | .//spiffworkflow:postScript/text()"

# what the caller knows of other documents: a form's field keys, a decision's outputs and the variables a
# called process produces (None: not known)
FormFields = Callable[[str], Iterable[str]]
DecisionOutputs = Callable[[str], "set[str] | None"]
CalledProduces = Callable[[str], "set[str] | None"]


def read_names(expression: str) -> set[str]:
    """The variables an expression reads (see the module docstring); none when it does not parse
    (the expression check reports that)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return set()
    nodes = list(ast.walk(tree))
    bound = {node.id for node in nodes if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    bound |= {arg.arg for node in nodes if isinstance(node, ast.Lambda) for arg in node.args.args}
    called = {node.func.id for node in nodes if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    read = {node.id for node in nodes if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return read - bound - called - set(SAFE_FUNCTIONS)


def assigned_names(script: str) -> set[str]:
    """The variables a script may set: every name it assigns (loops and ``with`` included)."""
    try:
        tree = ast.parse(script)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def produced(process: etree._Element, form_fields: FormFields, decision_outputs: DecisionOutputs,
             called_produces: CalledProduces) -> set[str] | None:
    """The variables the steps of ``process`` (a bpmn:process element) produce; None when some producer
    cannot be read."""
    names = set(ENGINE_VARIABLES)
    for key in process.xpath(".//spiffworkflow:property[@name='formKey']/@value", namespaces=NS):
        names |= set(form_fields(str(key)))
    for script in process.xpath(_SCRIPTS, namespaces=NS):
        names |= assigned_names(str(script))
    for path in _PRODUCERS:
        names |= {str(value).strip() for value in process.xpath(path, namespaces=NS)}
    for decision in process.xpath(".//spiffworkflow:calledDecisionId/text()", namespaces=NS):
        outputs = decision_outputs(str(decision).strip())
        if outputs is None:
            return None
        names |= outputs
    for callee in process.xpath(".//bpmn:callActivity/@calledElement", namespaces=NS):
        more = called_produces(str(callee))
        if more is None:
            return None
        names |= more
    return names


def unknown_reads(process: etree._Element, produced_names: set[str]) -> list[tuple[str, str, list[str]]]:
    """(sequence flow id, condition, the variables it reads that nothing produces) of each such gateway
    condition of ``process``."""
    found = []
    for flow in process.xpath(".//bpmn:sequenceFlow[bpmn:conditionExpression]", namespaces=NS):
        condition = "".join(flow.xpath("./bpmn:conditionExpression/text()", namespaces=NS)).strip()
        missing = sorted(read_names(condition) - produced_names)
        if missing:
            found.append((str(flow.get("id") or ""), condition, missing))
    return found


def decision_outputs(root: etree._Element, decision_id: str) -> set[str] | None:
    """The output names of a DMN file's decision ``decision_id`` (None when the file has no such decision)."""
    for decision in root:
        if isinstance(decision.tag, str) and etree.QName(decision).localname == "decision" \
                and decision.get("id") == decision_id:
            return {str(output.get("name")) for output in decision.iter("{*}output") if output.get("name")}
    return None
