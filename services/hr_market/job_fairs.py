"""现场招聘会 (003 §2.21): organisations licensed to organise job fairs enter the fairs they hold; the
office reads them (查阅: no action, 003 L120–125). A fair shows to the office of the organiser's region
and to that of the venue, when it lies elsewhere."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.errors import Forbidden, InvalidData
from services.hr_market import holdings, organisations
from services.hr_market.models import ACTIVE, HrJobFair, HrOrganisation
from services.platform.identity import Region

ORGANISING = "job_fairs"  # the licence item 组织开展招聘会
LIMITS = {"name": 200, "venue": 200, "contact_person": 50, "contact_phone": 30}


@dataclass(frozen=True)
class JobFairInput:
    name: str
    starts_on: date | None
    ends_on: date | None
    venue: str
    region_code: str
    booths: int | None
    contact_person: str
    contact_phone: str


def organiser(session: Session, actor: Actor) -> HrOrganisation:
    """The organisation the actor's account speaks for, if it may hold job fairs."""
    organisation = organisations.by_credit_code(session, actor.party or "")
    if organisation is None or organisation.status != ACTIVE:
        raise Forbidden("您的账号未绑定在册的人力资源服务机构")
    return organisation


def may_add(session: Session, actor: Actor) -> bool:
    try:
        licence = holdings.active_licence(session, organiser(session, actor).id)
    except Forbidden:
        return False
    return licence is not None and ORGANISING in licence.items


def add(session: Session, actor: Actor, data: JobFairInput) -> HrJobFair:
    """Enter a fair the actor's organisation holds; refused, with each field's message, when wrong."""
    organisation = organiser(session, actor)
    licence = holdings.active_licence(session, organisation.id)
    if licence is None or ORGANISING not in licence.items:
        raise Forbidden("您单位的许可事项不含“组织开展招聘会”，不能添加现场招聘会")
    problems: dict[str, list[str]] = {}
    for key, label in (("name", "招聘会名称"), ("venue", "举办地点"), ("contact_person", "联系人"),
                       ("contact_phone", "联系电话")):
        value = getattr(data, key).strip()
        if not value:
            problems[key] = [f"请填写{label}"]
        elif len(value) > LIMITS[key]:
            problems[key] = [f"{label}不能超过 {LIMITS[key]} 个字"]
    if data.starts_on is None or data.ends_on is None:
        problems["starts_on"] = ["请填写举办日期"]
    elif data.ends_on < data.starts_on:
        problems["ends_on"] = ["结束日期不能早于开始日期"]
    if session.get(Region, data.region_code) is None:
        problems["region_code"] = ["请选择举办地点所在区划"]
    if data.booths is not None and not 1 <= data.booths <= 100_000:
        problems["booths"] = ["展位数应在 1 到 100000 之间"]
    if problems:
        raise InvalidData("招聘会信息有误，请修改后重新提交", fields=problems)
    assert data.starts_on is not None and data.ends_on is not None  # checked above
    fair = HrJobFair(organisation_id=organisation.id, name=data.name.strip(), starts_on=data.starts_on,
                     ends_on=data.ends_on, venue=data.venue.strip(), region_code=data.region_code,
                     booths=data.booths, contact_person=data.contact_person.strip(),
                     contact_phone=data.contact_phone.strip(), created_by=actor.username)
    session.add(fair)
    session.flush()
    return fair


def own_fairs(session: Session, actor: Actor) -> list[HrJobFair]:
    organisation = organiser(session, actor)
    return list(session.scalars(select(HrJobFair).where(HrJobFair.organisation_id == organisation.id)
                                .order_by(HrJobFair.starts_on.desc())))
