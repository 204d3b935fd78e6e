"""Dialect import: BPMN models saved by Camunda 7 Modeler, Flowable or Activiti, translated into
Banjian's own dialect before validation (issue 18).

``DefinitionValidator.parse`` calls :func:`translate` on every BPMN file that carries attributes or
extension elements of ``http://camunda.org/schema/1.0/bpmn``, ``http://flowable.org/bpmn`` or
``http://activiti.org/bpmn``; ``banjian validate``/``deploy`` and the designer's upload therefore
accept such files, and what is deployed (and hashed) is the translated XML. A file in none of
these dialects is left exactly as it is. What maps to what:

=============================================  ===============================================
theirs                                          Banjian
=============================================  ===============================================
``candidateGroups`` on a user task              the task's role: a group that is a role key
                                                (``reviewer``) or a role's Chinese name (审核人员),
                                                else ``groups`` of the mapping file; the lane when
                                                the task sits in a lane of that role, else the
                                                step property ``role``. Groups naming two roles,
                                                or none, are problems.
lane named by a group / role name               renamed to the role key; a lane that names no role
                                                is dropped when each of its tasks names its role
                                                itself, else a problem
``assignee="${expr}"``                          step property ``assignee`` = the translated
                                                expression (evaluated to a username)
``assignee="zhang"``, one ``candidateUsers``    ``assignee`` = ``'zhang'`` (or ``users`` of the
                                                mapping file); several candidate users: a problem
``initiator="x"`` on the start event            process property ``initiator``: the engine puts
                                                the starter's username into variable ``x``
``candidateStarterGroups`` on the process       ``startableBy`` (groups mapped as above)
``formKey`` / ``formRef``                       ``formKey``: ``forms`` of the mapping file, else
                                                the key's file name (``embedded:app:forms/a.html``
                                                → ``a``) when that form exists; otherwise a form-js
                                                skeleton ``<key>.json`` is written next to the
                                                model (never over an existing file) and reported
``${…}`` / ``#{…}`` conditions, timers,         the restricted expression language (JUEL subset
assignee, ``loopCardinality``                   below); anything else is refused naming the
                                                expression and the element
ISO 8601 ``timeDuration``/``timeDate``/         unchanged: ``definitions.literal_timers`` quotes
``timeCycle`` (``PT5M``, ``R3/PT1H``, dates)    them at every parse
``decisionRef`` on a business rule task         ``spiffworkflow:calledDecisionId``
``class``/``expression``/``delegateExpression`` ``spiffworkflow:serviceTaskOperator`` via
/``flowable:type``/external ``topic``           ``operators`` of the mapping file (keyed by the
on a service task                               class name, the expression text as written, the
                                                type, or ``external:<topic>``); else a problem
manual and untyped tasks                        unchanged: completable by their role (lane)
listeners, ``inputOutput``, ``in``/``out``,     refused, naming the element: they change what a
connectors, non-Python scripts                  case does and the engine would ignore them
=============================================  ===============================================

The JUEL/UEL subset: ``${a > 1000}``, ``==``/``!=``/``<``/``>``/``<=``/``>=`` and ``eq ne lt gt
le ge``, ``&&``/``||``/``!`` and ``and``/``or``/``not``, ``empty x`` / ``not empty x`` (``x in (None,
'', [], {})``), ``+ - * / %``/``div``/``mod``, ``c ? a : b``, string and number literals,
``true``/``false``/``null``, variable paths ``a.b`` / ``a[0]`` (``a['b']``). Method calls,
``execution``, ``task`` and other engine objects, and text mixing literal text with ``${…}`` are
refused. A condition without ``${`` is taken as already written in Banjian's language.

The mapping file is ``processes/dialect_mapping.json`` (``Settings.processes_dir``), edited by the
process designer beside the BPMN files and read at every validation, so a changed mapping is a
changed translation (a new version on deploy)::

    {"groups": {"management": "approver"}, "users": {"demo": "reviewer"},
     "forms": {"embedded:app:forms/approve.html": "leave_approval"},
     "operators": {"org.example.SendMail": "notifications.send"},
     "defaultRole": "reviewer"}

``defaultRole`` is the role of human tasks that name no group and sit in no role lane (a task
assigned to ``${initiator}``); without it such a task is a problem. DMN files exported by Camunda
keep FEEL's ``true``/``false``/``null`` entries, translated to ``True``/``False``/``None``.
"""
from __future__ import annotations

import ast
import json
import keyword
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DIALECTS = {"http://camunda.org/schema/1.0/bpmn": "Camunda", "http://flowable.org/bpmn": "Flowable",
            "http://activiti.org/bpmn": "Activiti"}
CAMUNDA_DMN = "http://camunda.org/schema/1.0/dmn"
MAPPING_FILE = "dialect_mapping.json"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
HUMAN_TASKS = ("userTask", "manualTask", "task")
# vendor attributes that change nothing a Banjian case does (engine tuning, modeler bookkeeping)
HARMLESS = {"versionTag", "historyTimeToLive", "isStartableInTasklist", "asyncBefore", "asyncAfter", "async",
            "exclusive", "jobPriority", "taskPriority", "priority", "modelerTemplate", "modelerTemplateVersion",
            "formFieldValidation", "formRefBinding", "formRefVersion", "resultVariable", "mapDecisionResult",
            "decisionRefBinding", "decisionRefVersion", "calledElementBinding", "isForCompensation",
            "skipExpression", "formHandlerClass", "diagramRelationId", "exporter", "exporterVersion"}
ENGINE_OBJECTS = {"execution", "task", "delegateTask", "caseExecution", "externalTask", "connector",
                  "authenticatedUserId", "variables", "camunda", "flowable", "activiti", "runtimeService",
                  "taskService", "processEngine"}


@dataclass(frozen=True)
class Note:
    element_id: str
    message: str


@dataclass
class DialectMapping:
    """``processes/dialect_mapping.json`` (see the module docstring)."""

    groups: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)
    operators: dict[str, str] = field(default_factory=dict)
    default_role: str = ""

    @classmethod
    def load(cls, path: Path | None) -> DialectMapping:
        if path is None or not Path(path).is_file():
            return cls()
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError(f"{path}: 映射文件应为 JSON 对象")
        tables = {name: {str(k): str(v) for k, v in (document.get(name) or {}).items()}
                  for name in ("groups", "users", "forms", "operators")}
        return cls(**tables, default_role=str(document.get("defaultRole") or ""))


@dataclass
class Translation:
    dialect: str
    root: Any
    notes: list[Note] = field(default_factory=list)
    problems: list[Note] = field(default_factory=list)
    skeletons: dict[str, str] = field(default_factory=dict)  # form key → form-js JSON written for the designer

    @property
    def xml(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")


class Refused(Exception):
    """A JUEL expression outside the supported subset (the message says what)."""


# ------------------------------------------------------------------ JUEL → restricted expressions
_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
                    |(?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%().\[\]?:])|(?P<name>[A-Za-z_][\w]*))""", re.VERBOSE)
_WORD_OPS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "and": "&&", "or": "||",
             "not": "!", "div": "/", "mod": "%"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_WHOLE = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.DOTALL)


def is_juel(text: str) -> bool:
    return "${" in text or "#{" in text


def juel(text: str) -> str:
    """``${a > 1000 && b eq 'x'}`` → ``((a > 1000) and (b == 'x'))``; raises Refused."""
    whole = _WHOLE.match(text)
    if not whole or is_juel(whole.group(1)):
        raise Refused(f"只支持整段的 ${{…}} 表达式，不支持文字与表达式混写：{text.strip()}")
    return _Parser(whole.group(1), text.strip()).parse()


def juel_names(text: str) -> list[str]:
    """The variables a JUEL expression reads (first segment of each path), in order, once each."""
    parser = _parsed(text)
    return list(dict.fromkeys(parser.names)) if parser else []


def _parsed(text: str) -> _Parser | None:
    """A whole ``${…}`` expression parsed, or None when it is none or outside the subset."""
    whole = _WHOLE.match(text)
    if whole is None:
        return None
    parser = _Parser(whole.group(1), text)
    try:
        parser.parse()
    except Refused:
        return None
    return parser


class _Parser:
    def __init__(self, source: str, shown: str):
        self.shown = shown
        self.tokens: list[tuple[str, str]] = []
        self.names: list[str] = []
        self.comparisons: list[tuple[str, str]] = []  # (variable, python literal) compared with each other
        position = 0
        while position < len(source):
            if not source[position:].strip():
                break
            match = _TOKEN.match(source, position)
            if not match or match.end() == position:
                raise Refused(f"无法识别的表达式：{shown}")
            kind = match.lastgroup or ""
            value = match.group(kind)
            if kind == "name" and value in _WORD_OPS:
                kind, value = "op", _WORD_OPS[value]
            elif kind == "name" and value == "empty":
                kind = "op"
            self.tokens.append((kind, value))
            position = match.end()
        self.at = 0

    def parse(self) -> str:
        if not self.tokens:
            raise Refused(f"表达式为空：{self.shown}")
        result = self._ternary()
        if self.at != len(self.tokens):
            raise Refused(f"无法识别的表达式（{self.tokens[self.at][1]} 处）：{self.shown}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) and self.tokens[self.at][0] == "op" else None

    def _take(self) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise Refused(f"表达式不完整：{self.shown}")
        self.at += 1
        return self.tokens[self.at - 1]

    def _expect(self, op: str) -> None:
        if self._peek() != op:
            raise Refused(f"表达式缺少 {op}：{self.shown}")
        self.at += 1

    def _ternary(self) -> str:
        condition = self._binary(0)
        if self._peek() == "?":
            self.at += 1
            then = self._ternary()
            self._expect(":")
            return f"({then} if {condition} else {self._ternary()})"
        return condition

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))
    _PYTHON = {"||": "or", "&&": "and"}

    def _binary(self, level: int) -> str:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while self._peek() in self._LEVELS[level]:
            op = self._take()[1]
            right = self._binary(level + 1)
            if level in (2, 3):  # ==, != / <, >, <=, >=
                for variable, literal in ((left, right), (right, left)):
                    if variable.isidentifier() and not literal.isidentifier():
                        self.comparisons.append((variable, literal))
            left = f"({left} {self._PYTHON.get(op, op)} {right})"
        return left

    def _unary(self) -> str:
        op = self._peek()
        if op == "!":
            self.at += 1
            return f"(not {self._unary()})"
        if op == "empty":
            self.at += 1
            return f"({self._unary()} in (None, '', [], {{}}))"
        if op == "-":
            self.at += 1
            return f"(-{self._unary()})"
        return self._primary()

    def _primary(self) -> str:
        kind, value = self._take()
        if kind == "num":
            return value
        if kind == "str":
            return repr(re.sub(r"\\(.)", r"\1", value[1:-1]))
        if kind == "op" and value == "(":
            inner = self._ternary()
            self._expect(")")
            return f"({inner})"
        if kind != "name":
            raise Refused(f"无法识别的表达式（{value} 处）：{self.shown}")
        if value in _LITERALS:
            return _LITERALS[value]
        if value in ENGINE_OBJECTS:
            raise Refused(f"不支持引用引擎对象 {value}：{self.shown}")
        if keyword.iskeyword(value) or value == "dmninputexpr":
            raise Refused(f"变量名 {value} 不可用：{self.shown}")
        if self._peek() == "(":
            raise Refused(f"不支持方法或函数调用 {value}(…)：{self.shown}")
        self.names.append(value)
        path = value
        while self._peek() in (".", "["):
            if self._take()[1] == ".":
                kind, member = self._take()
                if kind != "name":
                    raise Refused(f"无法识别的表达式：{self.shown}")
                if self._peek() == "(":
                    raise Refused(f"不支持方法调用 .{member}(…)：{self.shown}")
                path += f"[{member!r}]"
            else:
                index = self._ternary()
                self._expect("]")
                path += f"[{index}]"
        return path


# ------------------------------------------------------------------ detection
def detect(root) -> set[str]:
    """The vendor namespaces a BPMN document declares or uses (attributes, extension elements)."""
    found = {namespace for namespace in root.nsmap.values() if namespace in DIALECTS}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        namespace = etree.QName(element).namespace
        if namespace in DIALECTS:
            found.add(namespace)
        for name in element.attrib:
            if name.startswith("{") and (namespace := name[1:].split("}")[0]) in DIALECTS:
                found.add(namespace)
    return found


def _vendor(element, name: str, namespaces: Iterable[str]) -> str | None:
    for namespace in namespaces:
        value = element.get(f"{{{namespace}}}{name}")
        if value is not None:
            return value
    return None


# ------------------------------------------------------------------ translation
class _Translator:
    def __init__(self, root, namespaces: set[str], roles: Mapping[str, str], mapping: DialectMapping,
                 form_exists: Callable[[str], bool]):
        self.root = root
        self.namespaces = sorted(namespaces)
        self.roles = roles
        self.by_name = {name: key for key, name in roles.items() if name}
        self.mapping = mapping
        self.form_exists = form_exists
        self.result = Translation(dialect="/".join(sorted(DIALECTS[n] for n in namespaces)), root=root)
        self.condition_names: list[str] = []
        self.literals: dict[str, list[str]] = {}  # variable → the literals conditions compare it with

    def attr(self, element, name: str) -> str | None:
        return _vendor(element, name, self.namespaces)

    def problem(self, element, message: str) -> None:
        self.result.problems.append(Note(_element_id(element), message))

    def note(self, element, message: str) -> None:
        self.result.notes.append(Note(_element_id(element), message))

    def role_of(self, group: str) -> str | None:
        group = group.strip()
        if group in self.roles:
            return group
        if group in self.by_name:
            return self.by_name[group]
        mapped = self.mapping.groups.get(group)
        return mapped if mapped in self.roles else None

    def expression(self, element, text: str, what: str) -> str | None:
        try:
            return juel(text)
        except Refused as refused:
            self.problem(element, f"{what}无法转换：{refused}")
            return None

    def run(self) -> Translation:
        for flow_condition in self.root.xpath("//bpmn:conditionExpression | //bpmn:condition", namespaces=NS):
            self.condition(flow_condition)
        for timer in self.root.xpath("//bpmn:timerEventDefinition/* | //bpmn:loopCardinality"
                                     " | //bpmn:completionCondition", namespaces=NS):
            if is_juel(timer.text or ""):
                timer.text = self.expression(timer, timer.text or "", "表达式") or timer.text
        for process in self.root.xpath("//bpmn:process", namespaces=NS):
            self.process(process)
        for task in self.root.xpath("//bpmn:serviceTask | //bpmn:sendTask", namespaces=NS):
            self.service_task(task)
        for task in self.root.xpath("//bpmn:businessRuleTask", namespaces=NS):
            self.rule_task(task)
        for task in self.root.xpath("//bpmn:scriptTask", namespaces=NS):
            language = (task.get("scriptFormat") or "python").lower()
            if language not in ("python", "python3") or self.attr(task, "resource"):
                self.problem(task, f"脚本任务的脚本语言 {language} 不受支持：请改写为 Python 脚本")
        self.leftovers()
        return self.result

    def condition(self, element) -> None:
        text = element.text or ""
        language = (element.get("language") or "").lower()
        if language and language not in ("juel", "python", "${language}"):
            self.problem(element, f"条件的语言 {language} 不受支持：{text.strip()}")
            return
        if not is_juel(text):
            return
        translated = self.expression(element, text, "条件")
        if translated is not None:
            element.text = translated
            self.condition_names += juel_names(text)
            for variable, literal in _comparisons(text):
                self.literals.setdefault(variable, []).append(literal)

    def process(self, process) -> None:
        lanes = {}
        for lane in process.xpath(".//bpmn:lane", namespaces=NS):
            for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS):
                lanes[(ref.text or "").strip()] = lane
        starters = self.attr(process, "candidateStarterGroups")
        if starters:
            roles = [self.role_of(group) for group in starters.split(",") if group.strip()]
            unknown = [g.strip() for g, r in zip(starters.split(","), roles, strict=False) if g.strip() and r is None]
            if unknown:
                self.problem(process, f"发起组 {'、'.join(unknown)} 不是 Banjian 角色，"
                                      f"也不在 {MAPPING_FILE} 的 groups 中")
            known = [r for r in roles if r]
            if known and "startableBy" not in _properties(process):
                _set_property(process, "startableBy", ",".join(dict.fromkeys(known)))
        for start in process.xpath("./bpmn:startEvent", namespaces=NS):
            initiator = self.attr(start, "initiator")
            if initiator:
                if not initiator.isidentifier() or keyword.iskeyword(initiator):
                    self.problem(start, f"initiator 变量名 {initiator} 不可用")
                else:
                    _set_property(process, "initiator", initiator)
            if self.attr(start, "formKey") or self.attr(start, "formRef"):
                self.note(start, "发起表单未转换：请为开始事件设置 formKey 属性（Banjian 表单）")
        task_roles: dict[str, str] = {}
        tasks = [t for tag in HUMAN_TASKS for t in process.xpath(f".//bpmn:{tag}", namespaces=NS)]
        for task in tasks:
            role = self.human_task(process, task)
            if role:
                task_roles[task.get("id")] = role
        for lane in process.xpath(".//bpmn:lane", namespaces=NS):
            self.lane(lane, task_roles)
        for task in tasks:
            role = task_roles.get(task.get("id"))
            lane = lanes.get(task.get("id"))
            if role and (lane is None or lane.getparent() is None or lane.get("name") != role):
                if "role" not in _properties(task):
                    _set_property(task, "role", role)
            elif not role and (lane is None or lane.getparent() is None):
                if self.mapping.default_role in self.roles:
                    _set_property(task, "role", self.mapping.default_role)
                    self.note(task, f"任务没有候选组，按 defaultRole 由 {self.mapping.default_role} 办理")
                else:
                    self.problem(task, f"任务没有候选组（candidateGroups），也不在角色泳道中：请在 {MAPPING_FILE} "
                                       "中设置 defaultRole，或为任务指定候选组")

    def lane(self, lane, task_roles: dict[str, str]) -> None:
        name = (lane.get("name") or "").strip()
        if name in self.roles:
            return
        role = self.role_of(name) if name else None
        if role:
            lane.set("name", role)
            self.note(lane, f"泳道 {name} 对应角色 {role}")
            return
        refs = [(ref.text or "").strip() for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS)]
        humans = [ref for ref in refs if self.root.xpath(
            " | ".join(f"//bpmn:{tag}[@id=$id]" for tag in HUMAN_TASKS), namespaces=NS, id=ref)]
        if all(ref in task_roles for ref in humans):
            lane.getparent().remove(lane)
            self.note(lane, f"泳道 {name!r} 不是角色，已移除：其中的任务按候选组分派")
        else:
            self.problem(lane, f"泳道 {name!r} 不是 Banjian 角色，也不在 {MAPPING_FILE} 的 groups 中")

    def human_task(self, process, task) -> str | None:
        role = None
        groups = [g.strip() for g in (self.attr(task, "candidateGroups") or "").split(",") if g.strip()]
        if groups:
            refused = [g for g in groups if is_juel(g)]
            if refused:
                self.problem(task, f"候选组表达式 {refused[0]} 不受支持：请写角色或映射中的组名")
            mapped = {g: self.role_of(g) for g in groups if not is_juel(g)}
            for group, found in mapped.items():
                if found is None:
                    self.problem(task, f"候选组 {group} 不是 Banjian 角色，也不在 {MAPPING_FILE} 的 groups 中")
            distinct = sorted({r for r in mapped.values() if r})
            if len(distinct) > 1:
                self.problem(task, f"候选组对应多个角色（{'、'.join(distinct)}）：每个环节只能由一个角色办理")
            elif distinct:
                role = distinct[0]
        assignee = self.attr(task, "assignee")
        users = [u.strip() for u in (self.attr(task, "candidateUsers") or "").split(",") if u.strip()]
        if not assignee and len(users) > 1:
            self.problem(task, f"候选人（candidateUsers）有多个：{'、'.join(users)}，办件的环节只能指定一名办理人，"
                               "请改用候选组")
        elif not assignee and users:
            assignee = users[0]
        if assignee:
            if is_juel(assignee):
                expression = self.expression(task, assignee, "办理人表达式")
            else:
                expression = repr(self.mapping.users.get(assignee, assignee))
            if expression is not None and "assignee" not in _properties(task):
                _set_property(task, "assignee", expression)
        if etree.QName(task).localname == "userTask" and "formKey" not in _properties(task):
            self.form(process, task)
        return role

    def form(self, process, task) -> None:
        written = self.attr(task, "formKey") or self.attr(task, "formRef") or ""
        key = self.mapping.forms.get(written, "")
        if not key and written:
            candidate = re.sub(r"[^A-Za-z0-9_-]", "_", re.split(r"[/:]", written)[-1].rsplit(".", 1)[0])[:100]
            key = candidate if candidate and self.form_exists(candidate) else ""
            missing = candidate or f"{process.get('id')}_{task.get('id')}"
        else:
            missing = f"{process.get('id')}_{task.get('id')}"
        if key:
            _set_property(task, "formKey", key)
            return
        key = re.sub(r"[^A-Za-z0-9_-]", "_", missing)[:100]
        _set_property(task, "formKey", key)
        if not self.form_exists(key):
            self.result.skeletons[key] = json.dumps(self.skeleton(task, key), ensure_ascii=False, indent=2)
            self.problem(task, f"表单 {written or '（未指定）'} 没有对应的 Banjian 表单：已生成表单骨架 {key}.json，"
                               "请完善后放入 forms/")

    def skeleton(self, task, key: str) -> dict[str, Any]:
        """A form-js schema for the designer to finish: the fields the task declares itself (Camunda
        formData, Flowable formProperty), a field per variable the model's conditions read, and a
        radio for a variable that the gateway after the task compares with literals."""
        decisions: dict[str, list[str]] = {}
        for flow in task.xpath("//bpmn:sequenceFlow[@sourceRef=$id]", namespaces=NS, id=task.get("id")):
            gateway = task.xpath("//bpmn:exclusiveGateway[@id=$id]", namespaces=NS, id=flow.get("targetRef"))
            for out in gateway[0].xpath("//bpmn:sequenceFlow[@sourceRef=$id]/bpmn:conditionExpression",
                                        namespaces=NS, id=gateway[0].get("id")) if gateway else []:
                original = out.get("{urn:banjian}juel") or ""
                for variable, literal in _comparisons(original):
                    decisions.setdefault(variable, []).append(literal)
        components: list[dict[str, Any]] = []
        declared = [(f.get("id"), f.get("label") or f.get("name") or f.get("id"))
                    for f in task.iter() if isinstance(f.tag, str) and etree.QName(f).localname
                    in ("formField", "formProperty") and f.get("id")]
        for name, label in [*declared, *((n, n) for n in self.condition_names)]:
            if any(c["key"] == name for c in components):
                continue
            values = decisions.get(name)
            if values and all(v.startswith(("'", '"')) for v in values):
                options = [ast.literal_eval(v) for v in dict.fromkeys(values)]
                components.append({"type": "radio", "key": name, "label": label, "validate": {"required": True},
                                   "values": [{"label": str(v), "value": v} for v in options]})
            elif any(v.replace(".", "", 1).isdigit() for v in self.literals.get(name, [])):
                components.append({"type": "number", "key": name, "label": label})
            else:
                components.append({"type": "textfield", "key": name, "label": label})
        return {"type": "default", "id": key, "title": task.get("name") or key, "schemaVersion": 16,
                "components": components}

    def service_task(self, task) -> None:
        if task.xpath("./bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS):
            return
        written = [(what, value) for what, value in (
            ("class", self.attr(task, "class")), ("expression", self.attr(task, "expression")),
            ("delegateExpression", self.attr(task, "delegateExpression")),
            ("type", None if self.attr(task, "type") == "external" else self.attr(task, "type")),
            ("topic", f"external:{self.attr(task, 'topic')}" if self.attr(task, "topic") else None)) if value]
        if not written:
            if etree.QName(task).localname == "serviceTask":
                self.problem(task, "服务任务没有实现（class、expression、delegateExpression 或 type），"
                                   "无法对应服务操作")
            return
        what, value = written[0]
        operator = self.mapping.operators.get(value)
        if operator is None:
            self.problem(task, f"服务任务的 {what} {value} 没有对应的服务操作：请在 {MAPPING_FILE} 的 operators 中指定")
            return
        if etree.QName(task).localname != "serviceTask":
            task.tag = f"{{{BPMN}}}serviceTask"
        extensions = _extensions(task)
        called = etree.SubElement(extensions, f"{{{SPIFF}}}serviceTaskOperator", id=operator)
        etree.SubElement(called, f"{{{SPIFF}}}parameters")
        self.note(task, f"服务任务的 {what} {value} 对应服务操作 {operator}")

    def rule_task(self, task) -> None:
        decision = self.attr(task, "decisionRef")
        if decision is None:
            if not task.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS):
                self.problem(task, "业务规则任务没有 decisionRef：只支持调用 DMN 决策表")
            return
        if is_juel(decision):
            self.problem(task, f"decisionRef 表达式 {decision} 不受支持：请写决策表 id")
            return
        called = etree.SubElement(_extensions(task), f"{{{SPIFF}}}calledDecisionId")
        called.text = decision
        result = self.attr(task, "resultVariable")
        if result:
            self.note(task, f"resultVariable {result} 已忽略：决策表的输出按输出列的 name 写入办件数据")

    def leftovers(self) -> None:
        """Vendor attributes and extension elements: translated ones and harmless ones are removed, the
        others refused (they would change what a case does, and the engine would ignore them)."""
        handled = {"candidateGroups", "candidateUsers", "assignee", "formKey", "formRef", "initiator",
                   "candidateStarterGroups", "class", "expression", "delegateExpression", "type", "topic",
                   "decisionRef", "dueDate", "followUpDate"}
        for element in list(self.root.iter()):
            if not isinstance(element.tag, str):
                continue
            for name in list(element.attrib):
                namespace, _, local = name[1:].partition("}") if name.startswith("{") else ("", "", name)
                if namespace not in DIALECTS:
                    continue
                if local not in handled | HARMLESS:
                    self.problem(element, f"不支持 {DIALECTS[namespace]} 属性 {local}=\"{element.get(name)}\"")
                elif local in ("dueDate", "followUpDate"):
                    self.note(element, f"{local} 已忽略：期限请用 dueIn 属性（如 “20 working days”）")
                del element.attrib[name]
            if etree.QName(element).namespace in DIALECTS and element.getparent() is not None:
                parent = element.getparent()
                local = etree.QName(element).localname
                if etree.QName(parent).namespace in DIALECTS:
                    continue  # removed with its parent
                owner = parent.getparent() if etree.QName(parent).localname == "extensionElements" else parent
                if local not in ("formData", "formProperty", "properties", "property"):
                    self.problem(owner, f"不支持 {DIALECTS[etree.QName(element).namespace]} 扩展 {local}"
                                        "（监听器、输入输出映射等）：请删除或改用 Banjian 的做法")
                parent.remove(element)
        for extensions in self.root.xpath("//bpmn:extensionElements[not(*)]", namespaces=NS):
            extensions.getparent().remove(extensions)


def _comparisons(text: str) -> list[tuple[str, str]]:
    parser = _parsed(text)
    return parser.comparisons if parser else []


def _element_id(element) -> str:
    while element is not None and element.get("id") is None:
        element = element.getparent()
    return element.get("id") if element is not None else ""


def _extensions(element):
    found = element.xpath("./bpmn:extensionElements", namespaces=NS)
    if found:
        return found[0]
    extensions = etree.Element(f"{{{BPMN}}}extensionElements")
    element.insert(1 if len(element) and etree.QName(element[0]).localname == "documentation" else 0, extensions)
    return extensions


def _properties(element) -> dict[str, str]:
    return {p.get("name"): p.get("value", "") for p in element.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)}


def _set_property(element, name: str, value: str) -> None:
    extensions = _extensions(element)
    found = extensions.xpath("./spiffworkflow:properties", namespaces=NS)
    properties = found[0] if found else etree.SubElement(extensions, f"{{{SPIFF}}}properties")
    etree.SubElement(properties, f"{{{SPIFF}}}property", name=name, value=value)


def translate(root, roles: Mapping[str, str], mapping: DialectMapping,
              form_exists: Callable[[str], bool]) -> Translation | None:
    """Translate a parsed BPMN document in place (see the module docstring); None when it uses none
    of the dialects. ``roles``: role key → Chinese name."""
    namespaces = detect(root)
    if not namespaces:
        return None
    for condition in root.xpath("//bpmn:conditionExpression", namespaces=NS):
        if is_juel(condition.text or ""):  # kept for the form skeleton's decision radio, removed below
            condition.set("{urn:banjian}juel", condition.text or "")
    translation = _Translator(root, namespaces, roles, mapping, form_exists).run()
    for condition in root.xpath("//bpmn:conditionExpression", namespaces=NS):
        condition.attrib.pop("{urn:banjian}juel", None)
    etree.cleanup_namespaces(root, top_nsmap={"spiffworkflow": SPIFF})
    return translation


def translate_dmn(root) -> bool:
    """FEEL's ``true``/``false``/``null`` entries of a DMN table exported by Camunda or Flowable →
    ``True``/``False``/``None``; True when something changed."""
    exporter = (root.get("exporter") or "").lower()
    if CAMUNDA_DMN not in root.nsmap.values() and not any(n in exporter for n in ("camunda", "flowable")):
        return False
    changed = False
    for text in root.iter("{*}text"):
        value = (text.text or "").strip()
        if value in _LITERALS:
            text.text = _LITERALS[value]
            changed = True
    return changed


def write_skeletons(translation: Translation, filename: str) -> list[Path]:
    """Write the translation's form skeletons next to the model file (when it is a file on disk),
    never over an existing file; the paths written."""
    model = Path(filename)
    if not model.is_file():
        return []
    written = []
    for key, document in translation.skeletons.items():
        path = model.parent / f"{key}.json"
        if not path.exists():
            path.write_text(document + "\n", encoding="utf-8")
            written.append(path)
    return written
