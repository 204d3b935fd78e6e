"""Process definitions: safe parsing, validation and versioned deployment of BPMN and DMN files.

BPMN files are untrusted input: XML is parsed with entity resolution, DTDs and network access
off, and a file that declares a DOCTYPE is refused outright. Validation collects *every*
problem (file, element id, message) instead of stopping at the first.

A file may call processes of other files (call activities); at deploy time the called
processes are pinned to their current deployed version, so a running instance never changes
under its feet; a deploy that gives a called process a new version re-pins its deployed callers as new
versions of them (Deployer). A definition's content hash covers its own XML, the forms its steps name
(stored with it, so that running cases keep the forms they started with) and its dependencies' hashes:
redeploying identical content is a no-op, anything else becomes version N+1.

A DMN file is deployed the same way under its decision id; a business rule task's
``calledDecisionId`` is a dependency like a call activity, so officials can change a decision
table and redeploy it without a programmer, and callers pick up the new table as new versions of them.

**Collaborations.** A file whose collaboration has two or more participants with executable processes
(pools that exchange messages: an applicant's and an office's) is one process for Banjian, since a
case of one participant alone would wait for ever for the others' messages. It deploys as one
definition keyed by its *lead* participant — the first in the collaboration whose process starts with a
none (or timer) start event — whose process element gives the definition its name, ``startableBy``,
start form and other properties; the other executable participants are part of it and are not
deployed on their own. A case runs SpiffWorkflow's collaboration (``parser.get_collaboration``): a
workflow of the collaboration's spec with each participant a subprocess; participants with a none or
timer start event start with the case, one that starts with a message starts when another participant
sends it, and the messages between them are caught inside the case. The case ends when every
participant that started has ended. A collaboration with one executable participant (other parties
drawn as black-box pools) is the plain process it names. See :func:`build_spec`.
"""
from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from engine import case_clock, case_summary, countersign, dialects, lifecycle, numbering, variables
from engine.db import utcnow
from engine.errors import NotFound
from engine.forms import DraftForms, FormError, FormRegistry
from engine.models import ProcessDefinition
from engine.operators import OperatorRegistry
from engine.scripting import ScriptRejected, check_expression, check_script

MAX_BPMN_BYTES = 2 * 1024 * 1024
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
DMN_MARK = "dmn"  # every DMN namespace URI contains it (DMN 1.2, 1.3, Camunda's)
# Every place where a BPMN file carries code the engine evaluates: (XPath, kind).
CODE_ELEMENTS = (
    ("//bpmn:sequenceFlow/bpmn:conditionExpression", "expression", "条件"),
    ("//bpmn:conditionalEventDefinition/bpmn:condition", "expression", "条件事件的条件"),
    ("//bpmn:timerEventDefinition/*", "expression", "定时器表达式"),
    ("//bpmn:loopCardinality | //bpmn:completionCondition | //bpmn:loopCondition", "expression", "多实例表达式"),
    ("//spiffworkflow:parameter/@value", "expression", "服务任务参数"),
    ("//spiffworkflow:messagePayload", "expression", "消息内容表达式"),
    ("//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "expression", "消息关联表达式"),
    ("//bpmn:scriptTask/bpmn:script", "script", "脚本"),
    ("//spiffworkflow:preScript | //spiffworkflow:postScript", "script", "前置/后置脚本"),
)
MAX_DUE_AMOUNT = {"working_days": 2_500, "days": 3_650, "hours": 87_600}  # ten years
# names SpiffWorkflow gives the tasks it adds to every process: an element with one of these ids replaces
# them, and the process cannot start
RESERVED_IDS = frozenset({"Start", "End"})
MAX_ID_LENGTH = 100  # the columns that hold a step's BPMN id (task, history, incident, timer rows)
DUE_RULE = re.compile(r"^\s*(\d{1,6})\s*(working days?|工作日|days?|天|hours?|小时)\s*$", re.IGNORECASE)
_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


@dataclass(frozen=True)
class Problem:
    file: str
    element_id: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.element_id}]" if self.element_id else "")
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "element_id": self.element_id, "message": self.message}


class DefinitionInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ParsedFile:
    filename: str
    xml: bytes
    root: etree._Element
    process_ids: list[str]  # executable processes defined here
    called: set[str] = field(default_factory=set)  # processes called from this file
    calls: dict[str, set[str]] = field(default_factory=dict)  # process id → processes its call activities call
    names: dict[str, str] = field(default_factory=dict)
    startable_by: dict[str, list[str]] = field(default_factory=dict)
    form_keys: set[str] = field(default_factory=set)  # forms named by its user tasks and start events


def parse_due_rule(rule: str) -> tuple[int, str]:
    """'20 working days' / '20 工作日' / '5 days' / '48 hours' → (amount, unit)."""
    match = DUE_RULE.match(rule or "")
    if not match:
        raise ValueError(f"无法识别的期限规则 {rule!r}（例如 “20 working days”）")
    unit = match.group(2).lower()
    kind = "working_days" if unit.startswith("working") or unit == "工作日" else \
        "hours" if unit.startswith("hour") or unit == "小时" else "days"
    amount = int(match.group(1))
    if not 1 <= amount <= MAX_DUE_AMOUNT[kind]:
        raise ValueError(f"期限 {rule!r} 应在 1 到 {MAX_DUE_AMOUNT[kind]} 之间")
    return amount, kind


def safe_xml(raw: bytes, filename: str) -> etree._Element:
    """Parse untrusted XML; raise DefinitionInvalid on anything suspicious or malformed."""
    if len(raw) > MAX_BPMN_BYTES:
        raise DefinitionInvalid([Problem(filename, "", f"文件超过 {MAX_BPMN_BYTES // 1024 // 1024} MB 上限")])
    try:
        root = etree.fromstring(raw, _SAFE_PARSER)
    except etree.XMLSyntaxError as error:
        raise DefinitionInvalid([Problem(filename, "", f"XML 格式错误（第 {error.lineno} 行）：{error.msg}")]) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DefinitionInvalid([Problem(filename, "", "不允许在 BPMN 文件中声明 DOCTYPE 或 XML 实体")])
    return root


def process_properties(xml: str, filename: str, process_id: str) -> dict[str, str]:
    """The extension properties of one process element of a deployed file (caseTitle …)."""
    root = safe_xml(xml.encode("utf-8"), filename)
    found = root.xpath("//bpmn:process[@id=$pid]", namespaces=NS, pid=process_id)
    return _properties(found[0]) if found else {}


def step_properties(xml: str, filename: str, name: str) -> dict[str, str]:
    """``{"<process id>/<element id>": value}`` of every element inside the file's processes that carries
    the extension property ``name`` (caseStatus …)."""
    root = safe_xml(xml.encode("utf-8"), filename)
    return {f"{process_id}/{element_id}": value for process_id, element_id, value in _steps_with(root, name)}


def _steps_with(root, name: str) -> list[tuple[str, str, str]]:
    found = []
    for process in root.xpath("//bpmn:process", namespaces=NS):
        for prop in process.xpath(".//spiffworkflow:property[@name=$name]", namespaces=NS, name=name):
            element = prop.getparent().getparent().getparent()  # property → properties → extensionElements
            if element is not process:
                found.append((process.get("id"), element.get("id"), prop.get("value", "")))
    return found


def _properties(element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value", "")
        for p in element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                               namespaces=NS)
    }


class DefinitionValidator:
    """Checks a BPMN file against the XSD, SpiffWorkflow's parser and Banjian's conventions."""

    def __init__(self, forms: FormRegistry, operators: OperatorRegistry, known_roles: Iterable[str],
                 property_checks: Mapping[str, Callable[[str], list[str]]] | None = None):
        self.forms = forms
        self.operators = operators
        self.known_roles = set(known_roles)
        # dialect import (engine/dialects.py): role names for groups, and the designer's mapping file
        self.role_names = dict(known_roles) if isinstance(known_roles, Mapping) else dict.fromkeys(self.known_roles, "")
        self.dialect_mapping: Path | None = None
        self.translate_dialects = True
        # process properties that platform services read (documents …): name → what is wrong with a value
        self.property_checks = dict(property_checks or {})

    def parse(self, raw: bytes, filename: str) -> tuple[ParsedFile, list[Problem]]:
        root = safe_xml(raw, filename)
        problems: list[Problem] = []
        if self.translate_dialects:
            raw, root, problems = self._translate_dialect(raw, filename, root)
        if is_dmn(root):
            return self._parse_dmn(raw, filename, root)
        literal_timers(root)
        if root.tag != f"{{{NS['bpmn']}}}definitions":
            raise DefinitionInvalid([Problem(filename, "", "根元素不是 bpmn:definitions，不是 BPMN 文件")])
        VALIDATOR.preprocess(root)
        if not VALIDATOR.validator.validate(root):
            for entry in VALIDATOR.validator.error_log:
                problems.append(Problem(filename, "", f"第 {entry.line} 行不符合 BPMN 规范：{entry.message}"))
        processes = root.xpath("//bpmn:process", namespaces=NS)
        parsed = ParsedFile(
            filename=filename, xml=raw, root=root,
            process_ids=[p.get("id") for p in processes if p.get("isExecutable", "true") == "true"],
        )
        if not parsed.process_ids:
            problems.append(Problem(filename, "", "文件中没有可执行的流程 (isExecutable)"))
        collaboration = _collaboration(root)
        if collaboration is not None:
            collaboration_id, members = collaboration
            lead = _lead(root, members)
            if lead is None:
                problems.append(Problem(filename, collaboration_id,
                                        "协作中的可执行参与者都以消息开始事件开始，办件无法发起："
                                        "请让其中一个参与者的流程以普通开始事件开始"))
            parsed.process_ids = [pid for pid in parsed.process_ids if pid not in members or pid == lead]
        for process in processes:
            parsed.names[process.get("id")] = process.get("name") or process.get("id")
            starters = _properties(process).get("startableBy", "")
            parsed.startable_by[process.get("id")] = [r.strip() for r in starters.split(",") if r.strip()]
            for role in parsed.startable_by[process.get("id")]:
                if role not in self.known_roles:
                    problems.append(Problem(filename, process.get("id"), f"startableBy 中的角色 {role} 不存在"))
            properties = _properties(process)
            problems += [Problem(filename, process.get("id"), message) for message in case_summary.problems(
                properties.get("caseTitle"), properties.get("summaryFields"))]
            problems += [Problem(filename, process.get("id"), message)
                         for message in case_clock.rules_problems(properties, parse_due_rule)]
            starts_at = properties.get("clockStartsAt")
            if starts_at and not process.xpath(".//*[@id=$id]", id=starts_at):
                problems.append(Problem(filename, process.get("id"), f"clockStartsAt：流程中没有环节 {starts_at}"))
            problems += [Problem(filename, process.get("id"), message)
                         for name, check in self.property_checks.items() if properties.get(name)
                         for message in check(properties[name])]
            if properties.get("businessKeyPattern"):
                problems += [Problem(filename, process.get("id"), f"businessKeyPattern：{message}")
                             for message in numbering.problems(properties["businessKeyPattern"])]
        for _pid, element_id, value in _steps_with(root, "clock"):
            if value != "pause":
                problems.append(Problem(filename, element_id, f"clock 属性只能是 pause（暂停计时），不能是 {value}"))
        for _pid, element_id, roles in _steps_with(root, "cc"):
            named = [role.strip() for role in roles.split(",") if role.strip()]
            unknown = [role for role in named if role not in self.known_roles]
            if unknown:
                problems.append(Problem(filename, element_id, f"cc 中的角色 {'、'.join(unknown)} 不存在"))
        for _pid, element_id, code in _steps_with(root, "caseStatus"):
            problems += [Problem(filename, element_id, message) for message in lifecycle.problems(code)]
        parsed.form_keys = {key for element in root.xpath("//bpmn:userTask | //bpmn:startEvent", namespaces=NS)
                            if (key := _properties(element).get("formKey"))}
        parsed.called, parsed.calls = _calls(root)
        problems += self._conventions(root, filename)
        return parsed, problems

    def _translate_dialect(self, raw: bytes, filename: str, root) -> tuple[bytes, etree._Element, list[Problem]]:
        """A Camunda/Flowable/Activiti model translated into Banjian's dialect (engine/dialects.py)."""
        if is_dmn(root):
            changed = dialects.translate_dmn(root)
            return (etree.tostring(root, xml_declaration=True, encoding="UTF-8") if changed else raw), root, []
        try:
            mapping = dialects.DialectMapping.load(self.dialect_mapping)
        except ValueError as error:
            return raw, root, [Problem(str(self.dialect_mapping), "", f"映射文件无法读取：{error}")]
        translation = dialects.translate(root, self.role_names, mapping, self.forms.exists)
        if translation is None:
            return raw, root, []
        dialects.write_skeletons(translation, filename)
        return translation.xml, root, [Problem(filename, p.element_id, p.message) for p in translation.problems]

    def form_skeletons(self, raw: bytes, filename: str) -> dict[str, str]:
        """The form-js skeletons a Camunda/Flowable/Activiti model's missing forms become (form key → JSON),
        for a designer to finish; empty for Banjian's own dialect or a file that does not parse."""
        try:
            root = safe_xml(raw, filename)
            translation = dialects.translate(root, self.role_names, dialects.DialectMapping.load(self.dialect_mapping),
                                             self.forms.exists)
        except (DefinitionInvalid, ValueError):
            return {}
        return dict(translation.skeletons) if translation is not None else {}

    @staticmethod
    def _parse_dmn(raw: bytes, filename: str, root) -> tuple[ParsedFile, list[Problem]]:
        decisions = [d.get("id") for d in _decisions(root)]
        parsed = ParsedFile(filename=filename, xml=raw, root=root, process_ids=decisions)
        parsed.names = {d.get("id"): d.get("name") or d.get("id") for d in _decisions(root)}
        problems = [] if decisions else [Problem(filename, "", "DMN 文件中没有决策表 (decision)")]
        return parsed, problems + _dmn_code_problems(root, filename)

    def _conventions(self, root, filename: str) -> list[Problem]:
        problems: list[Problem] = []
        for element in root.xpath("//bpmn:process[@id] | //bpmn:process//*[@id]", namespaces=NS):
            element_id = element.get("id")
            if element_id in RESERVED_IDS or element_id.endswith(".EndJoin"):
                problems.append(Problem(filename, element_id, "元素 id %(id)s 是 SpiffWorkflow 内部保留的名称，"
                                        "使用它的流程无法运行：请改用其他 id（如 StartEvent_1、EndEvent_1）"
                                        % dict(id=element_id)))
            elif len(element_id) > MAX_ID_LENGTH:
                problems.append(Problem(filename, element_id[:MAX_ID_LENGTH], "元素 id 超过 %(n)s 个字符，请改短"
                                        % dict(n=MAX_ID_LENGTH)))
        for _pid, element_id, rule in _steps_with(root, "dueIn"):
            try:
                parse_due_rule(rule)
            except ValueError as error:
                problems.append(Problem(filename, element_id, str(error)))
        for flow in root.xpath("//bpmn:sequenceFlow[not(@id) or normalize-space(@id) = '']", namespaces=NS):
            problems.append(Problem(filename, f"{flow.get('sourceRef', '?')}→{flow.get('targetRef', '?')}",
                                    "顺序流缺少 id：SpiffWorkflow 会悄悄丢弃这条连线，请为每条顺序流设置 id"))
        lanes = {}
        for lane in root.xpath("//bpmn:lane", namespaces=NS):
            name = (lane.get("name") or "").strip()
            if name not in self.known_roles:
                problems.append(Problem(filename, lane.get("id"),
                                        f"泳道名称 {name!r} 不是已知角色（{', '.join(sorted(self.known_roles))}）"))
            for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS):
                lanes[ref.text.strip()] = name
        for task in root.xpath("//bpmn:userTask | //bpmn:manualTask | //bpmn:task", namespaces=NS):
            role = _properties(task).get("role")  # a task outside a role lane may name its role itself
            if role is not None and role not in self.known_roles:
                problems.append(Problem(filename, task.get("id"), f"role 属性中的角色 {role} 不存在"))
            elif task.get("id") not in lanes and not role:  # done by a person: someone must be able to take it
                kind = "用户任务" if etree.QName(task).localname == "userTask" else "人工任务"
                problems.append(Problem(filename, task.get("id"), f"{kind}必须位于某个角色泳道中"))
        for task in root.xpath("//bpmn:userTask", namespaces=NS):
            tid = task.get("id")
            props = _properties(task)
            form_key = props.get("formKey")
            if not form_key:
                problems.append(Problem(filename, tid, "用户任务缺少 formKey 属性（表单文件名）"))
            else:
                try:
                    self.forms.get(form_key)
                except FormError as error:
                    problems.append(Problem(filename, tid, str(error)))
            problems += [Problem(filename, tid, message) for message in countersign.problems(props)]
            if props.get("guard"):
                problems += self._check_code(filename, tid, props["guard"], "expression", "表单校验规则")
            if props.get("assignee"):
                problems += self._check_code(filename, tid, props["assignee"], "expression", "办理人表达式")
            if props.get("organisation"):
                problems += self._check_code(filename, tid, props["organisation"], "expression", "办理机构表达式")
        for start in root.xpath("//bpmn:startEvent", namespaces=NS):
            form_key = _properties(start).get("formKey")
            if form_key:
                try:
                    self.forms.get(form_key)
                except FormError as error:
                    problems.append(Problem(filename, start.get("id"), f"发起表单：{error}"))
        for task in root.xpath("//bpmn:serviceTask", namespaces=NS):
            operator = task.xpath("./bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
            if not operator:
                problems.append(Problem(filename, task.get("id"), "服务任务缺少 serviceTaskOperator"))
            elif operator[0].get("id") not in self.operators:
                problems.append(Problem(filename, task.get("id"),
                                        f"未知的服务操作 {operator[0].get('id')!r}"))
        for path, kind, what in CODE_ELEMENTS:
            for element in root.xpath(path, namespaces=NS):
                code = element if isinstance(element, str) else element.text or ""
                # lxml's string results are str subclasses that have getparent()
                owner = element.getparent() if isinstance(element, str) else element  # type: ignore[attr-defined]
                problems += self._check_code(filename, _owner_id(owner), str(code), kind, what)
        return problems

    @staticmethod
    def _check_code(filename: str, element_id: str, code: str, kind: str, what: str) -> list[Problem]:
        if not code.strip():
            return [Problem(filename, element_id, f"{what}为空")]
        try:
            (check_script if kind == "script" else check_expression)(code.strip())
        except ScriptRejected as error:
            return [Problem(filename, element_id, f"{what}无法解析或不被允许：{error}")]
        return []


def _decisions(root) -> list:
    """The decision elements of a DMN file (skipping comments and processing instructions)."""
    return [d for d in root if isinstance(d.tag, str) and etree.QName(d).localname == "decision"]


def _dmn_code_problems(root, filename: str) -> list[Problem]:
    """Every expression of a DMN table, checked as SpiffWorkflow's DMN engine will evaluate it:
    input expressions and output entries as they stand, an input entry either as an expression
    or as a comparison whose left side is the input (``> 10``); ``?`` stands for the input."""
    problems: list[Problem] = []
    for text in root.iter("{*}text"):
        code = (text.text or "").strip()
        kind = etree.QName(text.getparent()).localname
        if not code or code == "-" or kind not in ("inputExpression", "inputEntry", "outputEntry"):
            continue
        code = code.replace("?", "dmninputexpr")
        candidates = [code, f"dmninputexpr {code}"] if kind == "inputEntry" else [code]
        errors = []
        for candidate in candidates:
            try:
                check_expression(candidate)
                break
            except ScriptRejected as error:
                errors.append(str(error))
        else:
            problems.append(Problem(filename, _owner_id(text), f"表达式无法解析或不被允许：{errors[-1]}"))
    return problems


def _call_problems(pf: ParsedFile, provided: dict[str, ParsedFile], session: Session | None) -> list[Problem]:
    """A process that users start from the generic start may call only processes that the same roles
    could start themselves. A call activity runs the called process inside the caller's case, with
    the caller's data: otherwise anyone allowed to start a designer's process would start, through
    it, a process that only its domain's use case may start (a declaration review) or that lists
    other roles."""
    problems: list[Problem] = []
    for pid, called in pf.calls.items():
        starters = set(pf.startable_by.get(pid, []))
        if not starters:
            continue
        for callee in sorted(called):
            owner = pf if callee in pf.process_ids else provided.get(callee)
            if owner is not None:
                if is_dmn(owner.root):
                    continue
                allowed = set(owner.startable_by.get(callee, []))
            else:
                definition = latest_definition(session, callee) if session is not None else None
                if definition is None or definition.filename.endswith(".dmn"):
                    continue  # reported as missing above
                allowed = set(definition.startable_by or [])
            refused = sorted(starters - allowed)
            if refused:
                problems.append(Problem(
                    pf.filename, pid, f"流程 {pid} 可由 {', '.join(refused)} 发起，但它调用的流程 {callee} 不能由其发起"
                                      "（startableBy 不含这些角色）：调用活动不能绕过被调用流程的发起权限"))
    return problems


def _caller_problems(provided: dict[str, ParsedFile], session: Session | None) -> list[Problem]:
    """The rule of _call_problems, from the other side: a deploy re-pins the deployed processes that call
    one of its processes to its new version (Deployer), so a caller that users start from the generic
    start may only be re-pinned to a version that the same roles could start themselves."""
    problems: list[Problem] = []
    if session is None:
        return problems
    for caller in list_definitions(session):
        if caller.key in provided or not caller.startable_by or not caller.dependencies:
            continue
        for callee in sorted(deployed_calls(caller)[1] & provided.keys()):
            owner = provided[callee]
            if is_dmn(owner.root):
                continue
            refused = sorted(set(caller.startable_by) - set(owner.startable_by.get(callee, [])))
            if refused:
                problems.append(Problem(
                    owner.filename, callee, f"已部署的流程 {caller.key} 可由 {', '.join(refused)} 发起并调用 {callee}，"
                                            f"部署后它将改为调用 {callee} 的新版本，但新版本不能由这些角色发起"
                                            "（startableBy 不含这些角色）：调用活动不能绕过被调用流程的发起权限"))
    return problems


def _recursion_problems(parsed_files: list[ParsedFile], provided: dict[str, ParsedFile],
                        session: Session | None) -> list[Problem]:
    """A process that calls itself, directly or through others, would unfold without end when started
    (each call a new subprocess of the one before): refused at deploy, naming the cycle. The calls of
    processes already deployed are read from their pinned dependencies."""

    def calls_of(pid: str) -> set[str]:
        owner = provided.get(pid)
        if owner is not None:
            return owner.calls.get(pid, set())
        definition = latest_definition(session, pid) if session is not None else None
        return set(definition.dependencies or {}) if definition is not None else set()

    problems = []
    for pf in parsed_files:
        for start in sorted(pf.calls):
            path = _cycle(start, calls_of)
            if path:
                problems.append(Problem(pf.filename, start, f"流程 {start} 会递归调用自身（{' → '.join(path)}），"
                                                            "启动后将无限展开，请去掉循环调用"))
    return problems


def _condition_problems(pf: ParsedFile, provided: dict[str, ParsedFile], session: Session | None,
                        forms: FormRegistry) -> list[Problem]:
    """Gateway conditions of processes users start (``startableBy``) that read a variable nothing produces
    (see ``engine.variables`` for what produces one, and why only those processes)."""
    if is_dmn(pf.root):
        return []

    def form_fields(key: str) -> list[str]:
        try:
            return [form_field.key for form_field in forms.get(key).fields]
        except FormError:  # reported with the step that names it
            return []

    def root_of(key: str) -> etree._Element | None:
        if key in provided:
            return provided[key].root
        definition = latest_definition(session, key) if session is not None else None
        return safe_xml(definition.xml.encode("utf-8"), definition.filename) if definition is not None else None

    def outputs(decision_id: str) -> set[str] | None:
        root = root_of(decision_id)
        return variables.decision_outputs(root, decision_id) if root is not None and is_dmn(root) else None

    seen: set[str] = set()

    def called(pid: str) -> set[str] | None:
        if pid in seen:  # a call back to a process already counted (a cycle is refused on its own)
            return set()
        seen.add(pid)
        root = root_of(pid)
        found = root.xpath("//bpmn:process[@id=$pid]", namespaces=NS, pid=pid) if root is not None else []
        return variables.produced(found[0], form_fields, outputs, called) if found else None

    problems = []
    for pid in pf.process_ids:
        if not pf.startable_by.get(pid):
            continue
        process = pf.root.xpath("//bpmn:process[@id=$pid]", namespaces=NS, pid=pid)[0]
        seen.add(pid)
        names = variables.produced(process, form_fields, outputs, called)
        for flow, condition, missing in variables.unknown_reads(process, names) if names is not None else []:
            problems.append(Problem(pf.filename, flow,
                                    "条件 %(condition)s 读取的变量 %(names)s 没有任何表单字段、环节结果或脚本给出"
                                    "（本流程由用户从“发起办件”发起，开始时只有发起表单的字段）："
                                    "请检查变量名，或让前面的环节给出它"
                                    % dict(condition=condition, names="、".join(missing))))
    return problems


def _cycle(start: str, calls_of: Callable[[str], set[str]]) -> list[str] | None:
    """A path of calls from ``start`` back to it, None when there is none (depth-first, each node once)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for callee in sorted(calls_of(node)):
            if callee == start:
                return [*path, start]
            if callee not in seen:
                seen.add(callee)
                stack.append((callee, [*path, callee]))
    return None


def _calls(root) -> tuple[set[str], dict[str, set[str]]]:
    """What a BPMN file calls: every process its call activities and decision its business rule tasks
    name; and, by process, the processes that process's call activities call."""
    called = {c.get("calledElement") for c in root.xpath("//bpmn:callActivity", namespaces=NS)}
    called |= {(d.text or "").strip() for d in root.xpath(
        "//bpmn:businessRuleTask/bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS)}
    calls = {p.get("id"): {c.get("calledElement") for c in p.xpath(".//bpmn:callActivity", namespaces=NS)}
             for p in root.xpath("//bpmn:process", namespaces=NS)}
    return called, calls


def deployed_calls(definition: ProcessDefinition) -> tuple[set[str], set[str]]:
    """What a deployed version calls itself, outside its own file: (what its file calls — the keys its
    ``dependencies`` pin directly; they also hold what those call in turn —, what its own process's call
    activities call)."""
    if not definition.dependencies:
        return set(), set()
    root = safe_xml(definition.xml.encode("utf-8"), definition.filename)
    if is_dmn(root):
        return set(), set()
    called, calls = _calls(root)
    own = {p.get("id") for p in root.xpath("//bpmn:process", namespaces=NS) if p.get("isExecutable", "true") == "true"}
    return called - own, calls.get(definition.key, set()) - own


def _owner_id(element) -> str:
    """The id of the nearest BPMN element that holds ``element`` (for the problem list)."""
    while element is not None and element.get("id") is None:
        element = element.getparent()
    return element.get("id") if element is not None else ""


def is_dmn(root) -> bool:
    return etree.QName(root).localname == "definitions" and DMN_MARK in (etree.QName(root).namespace or "").lower()


def build_parser(xml_documents: Iterable[tuple[bytes, str]]) -> SpiffBpmnParser:
    parser = SpiffBpmnParser()
    for raw, filename in xml_documents:
        root = safe_xml(raw, filename)
        if is_dmn(root):
            parser.add_dmn_xml(root, filename)
        else:
            parser.add_bpmn_xml(literal_timers(root), filename)
    return parser


def build_spec(parser: SpiffBpmnParser, root: etree._Element, key: str) -> tuple[Any, dict[str, Any]]:
    """The spec a case of the process ``key`` (of the file ``root``) runs, and the specs of its
    subprocesses: the process's own, or the collaboration's when ``key`` leads one (module docstring).

    SpiffWorkflow starts a participant that waits for a message when the message comes, connecting it
    to the collaboration's start and end on the first occasion — changing the spec, which every case of
    the version shares. Those connections are made here instead, except the one that would make the
    start run it with every case: the spec never changes, whichever case was first."""
    collaboration = _collaboration(root)
    if collaboration is None or key != _lead(root, collaboration[1]):
        return parser.get_spec(key), parser.get_subprocess_specs(key)
    spec, participants = parser.get_collaboration(collaboration[0])
    for name in spec.start.trigger_specs:
        participant = spec.task_specs[name]
        participant._connect_notify(spec.start)
        participant.connect(spec.end)
    return spec, participants


def _collaboration(root: etree._Element) -> tuple[str, list[str]] | None:
    """(id, executable participants' processes in the collaboration's order) of the file's collaboration
    when two or more of its participants are executable (SpiffWorkflow reads a file's first one)."""
    found = root.xpath("//bpmn:collaboration", namespaces=NS)
    if not found:
        return None
    executable = {p.get("id") for p in root.xpath("//bpmn:process", namespaces=NS)
                  if p.get("isExecutable", "true") == "true"}
    members = [ref for ref in found[0].xpath("./bpmn:participant/@processRef", namespaces=NS) if ref in executable]
    return (found[0].get("id"), members) if len(members) > 1 else None


def _lead(root: etree._Element, members: list[str]) -> str | None:
    """The collaboration's first participant whose process starts with a none or timer start event."""
    for pid in members:
        starts = root.xpath("//bpmn:process[@id=$pid]/bpmn:startEvent", namespaces=NS, pid=pid)
        if any(not start.xpath("./bpmn:*[contains(local-name(), 'EventDefinition')]", namespaces=NS)
               or start.xpath("./bpmn:timerEventDefinition", namespaces=NS) for start in starts):
            return str(pid)
    return None


# ISO 8601 as the BPMN standard and other modelers write timers: a duration (PT5M, P2D), a cycle
# (R3/PT1H) or a date-time (2026-12-01T09:00:00+08:00)
ISO_TIMER = re.compile(
    r"P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
    r"|R\d*/[0-9A-Z:+./-]+"
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def literal_timers(root: etree._Element) -> etree._Element:
    """Timer expressions written as bare ISO 8601 (``PT5M``, the standard's and Camunda's form) are
    literals, not names: quoted here, where every parse of a process passes, so that they validate
    and run instead of failing at run time as an unknown name. Other expressions stay as written."""
    for element in root.xpath("//bpmn:timerEventDefinition/*", namespaces=NS):
        text = (element.text or "").strip()
        if ISO_TIMER.fullmatch(text):
            element.text = repr(text)
    return root


def _content_hash(xml: bytes, forms: dict[str, str], dependency_hashes: list[str]) -> str:
    digest = hashlib.sha256(xml)
    for key, document in sorted(forms.items()):
        digest.update(f"\0form:{key}\0".encode())
        digest.update(document.encode())
    for dep in sorted(dependency_hashes):
        digest.update(dep.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Pin:
    """One deployed version as another refers to it: a version it pins, or a caller that pins it."""

    key: str
    version: int
    definition_id: int

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


@dataclass
class DeployResult:
    key: str
    version: int
    created: bool
    definition_id: int
    # a version of a deployed process that none of the deploy's files holds, created because a process it
    # calls got a new version: the called versions it pins instead of its previous version's (see Deployer)
    repinned: tuple[Pin, ...] = ()

    def __str__(self) -> str:
        """How the CLI and the designer name it: 'caller v3 (re-pinned: called v2)'."""
        if self.repinned:
            return f"{self.key} v{self.version} (re-pinned: {', '.join(str(pin) for pin in self.repinned)})"
        return f"{self.key} v{self.version} {'deployed' if self.created else 'unchanged'}"


class Deployer:
    """Validates files and deploys them as versions (see the module docstring).

    Versions without surprise: a version pins the versions of what it calls, so a changed called process
    reaches its callers only through new versions of them. When a deploy creates a new version of a
    process (or DMN table) that deployed processes call (their latest versions: older ones are history),
    the same deploy — in the same transaction — creates a new version of each such caller that pins the
    new version, and so on up the chain (A calls B calls C: deploying C re-pins B, then A to the new B).
    A re-pinned version is the caller's latest version with only its pins changed: the same XML, the same
    forms (as deployed with it: deploying a called process does not bring in a form edited since), the same
    startableBy; its other pins stay as they were. Its content hash covers the new pins, as for any version.
    Callers whose latest version already pins the new version (those in the deploy's own files) are left
    alone; a deploy that creates nothing re-pins nothing. Running cases keep the version they started on,
    and so the versions it pins. The results list each re-pinned caller with the called versions it now
    pins, after the files' own.

    The rules a caller had to meet hold for the re-pinned one: a caller that users start may be re-pinned
    only to a called version the same roles may start (checked with the files, so that validation says
    so), and the re-pinned version must parse with the versions it now pins, or nothing is deployed."""

    def __init__(self, validator: DefinitionValidator):
        self.validator = validator

    def with_forms(self, documents: dict[str, str]) -> Deployer:
        """A deployer that reads ``documents`` (form key → form-js JSON: a studio draft's forms) before
        the forms under ``forms/``."""
        validator = copy.copy(self.validator)
        validator.forms = DraftForms(self.validator.forms, documents)
        return Deployer(validator)

    def validate_files(self, files: list[tuple[bytes, str]], session: Session | None = None) -> list[Problem]:
        try:
            self._prepare(files, session)
        except DefinitionInvalid as invalid:
            return invalid.problems
        return []

    def _prepare(self, files: list[tuple[bytes, str]], session: Session | None) -> list[ParsedFile]:
        problems: list[Problem] = []
        parsed_files: list[ParsedFile] = []
        for raw, filename in files:
            try:
                parsed, found = self.validator.parse(raw, filename)
            except DefinitionInvalid as invalid:
                problems += invalid.problems
                continue
            problems += found
            parsed_files.append(parsed)
        provided = {pid: pf for pf in parsed_files for pid in pf.process_ids}
        for pf in parsed_files:
            missing = [c for c in pf.called if c not in pf.process_ids and c not in provided
                       and (session is None or latest_definition(session, c) is None)]
            for called in missing:
                problems.append(Problem(pf.filename, called, f"调用的流程 {called} 未部署也不在本次文件中"))
            problems += _call_problems(pf, provided, session)
        problems += _caller_problems(provided, session)
        problems += _recursion_problems(parsed_files, provided, session)
        problems += [problem for pf in parsed_files
                     for problem in _condition_problems(pf, provided, session, self.validator.forms)]
        if not problems:
            problems += self._spiff_parse(parsed_files, provided, session)
        if problems:
            raise DefinitionInvalid(problems)
        return parsed_files

    def _spiff_parse(self, parsed_files, provided, session) -> list[Problem]:
        problems = []
        for pf in parsed_files:
            documents = [(pf.xml, pf.filename)]
            # what it calls, and what those call in turn (a called process's DMN table …): from this
            # deploy's files where they are among them, else as deployed
            pending, seen = sorted(pf.called - set(pf.process_ids)), {pf.filename}
            while pending:
                called = pending.pop()
                if called in provided:
                    owner = provided[called]
                    if owner.filename not in seen:
                        seen.add(owner.filename)
                        documents.append((owner.xml, owner.filename))
                        pending += sorted(owner.called - set(owner.process_ids))
                elif session is not None:
                    latest = latest_definition(session, called)
                    if latest is None:  # _prepare has refused the file already
                        raise NotFound(f"调用的流程 {called} 未部署")
                    for definition in definition_closure(session, latest):
                        if definition.filename not in seen:
                            seen.add(definition.filename)
                            documents.append((definition.xml.encode(), definition.filename))
            try:
                parser = build_parser(documents)
                if is_dmn(pf.root):
                    for decision in pf.process_ids:
                        parser.get_engine(decision, pf.root)
                    continue
                for pid in pf.process_ids:
                    build_spec(parser, pf.root, pid)
            except ValidationException as error:
                problems.append(Problem(pf.filename, getattr(error, "id", ""), str(error).splitlines()[0]))
            except Exception as error:  # SpiffWorkflow raises plain exceptions for some bad files
                problems.append(Problem(pf.filename, "", f"无法解析流程：{error}"))
        return problems

    def deploy(self, session: Session, files: list[tuple[bytes, str]], user: str) -> list[DeployResult]:
        """Validate all files, then deploy in dependency order. Raises DefinitionInvalid."""
        parsed_files = self._prepare(files, session)
        by_process = {pid: pf for pf in parsed_files for pid in pf.process_ids}
        results: dict[str, DeployResult] = {}

        def deploy_process(pid: str, trail: tuple[str, ...] = ()) -> DeployResult:
            if pid in results:
                return results[pid]
            if pid in trail:
                raise DefinitionInvalid([Problem(by_process[pid].filename, pid, "流程之间存在循环调用")])
            pf = by_process[pid]
            dependencies: dict[str, int] = {}
            dep_hashes: list[str] = []
            for called in sorted(pf.called - set(pf.process_ids)):
                if called in by_process:
                    dep = session.get(ProcessDefinition, deploy_process(called, (*trail, pid)).definition_id)
                else:
                    dep = latest_definition(session, called)
                if dep is None:  # _prepare has refused the file already
                    raise NotFound(f"调用的流程 {called} 未部署")
                dependencies[called] = dep.id
                dep_hashes.append(dep.content_hash)
                for nested_key, nested_id in dep.dependencies.items():
                    dependencies.setdefault(nested_key, nested_id)
            forms = {key: self.validator.forms.document(key) for key in sorted(pf.form_keys)}
            content_hash = _content_hash(pf.xml, forms, dep_hashes)
            latest = latest_definition(session, pid)
            if latest is not None and latest.content_hash == content_hash:
                result = DeployResult(pid, latest.version, False, latest.id)
            else:
                definition = ProcessDefinition(
                    key=pid, name=pf.names.get(pid, pid)[:200], version=(latest.version + 1) if latest else 1,
                    content_hash=content_hash, filename=Path(pf.filename).name, xml=pf.xml.decode("utf-8"),
                    dependencies=dependencies, startable_by=pf.startable_by.get(pid, []), forms=forms,
                    deployed_at=utcnow(), deployed_by=user,
                )
                session.add(definition)
                session.flush()
                result = DeployResult(pid, definition.version, True, definition.id)
            results[pid] = result
            return result

        for pid in by_process:
            deploy_process(pid)
        self._repin_callers(session, results, user)
        return list(results.values())

    @staticmethod
    def _repin_callers(session: Session, results: dict[str, DeployResult], user: str) -> None:
        """New versions of the deployed processes that call, directly or through others, a process this
        deploy gave a new version, pinned to it (see the class docstring); added to ``results``."""
        new_ids = {r.key: r.definition_id for r in results.values() if r.created}
        if not new_ids:
            return
        latest = {d.key: d for d in list_definitions(session) if d.key not in results and d.dependencies}
        callees = {key: deployed_calls(definition)[0] for key, definition in latest.items()}
        affected: set[str] = set()
        frontier = set(new_ids)
        while frontier:  # the callers of what changed, then their callers …
            frontier = {key for key, called in callees.items() if key not in affected and called & frontier}
            affected |= frontier
        done: dict[str, ProcessDefinition | None] = {}

        def repin(key: str, trail: tuple[str, ...] = ()) -> ProcessDefinition | None:
            if key in done:
                return done[key]
            before = latest[key]
            if key in trail:
                raise DefinitionInvalid([Problem(before.filename, key, "流程之间存在循环调用")])
            dependencies: dict[str, int] = {}
            dep_hashes: list[str] = []
            moved: list[Pin] = []
            for called in sorted(callees[key]):
                dep = session.get(ProcessDefinition, new_ids[called]) if called in new_ids else \
                    repin(called, (*trail, key)) if called in affected else None
                if dep is None:  # not changed by this deploy: the version it pinned
                    pinned = before.dependencies.get(called)
                    dep = session.get(ProcessDefinition, pinned) if pinned is not None else None
                    if dep is None:
                        dep = latest_definition(session, called)
                    if dep is None:  # a deployed version is never deleted
                        raise NotFound(f"调用的流程 {called} 未部署")
                if dep.id != before.dependencies.get(called):
                    moved.append(Pin(dep.key, dep.version, dep.id))
                dependencies[called] = dep.id
                dep_hashes.append(dep.content_hash)
                for nested_key, nested_id in dep.dependencies.items():
                    dependencies.setdefault(nested_key, nested_id)
            forms = dict(before.forms or {})
            content_hash = _content_hash(before.xml.encode("utf-8"), forms, dep_hashes)
            if not moved or content_hash == before.content_hash:
                done[key] = None
                return None
            definition = ProcessDefinition(
                key=key, name=before.name, version=before.version + 1, content_hash=content_hash,
                filename=before.filename, xml=before.xml, dependencies=dependencies,
                startable_by=list(before.startable_by or []), forms=forms, deployed_at=utcnow(), deployed_by=user,
            )
            session.add(definition)
            session.flush()
            results[key] = DeployResult(key, definition.version, True, definition.id, tuple(moved))
            done[key] = definition
            return definition

        for key in sorted(affected):
            repin(key)
        problems = []
        for key in sorted(affected):
            definition = done.get(key)
            if definition is None:
                continue
            try:
                parser = build_parser((d.xml.encode("utf-8"), d.filename)
                                      for d in definition_closure(session, definition))
                build_spec(parser, safe_xml(definition.xml.encode("utf-8"), definition.filename), key)
            except Exception as error:  # ValidationException, or the plain exceptions SpiffWorkflow raises
                problems.append(Problem(definition.filename, key, f"调用方 {key} 改为调用新版本后无法解析："
                                                                 f"{str(error).splitlines()[0]}"))
        if problems:
            raise DefinitionInvalid(problems)


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc()).limit(1)
    ).first()


def definition_closure(session: Session, definition: ProcessDefinition) -> list[ProcessDefinition]:
    """The definition followed by every definition it pins (transitively)."""
    result = [definition]
    for dep_id in sorted(set(definition.dependencies.values())):
        dependency = session.get(ProcessDefinition, dep_id)
        if dependency is None:  # a deployed version is never deleted
            raise NotFound("流程定义不存在")
        result.append(dependency)
    return result


def list_definitions(session: Session) -> list[ProcessDefinition]:
    """The newest version of each deployed process, by key. The XML and the forms are loaded only when
    read: most pages want the names (the inbox's process filter on every page view)."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    return list(session.scalars(
        select(ProcessDefinition).join(newest, (ProcessDefinition.key == newest.c.key)
                                       & (ProcessDefinition.version == newest.c.version))
        .options(defer(ProcessDefinition.xml), defer(ProcessDefinition.forms))
        .order_by(ProcessDefinition.key)
    ))


@dataclass
class VersionLinks:
    """How deployed versions refer to each other: by definition id, the versions it pins (what its cases
    call, directly or through others) and the versions that pin it (its callers), each sorted by key and
    version."""

    pins: dict[int, list[Pin]] = field(default_factory=dict)
    called_by: dict[int, list[Pin]] = field(default_factory=dict)


def version_links(session: Session) -> VersionLinks:
    rows = session.execute(select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version,
                                  ProcessDefinition.dependencies)).all()
    versions = {row.id: Pin(row.key, row.version, row.id) for row in rows}
    links = VersionLinks()
    for row in rows:
        caller = versions[row.id]
        for pinned_id in sorted(set((row.dependencies or {}).values())):
            if pinned_id in versions:
                links.pins.setdefault(row.id, []).append(versions[pinned_id])
                links.called_by.setdefault(pinned_id, []).append(caller)
    for found in (*links.pins.values(), *links.called_by.values()):
        found.sort(key=lambda pin: (pin.key, pin.version))
    return links


def files_under(paths: Iterable[Path]) -> list[tuple[bytes, str]]:
    files = []
    for path in paths:
        path = Path(path)
        candidates = sorted([*path.rglob("*.bpmn"), *path.rglob("*.dmn")]) if path.is_dir() else [path]
        files += [(candidate.read_bytes(), str(candidate)) for candidate in candidates]
    return files
