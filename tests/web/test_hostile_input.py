"""Hostile input gets a clear 4xx, never a 500 (security issue 12, item 5): ids and page numbers
beyond the database's integers, lone surrogates, control and bidi characters in texts and file names, JSON nested
100,000 deep, dates outside 1900–2100, and a 405 that keeps its Allow header."""
from __future__ import annotations

import io
import json
from datetime import date

import pytest
from marshmallow import Schema, fields

from engine import fields as bounded
from engine.forms import FormRegistry, parse_form
from engine.forms import _compile as compile_form
from services.bootstrap import ROOT
from services.platform.demo_data import demo_id_number
from services.special_work import declarations
from services.special_work.declarations import PersonInput
from tests.bpmn_factory import linear_process
from tests.conftest import person
from tests.import_files import good_row, workbook
from tests.web.conftest import submit

DATE_RANGE_MESSAGE = "日期应在 1900-01-01 至 2100-12-31 之间"
HUGE = str(10**25)  # the id of the attacker's report: beyond 64 bits (SQLite's driver overflows)
TOO_BIG = str(2**31)  # the first number an INTEGER column of PostgreSQL cannot hold


def body_of(p: dict) -> dict:
    return json.loads(json.dumps(p, default=date.isoformat))


def declaration(*persons: dict) -> dict:
    return {"enterprise_code": "110101000001", "kind": "first", "persons": [body_of(p) for p in persons]}


def control_character(position: int) -> str:
    return f"文本中含有不允许的控制字符（第 {position} 个字符）"


# ids and page numbers

@pytest.mark.parametrize("path", ["/api/instances/{}", "/api/declarations/{}", "/api/jobs/{}", "/api/attachments/{}",
                                  "/api/early-retirements/{}", "/api/declarations/{}/export"])
def test_an_id_too_big_for_the_database_in_an_api_path_is_not_found(client, login, path):
    for number in (HUGE, TOO_BIG, "0"):
        answer = client.get(path.format(number), headers=login("reviewer"))
        assert answer.status_code == 404, (path, number, answer.json)
        assert answer.json["error"] == "not_found"


def test_an_id_too_big_for_the_database_in_a_page_path_is_not_found(browser):
    reviewer = browser("reviewer")
    for path in (f"/cases/{HUGE}", f"/cases/{TOO_BIG}", f"/cases/1/diagrams/{HUGE}.bpmn", f"/attachments/{HUGE}"):
        assert reviewer.get(path).status_code == 404, path
    assert reviewer.post(f"/cases/{HUGE}/retry").status_code == 404


@pytest.mark.parametrize("path", ["/api/tasks", "/api/instances", "/api/notifications", "/api/queries/persons"])
def test_a_page_number_out_of_range_in_an_api_list_is_refused_by_name(client, login, path):
    for query in (f"page={HUGE}", "page=0", f"per_page={HUGE}", "per_page=-5", "page=abc"):
        answer = client.get(f"{path}?{query}", headers=login("reviewer"))
        assert answer.status_code == 400, (path, query, answer.json)
        assert answer.json["error"] == "invalid" and set(answer.json["fields"]) == {query.split("=")[0]}
    assert client.get(f"{path}?page=100000&per_page=100", headers=login("reviewer")).status_code == 200


def test_an_id_or_page_too_big_for_the_database_in_the_query_string_of_the_api(client, login, runtime):
    case = submit(runtime)
    reviewer = login("reviewer")
    assert client.get(f"/api/jobs?instance_id={HUGE}", headers=reviewer).json["fields"] == {
        "instance_id": ["应为 1 到 2147483647 之间的整数"]}
    assert client.get(f"/api/jobs?instance_id={case.instance_id}", headers=reviewer).status_code == 200
    assert client.get(f"/api/declarations/{case.batch_id}?page={HUGE}", headers=reviewer).status_code == 400
    assert client.get(f"/api/queries/review-results?year={HUGE}", headers=reviewer).json["fields"] == {
        "year": ["年度的取值无效"]}


def test_a_page_number_too_big_for_the_database_shows_the_first_page(browser, runtime):
    case = submit(runtime)
    for path, user in (("/cases", "reviewer"), ("/inbox", "reviewer"), ("/cockpit", "supervisor"),
                       ("/notifications", "reviewer"), ("/queries/persons", "reviewer"), ("/enterprises", "reviewer"),
                       ("/portal", "enterprise"), (f"/portal/batches/{case.batch_id}", "enterprise")):
        signed_in = browser(user)
        for number in (HUGE, TOO_BIG, "-1", "abc"):
            assert signed_in.get(f"{path}?page={number}").status_code == 200, (path, number)


def test_ids_too_big_for_the_database_in_a_json_body_are_refused_by_name(client, login, runtime):
    case = submit(runtime)
    decided = client.post(f"/api/declarations/{case.batch_id}/decision", headers=login("reviewer"),
                          json={"decision": "reject", "rejected_persons": [int(HUGE)], "conclusion": "不通过"})
    assert decided.status_code == 400
    assert decided.json["fields"] == {"rejected_persons": {"0": ["应为 1 到 2147483647 之间的整数"]}}
    checked = client.post("/api/spot-checks/work-histories", headers=login("spot_checker"),
                          json={"history_ids": [int(TOO_BIG)], "result": "fail", "note": ""})
    assert checked.status_code == 400 and list(checked.json["fields"]) == ["history_ids"]


# control characters, bidi overrides and lone surrogates

def test_a_nul_in_a_declared_name_is_refused_naming_the_field(client, login):
    answer = client.post("/api/declarations", headers=login("enterprise"), json=declaration(person(1, name="张\x00三")))
    assert answer.status_code == 400
    assert answer.json == {"error": "invalid", "message": f"persons[0].name：{control_character(2)}",
                           "fields": {"persons[0].name": [control_character(2)]}}


def test_a_bidi_override_in_a_name_is_refused(client, login, browser):
    body = {"code": "110101800009", "name": "示范\u202egnp.exe", "region_code": "110101", "industry": "煤炭"}
    answer = client.post("/api/enterprises", headers=login("reviewer"), json=body)
    assert answer.status_code == 400 and answer.json["fields"] == {"name": [control_character(3)]}
    page = browser("reviewer").post("/enterprises", {**body, "code": "110101800010"})
    assert page.status_code == 400 and control_character(3) in page.get_data(as_text=True)


def test_a_lone_surrogate_in_a_json_string_is_refused(client, login):
    raw = json.dumps(declaration(person(1)), ensure_ascii=False).replace('"测试1"', '"测\\ud800试"')
    answer = client.post("/api/declarations", headers=login("enterprise"), data=raw, content_type="application/json")
    assert answer.status_code == 400 and answer.json["fields"] == {"persons[0].name": [control_character(2)]}
    key = client.post("/api/auth/token", data='{"username\\udfff": "x", "password": "y"}',
                      content_type="application/json")
    assert key.status_code == 400 and key.json["fields"] == {
        "username\ufffd": ["字段名中含有不允许的控制字符（第 9 个字符）"]}


def test_control_characters_in_a_query_string_and_a_page_form_are_refused(client, login, browser):
    answer = client.get("/api/tasks?business_key=a%00b", headers=login("reviewer"))
    assert answer.status_code == 400 and answer.json["fields"] == {"business_key": [control_character(2)]}
    assert client.get("/api/tasks?business_key=a%09b%0Ac", headers=login("reviewer")).status_code == 200
    page = browser("reviewer").get("/inbox?q=%E2%80%AEabc")
    assert page.status_code == 400 and control_character(1) in page.get_data(as_text=True)


@pytest.mark.parametrize("name", ["申报\x00.xlsx", "申报\u202exslx.exe"])
def test_a_control_character_in_the_file_name_of_a_declaration_upload_is_refused(client, login, browser, name):
    content = workbook(good_row(1))
    answer = client.post("/api/declarations/upload", headers=login("enterprise"), content_type="multipart/form-data",
                         data={"enterprise_code": "110101000001", "kind": "first",
                               "file": (io.BytesIO(content), name)})
    assert answer.status_code == 400
    assert answer.json["fields"] == {"file": ["文件名中含有不允许的控制字符（第 3 个字符）"]}
    page = browser("enterprise").post("/portal/new", {"kind": "first", "file": (io.BytesIO(content), name)},
                                      content_type="multipart/form-data")
    assert page.status_code == 400 and "文件名中含有不允许的控制字符" in page.get_data(as_text=True)


@pytest.mark.parametrize("name", ["流程\x00.bpmn", "流程\u202enmpb.exe"])
def test_a_control_character_in_the_file_name_of_a_designer_upload_is_refused(browser, name):
    content = linear_process("hostile_file_name")
    page = browser("designer").post("/designer/upload", {"action": "validate", "files": [(io.BytesIO(content), name)]},
                                    content_type="multipart/form-data")
    assert page.status_code == 400 and "文件名中含有不允许的控制字符" in page.get_data(as_text=True)


def test_a_control_character_in_a_page_is_answered_in_the_users_language(browser):
    reviewer = browser("reviewer")
    reviewer.get("/lang/en")
    page = reviewer.get("/inbox?q=%01").get_data(as_text=True)
    assert "control character" in page and "文本中含有" not in page


# JSON structure

def test_json_nested_100000_deep_is_refused_with_a_clear_message(client, login):
    answer = client.post("/api/instances", headers=login("reviewer"), data="[" * 100_000 + "]" * 100_000,
                         content_type="application/json")
    assert answer.status_code == 400 and answer.json["message"] == "JSON 嵌套层数超过 32 层"


def test_json_nested_one_level_too_deep_is_refused(client, login):
    def nested(depth: int) -> dict:
        data: dict = {}
        for _ in range(depth - 2):  # the body and its "data" are two levels
            data = {"x": data}
        return {"process_key": "nope", "business_key": "B1", "data": data}

    refused = client.post("/api/instances", headers=login("reviewer"), json=nested(33))
    assert refused.status_code == 400 and refused.json["message"] == "JSON 嵌套层数超过 32 层"
    accepted = client.post("/api/instances", headers=login("reviewer"), json=nested(32))
    assert accepted.status_code == 404  # past the guard: the process does not exist


def test_nan_and_infinity_are_no_json_numbers(client, login):
    for number in ("NaN", "Infinity", "-Infinity", "1e400"):
        answer = client.post("/api/instances", headers=login("reviewer"), content_type="application/json",
                             data='{"process_key": "p", "business_key": "B", "data": {"x": ' + number + "}}")
        assert answer.status_code == 400, number
        assert answer.json["fields"] == {"data.x": ["数值应为有限的数字（不允许 NaN、Infinity）"]}


# dates

def test_a_birth_date_outside_1900_to_2100_is_refused_and_1900_01_01_accepted(client, login):
    for birth in (date(9999, 12, 31), date(1899, 12, 31)):
        answer = client.post("/api/declarations", headers=login("enterprise"), json=declaration(person(1, birth=birth)))
        assert answer.status_code == 400, birth
        assert answer.json["fields"] == {"persons": {"0": {"birth_date": [DATE_RANGE_MESSAGE]}}}
    accepted = client.post("/api/declarations", headers=login("enterprise"), json=declaration(
        person(1, birth=date(1900, 1, 1), start=date(1920, 1, 1), end=date(1950, 12, 31))))
    assert accepted.status_code == 201, accepted.json


def test_dates_outside_1900_to_2100_are_refused_in_query_strings_and_page_forms(client, login, browser):
    spot_checks = client.get("/api/queries/spot-check-results?checked_from=9999-12-31", headers=login("spot_checker"))
    assert spot_checks.status_code == 400
    assert spot_checks.json["fields"] == {"checked_from": [f"抽查日期起：{DATE_RANGE_MESSAGE}"]}
    inbox = browser("reviewer").get("/inbox?received_to=9999-12-31")
    assert inbox.status_code == 200 and DATE_RANGE_MESSAGE in inbox.get_data(as_text=True)
    retirement = client.post("/api/early-retirements", headers=login("clerk"), json={
        "id_number": person(1)["id_number"], "nature": "underground", "retirement_date": "1899-12-31"})
    assert retirement.status_code == 400 and retirement.json["fields"] == {"retirement_date": [DATE_RANGE_MESSAGE]}


def test_a_form_js_date_outside_1900_to_2100_is_refused():
    form = parse_form("dated", json.dumps({"components": [{"type": "datetime", "key": "due", "label": "期限"}]}))
    assert form.validate({"due": "2100-12-31"}) == {"due": date(2100, 12, 31)}
    with pytest.raises(Exception) as refused:
        form.validate({"due": "9999-12-31"})
    assert refused.value.messages == {"due": [f"“期限”：{DATE_RANGE_MESSAGE}"]}


def test_an_id_number_encoding_the_year_9999_is_a_finding_not_a_crash():
    number = demo_id_number("110101", date(9999, 12, 31), 1)  # a valid check digit
    person_ = PersonInput(number, "张三", "male", None, [{"work_type_code": "MT001", "start_date": date(1995, 7, 1),
                                                          "end_date": date(2010, 6, 30)}])
    catalogue = {"MT001": declarations.CatalogueEntry("MT001", "煤炭", "underground", True)}
    assert ("id_number", "公民身份号码中的出生日期无效") in declarations.person_problems(person_, catalogue, "煤炭")


# every schema of web/ and every form bounds its integers and dates

def _schemas(app) -> dict[str, Schema]:
    """Every marshmallow schema of web/ (its classes, and the API's documented schemas built at run
    time from the queries) and every form of forms/, compiled."""
    found: dict[str, Schema] = {}
    pending = list(Schema.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("web."):
            found[f"{cls.__module__}.{cls.__name__}"] = cls()
    for endpoint, view in app.view_functions.items():
        for key, schema in getattr(view, "openapi", {}).items():
            if isinstance(schema, type) and issubclass(schema, Schema):
                found.setdefault(f"{endpoint} {key}", schema())
    forms = FormRegistry(ROOT / "forms")
    for path in sorted((ROOT / "forms").rglob("*.json")):
        found[f"forms/{path.relative_to(ROOT / 'forms').as_posix()}"] = compile_form(forms.get(path.stem))
    return found


def _fields(field: fields.Field | Schema, path: str):
    if isinstance(field, Schema):
        for name, inner in field.fields.items():
            yield from _fields(inner, f"{path}.{name}")
        return
    yield path, field
    if isinstance(field, fields.Nested):
        yield from _fields(field.schema, path)
    elif isinstance(field, fields.List):
        yield from _fields(field.inner, f"{path}[]")
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield from _fields(field.value_field, f"{path}{{}}")


def test_every_schema_of_web_and_every_form_bounds_its_integers_and_dates(app):
    schemas = _schemas(app)
    assert len(schemas) > 80 and "forms/special_work/declaration_review.json" in schemas  # the walk did reach them
    unbounded = [path for name, schema in schemas.items() for path, field in _fields(schema, name)
                 if isinstance(field, fields.Integer) and not isinstance(field, bounded.Integer)
                 or isinstance(field, fields.Date) and not isinstance(field, bounded.Date)
                 or isinstance(field, fields.DateTime) and not isinstance(field, bounded.DateTime)]
    assert unbounded == []


# HTTP semantics

def test_a_405_keeps_its_allow_header(client, login, browser):
    api = client.delete("/api/tasks", headers=login("reviewer"))
    assert api.status_code == 405 and set(api.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert api.json["error"] == "method_not_allowed"
    page = browser("reviewer").client.put("/inbox")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
