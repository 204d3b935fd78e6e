"""流程设计工作台 (the designer studio): processes, forms and decision tables edited in the browser.

A designer's work in progress is a **draft** (:class:`DesignDraft`): one BPMN file, the form-js forms its
steps name that the designer made or changed (form key → JSON), and any DMN files it brings. Drafts are
kept on the server per designer — nobody else reads or changes them — and each save is checked for what
can be checked without the rest (well-formed XML without entities, size limits, form keys and JSON) and
audited (``studio.save``: revision and content hash, not the content). The *rules* are the deployer's:
validating a draft runs exactly the validation an upload runs (engine.definitions.Deployer) with the
draft's forms in front of those under ``forms/`` (engine.forms.DraftForms), and returns each problem
with the element it concerns, which the studio marks on the diagram. Deploying a draft is deploying
those files (the same all-or-nothing deploy, re-pinning callers), open only to designers of 全国, and
audited (``studio.deploy``); the version stores the draft's forms, so ``forms/`` on disk never changes
from a browser.

A save names the revision it was based on: a save from an older window (two tabs, a double click) is
refused with 409 instead of silently overwriting the newer work.
"""
from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.actors import Actor
from engine.db import Base, utcnow
from engine.definitions import MAX_BPMN_BYTES, NS, DefinitionInvalid, Deployer, DeployResult, Problem, safe_xml
from engine.errors import Conflict, InvalidData, NotFound
from engine.forms import FORM_KEY, FormError, parse_form
from engine.models import ProcessDefinition
from engine.operators import OperatorRegistry
from services.platform import audit
from services.platform.design import require_deployer, require_designer

MAX_FORMS = 50
MAX_DECISIONS = 10
ACTIONS = {"studio.create": "新建流程草稿", "studio.save": "保存流程草稿", "studio.deploy": "从设计器部署流程",
           "studio.delete": "删除流程草稿"}
audit.ACTION_LABELS.update(ACTIONS)

BLANK_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="{key}_definitions" targetNamespace="http://banjian.gov.cn/bpmn">
  <bpmn:collaboration id="{key}_collaboration">
    <bpmn:participant id="{key}_participant" name="{name}" processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="{key}_lanes">
      <bpmn:lane id="{key}_lane_acceptor" name="acceptor">
        <bpmn:flowNodeRef>{key}_start</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="{key}_lane_approver" name="approver" />
    </bpmn:laneSet>
    <bpmn:startEvent id="{key}_start" name="发起" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{key}_diagram">
    <bpmndi:BPMNPlane id="{key}_plane" bpmnElement="{key}_collaboration">
      <bpmndi:BPMNShape id="{key}_participant_di" bpmnElement="{key}_participant" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="900" height="360" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{key}_lane_acceptor_di" bpmnElement="{key}_lane_acceptor" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="870" height="180" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{key}_lane_approver_di" bpmnElement="{key}_lane_approver" isHorizontal="true">
        <dc:Bounds x="150" y="240" width="870" height="180" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{key}_start_di" bpmnElement="{key}_start">
        <dc:Bounds x="202" y="132" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


class DesignDraft(Base):
    """A designer's process in progress (see the module docstring)."""

    __tablename__ = "design_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    bpmn: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # form key → form-js JSON text
    decisions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # file name (.dmn) → DMN XML
    base_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"), default=None)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def process_key(self) -> str:
        """The id of the draft's first executable process (what its file is named after)."""
        return draft_files(self.bpmn, {})[0][1].removesuffix(".bpmn")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def list_drafts(session: Session, actor: Actor) -> list[DesignDraft]:
    require_designer(actor)
    return list(session.scalars(select(DesignDraft).where(DesignDraft.owner == actor.username)
                                .order_by(DesignDraft.updated_at.desc(), DesignDraft.id.desc())))


def base_versions(session: Session, drafts: list[DesignDraft]) -> dict[int, str]:
    """The deployed version each draft was made from, as "key vN" (by definition id)."""
    ids = {d.base_definition_id for d in drafts if d.base_definition_id is not None}
    if not ids:
        return {}
    return {row.id: f"{row.key} v{row.version}" for row in session.execute(
        select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version)
        .where(ProcessDefinition.id.in_(ids)))}


def get_draft(session: Session, actor: Actor, draft_id: int) -> DesignDraft:
    """The actor's own draft; another designer's draft is as absent as a missing one."""
    require_designer(actor)
    draft = session.get(DesignDraft, draft_id)
    if draft is None or draft.owner != actor.username:
        raise NotFound("草稿不存在")
    return draft


PROCESS_KEY_HELP = "流程标识只能以字母开头，含字母、数字和下划线，至多 60 个字符"
NAME_HELP = "请填写流程名称（至多 100 个字符，不含 < > & 和引号）"


def create_draft(session: Session, actor: Actor, name: str, key: str = "",
                 from_definition_id: int | None = None) -> DesignDraft:
    """A new draft: a copy of a deployed version (its XML and the forms deployed with it), or a blank
    process with the key and name given: one pool, the lanes 受理人员 and 审批人员 and a start event to draw on from."""
    require_designer(actor)
    name = (name or "").strip()
    if from_definition_id is not None:
        definition = session.get(ProcessDefinition, from_definition_id)
        if definition is None or definition.filename.endswith(".dmn"):
            raise NotFound("流程定义不存在")
        draft = DesignDraft(owner=actor.username, name=name or f"{definition.name or definition.key}",
                            bpmn=definition.xml, forms=dict(definition.forms or {}), decisions={},
                            base_definition_id=definition.id)
    else:
        if not FORM_KEY.fullmatch(key or "") or not key[0].isalpha() or "-" in key or len(key) > 60:
            raise InvalidData(PROCESS_KEY_HELP, fields={"key": [PROCESS_KEY_HELP]})
        if not name or len(name) > 100 or any(ch in name for ch in "<>&\"'"):
            raise InvalidData(NAME_HELP, fields={"name": [NAME_HELP]})
        draft = DesignDraft(owner=actor.username, name=name, bpmn=BLANK_PROCESS.format(key=key, name=name),
                            forms={}, decisions={})
    session.add(draft)
    session.flush()
    audit.record(session, actor, "studio.create", "design_draft", draft.id, name=draft.name,
                 base_definition_id=draft.base_definition_id)
    return draft


@dataclass
class DraftContent:
    bpmn: str
    forms: dict[str, str]
    decisions: dict[str, str]
    name: str


def check_content(content: DraftContent) -> list[Problem]:
    """What a save refuses: files that are not what they claim, or too large. Incomplete processes are
    saved — a draft is work in progress; the validator judges them."""
    problems: list[Problem] = []
    if len(content.bpmn.encode("utf-8")) > MAX_BPMN_BYTES:
        problems.append(Problem("process.bpmn", "", "流程文件超过 2 MB 上限"))
    else:
        try:
            safe_xml(content.bpmn.encode("utf-8"), "process.bpmn")
        except DefinitionInvalid as invalid:
            problems += invalid.problems
    if len(content.forms) > MAX_FORMS:
        problems.append(Problem("", "", "一个草稿至多 %(count)s 个表单" % dict(count=MAX_FORMS)))
    for key, document in sorted(content.forms.items()):
        if not isinstance(document, str) or not FORM_KEY.fullmatch(key):
            problems.append(Problem(f"{key}.json", "", "非法的表单名称（只能含字母、数字、下划线和连字符）"))
            continue
        try:
            parse_form(key, document)
        except FormError as error:
            problems.append(Problem(f"{key}.json", "", str(error)))
    if len(content.decisions) > MAX_DECISIONS:
        problems.append(Problem("", "", "一个草稿至多 %(count)s 个决策表文件" % dict(count=MAX_DECISIONS)))
    for filename, xml in sorted(content.decisions.items()):
        if not filename.endswith(".dmn") or "/" in filename or "\\" in filename or len(filename) > 100:
            problems.append(Problem(filename[:100], "", "决策表文件名须以 .dmn 结尾，不含路径"))
            continue
        try:
            safe_xml(xml.encode("utf-8"), filename)
        except DefinitionInvalid as invalid:
            problems += invalid.problems
    if not content.name.strip() or len(content.name) > 200:
        problems.append(Problem("", "", "请填写草稿名称（至多 200 个字符）"))
    return problems


def save_draft(session: Session, deployer: Deployer, actor: Actor, draft_id: int, revision: int,
               content: DraftContent) -> DesignDraft:
    """Store the editor's content as the draft's next revision (see the module docstring). A model from
    Camunda, Flowable or Activiti whose forms are missing gets their form-js skeletons into the draft,
    for the designer to finish in the form editor (what an upload writes next to the file)."""
    draft = get_draft(session, actor, draft_id)
    if revision != draft.revision:
        raise Conflict("草稿已在别处保存过（第 %(now)s 版，您编辑的是第 %(yours)s 版）：请重新打开草稿再修改"
                       % dict(now=draft.revision, yours=revision))
    problems = check_content(content)
    if problems:
        raise DefinitionInvalid(problems)
    skeletons = deployer.with_forms(content.forms).validator.form_skeletons(content.bpmn.encode("utf-8"),
                                                                             "process.bpmn")
    content.forms = {**skeletons, **content.forms}
    changed_forms = sorted(key for key in set(content.forms) | set(draft.forms)
                           if content.forms.get(key) != draft.forms.get(key))
    draft.bpmn, draft.forms, draft.decisions = content.bpmn, dict(content.forms), dict(content.decisions)
    draft.name = content.name.strip()
    draft.revision += 1
    draft.updated_at = utcnow()
    audit.record(session, actor, "studio.save", "design_draft", draft.id, revision=draft.revision,
                 bpmn=_digest(content.bpmn), forms_changed=changed_forms, decisions=sorted(content.decisions))
    return draft


def draft_files(bpmn: str, decisions: dict[str, str]) -> list[tuple[bytes, str]]:
    """A draft as the deployer takes files: ``<process id>.bpmn`` and its DMN files."""
    root = safe_xml(bpmn.encode("utf-8"), "process.bpmn")
    found = root.xpath("//bpmn:process[not(@isExecutable) or @isExecutable='true']/@id", namespaces=NS)
    return [(bpmn.encode("utf-8"), f"{found[0] if found else 'process'}.bpmn")] + [
        (xml.encode("utf-8"), filename) for filename, xml in sorted(decisions.items())]


def validate_draft(session: Session, deployer: Deployer, actor: Actor, draft_id: int,
                   content: DraftContent | None = None) -> list[Problem]:
    """The problems the deployer finds in the draft as saved — or, for the editor's live validation, in
    ``content`` as the editor holds it, unsaved (nothing is stored). Empty: it would deploy."""
    draft = get_draft(session, actor, draft_id)
    if content is None:
        content = DraftContent(draft.bpmn, dict(draft.forms), dict(draft.decisions), draft.name)
    else:
        problems = check_content(content)
        if problems:
            return problems
    try:
        files = draft_files(content.bpmn, content.decisions)
    except DefinitionInvalid as invalid:
        return invalid.problems
    return deployer.with_forms(content.forms).validate_files(files, session)


def deploy_draft(session: Session, deployer: Deployer, actor: Actor, draft_id: int) -> list[DeployResult]:
    """Deploy the draft as saved; raises DefinitionInvalid (nothing deployed; the caller rolls back)."""
    draft = get_draft(session, actor, draft_id)
    require_deployer(actor)
    results = deployer.with_forms(draft.forms).deploy(session, draft_files(draft.bpmn, draft.decisions), actor.username)
    audit.record(session, actor, "studio.deploy", "design_draft", draft.id, revision=draft.revision,
                 deployed=[{"key": r.key, "version": r.version, "created": r.created} for r in results])
    return results


def delete_draft(session: Session, actor: Actor, draft_id: int) -> None:
    draft = get_draft(session, actor, draft_id)
    audit.record(session, actor, "studio.delete", "design_draft", draft.id, name=draft.name,
                 revision=draft.revision)
    session.delete(draft)


# ---- what the editor offers: roles, forms, operators, processes and the properties Banjian reads ----

@dataclass(frozen=True)
class PropertySpec:
    """One extension property the properties panel edits (``spiffworkflow:property``)."""

    name: str
    label: str
    applies_to: tuple[str, ...]  # bpmn element types (bpmn:UserTask …)
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()


STEP = ("bpmn:UserTask",)
PERSON_STEPS = ("bpmn:UserTask", "bpmn:ManualTask", "bpmn:Task")
PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec("startableBy", "可发起角色", ("bpmn:Process",), "角色标识，逗号分隔，例如 acceptor"),
    PropertySpec("caseTitle", "办件标题模板", ("bpmn:Process",), "例如 {applicant_name}的申请"),
    PropertySpec("summaryFields", "摘要字段", ("bpmn:Process",), "字段名，逗号分隔"),
    PropertySpec("statutoryLimit", "法定时限", ("bpmn:Process",), "例如 20 working days"),
    PropertySpec("promisedLimit", "承诺时限", ("bpmn:Process",), "例如 15 working days"),
    PropertySpec("clockStartsAt", "计时起点环节", ("bpmn:Process",), "环节标识"),
    PropertySpec("businessKeyPattern", "办件编号规则", ("bpmn:Process",), "例如 {region}{year}{seq:4}"),
    PropertySpec("formKey", "表单", STEP + ("bpmn:StartEvent",), "表单标识（在“表单”页新建或选择）"),
    PropertySpec("dueIn", "办理期限", STEP, "例如 5 working days、48 hours"),
    PropertySpec("role", "办理角色（不在泳道时）", PERSON_STEPS, "角色标识"),
    PropertySpec("returnTargets", "可退回到的环节", STEP, "环节标识，逗号分隔；空：此前的任一环节"),
    PropertySpec("notCompletedBy", "不得由同一人办理的环节", STEP, "环节标识，逗号分隔（职责分离）"),
    PropertySpec("signMode", "会签方式", STEP, "", (("", "—"), ("all", "会签（全部同意）"),
                                                ("any", "或签（一人同意）"), ("ratio", "按比例"))),
    PropertySpec("signRatio", "会签通过比例", STEP, "0 到 1 之间，例如 0.6"),
    PropertySpec("caseStatus", "办件状态", ("bpmn:StartEvent", "bpmn:UserTask", "bpmn:ServiceTask",
                                              "bpmn:EndEvent", "bpmn:CallActivity"), "例如 accepted、granted"),
    PropertySpec("clock", "计时", STEP, "", (("", "—"), ("pause", "暂停计时（补正等）"))),
    PropertySpec("guard", "提交校验规则", STEP, "表达式，例如 decision == 'reject' or bool(conclusion)"),
    PropertySpec("guardMessage", "校验不通过时的提示", STEP),
)


def words() -> list[str]:
    """The texts the studio shows from here (for the catalogue: pages translate them at run time)."""
    return [PROCESS_KEY_HELP, NAME_HELP, *(text for p in PROPERTIES for text in (p.label, p.hint) if text),
            *(label for p in PROPERTIES for _value, label in p.choices if label != "—")]


def _operator_parameters(operators: OperatorRegistry, name: str) -> list[str]:
    """The parameters an operator takes, read from its function (its first is the context)."""
    function = operators.function(name)
    parameters = list(inspect.signature(function).parameters.values())[1:]
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def editor_catalogue(session: Session, actor: Actor, deployer: Deployer, roles: dict[str, str]) -> dict[str, Any]:
    """Everything the properties panel offers in its lists."""
    require_designer(actor)
    operators = deployer.validator.operators
    forms_dir = deployer.validator.forms.folder
    form_keys = sorted({path.stem for path in forms_dir.glob("*.json")} |
                       {path.stem for path in forms_dir.glob("*/*.json")})
    processes = [(key, name) for key, name in session.execute(
        select(ProcessDefinition.key, ProcessDefinition.name).distinct().order_by(ProcessDefinition.key))]
    return {
        "roles": [{"key": key, "label": label} for key, label in roles.items()],
        "forms": form_keys,
        "operators": [{"name": name, "parameters": _operator_parameters(operators, name),
                       "example": json.dumps(operators.example(name), ensure_ascii=False, default=str)[:300]}
                      for name in operators.names()],
        "processes": [{"key": key, "name": name or key} for key, name in processes],
        "properties": [{"name": p.name, "label": p.label, "applies_to": list(p.applies_to), "hint": p.hint,
                        "choices": [list(choice) for choice in p.choices]} for p in PROPERTIES],
    }


def form_document(deployer: Deployer, actor: Actor, key: str) -> str:
    """A form under ``forms/`` as the form editor opens it (to copy into a draft and change there)."""
    require_designer(actor)
    try:
        return deployer.validator.forms.document(key)
    except FormError as error:
        raise NotFound(str(error)) from None
