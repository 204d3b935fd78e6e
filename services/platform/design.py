"""The process designer's page (流程设计): every deployed version of every definition, one version's XML
for its diagram, and uploads of .bpmn/.dmn files that are validated and — unless only validation was
asked for — deployed through the engine's Deployer as version N+1; the deployed processes that call a
process given a new version get new versions pinned to it (re-pinned), which the outcome lists too.
Each version shows the versions of called processes it pins and the versions that pin it.

An upload with any problem deploys nothing: every problem (file, element id, message) is returned
for the page to list. Only holders of the ``designer`` role may use any of this.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from engine.actors import Actor
from engine.definitions import (
    DefinitionInvalid,
    Deployer,
    DeployResult,
    Pin,
    Problem,
    deployed_calls,
    version_links,
)
from engine.errors import Forbidden, NotFound
from engine.models import InstanceStatus, ProcessDefinition, ProcessInstance

DESIGNER = "designer"
SUFFIXES = (".bpmn", ".dmn")
LIVE = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR)
HASH_PREFIX = 12


NATIONAL = "000000"


def require_designer(actor: Actor) -> None:
    if not actor.has_role(DESIGNER):
        raise Forbidden("只有流程设计人员可以管理流程定义")


def require_deployer(actor: Actor) -> None:
    """A deployed definition serves every region (a province's cases run the same process), so
    deploying is a national act: the designer role held for 全国 (000000). Designers of a province
    validate files and read every version, as before; a county admin granting ``designer`` cannot
    change the country's processes."""
    if not actor.holds(DESIGNER, NATIONAL):
        raise Forbidden("流程定义全国通用，只有部级（全国）流程设计人员可以部署；您可以校验文件")


@dataclass
class Version:
    definition: ProcessDefinition
    live_instances: int  # cases of this version not yet ended
    pins: list[Pin] = field(default_factory=list)  # the versions of called processes its cases run
    called_by: list[Pin] = field(default_factory=list)  # the versions of other processes that pin it

    @property
    def hash_prefix(self) -> str:
        return self.definition.content_hash[:HASH_PREFIX]


@dataclass
class DefinitionVersions:
    key: str
    name: str
    is_decision: bool
    versions: list[Version] = field(default_factory=list)  # newest first


def list_versions(session: Session, actor: Actor) -> list[DefinitionVersions]:
    require_designer(actor)
    live = dict(session.execute(select(ProcessInstance.definition_id, func.count()).where(
        ProcessInstance.status.in_(LIVE)).group_by(ProcessInstance.definition_id)).all())
    links = version_links(session)
    groups: dict[str, DefinitionVersions] = {}
    for definition in session.scalars(select(ProcessDefinition).options(defer(ProcessDefinition.xml))
                                      .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())):
        group = groups.setdefault(definition.key, DefinitionVersions(
            definition.key, definition.name or definition.key, is_decision(definition)))
        group.versions.append(Version(definition, live.get(definition.id, 0), links.pins.get(definition.id, []),
                                      links.called_by.get(definition.id, [])))
    return list(groups.values())


def is_decision(definition: ProcessDefinition) -> bool:
    """A DMN table: deployed like a process, but bpmn-js cannot draw it."""
    return definition.filename.endswith(".dmn")


def get_definition(session: Session, actor: Actor, definition_id: int) -> ProcessDefinition:
    require_designer(actor)
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound("流程定义不存在")
    return definition


@dataclass
class DefinitionLinks:
    pins: list[Pin]  # the versions of called processes its cases run (and so what those call)
    indirect: set[str]  # keys among them that its file does not call itself: pinned for what it calls
    called_by: list[Pin]  # the versions of other processes that pin it


def definition_links(session: Session, actor: Actor, definition: ProcessDefinition) -> DefinitionLinks:
    require_designer(actor)
    links = version_links(session)
    pins = links.pins.get(definition.id, [])
    direct = deployed_calls(definition)[0]
    return DefinitionLinks(pins, {pin.key for pin in pins if pin.key not in direct},
                           links.called_by.get(definition.id, []))


def previous_version(session: Session, definition: ProcessDefinition) -> ProcessDefinition | None:
    """The version before ``definition`` (what 版本比较 compares it with)."""
    return session.scalar(select(ProcessDefinition).options(defer(ProcessDefinition.xml)).where(
        ProcessDefinition.key == definition.key, ProcessDefinition.version < definition.version)
        .order_by(ProcessDefinition.version.desc()).limit(1))


@dataclass
class UploadOutcome:
    problems: list[Problem]
    deployed: list[DeployResult]  # empty when only validated or refused


def upload(session: Session, deployer: Deployer, actor: Actor, files: list[tuple[bytes, str]],
           deploy: bool) -> UploadOutcome:
    """Validate ``files`` ((content, file name) pairs) and, with ``deploy``, deploy them all or none.
    On problems the session may hold flushed rows of a partial deployment: the caller rolls back."""
    require_designer(actor)
    files = [(content, PurePosixPath(name.replace("\\", "/")).name) for content, name in files]
    problems = [Problem(name, "", "只能上传 .bpmn 或 .dmn 文件") for _content, name in files
                if not name.lower().endswith(SUFFIXES)]
    if not files:
        problems.append(Problem("", "", "请选择要上传的 .bpmn 或 .dmn 文件"))
    if problems:
        return UploadOutcome(problems, [])
    if not deploy:
        return UploadOutcome(deployer.validate_files(files, session), [])
    require_deployer(actor)
    try:
        return UploadOutcome([], deployer.deploy(session, files, actor.username))
    except DefinitionInvalid as invalid:
        return UploadOutcome(invalid.problems, [])
