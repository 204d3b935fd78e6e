"""Queries of the petition system for the generic 查询统计 pages and their Excel export
(``services.platform.queries``): 信访件查询 (004 §6.2.11, requirements §B14) over the items whose
问题属地 lies in the user's regions, and the counts of the 国家局报表 indicators (§B9)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import aliased

from engine.actors import region_condition
from engine.db import utcnow
from engine.models import HumanTask, TaskStatus
from services.petitions.labels import CATEGORIES, FORMS, PURPOSES, STATUSES
from services.petitions.models import Evaluation, HandlingRecord, Petition
from services.platform.identity import Region
from services.platform.organisations import Organisation
from services.platform.queries import Column, Query

_FILTERS = {"number": ("str", "信访件编号"), "name": ("str", "信访人"), "id_number": ("str", "证件号码"),
            "form": ("str", "信访形式"), "place_region": ("region", "问题属地"), "category": ("str", "问题类别"),
            "status": ("str", "状态"), "registered_from": ("date", "登记日期从"),
            "registered_to": ("date", "登记日期至"), "mode": ("str", "办理方式"), "destination": ("str", "去向机构"),
            "overdue": ("bool", "超期")}


def _filtered(query: Select, regions: list[str], f: dict[str, Any]) -> Select:
    query = query.where(region_condition(Petition.place_region, regions))
    if f.get("number"):
        query = query.where(Petition.number == f["number"].strip())
    if f.get("name"):
        query = query.where(Petition.name.contains(f["name"].strip(), autoescape=True))
    if f.get("id_number"):
        query = query.where(Petition.id_number == f["id_number"].strip().upper())
    for key in ("form", "category", "status"):
        if f.get(key):
            query = query.where(getattr(Petition, key) == f[key])
    if f.get("place_region"):
        query = query.where(region_condition(Petition.place_region, [f["place_region"]]))
    if f.get("registered_from"):
        query = query.where(func.date(Petition.created_at) >= f["registered_from"].isoformat())
    if f.get("registered_to"):
        query = query.where(func.date(Petition.created_at) <= f["registered_to"].isoformat())
    if f.get("mode"):
        query = query.where(exists().where(HandlingRecord.petition_id == Petition.id, HandlingRecord.mode == f["mode"]))
    if f.get("destination"):
        went = select(Organisation.id).where(Organisation.name.contains(f["destination"].strip(), autoescape=True))
        query = query.where(exists().where(HandlingRecord.petition_id == Petition.id,
                                           HandlingRecord.destination_id.in_(went)))
    if f.get("overdue") is not None:
        late = exists().where(HumanTask.business_key == Petition.number, HumanTask.status == TaskStatus.OPEN,
                              HumanTask.due_at < utcnow())
        query = query.where(late if f["overdue"] else ~late)
    return query


def _petitions(regions: list[str], f: dict[str, Any]) -> Select:
    responsible = aliased(Organisation)
    query = (select(Petition.number, Petition.form, Petition.name, Petition.title, Region.name.label("place"),
                    Petition.category, Petition.purpose, Petition.status, Petition.created_at, Petition.registered_at,
                    responsible.name.label("responsible"), Petition.in_scope)
             .select_from(Petition).join(responsible, responsible.id == Petition.responsible_org_id)
             .outerjoin(Region, Region.code == Petition.place_region))
    return _filtered(query, regions, f).order_by(Petition.id.desc())


def _indicators(regions: list[str], f: dict[str, Any]) -> Select:
    """国家局报表 indicators per 问题属地: counts by 信访形式, 办结, 参评 and 满意 (the latest evaluation)."""
    latest = (select(Evaluation.petition_id, func.max(Evaluation.seq).label("seq"))
              .group_by(Evaluation.petition_id).subquery())
    last = aliased(Evaluation)
    answered = Petition.status.in_(("replied", "not_accepted", "not_reaccepted", "filed"))
    query = (select(Petition.place_region.label("region_code"), func.min(Region.name).label("region_name"),
                    func.count().label("total"),
                    *(func.sum(case((Petition.form == key, 1), else_=0)).label(key) for key in FORMS),
                    func.sum(case((answered, 1), else_=0)).label("answered"),
                    func.sum(case((Petition.in_scope.is_(True), 1), else_=0)).label("in_scope"),
                    func.sum(case((last.id.is_not(None), 1), else_=0)).label("evaluated"),
                    func.sum(case((and_(last.id.is_not(None), last.unit_level != "dissatisfied",
                                        last.bureau_level != "dissatisfied"), 1), else_=0)).label("satisfied"))
             .select_from(Petition).outerjoin(Region, Region.code == Petition.place_region)
             .outerjoin(latest, latest.c.petition_id == Petition.id)
             .outerjoin(last, and_(last.petition_id == latest.c.petition_id, last.seq == latest.c.seq)))
    return _filtered(query, regions, f).group_by(Petition.place_region).order_by(Petition.place_region)


QUERIES = {
    "xf-petitions": Query(
        "xf-petitions", "信访件查询",
        [Column("number", "信访件编号"), Column("form", "信访形式", labels=FORMS), Column("name", "信访人"),
         Column("title", "标题"), Column("place", "问题属地"), Column("category", "问题类别", labels=CATEGORIES),
         Column("purpose", "信访目的", labels=PURPOSES), Column("status", "状态", labels=STATUSES),
         Column("created_at", "提交时间", "datetime"), Column("registered_at", "登记时间", "datetime"),
         Column("responsible", "责任单位"), Column("in_scope", "纳入满意度评价", "bool")],
        _FILTERS, _petitions,
        description="问题属地在本辖区的信访件，按编号、信访人、证件号码、形式、类别、状态和登记日期查询"),
    "xf-indicators": Query(
        "xf-indicators", "信访统计（国家局报表指标）",
        [Column("region_code", "区划代码"), Column("region_name", "问题属地"), Column("total", "信访件", "int"),
         Column("letter", "来信", "int"), Column("visit", "来访", "int"), Column("online", "网上信访", "int"),
         Column("answered", "办结", "int"), Column("in_scope", "纳入评价", "int"),
         Column("evaluated", "参评", "int"), Column("satisfied", "满意（含基本满意）", "int")],
        _FILTERS, _indicators,
        description="按问题属地统计信访形式、办结、参评和满意件数；参评率 = 参评 / 纳入评价，满意率 = 满意 / 参评"),
}
