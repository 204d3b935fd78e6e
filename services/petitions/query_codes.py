"""打印查询码 and 短信发送查询码 (004 §6.2.9–6.2.10, requirements §B7): the office gives the petitioner
of a letter or a visit — who has no portal account — the item's 查询码, on a printed slip or by SMS
through the notification channel; with it and their name they follow and evaluate the item at
``/xf/query``. Staff of an office handling the item only; each SMS is audited."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine import query_code
from engine.actors import Actor
from engine.db import UnitOfWork
from engine.errors import Conflict, NotFound
from engine.models import ProcessInstance
from engine.runtime import WorkflowEngine
from services.petitions.models import Petition
from services.platform import audit
from services.platform.notifications import SmsGateway
from services.platform.organisations import Organisation


@dataclass(frozen=True)
class Slip:
    number: str
    title: str
    name: str
    registered_at: datetime | None
    office: str
    code: str  # shown grouped (XXXX-XXXX-XXXX)
    url: str


def _visible(session: Session, engine: WorkflowEngine, actor: Actor, petition_id: int) -> tuple[Petition,
                                                                                                 ProcessInstance]:
    petition = session.get(Petition, petition_id)
    case = session.get(ProcessInstance, petition.intake_instance_id) if petition and petition.intake_instance_id \
        else None
    if petition is None or case is None or not engine.is_staff_of(actor, case) or not case.query_code:
        raise NotFound("信访件不存在或不在您的管辖范围内")
    return petition, case


def slip(session: Session, engine: WorkflowEngine, actor: Actor, petition_id: int, public_url: str) -> Slip:
    petition, case = _visible(session, engine, actor, petition_id)
    office = session.get(Organisation, petition.organisation_id)
    return Slip(petition.number, petition.title, petition.name, petition.registered_at or petition.created_at,
                office.name if office else "", query_code.shown(case.query_code), f"{public_url}/xf/query")


def send_sms(uow: UnitOfWork, engine: WorkflowEngine, sms: SmsGateway | None, actor: Actor, petition_id: int,
             public_url: str) -> str:
    """The text sent (after the commit) to the item's phone; Conflict without a phone or an SMS channel."""
    petition, case = _visible(uow.session, engine, actor, petition_id)
    if not petition.phone:
        raise Conflict("信访人没有登记手机号码，请打印查询码交给信访人")
    if sms is None:
        raise Conflict("短信通道未配置，请打印查询码交给信访人")
    text = (f"您反映的问题已登记，信访件编号{petition.number}，查询码：{query_code.shown(case.query_code)}，"
            f"可登录{public_url}/xf/query 凭姓名和查询码查询办理情况。")
    audit.record(uow.session, actor, "xf_petition.sms", "xf_petition", petition.id, case.region_code,
                 phone=petition.phone[-4:])
    uow.after_commit(lambda: sms.send(petition.phone, text))
    return text
