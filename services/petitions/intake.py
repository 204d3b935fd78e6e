"""Intake (登记): a complaint submitted on the portal (反映问题, 004 §2.4), a letter a registrar records
(来信详细登记, §4.1), and what the registrar does on the 登记 step of either — 判重 and linking
(§B4), and the 满意度评价 scope decided by the rule (§B5).

Each item becomes one :class:`Petition` and one intake case at the 信访部门 that registers it
(``xf_online_intake`` / ``xf_letter_intake``, ``ProcessInstance.organisation_id``); its 信访件编号 is
the case's business key, drawn from the process's ``businessKeyPattern``. Withdrawal (撤回) of a
complaint is the platform's (services.platform.applicant_actions): it and the registrar's first
opening (调阅) are decided on the case's row lock, so exactly one wins.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import numbering
from engine.actors import Actor
from engine.db import UnitOfWork, utcnow
from engine.definitions import latest_definition
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.forms import FormDefinition
from engine.models import HumanTask, ProcessInstance, TaskStatus
from engine.runtime import WorkflowEngine
from services.petitions import duplicates, scope
from services.petitions.labels import BUREAU
from services.petitions.models import Petition, Petitioner, PetitionMatter
from services.platform import attachments, audit, organisations
from services.platform.id_number import id_number_problem
from services.platform.identity import Region, User
from services.platform.organisations import Organisation

ONLINE = "xf_online_intake"
LETTER = "xf_letter_intake"
VISIT = "xf_visit_intake"
INTAKES = frozenset({ONLINE, LETTER, VISIT})
MAX_REPRESENTATIVES = 5  # 信访条例 §18: 多人走访 … 代表人数不超过5人
TOO_MANY_VISITORS = "多人走访同一信访事项的，应推选代表，代表人数不超过5人"
INTERVIEWERS = ("xf_interviewer", "leader")  # a leader as 接谈人: 领导公开接访
REGISTER_STEP = "register"
SUBMITTED = "已成功反映问题，请耐心等待工作人员处理"  # 004 L764
LINKS = {"matter": "相同信访事项", "person": "相同信访人", "none": "不关联"}


def _validated(session: Session, actor: Actor, form: FormDefinition, form_data: Mapping[str, Any],
               uploads: Mapping[str, Sequence[tuple[str, bytes]]]) -> tuple[dict[str, Any], list[int]]:
    """An intake form's cleaned data and its staged files: the files checked by their bytes, the fields by
    the form, the 问题发生地 a region that exists — any problem refuses the whole registration."""
    raw = dict(form_data)
    staged = attachments.prepare(session, actor, form, raw, uploads)
    try:
        data = form.validate(raw)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise InvalidData("表单填写有误，请修改后重新提交",
                          fields={str(k): v if isinstance(v, list) else [str(v)] for k, v in messages.items()}) \
            from None
    if session.get(Region, str(data["place_region"])) is None:
        raise InvalidData("问题发生地不存在", fields={"place_region": ["请选择问题发生地"]})
    return data, staged


def covering_regions(region_code: str) -> list[str]:
    """The region and those above it: county, city, province."""
    return list(dict.fromkeys([region_code, region_code[:4] + "00", region_code[:2] + "0000"]))


def bureaus_for(session: Session, region_code: str) -> list[Organisation]:
    """The 信访部门 a complaint about a place may be addressed to: the county's, the city's, the province's."""
    return list(session.scalars(select(Organisation).where(
        Organisation.kind == BUREAU, Organisation.region_code.in_(covering_regions(region_code)))
        .order_by(Organisation.region_code.desc())))


def place_regions(session: Session, province: str) -> list[Region]:
    """The regions of a province a complaint may name as 问题发生地, province first."""
    return list(session.scalars(select(Region).where(Region.code.like(province[:2] + "%")).order_by(Region.code)))


def _number(session: Session, engine: WorkflowEngine, process_key: str, region_code: str, now: datetime) -> str:
    definition = latest_definition(session, process_key)
    if definition is None:
        raise NotFound("流程 %(process)s 未部署" % dict(process=process_key))
    pattern = engine.specs.get(session, definition.id).business_key_pattern or "XF{region}{date}{seq:4}"
    return numbering.draw(session, pattern, at=now, region=region_code,
                          taken=lambda key: session.scalar(select(Petition.id).where(Petition.number == key))
                          is not None)


def _start(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, process_key: str, organisation: Organisation,
           petition: Petition, extra: Mapping[str, Any]) -> ProcessInstance:
    """The intake case of a new item at the organisation registering it, and the item's row."""
    session = uow.session
    uow.session.add(petition)
    session.flush()
    data = {"via": "intake", "petition_id": petition.id, "title": petition.title, "name": petition.name,
            "place_address": petition.place_address, **extra}
    instance = engine.start(uow, process_key, business_key=petition.number, region_code=organisation.region_code,
                            organisation_id=organisation.id, data=data, actor=actor, submitter=petition.name,
                            search_text=search_text(petition))
    petition.intake_instance_id = instance.id
    return instance


def search_text(petition: Petition) -> str:
    """What the inbox search finds an item's cases by: its number, the petitioner's name, phone, ID number."""
    return " ".join(filter(None, (petition.number, petition.name, petition.phone, petition.id_number)))


def submit_complaint(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, form_data: dict[str, Any],
                     uploads: Mapping[str, Sequence[tuple[str, bytes]]], now: datetime | None = None) -> Petition:
    """反映问题: a registered petitioner's complaint, addressed to a 信访部门 covering the place."""
    session = uow.session
    now = now or utcnow()
    profile = petitioner_of(session, actor)
    form = engine.forms.get("xf_online_complaint")
    data, staged = _validated(session, actor, form, form_data, uploads)
    place = str(data["place_region"])
    organisation = next((o for o in bureaus_for(session, place) if str(o.id) == str(data["organisation"])), None)
    if organisation is None:
        raise InvalidData("请选择问题发生地所在的信访部门", fields={"organisation": ["请选择问题发生地所在的信访部门"]})
    petition = Petition(
        number=_number(session, engine, ONLINE, organisation.region_code, now), form="online",
        organisation_id=organisation.id, responsible_org_id=organisation.id, petitioner_username=actor.username,
        name=profile.name, name_key=duplicates.normalise_name(profile.name), id_number=profile.id_number,
        phone=profile.phone, address=profile.usual_address or profile.mail_address or profile.household_address,
        title=data["title"], content=data["content"], place_region=place, place_address=data["place_address"],
        anonymous=profile.anonymous, status="submitted", created_at=now)
    instance = _start(uow, engine, actor, ONLINE, organisation, petition, {"form": "online"})
    attachments.bind(session, form, staged, instance.id, form.title)
    return petition


def register_letter(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, organisation_id: int,
                    form_data: dict[str, Any], uploads: Mapping[str, Sequence[tuple[str, bytes]]],
                    now: datetime | None = None) -> Petition:
    """来信详细登记 → 新建: a registrar of the organisation records a letter; its 登记 step follows."""
    return _register_by_staff(uow, engine, actor, organisation_id, LETTER, form_data, uploads, now or utcnow())


def register_visit(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, organisation_id: int,
                   form_data: dict[str, Any], uploads: Mapping[str, Sequence[tuple[str, bytes]]],
                   now: datetime | None = None) -> tuple[Petition, list[str]]:
    """来访登记 → 新建: a registrar records a visit and chooses the 接谈人 (a 接谈岗, or a leader for
    领导公开接访); 登记 and then 接谈 follow. The warnings the registrar sees (more than five visitors)
    do not stop the registration: the reception still happens."""
    interviewer = str(form_data.get("interviewer_username") or "")
    if interviewer not in {name for post in INTERVIEWERS for name, _ in organisations.holders(
            uow.session, organisation_id, post)}:
        raise InvalidData("请选择本单位的接谈人", fields={"interviewer_username": ["请选择本单位的接谈人"]})
    petition = _register_by_staff(uow, engine, actor, organisation_id, VISIT, form_data, uploads, now or utcnow())
    return petition, [TOO_MANY_VISITORS] if petition.visitors > MAX_REPRESENTATIVES else []


FORMS = {LETTER: ("xf_letter", "letter"), VISIT: ("xf_visit", "visit")}


def _register_by_staff(uow: UnitOfWork, engine: WorkflowEngine, actor: Actor, organisation_id: int, process_key: str,
                       form_data: dict[str, Any], uploads: Mapping[str, Sequence[tuple[str, bytes]]],
                       now: datetime) -> Petition:
    session = uow.session
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or ("xf_registrar", organisation_id) not in actor.posts:
        raise Forbidden("只有本信访部门的登记岗可以登记来信来访")
    form_key, kind = FORMS[process_key]
    form = engine.forms.get(form_key)
    data, staged = _validated(session, actor, form, form_data, uploads)
    id_number = (data.get("id_number") or "").strip().upper()
    if id_number and (problem := id_number_problem(id_number)):
        raise InvalidData(problem, fields={"id_number": [problem]})
    petition = Petition(
        number=_number(session, engine, process_key, organisation.region_code, now), form=kind,
        organisation_id=organisation.id, responsible_org_id=organisation.id, name=data["name"],
        name_key=duplicates.normalise_name(data["name"]), id_number=id_number, phone=data.get("phone") or "",
        address=data["address"], title=data["title"], content=data["content"],
        place_region=str(data["place_region"]), place_address=data["place_address"], status="submitted",
        visitors=int(data.get("visitors") or 1), created_at=now)
    extra = {key: data[key] for key in ("companions", "interviewer_username", "visitors") if data.get(key)}
    instance = _start(uow, engine, actor, process_key, organisation, petition, {"form": kind, **extra})
    attachments.bind(session, form, staged, instance.id, form.title)
    return petition


def petitioner_of(session: Session, actor: Actor) -> Petitioner:
    profile = session.scalar(select(Petitioner).join(User, User.id == Petitioner.user_id)
                             .where(User.username == actor.username))
    if profile is None or not actor.has_role("petitioner"):
        raise Forbidden("请先注册为信访人后再反映问题")
    return profile


def by_number(session: Session, number: str) -> Petition:
    petition = session.scalar(select(Petition).where(Petition.number == number))
    if petition is None:
        raise NotFound("信访件不存在")
    return petition


# ---------------------------------------------------------------------- 判重 and the 登记 step
def register_task(session: Session, actor: Actor, task_id: str) -> tuple[HumanTask, Petition]:
    """An open 登记 step the actor may do, and its item."""
    row = session.get(HumanTask, task_id)
    if row is None or row.process_key not in INTAKES or row.name != REGISTER_STEP:
        raise NotFound("任务不存在")
    if not (row.assignee == actor.username
            or (row.assignee is None and actor.takes(row.lane, row.region_code, row.organisation_id))):
        raise NotFound("任务不存在或不在您的管辖范围内")
    if row.status != TaskStatus.OPEN:
        raise Conflict("登记已完成，不能再修改判重结果")
    return row, by_number(session, row.business_key)


def candidates(session: Session, petition: Petition) -> list[duplicates.Candidate]:
    return duplicates.find(session, name=petition.name, id_number=petition.id_number, phone=petition.phone,
                           address=petition.address, region_code=petition.place_region, exclude=petition.id)


def link(uow: UnitOfWork, actor: Actor, task_id: str, kind: str, other_id: int | None) -> Petition:
    """The registrar's choice after 判重: 相同信访事项 (the item joins that matter, 初次 = false),
    相同信访人 (the petitioner's particulars are taken over, a new matter, 初次 = true) or none."""
    session = uow.session
    if kind not in LINKS:
        raise InvalidData("请选择相同信访事项、相同信访人或不关联")
    row, petition = register_task(session, actor, task_id)
    session.execute(select(ProcessInstance.id).where(ProcessInstance.id == row.instance_id).with_for_update())
    other = None
    if kind != "none":
        other = session.get(Petition, other_id) if other_id is not None else None
        if other is None or other.id not in {c.petition_id for c in candidates(session, petition)}:
            raise InvalidData("只能关联判重结果中的信访件")
    if kind == "matter":
        assert other is not None
        petition.matter_id, petition.first, petition.linked_petition_id = other.matter_id, False, other.id
    else:
        petition.matter_id, petition.first = None, True
        petition.linked_petition_id = other.id if other is not None else None
        if other is not None:  # 相同信访人: the earlier item's particulars
            petition.name, petition.name_key = other.name, other.name_key
            petition.id_number = petition.id_number or other.id_number
            petition.phone = petition.phone or other.phone
            petition.address = petition.address or other.address
    audit.record(session, actor, "xf_petition.link", "xf_petition", petition.id, petition.place_region,
                 kind=kind, linked=other.number if other is not None else None)
    return petition


def check_registration(session: Session, engine: WorkflowEngine, instance: ProcessInstance, row: HumanTask,
                       actor: Actor, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The 登记 step's server-side rules: the 满意度评价 scope (a locked one is not the client's to change)."""
    petition = by_number(session, instance.business_key)
    decided = scope.decide(session, engine, first=petition.first, anonymous=bool(cleaned.get("anonymous")),
                           law_related=bool(cleaned.get("law_related")), purpose=str(cleaned.get("purpose") or ""))
    return {"in_scope": scope.settle(decided, cleaned.get("in_scope")), "first": petition.first}


def scope_of_step(session: Session, engine: WorkflowEngine, actor: Actor, task_id: str, *, purpose: str,
                  law_related: bool, anonymous: bool) -> scope.Scope:
    """The 满意度评价 scope the rule gives an item on its open 登记 step for the answers given so far (what
    the page shows as the registrar answers; the step's completion is checked again)."""
    _row, petition = register_task(session, actor, task_id)
    return scope.decide(session, engine, first=petition.first, anonymous=anonymous, law_related=law_related,
                        purpose=purpose)


def save_registration(session: Session, number: str, data: Mapping[str, Any], now: datetime) -> Petition:
    """What the completed 登记 step records on the item; a new matter unless it joined one."""
    petition = by_number(session, number)
    petition.purpose = str(data.get("purpose") or "")
    petition.category = str(data.get("category") or "")
    petition.law_related = bool(data.get("law_related"))
    petition.anonymous = bool(data.get("anonymous"))
    petition.in_scope = bool(data.get("in_scope"))
    if petition.matter_id is None:
        matter = PetitionMatter(region_code=petition.place_region, first_registered_at=now)
        session.add(matter)
        session.flush()
        petition.matter_id = matter.id
    petition.status, petition.registered_at = "registered", now
    return petition


# ---------------------------------------------------------------------- 网信登记 (004 §3.1)
ONLINE_TABS = {"waiting": "未登记", "registered": "已登记", "withdrawn": "已撤回"}


def online_desk(session: Session, actor: Actor, tab: str, limit: int = 200) -> list[tuple[Petition, str | None,
                                                                                          bool]]:
    """The online complaints addressed to the offices where the actor registers, by tab (L859): 未登记
    (with their 登记 step, bold while no member of staff has opened them), 已登记, 已撤回. Rows: (item,
    the open 登记 step's id or None, opened)."""
    offices = [org for post, org in actor.posts if post == "xf_registrar"]
    if not offices:
        raise Forbidden("只有信访部门的登记岗可以查看网信登记")
    statuses = {"waiting": ("submitted",), "withdrawn": ("withdrawn",)}.get(tab)
    query = (select(Petition, ProcessInstance.staff_opened_at).join(
        ProcessInstance, ProcessInstance.id == Petition.intake_instance_id)
        .where(Petition.form == "online", Petition.organisation_id.in_(offices)))
    query = query.where(Petition.status.in_(statuses)) if statuses is not None else \
        query.where(Petition.status.not_in(("submitted", "withdrawn")))
    rows = session.execute(query.order_by(Petition.id.desc()).limit(limit)).all()
    steps = dict(session.execute(select(HumanTask.business_key, HumanTask.id).where(
        HumanTask.business_key.in_([p.number for p, _ in rows]), HumanTask.name == REGISTER_STEP,
        HumanTask.status == TaskStatus.OPEN)).all()) if tab == "waiting" else {}
    return [(petition, steps.get(petition.number), opened is not None) for petition, opened in rows]
