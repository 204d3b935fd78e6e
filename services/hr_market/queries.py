"""Queries of the human-resources market system, for the generic 查询统计 pages and their Excel
export (``services.platform.queries``): 行政许可查看 (003 §2.3) and the organisation register."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, extract, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, aliased

from engine.actors import region_condition
from engine.case_clock import CST
from engine.db import utcnow
from services.hr_market.labels import (
    LICENCE_STATUSES,
    ORGANISATION_KINDS,
    ORGANISATION_STATUSES,
    REPORT_STATUSES,
    SOURCES,
)
from services.hr_market.models import (
    ACTIVE,
    CANCELLED,
    HrAnnualReport,
    HrFiling,
    HrJobFair,
    HrLicence,
    HrOrganisation,
)
from services.platform.credit_code import normalised
from services.platform.identity import Region
from services.platform.queries import Column, Query


def _holdings(holding: type[HrLicence] | type[HrFiling], number: InstrumentedAttribute[str], columns: list[Any],
              regions: list[str], f: dict[str, Any]) -> Select:
    """Licences or filings of the user's jurisdiction (行政许可查看, 业务备案查看) with the common filters:
    the organisation's name (part), its credit code, the number, the status, a region within scope."""
    query = _scoped(select(number, HrOrganisation.name.label("organisation_name"), HrOrganisation.credit_code,
                           HrOrganisation.region_code, Region.name.label("region_name"), *columns,
                           holding.status, holding.source)
                    .select_from(holding).join(HrOrganisation, HrOrganisation.id == holding.organisation_id)
                    .outerjoin(Region, Region.code == HrOrganisation.region_code), regions, f)
    if f.get("name"):
        query = query.where(HrOrganisation.name.contains(f["name"].strip(), autoescape=True))
    if f.get("credit_code"):
        query = query.where(HrOrganisation.credit_code == normalised(f["credit_code"]))
    if f.get(number.key):
        query = query.where(number == f[number.key].strip())
    if f.get("status"):
        query = query.where(holding.status == f["status"])
    return query.order_by(HrOrganisation.region_code, number)


def _licences(regions: list[str], f: dict[str, Any]) -> Select:
    return _holdings(HrLicence, HrLicence.licence_number,
                     [HrLicence.document_number, HrLicence.issued_on, HrLicence.valid_until], regions, f)


def _filings(regions: list[str], f: dict[str, Any]) -> Select:
    return _holdings(HrFiling, HrFiling.filing_number, [HrFiling.filed_on], regions, f)


def _year(f: dict[str, Any]) -> int:
    """The year a yearly statistic counts: the filter's, else this one (China Standard Time)."""
    return int(f.get("year") or (utcnow() + CST).year)


def _per_region_with_total(regions: list[str], f: dict[str, Any], events: list[Select], columns: list[str]) -> Select:
    """Rows of ``events`` (each: region_code and a 0/1 column per name in ``columns``) summed per region of
    the user's jurisdiction, and a 合计 row last."""
    happened = union_all(*events).subquery()
    sums = [func.sum(happened.c[name]).label(name) for name in columns]
    total = func.count().label("total")
    year = literal(_year(f)).label("year")
    per_region = (select(happened.c.region_code, func.min(Region.name).label("region_name"), year, *sums, total,
                         literal(0).label("sort"))
                  .outerjoin(Region, Region.code == happened.c.region_code).group_by(happened.c.region_code))
    overall = select(literal("").label("region_code"), literal("合计").label("region_name"), year, *sums, total,
                     literal(1).label("sort"))
    rows = union_all(per_region, overall).subquery()
    return select(*[rows.c[name] for name in ("region_code", "region_name", "year", *columns, "total")]).order_by(
        rows.c.sort, rows.c.region_code)


def _scoped(query: Select, regions: list[str], f: dict[str, Any]) -> Select:
    query = query.where(region_condition(HrOrganisation.region_code, regions))
    if f.get("region_code"):
        query = query.where(region_condition(HrOrganisation.region_code, [f["region_code"]]))
    return query


def _new_registrations(regions: list[str], f: dict[str, Any]) -> Select:
    """按年度统计各地区新增情况 (003 §2.20.1): licences and filings granted in the year — imported ones by
    their dates too — and of them those of branches."""
    branch = case((HrOrganisation.parent_id.is_not(None), 1), else_=0).label("new_branches")
    licences = _scoped(select(HrOrganisation.region_code, literal(1).label("new_licences"),
                              literal(0).label("new_filings"), branch)
                       .select_from(HrLicence).join(HrOrganisation, HrOrganisation.id == HrLicence.organisation_id)
                       .where(extract("year", HrLicence.issued_on) == _year(f)), regions, f)
    filings = _scoped(select(HrOrganisation.region_code, literal(0).label("new_licences"),
                             literal(1).label("new_filings"), branch)
                      .select_from(HrFiling).join(HrOrganisation, HrOrganisation.id == HrFiling.organisation_id)
                      .where(extract("year", HrFiling.filed_on) == _year(f)), regions, f)
    return _per_region_with_total(regions, f, [licences, filings], ["new_licences", "new_filings", "new_branches"])


def _deregistrations(regions: list[str], f: dict[str, Any]) -> Select:
    """按年度统计各地区注销情况 (003 §2.20.2): licences ended in the year, on the organisation's application or
    by the authority, and filings ended."""
    def licences_by(mode: str) -> Select:
        return _scoped(select(HrOrganisation.region_code,
                              literal(1 if mode == "application" else 0).label("licences_applied"),
                              literal(1 if mode == "authority" else 0).label("licences_by_authority"),
                              literal(0).label("filings"))
                       .select_from(HrLicence).join(HrOrganisation, HrOrganisation.id == HrLicence.organisation_id)
                       .where(HrLicence.status == CANCELLED, HrLicence.cancel_mode == mode,
                              extract("year", HrLicence.cancelled_on) == _year(f)), regions, f)

    filings = _scoped(select(HrOrganisation.region_code, literal(0).label("licences_applied"),
                             literal(0).label("licences_by_authority"), literal(1).label("filings"))
                      .select_from(HrFiling).join(HrOrganisation, HrOrganisation.id == HrFiling.organisation_id)
                      .where(HrFiling.status == CANCELLED, extract("year", HrFiling.cancelled_on) == _year(f)),
                      regions, f)
    return _per_region_with_total(regions, f, [licences_by("application"), licences_by("authority"), filings],
                                  ["licences_applied", "licences_by_authority", "filings"])


def _annual_reports(regions: list[str], f: dict[str, Any]) -> Select:
    query = _scoped(select(HrOrganisation.name.label("organisation_name"), HrOrganisation.credit_code,
                           HrOrganisation.region_code, HrAnnualReport.year, HrAnnualReport.revision,
                           HrAnnualReport.status, HrAnnualReport.submitted_at, HrAnnualReport.reviewed_on,
                           HrAnnualReport.reviewed_by)
                    .select_from(HrAnnualReport)
                    .join(HrOrganisation, HrOrganisation.id == HrAnnualReport.organisation_id), regions, f)
    if f.get("year"):
        query = query.where(HrAnnualReport.year == f["year"])
    if f.get("name"):
        query = query.where(HrOrganisation.name.contains(f["name"].strip(), autoescape=True))
    if f.get("status"):
        query = query.where(HrAnnualReport.status == f["status"])
    return query.order_by(HrAnnualReport.year.desc(), HrOrganisation.region_code, HrOrganisation.name)


def _disclosure(regions: list[str], f: dict[str, Any]) -> Select:
    """导出公示信息 (003 §2.19, 暂行条例 §23): the passed annual reports of the user's jurisdiction, with the
    organisation's particulars and its valid licence and filing numbers."""
    licence = aliased(HrLicence)
    filing = aliased(HrFiling)
    query = _scoped(select(HrOrganisation.name.label("organisation_name"), HrOrganisation.credit_code,
                           HrOrganisation.legal_representative, HrOrganisation.address,
                           licence.licence_number, filing.filing_number, HrAnnualReport.year,
                           HrAnnualReport.submitted_at, HrAnnualReport.reviewed_on,
                           Region.name.label("region_name"))
                    .select_from(HrAnnualReport)
                    .join(HrOrganisation, HrOrganisation.id == HrAnnualReport.organisation_id)
                    .outerjoin(licence, (licence.organisation_id == HrOrganisation.id) & (licence.status == ACTIVE))
                    .outerjoin(filing, (filing.organisation_id == HrOrganisation.id) & (filing.status == ACTIVE))
                    .outerjoin(Region, Region.code == HrOrganisation.region_code)
                    .where(HrAnnualReport.status == "approved"), regions, f)
    if f.get("year"):
        query = query.where(HrAnnualReport.year == f["year"])
    return query.order_by(HrAnnualReport.year.desc(), HrOrganisation.region_code, HrOrganisation.name)


def _job_fairs(regions: list[str], f: dict[str, Any]) -> Select:
    """现场招聘会查阅: fairs held in the user's jurisdiction or by its organisations (003 L120–125)."""
    query = (select(HrJobFair.name, HrOrganisation.name.label("organisation_name"), HrJobFair.starts_on,
                    HrJobFair.ends_on, HrJobFair.venue, HrJobFair.region_code, Region.name.label("region_name"),
                    HrJobFair.booths, HrJobFair.contact_person, HrJobFair.contact_phone)
             .select_from(HrJobFair).join(HrOrganisation, HrOrganisation.id == HrJobFair.organisation_id)
             .outerjoin(Region, Region.code == HrJobFair.region_code)
             .where(region_condition(HrJobFair.region_code, regions)
                    | region_condition(HrOrganisation.region_code, regions)))
    if f.get("region_code"):
        query = query.where(region_condition(HrJobFair.region_code, [f["region_code"]]))
    if f.get("name"):
        query = query.where(HrJobFair.name.contains(f["name"].strip(), autoescape=True))
    if f.get("organisation"):
        query = query.where(HrOrganisation.name.contains(f["organisation"].strip(), autoescape=True))
    return query.order_by(HrJobFair.starts_on.desc(), HrJobFair.name)


def _organisations(regions: list[str], f: dict[str, Any]) -> Select:
    query = (select(HrOrganisation.credit_code, HrOrganisation.name, HrOrganisation.kind,
                    HrOrganisation.legal_representative, HrOrganisation.address, HrOrganisation.region_code,
                    Region.name.label("region_name"), HrOrganisation.status, HrOrganisation.source)
             .outerjoin(Region, Region.code == HrOrganisation.region_code)
             .where(region_condition(HrOrganisation.region_code, regions)))
    if f.get("region_code"):
        query = query.where(region_condition(HrOrganisation.region_code, [f["region_code"]]))
    if f.get("name"):
        query = query.where(HrOrganisation.name.contains(f["name"].strip(), autoescape=True))
    if f.get("credit_code"):
        query = query.where(HrOrganisation.credit_code == normalised(f["credit_code"]))
    if f.get("kind"):
        query = query.where(HrOrganisation.kind == f["kind"])
    return query.order_by(HrOrganisation.region_code, HrOrganisation.name)


QUERIES: dict[str, Query] = {q.name: q for q in [
    Query("hr-licences", "行政许可查看", [
        Column("licence_number", "许可证编号"), Column("document_number", "文号"),
        Column("organisation_name", "机构名称"), Column("credit_code", "统一社会信用代码"),
        Column("region_code", "区划代码"), Column("region_name", "所属区划"), Column("issued_on", "发证日期", "date"),
        Column("valid_until", "有效期至", "date"), Column("status", "状态", labels=LICENCE_STATUSES),
        Column("source", "来源", labels=SOURCES)],
        {"name": ("str", "机构名称"), "credit_code": ("str", "统一社会信用代码"),
         "licence_number": ("str", "许可证编号"), "status": ("str", "状态"),
         "region_code": ("region", "区划代码")}, _licences,
        description="已准予的人力资源服务许可（含历史导入），按机构住所所在区划"),
    Query("hr-filings", "业务备案查看", [
        Column("filing_number", "备案编号"), Column("organisation_name", "机构名称"),
        Column("credit_code", "统一社会信用代码"), Column("region_code", "区划代码"), Column("region_name", "所属区划"),
        Column("filed_on", "备案日期", "date"), Column("status", "状态", labels=LICENCE_STATUSES),
        Column("source", "来源", labels=SOURCES)],
        {"name": ("str", "机构名称"), "credit_code": ("str", "统一社会信用代码"), "filing_number": ("str", "备案编号"),
         "status": ("str", "状态"), "region_code": ("region", "区划代码")}, _filings,
        description="已核查通过的人力资源服务业务备案（含历史导入），按机构住所所在区划"),
    Query("hr-new-registrations", "按年度统计各地区新增情况", [
        Column("region_code", "区划代码"), Column("region_name", "区划"), Column("year", "年度", "int"),
        Column("new_licences", "新增许可", "int"), Column("new_filings", "新增备案", "int"),
        Column("new_branches", "其中分支机构", "int"), Column("total", "合计", "int")],
        {"year": ("int", "年度"), "region_code": ("region", "区划代码")}, _new_registrations,
        description="所选年度（默认本年）发证的许可和核查通过的备案，含历史导入，按机构住所所在区划；末行为合计"),
    Query("hr-deregistrations", "按年度统计各地区注销情况", [
        Column("region_code", "区划代码"), Column("region_name", "区划"), Column("year", "年度", "int"),
        Column("licences_applied", "注销许可（主动申请）", "int"),
        Column("licences_by_authority", "注销许可（行政机关注销）", "int"),
        Column("filings", "注销备案", "int"), Column("total", "合计", "int")],
        {"year": ("int", "年度"), "region_code": ("region", "区划代码")}, _deregistrations,
        description="所选年度（默认本年）注销的许可和备案，按机构住所所在区划；末行为合计"),
    Query("hr-annual-reports", "年度报告查阅", [
        Column("organisation_name", "机构名称"), Column("credit_code", "统一社会信用代码"),
        Column("region_code", "区划代码"), Column("year", "报告年度", "int"), Column("revision", "报送次数", "int"),
        Column("status", "状态", labels=REPORT_STATUSES), Column("submitted_at", "提交时间", "datetime"),
        Column("reviewed_on", "查阅日期", "date"), Column("reviewed_by", "查阅人")],
        {"year": ("int", "报告年度"), "name": ("str", "机构名称"), "status": ("str", "状态"),
         "region_code": ("region", "区划代码")}, _annual_reports),
    Query("hr-annual-report-disclosure", "年度报告公示信息", [
        Column("organisation_name", "机构名称"), Column("credit_code", "统一社会信用代码"),
        Column("legal_representative", "法定代表人"), Column("address", "住所"),
        Column("licence_number", "许可证编号"), Column("filing_number", "备案编号"), Column("year", "报告年度", "int"),
        Column("submitted_at", "提交日期", "datetime"), Column("reviewed_on", "查阅通过日期", "date"),
        Column("region_name", "所属区")],
        {"year": ("int", "报告年度"), "region_code": ("region", "区划代码")}, _disclosure,
        description="当前用户所属行政区划查阅通过的年度报告；导出 Excel 即导出公示信息"),
    Query("hr-job-fairs", "现场招聘会查阅", [
        Column("name", "招聘会名称"), Column("organisation_name", "举办机构"), Column("starts_on", "开始日期", "date"),
        Column("ends_on", "结束日期", "date"), Column("venue", "举办地点"), Column("region_code", "区划代码"),
        Column("region_name", "所在区划"), Column("booths", "展位数", "int"), Column("contact_person", "联系人"),
        Column("contact_phone", "联系电话")],
        {"name": ("str", "招聘会名称"), "organisation": ("str", "举办机构"), "region_code": ("region", "区划代码")},
        _job_fairs, description="机构添加的现场招聘会：举办地点或举办机构在本辖区的"),
    Query("hr-organisations", "人力资源服务机构查询", [
        Column("credit_code", "统一社会信用代码"), Column("name", "机构名称"),
        Column("kind", "机构类型", labels=ORGANISATION_KINDS), Column("legal_representative", "法定代表人"),
        Column("address", "住所"), Column("region_code", "区划代码"), Column("region_name", "所属区划"),
        Column("status", "状态", labels=ORGANISATION_STATUSES), Column("source", "来源", labels=SOURCES)],
        {"name": ("str", "机构名称"), "credit_code": ("str", "统一社会信用代码"), "kind": ("str", "机构类型"),
         "region_code": ("region", "区划代码")}, _organisations),
]}
