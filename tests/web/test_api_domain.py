"""The special-work-type review system over the JSON API (seed 000): enterprises, Excel template and
upload, per-person decisions, commitment letter, register maintenance, spot checks, early
retirement, catalogue, queries and their exports, all in /api/openapi.json."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook, load_workbook

from services.platform import queries
from tests.conftest import person

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def body_of(p):
    return {**p, "birth_date": p["birth_date"].isoformat(),
            "work_histories": [{**h, "start_date": h["start_date"].isoformat(), "end_date": h["end_date"].isoformat()}
                               for h in p["work_histories"]]}


def submit(client, login, *persons, kind="first"):
    response = client.post("/api/declarations", headers=login("enterprise"), json={
        "enterprise_code": "110101000001", "kind": kind, "persons": [body_of(p) for p in persons]})
    assert response.status_code == 201, response.json
    return response.json


def test_enterprise_administration(client, login):
    bad = {"code": "110101800001", "name": "接口测试单位", "region_code": "110101", "industry": "煤炭",
           "address": "", "postal_code": "1000", "contact_person": "李", "contact_phone": "8888"}
    refused = client.post("/api/enterprises", json=bad, headers=login("reviewer"))
    assert refused.status_code == 400
    assert refused.json["fields"] == {
        "address": ["必填信息未填写：单位地址"], "postal_code": ["邮政编码不足6位（应为 6 位数字）"],
        "contact_phone": ["单位经办人联系电话格式不正确（手机号码或带区号的固定电话，如 010-12345678）"]}
    good = {**bad, "address": "东城区 1 号", "postal_code": "100010", "contact_phone": "010-87654321"}
    assert client.post("/api/enterprises", json=good, headers=login("reviewer")).status_code == 201
    assert client.post("/api/enterprises", json=good, headers=login("tj_reviewer")).status_code == 403
    changed = client.put("/api/enterprises/110101800001", headers=login("reviewer"),
                         json={k: v for k, v in good.items() if k != "code"} | {"contact_person": "王"})
    assert changed.status_code == 200 and changed.json["contact_person"] == "王"

    credentials = client.post("/api/enterprises/110101800001/portal-password", headers=login("reviewer")).json
    assert client.put("/api/enterprises/110101800001/portal-access", json={"enabled": True},
                      headers=login("reviewer")).json["portal_enabled"] is True
    token = client.post("/api/auth/token", json=credentials)
    assert token.status_code == 200
    client.put("/api/enterprises/110101800001/portal-access", json={"enabled": False}, headers=login("reviewer"))
    assert client.post("/api/auth/token", json=credentials).status_code == 401
    assert client.get("/api/enterprises", headers={"Authorization": f"Bearer {token.json['token']}"}).status_code == 401
    detail = client.get("/api/enterprises/110101800001", headers=login("reviewer")).json
    assert [a["action"] for a in detail["audit"]] == ["enterprise.create", "enterprise.update",
                                                       "enterprise.reset_password", "enterprise.portal_open",
                                                       "enterprise.portal_close"]


def workbook_bytes(*rows):
    book = Workbook()
    sheet = book.active
    sheet.title = "申报人员"
    sheet.append(["公民身份号码*", "姓名*", "性别*", "出生日期*", "特殊工种*", "开始日期*", "结束日期*"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def imported_by_job(client, runtime, headers, data):
    """Upload (answered at once with the queued import job), run the job, and read its result."""
    queued = client.post("/api/declarations/upload", headers=headers, content_type="multipart/form-data", data=data)
    assert queued.status_code == 202 and queued.json["status"] == "queued", queued.json
    runtime.jobs.run_pending()
    job = client.get(f"/api/jobs/{queued.json['id']}", headers=headers)
    assert job.json["status"] == "done"
    return job.json["result"]


def test_template_and_upload(client, login, runtime):
    template = client.get("/api/declarations/template?enterprise_code=110101000001", headers=login("enterprise"))
    assert template.status_code == 200 and template.mimetype == XLSX
    assert "attachment" in template.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(template.data))["申报人员"]["A1"].value == "公民身份号码*"
    assert client.get("/api/declarations/template?enterprise_code=110105000002",
                      headers=login("enterprise")).status_code == 404

    good = person(70)
    rows = [[good["id_number"], "上传甲", "男", "1975-03-01", "MT001 井下采煤工", "1995-07-01", "2010-06-30"],
            ["110101197503010010", "上传乙", "男", "1975-03-01", "MT001", "1995-07-01", "2010-06-30"]]
    form = {"enterprise_code": "110101000001", "kind": "first"}
    refused = imported_by_job(client, runtime, login("enterprise"),
                              {**form, "file": (io.BytesIO(workbook_bytes(*rows)), "申报.xlsx")})
    assert refused["imported"] is False and refused["batch_id"] is None
    assert refused["problems"] == [{"row": 3, "column": "公民身份号码", "message": "公民身份号码校验位错误"}]
    assert "未导入任何数据" in refused["message"]
    imported = imported_by_job(client, runtime, login("enterprise"),
                               {**form, "import_valid_rows": "true",
                                "file": (io.BytesIO(workbook_bytes(*rows)), "申报.xlsx")})
    assert imported["imported"] is True and imported["valid_persons"] == 1
    detail = client.get(f"/api/declarations/{imported['batch_id']}", headers=login("reviewer")).json
    assert [p["name"] for p in detail["persons"]] == ["上传甲"]
    broken = client.post("/api/declarations/upload", headers=login("enterprise"), content_type="multipart/form-data",
                         data={**form, "file": (io.BytesIO(b"%PDF-1.4 not excel"), "申报.xlsx")})
    assert broken.status_code == 400 and broken.json["message"].startswith("文件不是有效的 Excel 工作簿")


def test_per_person_decisions_export_and_commitment_letter(client, login):
    created = submit(client, login, person(71), person(72))
    batch_id = created["batch_id"]
    ids = [p["id"] for p in client.get(f"/api/declarations/{batch_id}", headers=login("reviewer")).json["persons"]]

    letter = client.post(f"/api/declarations/{batch_id}/attachments", headers=login("enterprise"),
                         content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"%PDF-1.7\n%%EOF"), "承诺书.pdf")})
    assert letter.status_code == 201 and letter.json["content_type"] == "application/pdf"
    fake = client.post(f"/api/declarations/{batch_id}/attachments", headers=login("enterprise"),
                       content_type="multipart/form-data", data={"file": (io.BytesIO(b"<html>"), "x.pdf")})
    assert fake.status_code == 400
    listed = client.get(f"/api/declarations/{batch_id}/attachments", headers=login("reviewer")).json["items"]
    download = client.get(f"/api/attachments/{listed[0]['id']}", headers=login("reviewer"))
    assert download.mimetype == "application/pdf" and download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/api/attachments/{listed[0]['id']}", headers=login("tj_reviewer")).status_code == 404

    no_reason = client.post(f"/api/declarations/{batch_id}/decision", headers=login("reviewer"),
                            json={"decision": "approve", "rejected_persons": [ids[1]]})
    assert no_reason.status_code == 400
    stranger = client.post(f"/api/declarations/{batch_id}/decision", headers=login("reviewer"),
                           json={"decision": "approve", "rejected_persons": [999999], "conclusion": "x"})
    assert stranger.status_code == 400 and "不在本环节待审人员中" in stranger.json["message"]
    decided = client.post(f"/api/declarations/{batch_id}/decision", headers=login("reviewer"),
                          json={"decision": "approve", "rejected_persons": [ids[1]], "conclusion": "证明不足"})
    assert decided.status_code == 200 and decided.json["batch_status"] == "rechecking"
    final = client.post(f"/api/declarations/{batch_id}/decision", headers=login("rechecker"),
                        json={"decision": "approve"})
    assert final.json == {"instance_id": created["instance_id"], "status": "completed", "batch_status": "approved"}

    exported = client.get(f"/api/declarations/{batch_id}/export", headers=login("reviewer"))
    sheet = load_workbook(io.BytesIO(exported.data)).active
    assert [(r[2], r[7], r[8]) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("测试71", "复核通过，已入库", None), ("测试72", "审核不通过，需重新申报", "证明不足")]


def test_register_spot_check_and_early_retirement(client, login):
    number = person(73, birth=date(1968, 1, 1))["id_number"]
    add = {"id_number": number, "person": {"name": "接口人员", "gender": "male", "region_code": "110101"},
           "work_histories": [{"enterprise_code": "110101000001", "work_type_code": "MT001",
                               "start_date": "1990-01-01", "end_date": "2001-12-31"}]}
    assert client.post("/api/register/unfiled-persons", json=add, headers=login("clerk")).status_code == 201
    again = client.post("/api/register/unfiled-persons", json=add, headers=login("clerk"))
    assert again.status_code == 409 and "已存在此人员" in again.json["message"]
    more = client.post("/api/register/persons", headers=login("clerk"), json={
        "id_number": number, "work_histories": [{"enterprise_code": "110101000001", "work_type_code": "MT002",
                                                 "start_date": "2002-01-01", "end_date": "2003-12-31"}]})
    assert more.status_code == 201 and len(more.json["work_histories"]) == 2

    second = more.json["work_histories"][1]["id"]
    checked = client.post("/api/spot-checks/work-histories", headers=login("spot_checker"),
                          json={"history_ids": [second], "result": "fail", "note": "无社保缴费记录"})
    assert checked.status_code == 201 and checked.json["items"][0]["result"] == "fail"
    assert client.post("/api/spot-checks/work-histories", headers=login("county_spot_checker"),
                       json={"history_ids": [second], "result": "pass"}).status_code == 404  # another county

    registered = client.post("/api/early-retirements", headers=login("clerk"), json={
        "id_number": number, "nature": "underground", "retirement_date": "2024-01-01"})
    assert registered.status_code == 201
    assert registered.json["status"] == "pending_approval" and registered.json["accumulated_years"] == 12.0
    person_view = client.get(f"/api/register/persons/{number}", headers=login("reviewer")).json
    assert [r["id"] for r in person_view["early_retirements"]] == [registered.json["id"]]
    assert person_view["work_histories"][1]["valid"] is False
    assert [(a["actor"], a["action"]) for a in person_view["audit"]] == [
        ("clerk", "register.add_unfiled_person"), ("clerk", "register.add_work_histories")]
    assert client.get(f"/api/register/persons/{number}", headers=login("tj_reviewer")).status_code == 404


def test_catalogue_maintenance(client, login):
    entry = {"code": "JZ077", "name": "接口测试工种", "industry": "建筑", "nature": "high_altitude_heavy"}
    assert client.post("/api/catalogue/work-types", json=entry, headers=login("province_catalogue_admin")).status_code \
        == 403
    assert client.post("/api/catalogue/work-types", json=entry, headers=login("catalogue_admin")).status_code == 201
    assert client.delete("/api/catalogue/work-types/JZ077", headers=login("catalogue_admin")).status_code == 204
    submit(client, login, person(74, work_type="MT003"))
    in_use = client.delete("/api/catalogue/work-types/MT003", headers=login("catalogue_admin"))
    assert in_use.status_code == 409 and "只能停用" in in_use.json["message"]
    natures = client.get("/api/catalogue/natures", headers=login("enterprise")).json["items"]
    assert {n["code"]: n["required_years"] for n in natures} == {
        "high_altitude_heavy": 10, "underground": 9, "high_temperature": 9, "toxic_hazardous": 8}


def test_every_query_answers_pages_exports_and_is_documented(client, login):
    submit(client, login, person(75))
    spec = client.get("/api/openapi.json").json
    for name in queries.QUERIES:
        listing = client.get(f"/api/queries/{name}?per_page=5", headers=login("reviewer"))
        assert listing.status_code == 200, (name, listing.json)
        assert set(listing.json) == {"items", "total", "page", "per_page"}
        exported = client.get(f"/api/queries/{name}/export", headers=login("reviewer"))
        assert exported.status_code == 200 and exported.mimetype == XLSX
        assert f"/api/queries/{name}" in spec["paths"] and f"/api/queries/{name}/export" in spec["paths"]
    results = client.get("/api/queries/review-results?status=pending", headers=login("reviewer")).json
    assert results["total"] == 1 and results["items"][0]["status_label"] == "待审核"
    assert client.get("/api/queries/persons", headers=login("enterprise")).status_code == 403
    assert client.get("/api/queries/review-results?year=abc", headers=login("reviewer")).status_code == 400
    assert client.get("/api/queries/review-results", headers=login("tj_reviewer")).json["total"] == 0
    for path in ("/api/enterprises/{code}/portal-password", "/api/declarations/upload",
                 "/api/declarations/{batch_id}/decision", "/api/early-retirements", "/api/catalogue/work-types/{code}",
                 "/api/spot-checks/work-histories", "/api/register/unfiled-persons"):
        assert path in spec["paths"], path


def test_a_batchs_persons_come_a_page_at_a_time_and_can_be_filtered(client, login):
    flagged = {**person(95), "id_number": person(95)["id_number"][:17] + "X"}  # a wrong check digit
    batch_id = submit(client, login, person(93), person(94), flagged)["batch_id"]
    reviewer = login("reviewer")

    def names(query: str) -> tuple[list[str], int, int]:
        body = client.get(f"/api/declarations/{batch_id}{query}", headers=reviewer).json
        return [p["name"] for p in body["persons"]], body["persons_total"], body["persons_page"]

    assert names("") == (["测试93", "测试94", "测试95"], 3, 1)
    assert names("?per_page=2") == (["测试93", "测试94"], 3, 1)
    assert names("?per_page=2&page=2") == (["测试95"], 3, 2)
    assert names("?findings=1") == (["测试95"], 1, 1)
    assert names(f"?q={person(94)['id_number']}") == (["测试94"], 1, 1)
    refused = client.get(f"/api/declarations/{batch_id}?per_page=abc", headers=reviewer)  # a bad number: named
    assert refused.status_code == 400 and set(refused.json["fields"]) == {"per_page"}


def test_another_region_s_enterprise_answers_like_one_that_does_not_exist(client, login):
    """Editing, resetting the portal password of or closing another region's enterprise answers 404
    with the same message as an unknown unit code (it used to answer 403: the code exists)."""
    headers = login("reviewer")  # Beijing
    body = {"name": "天津和平建筑公司", "region_code": "120101", "industry": "建筑", "address": "和平区 1 号",
            "postal_code": "300041", "contact_person": "联系人", "contact_phone": "022-12345678"}
    for code in ("120101000003", "120101999999"):
        answers = [client.put(f"/api/enterprises/{code}", json=body, headers=headers),
                   client.post(f"/api/enterprises/{code}/portal-password", headers=headers),
                   client.put(f"/api/enterprises/{code}/portal-access", json={"enabled": False}, headers=headers)]
        assert [(a.status_code, a.json["message"]) for a in answers] == [(404, "单位不存在或不在您的管辖范围内")] * 3


def test_the_enterprise_is_told_what_was_decided_not_by_whom(client, login):
    """Per-person decisions and a commitment letter uploaded by the reviewer: the enterprise reads the
    outcome and the file, not the reviewer's username (the office does)."""
    batch = submit(client, login, person(61), person(62))
    rejected = [p["id"] for p in client.get(f"/api/declarations/{batch['batch_id']}", headers=login("reviewer")).json[
        "persons"]][:1]
    decided = client.post(f"/api/declarations/{batch['batch_id']}/decision", headers=login("reviewer"),
                          json={"decision": "approve", "rejected_persons": rejected, "conclusion": "一人材料不全"})
    assert decided.status_code == 200, decided.json
    letter = client.post(f"/api/declarations/{batch['batch_id']}/attachments", headers=login("reviewer"),
                         data={"file": (io.BytesIO(b"%PDF-1.4 letter"), "承诺书.pdf")})
    assert letter.status_code == 201, letter.json

    own = client.get(f"/api/declarations/{batch['batch_id']}", headers=login("enterprise")).json
    assert {p["status"] for p in own["persons"]} >= {"rejected"} and all("decided_by" not in p for p in own["persons"])
    files = client.get(f"/api/declarations/{batch['batch_id']}/attachments", headers=login("enterprise")).json["items"]
    assert files and all("uploaded_by" not in f for f in files)

    office = client.get(f"/api/declarations/{batch['batch_id']}", headers=login("rechecker")).json
    assert "reviewer" in {p["decided_by"] for p in office["persons"]}
    assert client.get(f"/api/declarations/{batch['batch_id']}/attachments",
                      headers=login("rechecker")).json["items"][0]["uploaded_by"] == "reviewer"
