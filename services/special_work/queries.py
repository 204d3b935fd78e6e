"""Queries and statistics of the special-work-type system (信息查询 7.1–7.6, 统计查询 8.1–8.2): data
for the generic 查询统计 pages (``services.platform.queries``)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, extract, func, literal, or_, select, union_all

from engine.actors import region_condition
from services.platform.identity import Region
from services.platform.queries import BOOL_LABELS, Column, Query
from services.special_work import declarations, early_retirement, spot_checks
from services.special_work.models import (
    DeclarationBatch,
    DeclaredPerson,
    EarlyRetirement,
    Enterprise,
    Person,
    SpotCheck,
    WorkHistory,
    WorkNature,
    WorkType,
)

GENDER_LABELS = {"male": "男", "female": "女"}


def _like(column, value: str):
    return column.contains(value.strip(), autoescape=True)


# ---------------------------------------------------------------------- 7.1 特殊工种人员信息查询
def _persons(regions: list[str], f: dict[str, Any]) -> Select:
    histories = (select(WorkHistory.person_id, func.count().label("n"),
                        func.sum(case((WorkHistory.suspicious.is_(True), 1), else_=0)).label("s"))
                 .group_by(WorkHistory.person_id).subquery())
    query = (select(Person.id_number, Person.name, Person.gender, Person.birth_date, Person.region_code,
                    Region.name.label("region_name"), func.coalesce(histories.c.n, 0).label("work_histories"),
                    func.coalesce(histories.c.s, 0).label("suspicious_histories"))
             .outerjoin(histories, histories.c.person_id == Person.id)
             .outerjoin(Region, Region.code == Person.region_code)
             .where(region_condition(Person.region_code, regions)))
    if f.get("region_code"):
        query = query.where(region_condition(Person.region_code, [f["region_code"]]))
    if f.get("id_number"):
        query = query.where(Person.id_number == f["id_number"].strip().upper())
    if f.get("name"):
        query = query.where(_like(Person.name, f["name"]))
    if f.get("work_type_code") or f.get("enterprise_code"):
        having = select(WorkHistory.person_id)
        if f.get("work_type_code"):
            having = having.where(WorkHistory.work_type_code == f["work_type_code"])
        if f.get("enterprise_code"):
            having = having.where(WorkHistory.enterprise_code == f["enterprise_code"])
        query = query.where(Person.id.in_(having))
    if f.get("suspicious") is not None:
        query = query.where((func.coalesce(histories.c.s, 0) > 0) == f["suspicious"])
    return query.order_by(Person.region_code, Person.id_number)


# ---------------------------------------------------------------------- 7.2 特殊工种企业信息查询
def _enterprises(regions: list[str], f: dict[str, Any]) -> Select:
    query = (select(Enterprise.code, Enterprise.name, Enterprise.region_code, Region.name.label("region_name"),
                    Enterprise.industry, Enterprise.address, Enterprise.postal_code, Enterprise.contact_person,
                    Enterprise.contact_phone, Enterprise.portal_enabled)
             .outerjoin(Region, Region.code == Enterprise.region_code)
             .where(region_condition(Enterprise.region_code, regions)))
    if f.get("region_code"):
        query = query.where(region_condition(Enterprise.region_code, [f["region_code"]]))
    if f.get("code"):
        query = query.where(Enterprise.code == f["code"].strip())
    if f.get("name"):
        query = query.where(_like(Enterprise.name, f["name"]))
    if f.get("industry"):
        query = query.where(Enterprise.industry == f["industry"])
    if f.get("portal_enabled") is not None:
        query = query.where(Enterprise.portal_enabled.is_(f["portal_enabled"]))
    return query.order_by(Enterprise.code)


# ---------------------------------------------------------------------- 7.3 审核结果查询
def _review_results(regions: list[str], f: dict[str, Any]) -> Select:
    query = (select(DeclarationBatch.batch_no, DeclarationBatch.kind, DeclarationBatch.enterprise_code,
                    Enterprise.name.label("enterprise_name"), DeclarationBatch.region_code,
                    DeclaredPerson.id_number, DeclaredPerson.name, DeclaredPerson.status, DeclaredPerson.conclusion,
                    DeclaredPerson.decided_by, DeclarationBatch.submitted_at)
             .join(DeclarationBatch, DeclarationBatch.id == DeclaredPerson.batch_id)
             .join(Enterprise, Enterprise.code == DeclarationBatch.enterprise_code)
             .where(region_condition(DeclarationBatch.region_code, regions)))
    if f.get("region_code"):
        query = query.where(region_condition(DeclarationBatch.region_code, [f["region_code"]]))
    for key, column in (("batch_no", DeclarationBatch.batch_no), ("kind", DeclarationBatch.kind),
                        ("enterprise_code", DeclarationBatch.enterprise_code), ("status", DeclaredPerson.status)):
        if f.get(key):
            query = query.where(column == f[key])
    if f.get("id_number"):
        query = query.where(DeclaredPerson.id_number == f["id_number"].strip().upper())
    if f.get("year"):
        query = query.where(extract("year", DeclarationBatch.submitted_at) == f["year"])
    return query.order_by(DeclarationBatch.submitted_at.desc(), DeclaredPerson.id)


# ---------------------------------------------------------------------- 7.4 抽查结果查询
def _spot_checks(regions: list[str], f: dict[str, Any]) -> Select:
    query = (select(SpotCheck.id, SpotCheck.kind, SpotCheck.id_number, Person.name, SpotCheck.region_code,
                    SpotCheck.target_id, SpotCheck.result, SpotCheck.note, SpotCheck.checked_by, SpotCheck.checked_at)
             .join(Person, Person.id == SpotCheck.person_id)
             .where(region_condition(SpotCheck.region_code, regions)))
    if f.get("region_code"):
        query = query.where(region_condition(SpotCheck.region_code, [f["region_code"]]))
    for key, column in (("kind", SpotCheck.kind), ("result", SpotCheck.result)):
        if f.get(key):
            query = query.where(column == f[key])
    if f.get("id_number"):
        query = query.where(SpotCheck.id_number == f["id_number"].strip().upper())
    if f.get("checked_from"):
        query = query.where(SpotCheck.checked_at >= f["checked_from"])
    if f.get("checked_to"):
        query = query.where(func.date(SpotCheck.checked_at) <= f["checked_to"])
    return query.order_by(SpotCheck.checked_at.desc(), SpotCheck.id.desc())


# ---------------------------------------------------------------------- 7.5 疑似数据查询
def _suspicious(regions: list[str], f: dict[str, Any]) -> Select:
    histories = (select(literal("work_history").label("source"), WorkHistory.id.label("record_id"),
                        Person.id_number, Person.name, Person.region_code,
                        (WorkHistory.work_type_code + literal(" ") + func.coalesce(WorkType.name, "")).label("detail"),
                        WorkHistory.start_date.label("start_date"), WorkHistory.end_date.label("end_date"))
                 .join(Person, Person.id == WorkHistory.person_id)
                 .outerjoin(WorkType, WorkType.code == WorkHistory.work_type_code)
                 .where(WorkHistory.suspicious.is_(True), region_condition(Person.region_code, regions)))
    retirements = (select(literal("early_retirement").label("source"), EarlyRetirement.id.label("record_id"),
                          EarlyRetirement.id_number, EarlyRetirement.name, EarlyRetirement.region_code,
                          func.coalesce(EarlyRetirement.conclusion, "").label("detail"),
                          EarlyRetirement.retirement_date.label("start_date"),
                          EarlyRetirement.retirement_date.label("end_date"))
                   .where(EarlyRetirement.suspicious.is_(True), region_condition(EarlyRetirement.region_code, regions)))
    if f.get("source") == "work_history":
        parts = [histories]
    elif f.get("source") == "early_retirement":
        parts = [retirements]
    else:
        parts = [histories, retirements]
    combined = union_all(*parts).subquery()
    query = select(*combined.c)
    if f.get("region_code"):
        query = query.where(region_condition(combined.c.region_code, [f["region_code"]]))
    if f.get("id_number"):
        query = query.where(combined.c.id_number == f["id_number"].strip().upper())
    return query.order_by(combined.c.region_code, combined.c.id_number, combined.c.source, combined.c.record_id)


# ---------------------------------------------------------------------- 5.3 / 5.4 提前退休登记（供抽查）
def _early_retirements(regions: list[str], f: dict[str, Any]) -> Select:
    query = (select(EarlyRetirement.id, EarlyRetirement.id_number, EarlyRetirement.name, EarlyRetirement.region_code,
                    EarlyRetirement.nature, EarlyRetirement.retirement_date, EarlyRetirement.accumulated_years,
                    EarlyRetirement.age, EarlyRetirement.status, EarlyRetirement.suspicious,
                    EarlyRetirement.spot_check_result, EarlyRetirement.registered_at)
             .where(region_condition(EarlyRetirement.region_code, regions)))
    if f.get("region_code"):
        query = query.where(region_condition(EarlyRetirement.region_code, [f["region_code"]]))
    for key, column in (("id_number", EarlyRetirement.id_number), ("status", EarlyRetirement.status),
                        ("nature", EarlyRetirement.nature)):
        if f.get(key):
            query = query.where(column == f[key].strip().upper() if key == "id_number" else column == f[key])
    if f.get("spot_checked") is not None:
        query = query.where(EarlyRetirement.spot_check_result.is_not(None) == f["spot_checked"])
    return query.order_by(EarlyRetirement.registered_at.desc(), EarlyRetirement.id.desc())


# ---------------------------------------------------------------------- 7.6 特殊工种名录查询
def _catalogue(_regions: list[str], f: dict[str, Any]) -> Select:
    query = (select(WorkType.code, WorkType.name, WorkType.industry, WorkType.nature,
                    WorkNature.name.label("nature_name"), WorkNature.required_years, WorkType.active)
             .outerjoin(WorkNature, WorkNature.code == WorkType.nature))
    if f.get("industry"):
        query = query.where(WorkType.industry == f["industry"])
    if f.get("nature"):
        query = query.where(WorkType.nature == f["nature"])
    if f.get("name"):
        query = query.where(or_(_like(WorkType.name, f["name"]), WorkType.code == f["name"].strip().upper()))
    if f.get("active") is not None:
        query = query.where(WorkType.active.is_(f["active"]))
    return query.order_by(WorkType.industry, WorkType.code)


# ---------------------------------------------------------------------- 8.1 年度审核结果统计
def _annual_review_stats(regions: list[str], f: dict[str, Any]) -> Select:
    year = extract("year", DeclarationBatch.submitted_at)

    def count(*statuses: str):
        return func.sum(case((DeclaredPerson.status.in_(statuses), 1), else_=0))

    query = (select(DeclarationBatch.region_code, func.min(Region.name).label("region_name"), year.label("year"),
                    func.count(func.distinct(DeclarationBatch.id)).label("batches"),
                    func.count(DeclaredPerson.id).label("persons"), count("approved").label("approved"),
                    count("rejected").label("rejected"), count(*declarations.OPEN_PERSON_STATUSES).label("open"))
             .join(DeclarationBatch, DeclarationBatch.id == DeclaredPerson.batch_id)
             .outerjoin(Region, Region.code == DeclarationBatch.region_code)
             .where(region_condition(DeclarationBatch.region_code, regions),
                    DeclarationBatch.kind == (f.get("kind") or "annual"))
             .group_by(DeclarationBatch.region_code, year))
    if f.get("region_code"):
        query = query.where(region_condition(DeclarationBatch.region_code, [f["region_code"]]))
    if f.get("year"):
        query = query.where(year == f["year"])
    return query.order_by(year.desc(), DeclarationBatch.region_code)


# ---------------------------------------------------------------------- 8.2 历史备案人员统计
def _historical_filings(regions: list[str], f: dict[str, Any]) -> Select:
    conditions = [region_condition(Person.region_code, regions)]
    if f.get("region_code"):
        conditions.append(region_condition(Person.region_code, [f["region_code"]]))
    if f.get("year"):
        conditions.append(and_(extract("year", WorkHistory.start_date) <= f["year"],
                               extract("year", WorkHistory.end_date) >= f["year"]))
    retired = (select(EarlyRetirement.region_code, func.count().label("n"))
               .where(EarlyRetirement.status == "approved").group_by(EarlyRetirement.region_code).subquery())
    return (select(Person.region_code, func.min(Region.name).label("region_name"),
                   func.count(func.distinct(Person.id)).label("persons"),
                   func.count(WorkHistory.id).label("work_histories"),
                   func.sum(case((WorkHistory.valid.is_(False), 1), else_=0)).label("invalid_histories"),
                   func.coalesce(func.max(retired.c.n), 0).label("early_retirements"))
            .join(WorkHistory, WorkHistory.person_id == Person.id)
            .outerjoin(Region, Region.code == Person.region_code)
            .outerjoin(retired, retired.c.region_code == Person.region_code)
            .where(*conditions).group_by(Person.region_code).order_by(Person.region_code))


STATUS = dict(declarations.PERSON_STATUS_LABELS)
QUERIES: dict[str, Query] = {q.name: q for q in [
    Query("persons", "特殊工种人员信息查询", [
        Column("id_number", "公民身份号码"), Column("name", "姓名"), Column("gender", "性别", labels=GENDER_LABELS),
        Column("birth_date", "出生日期", "date"), Column("region_code", "区划代码"), Column("region_name", "所属区划"),
        Column("work_histories", "从业经历条数", "int"), Column("suspicious_histories", "疑点经历条数", "int")],
        {"id_number": ("str", "公民身份号码"), "name": ("str", "姓名"), "region_code": ("region", "区划代码"),
         "work_type_code": ("str", "特殊工种"), "enterprise_code": ("str", "单位编号"),
         "suspicious": ("bool", "有疑点经历")}, _persons),
    Query("enterprises", "特殊工种企业信息查询", [
        Column("code", "单位编号"), Column("name", "单位名称"), Column("region_code", "区划代码"),
        Column("region_name", "所属区划"), Column("industry", "行业大类"), Column("address", "地址"),
        Column("postal_code", "邮政编码"), Column("contact_person", "经办人"), Column("contact_phone", "联系电话"),
        Column("portal_enabled", "网厅权限", "bool", {True: "开启", False: "关闭"})],
        {"code": ("str", "单位编号"), "name": ("str", "单位名称"), "region_code": ("region", "区划代码"),
         "industry": ("str", "行业大类"), "portal_enabled": ("bool", "网厅权限")}, _enterprises),
    Query("review-results", "审核结果查询", [
        Column("batch_no", "批次号"), Column("kind", "申报类型", labels=declarations.KINDS),
        Column("enterprise_code", "单位编号"), Column("enterprise_name", "单位名称"), Column("region_code", "区划代码"),
        Column("id_number", "公民身份号码"), Column("name", "姓名"), Column("status", "审核状态", labels=STATUS),
        Column("conclusion", "审核结论"), Column("decided_by", "审核人"),
        Column("submitted_at", "申报时间", "datetime")],
        {"batch_no": ("str", "批次号"), "kind": ("str", "申报类型"), "enterprise_code": ("str", "单位编号"),
         "status": ("str", "审核状态"), "id_number": ("str", "公民身份号码"), "year": ("int", "年度"),
         "region_code": ("region", "区划代码")}, _review_results),
    Query("spot-check-results", "抽查结果查询", [
        Column("id", "抽查编号", "int"), Column("kind", "抽查业务", labels=spot_checks.KINDS),
        Column("id_number", "公民身份号码"), Column("name", "姓名"), Column("region_code", "区划代码"),
        Column("target_id", "抽查记录编号", "int"), Column("result", "抽查结果", labels=spot_checks.RESULTS),
        Column("note", "抽查说明"), Column("checked_by", "抽查人"), Column("checked_at", "抽查时间", "datetime")],
        {"kind": ("str", "抽查业务"), "result": ("str", "抽查结果"), "id_number": ("str", "公民身份号码"),
         "region_code": ("region", "区划代码"), "checked_from": ("date", "抽查日期起"),
         "checked_to": ("date", "抽查日期止")}, _spot_checks),
    Query("suspicious-data", "疑似数据查询", [
        Column("source", "疑点来源", labels={"work_history": "企业申报抽查无效的从业经历",
                                            "early_retirement": "提前退休登记疑点"}),
        Column("record_id", "记录编号", "int"), Column("id_number", "公民身份号码"), Column("name", "姓名"),
        Column("region_code", "区划代码"), Column("detail", "说明"), Column("start_date", "开始日期", "date"),
        Column("end_date", "结束日期", "date")],
        {"source": ("str", "疑点来源"), "id_number": ("str", "公民身份号码"), "region_code": ("region", "区划代码")},
        _suspicious),
    Query("early-retirements", "提前退休登记查询", [
        Column("id", "登记编号", "int"), Column("id_number", "公民身份号码"), Column("name", "姓名"),
        Column("region_code", "区划代码"), Column("nature", "特殊工种性质"),
        Column("retirement_date", "退休日期", "date"), Column("accumulated_years", "累计年限", "float"),
        Column("age", "退休时年龄", "int"), Column("status", "登记状态", labels=early_retirement.STATUS_LABELS),
        Column("suspicious", "疑点数据", "bool", BOOL_LABELS),
        Column("spot_check_result", "抽查结果", labels=spot_checks.RESULTS),
        Column("registered_at", "登记时间", "datetime")],
        {"id_number": ("str", "公民身份号码"), "status": ("str", "登记状态"), "nature": ("str", "特殊工种性质"),
         "region_code": ("region", "区划代码"), "spot_checked": ("bool", "已抽查")}, _early_retirements),
    Query("catalogue", "特殊工种名录查询", [
        Column("code", "工种编码"), Column("name", "特殊工种名称"), Column("industry", "企业行业大类"),
        Column("nature", "特殊工种性质代码"), Column("nature_name", "特殊工种性质"),
        Column("required_years", "提前退休累计年限", "int"),
        Column("active", "状态", "bool", {True: "在用", False: "停用"})],
        {"industry": ("str", "企业行业大类"), "nature": ("str", "特殊工种性质"), "name": ("str", "名称或编码"),
         "active": ("bool", "在用")}, _catalogue, staff_only=False),
    Query("annual-review-stats", "年度审核结果统计", [
        Column("region_code", "区划代码"), Column("region_name", "区划"), Column("year", "年度", "int"),
        Column("batches", "批次数", "int"), Column("persons", "申报人数", "int"), Column("approved", "复核通过", "int"),
        Column("rejected", "审核不通过", "int"), Column("open", "审核中", "int")],
        {"year": ("int", "年度"), "region_code": ("region", "区划代码"), "kind": ("str", "申报类型")},
        _annual_review_stats),
    Query("historical-filings", "历史备案人员统计", [
        Column("region_code", "区划代码"), Column("region_name", "区划"), Column("persons", "备案人数", "int"),
        Column("work_histories", "从业经历条数", "int"), Column("invalid_histories", "抽查无效经历", "int"),
        Column("early_retirements", "提前退休登记通过", "int")],
        {"region_code": ("region", "区划代码"), "year": ("int", "在岗年度")}, _historical_filings),
]}


