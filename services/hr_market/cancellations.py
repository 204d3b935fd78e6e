"""注销单位行政许可 (003 §2.13): the authority cancels a licence ex officio — a direct action, audited,
without approval. "保存会保存一条注销单位行政许可数据，同时注销单位下相应的行政许可事项信息": some or all of the
licence's items end at once, and the licence itself when none is left — with the licences its
branches derived from it. Irreversible: the page asks for confirmation first; a licence already
cancelled cannot be chosen again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actors import Actor, region_condition
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from services.hr_market.labels import CANCEL_REASONS, LICENCE_ITEMS
from services.hr_market.models import ACTIVE, CANCELLED, HrLicence, HrLicenceCancellation, HrOrganisation
from services.platform import audit

CANCELLERS = ("approver", "admin")  # the office's deciding staff, not the 受理 desk
NOT_FOUND = "许可证不存在或不在您的管辖范围内"


@dataclass(frozen=True)
class CancellationInput:
    licence_number: str
    items: list[str]  # empty: every item still licensed
    reason: str
    basis: str
    cancelled_on: date
    note: str = ""


def may_cancel(actor: Actor, region_code: str | None = None) -> bool:
    if region_code is None:
        return any(role in CANCELLERS for role, _ in actor.grants)
    return any(actor.holds(role, region_code) for role in CANCELLERS)


def licence_by_number(session: Session, actor: Actor, number: str) -> tuple[HrLicence, HrOrganisation]:
    found = session.execute(select(HrLicence, HrOrganisation).join(
        HrOrganisation, HrOrganisation.id == HrLicence.organisation_id).where(
        HrLicence.licence_number == number.strip())).first()
    if found is None or not may_cancel(actor, found[1].region_code):
        raise NotFound(NOT_FOUND)
    return found[0], found[1]


def cancel(session: Session, actor: Actor, data: CancellationInput) -> HrLicenceCancellation:
    """Cancel the items (all when none is named) of a licence of the actor's regions, in one transaction."""
    if not may_cancel(actor):
        raise Forbidden("您无权注销单位行政许可")
    licence, organisation = licence_by_number(session, actor, data.licence_number)
    session.scalars(select(HrLicence.id).where(HrLicence.id == licence.id).with_for_update()).all()
    session.refresh(licence)
    if licence.status != ACTIVE:
        raise Conflict("许可证 %(number)s 已注销，不能重复注销" % dict(number=licence.licence_number))
    problems: dict[str, list[str]] = {}
    unknown = [item for item in data.items if item not in licence.items]
    if unknown:
        problems["items"] = ["只能注销该许可证现有的许可事项"]
    if data.reason not in CANCEL_REASONS:
        problems["reason"] = ["请选择注销原因"]
    if len(data.basis) > 200 or len(data.note) > 500:
        problems["basis"] = ["注销依据不能超过 200 个字，备注不能超过 500 个字"]
    if problems:
        raise InvalidData("注销信息有误，请修改后重新提交", fields=problems)
    items = list(data.items) or list(licence.items)
    remaining = [item for item in licence.items if item not in items]
    licence.items = remaining
    derived: list[str] = []
    if not remaining:  # the licence ends, and with it those its branches derived from it
        for row in (licence, *session.scalars(select(HrLicence).where(HrLicence.parent_id == licence.id,
                                                                      HrLicence.status == ACTIVE))):
            row.status, row.cancelled_on, row.cancel_mode = CANCELLED, data.cancelled_on, "authority"
            derived += [row.licence_number] if row is not licence else []
    cancellation = HrLicenceCancellation(licence_id=licence.id, items=items, whole=not remaining, reason=data.reason,
                                         basis=data.basis.strip(), cancelled_on=data.cancelled_on,
                                         note=data.note.strip(), cancelled_by=actor.username)
    session.add(cancellation)
    session.flush()
    audit.record(session, actor, "hr_licence.cancel", "hr_organisation", organisation.id, organisation.region_code,
                 licence_number=licence.licence_number, items=[LICENCE_ITEMS.get(i, i) for i in items],
                 whole=not remaining, reason=CANCEL_REASONS[data.reason], branches=derived)
    return cancellation


@dataclass(frozen=True)
class CancellationRow:
    cancellation: HrLicenceCancellation
    licence_number: str
    organisation_name: str
    region_code: str


def list_cancellations(session: Session, actor: Actor, page: int = 1,
                       per_page: int = 50) -> tuple[list[CancellationRow], int]:
    """The cancellations of licences of the actor's regions, newest first."""
    if not may_cancel(actor):
        raise Forbidden("您无权查看注销单位行政许可")
    regions = [region for role, region in actor.grants if role in CANCELLERS]
    query = (select(HrLicenceCancellation, HrLicence.licence_number, HrOrganisation.name, HrOrganisation.region_code)
             .join(HrLicence, HrLicence.id == HrLicenceCancellation.licence_id)
             .join(HrOrganisation, HrOrganisation.id == HrLicence.organisation_id)
             .where(region_condition(HrOrganisation.region_code, regions)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(HrLicenceCancellation.id.desc()).limit(per_page)
                           .offset((page - 1) * per_page))
    return [CancellationRow(c, number, name, region) for c, number, name, region in rows], total
