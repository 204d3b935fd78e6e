"""历史数据采集 (A12): the template, a clean file imported as history, every row error in its own words
with nothing imported, who may import, and numbers granted later that skip the imported ones."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from engine.case_clock import CST
from engine.db import utcnow
from engine.errors import Forbidden, InvalidData
from services.hr_market import history_import, licences
from services.hr_market.models import HrFiling, HrLicence, HrOrganisation
from services.platform.audit import AuditEntry
from services.platform.credit_code import check_character
from services.platform.jobs import Job
from tests.conftest import actor


def credit_code(serial: int, region: str = "110101") -> str:
    first17 = f"91{region}HX{serial:06d}Q"[:17]
    return first17 + check_character(first17)


def row(serial: int, region: str = "110101", **overrides) -> list:
    """A valid row: an organisation of ``region`` with a licence and a filing."""
    values = {"name": f"历史机构{serial}", "credit_code": credit_code(serial, region), "kind": "企业",
              "legal_representative": "王五", "address": f"北京市东城区历史路 {serial} 号", "region_code": region,
              "contact_person": "赵六", "contact_phone": "010-12345678", "licence_number": f"{region}2019{serial:04d}",
              "issued_on": "2019-06-01", "valid_until": "2024-05-31",
              "licence_items": "为用人单位推荐劳动者、组织开展招聘会", "filing_number": f"{region}B2019{serial:04d}",
              "filed_on": "2019-07-01", "filing_items": "人力资源培训,人力资源管理咨询"}
    values.update(overrides)
    return [values[column.key] for column in history_import.COLUMNS]


def without_licence_and_filing(serial: int, **overrides) -> list:
    return row(serial, **{key: "" for key in ("licence_number", "issued_on", "valid_until", "licence_items",
                                              "filing_number", "filed_on", "filing_items")} | overrides)


def workbook(*rows: list, header: tuple[str, ...] = history_import.TEMPLATE_COLUMNS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = history_import.SHEET
    sheet.append(list(header))
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run_import(runtime, content: bytes, who: str = "admin") -> dict:
    with runtime.unit_of_work() as uow:
        job_id = history_import.queue_import(uow, runtime.jobs, actor(who), "历史数据.xlsx", content,
                                             runtime.settings.workbook_limits).id
        uow.commit()
    assert runtime.jobs.execute(job_id) == "done"
    with runtime.unit_of_work() as uow:
        job = uow.session.get(Job, job_id)
        assert job.params == {"filename": "历史数据.xlsx"}  # the workbook left with the import
        return job.result


def count(runtime, model) -> int:
    with runtime.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_the_template_has_the_columns_a_kind_dropdown_and_an_example_the_import_skips(runtime):
    content = history_import.template()
    sheet = load_workbook(io.BytesIO(content))[history_import.SHEET]
    assert [cell.value for cell in sheet[1]] == list(history_import.TEMPLATE_COLUMNS)
    assert history_import.TEMPLATE_COLUMNS[:3] == ("机构名称*", "统一社会信用代码*", "机构类型*")
    assert sheet["A2"].value.startswith(history_import.EXAMPLE_MARK)
    kinds = sheet.data_validations.dataValidation
    assert [(v.formula1, str(v.sqref)) for v in kinds] == [('"企业,事业单位,社会组织,分支机构"', "C2:C20000")]
    result = run_import(runtime, content)
    assert result["imported"] is False and result["row_count"] == 0
    assert result["message"] == "文件中没有机构数据，未导入任何数据"


def test_a_clean_file_imports_organisations_licences_and_filings_as_history(runtime):
    result = run_import(runtime, workbook(
        row(1), without_licence_and_filing(2, kind="社会组织", region_code="110105"),
        row(3, issued_on=datetime(2020, 3, 1), valid_until=datetime(2025, 2, 28), filing_number="", filed_on="",
            filing_items="", licence_items="开展网络招聘服务，为用人单位推荐劳动者")))
    assert result == {"imported": True, "row_count": 3, "organisations": 3, "licences": 2, "filings": 1,
                      "problem_count": 0, "problems": [],
                      "message": "已导入 3 个机构、2 个行政许可、1 个业务备案"}
    with runtime.unit_of_work() as uow:
        session = uow.session
        organisations = {o.credit_code: o for o in session.scalars(select(HrOrganisation))}
        assert {(o.name, o.kind, o.region_code, o.source, o.status) for o in organisations.values()} == {
            ("历史机构1", "enterprise", "110101", "history", "active"),
            ("历史机构2", "social", "110105", "history", "active"),
            ("历史机构3", "enterprise", "110101", "history", "active")}
        first = organisations[credit_code(1)]
        assert (first.legal_representative, first.contact_person, first.contact_phone) == ("王五", "赵六",
                                                                                            "010-12345678")
        held = {lic.licence_number: lic for lic in session.scalars(select(HrLicence))}
        assert set(held) == {"11010120190001", "11010120190003"}
        licence = held["11010120190001"]
        assert (licence.organisation_id, licence.items, licence.issued_on, licence.valid_until, licence.source,
                licence.status) == (first.id, ["recommend_workers", "job_fairs"], date(2019, 6, 1),
                                    date(2024, 5, 31), "history", "active")
        dated = held["11010120190003"]  # date cells, and the items in the code table's order
        assert (dated.issued_on, dated.valid_until, dated.items) == (date(2020, 3, 1), date(2025, 2, 28),
                                                                     ["recommend_workers", "online_recruitment"])
        filing = session.scalars(select(HrFiling)).one()
        assert (filing.organisation_id, filing.filing_number, filing.items, filing.filed_on, filing.source) == (
            first.id, "110101B20190001", ["management_consulting", "training"], date(2019, 7, 1), "history")
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.details) == ("admin", "hr_organisation.import", {
            "filename": "历史数据.xlsx", "organisations": 3, "licences": 2, "filings": 1})


def test_each_error_has_its_message_and_a_file_with_any_error_imports_nothing(runtime):
    with runtime.unit_of_work() as uow:  # already in the register
        held = HrOrganisation(credit_code=credit_code(90), name="已登记机构", kind="enterprise",
                              legal_representative="甲", address="东城区", region_code="110101")
        uow.session.add(held)
        uow.session.flush()
        uow.session.add(HrLicence(organisation_id=held.id, licence_number="11010120190050", issued_on=date(2019, 1, 1)))
        uow.session.add(HrFiling(organisation_id=held.id, filing_number="110101B20190051", filed_on=date(2019, 1, 1)))
        uow.commit()
    bad_code = credit_code(3)[:17] + ("0" if credit_code(3)[17] != "0" else "1")
    result = run_import(runtime, workbook(
        row(1),
        row(2, credit_code=bad_code),
        row(3, "120101"),
        row(4, licence_number="11010120190050"),
        row(5, credit_code=credit_code(1)),
        row(6, legal_representative=""),
        row(7, issued_on="2019年6月1日"),
        row(8, kind="合伙企业"),
        row(9, licence_items="为用人单位推荐劳动者、代理招聘"),
        row(10, credit_code=credit_code(90)),
        row(11, filing_number="110101B20190051"),
        row(12, licence_items=""),
        row(13, licence_number="11010120190001"),
        row(14, "999999"),
        row(15, name="=HYPERLINK(\"http://example.com\")"),
        row(16, licence_number="11010520190016"),  # 朝阳区's sequence, for an organisation of 东城区
    ))
    assert [p["message"] for p in result["problems"]] == [
        "第3行：统一社会信用代码校验位错误",
        "第4行：所属区划不在您的管辖范围内",
        "第5行：许可证编号 11010120190050 已存在",
        f"第6行：统一社会信用代码 {credit_code(1)} 与第2行重复",
        "第7行：法定代表人不能为空",
        "第8行：日期格式应为 YYYY-MM-DD",
        "第9行：机构类型的值“合伙企业”不在代码表中",
        "第10行：许可事项的值“代理招聘”不在代码表中",
        f"第11行：统一社会信用代码 {credit_code(90)} 已登记",
        "第12行：备案编号 110101B20190051 已存在",
        "第13行：许可事项不能为空",
        "第14行：许可证编号 11010120190001 与第2行重复",
        "第15行：所属区划代码的值“999999”不在代码表中",
        "第16行：机构名称不能使用公式，请直接填写内容",
        "第17行：许可证编号 11010520190016 的区划代码与所属区划不符",
    ]
    assert [(p["row"], p["column"]) for p in result["problems"]][:3] == [
        (3, "统一社会信用代码"), (4, "所属区划代码"), (5, "许可证编号")]
    assert (result["imported"], result["row_count"], result["problem_count"]) == (False, 16, 15)
    assert result["message"] == "文件中有 15 处错误，未导入任何数据；请修改后重新上传"
    assert (count(runtime, HrOrganisation), count(runtime, HrLicence), count(runtime, HrFiling)) == (1, 1, 1)
    assert count(runtime, AuditEntry) == 0


def test_a_licence_or_filing_needs_its_number_date_and_items_and_dates_must_be_in_order(runtime):
    result = run_import(runtime, workbook(
        without_licence_and_filing(1, valid_until="2024-05-31"),
        without_licence_and_filing(2, filing_items="人力资源培训"),
        row(3, valid_until="2019-05-31"),
    ))
    assert [p["message"] for p in result["problems"]] == [
        "第2行：许可证编号不能为空", "第2行：发证日期不能为空", "第2行：许可事项不能为空",
        "第3行：备案编号不能为空", "第3行：备案日期不能为空",
        "第4行：有效期至不能早于发证日期"]


def test_only_staff_who_manage_organisations_may_import_and_a_wrong_file_is_refused_at_once(runtime):
    with runtime.unit_of_work() as uow:
        with pytest.raises(Forbidden):
            history_import.queue_import(uow, runtime.jobs, actor("reviewer"), "x.xlsx", workbook(row(1)))
        for content, message in (
                (b"", "请选择要上传的文件"), (b"not a workbook", history_import.BAD_WORKBOOK),
                (workbook(row(1), header=("机构名称", "统一社会信用代码")), "表头与模板不一致，请使用下载的模板"),
                (b"x" * (history_import.MAX_UPLOAD_BYTES + 1), "文件超过 8 MB 上限，请拆分后分批上传")):
            with pytest.raises(InvalidData) as refused:
                history_import.queue_import(uow, runtime.jobs, actor("admin"), "x.xlsx", content)
            assert refused.value.message == message
    assert count(runtime, Job) == 0


def test_a_later_grant_skips_the_numbers_imported(runtime):
    year = (utcnow() + CST).year
    run_import(runtime, workbook(row(1, licence_number=f"110101{year}0001"), without_licence_and_filing(2)))
    with runtime.unit_of_work() as uow:
        unlicensed = uow.session.scalar(select(HrOrganisation).where(HrOrganisation.credit_code == credit_code(2)))
        granted = licences.grant(uow.session, unlicensed.id, ["job_fairs"], region_code="110101", instance_id=None,
                                 pattern="{region}{year}{seq:4}", document_pattern="测试人社许字〔{year}〕第{seq:4}号",
                                 valid_years=5, granted_by="approver")
        assert granted.licence_number == f"110101{year}0002"
